"""Delivery: claim and send batch after batch until nothing sendable is left, by email and by
the messenger channels, and the whole daily run (plan, then deliver).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from tracker.models import local_today
from tracker.reminders.channels.batch import send_channel_batch
from tracker.reminders.channels.email import send_batch
from tracker.reminders.claims import (
    DeliveryReport,
    claim,
    claim_channels,
    expire,
    expire_channels,
    next_channel_attempt,
    record_sent,
)
from tracker.reminders.planning import plan_day


def deliver(
    day: datetime.date | None = None,
    ids: Iterable[int] | None = None,
    connection=None,
) -> DeliveryReport:
    """Claim and send batch after batch until nothing sendable is left (for ``day``, or among
    ``ids``). Safe to run in several processes at once: each claims different rows.

    Email digests first; then, unless ``ids`` (email digest ids) narrows the run, the channel
    deliveries, reported in ``report.channels``."""
    report = DeliveryReport()
    ids = list(ids) if ids is not None else None
    if day is not None:
        expire(day)
    record_sent()  # what a sender killed after sending left off the timeline
    while True:
        token, claimed = claim(day=day, ids=ids)
        if not claimed:
            break
        report.merge(send_batch(token, claimed, connection=connection))
    if ids is None:
        report.channels = deliver_channels(day)
    return report


def deliver_channels(
    day: datetime.date | None = None, ids: Iterable[int] | None = None
) -> DeliveryReport:
    """Claim and send channel deliveries batch after batch (for ``day`` and the days before it
    still waiting, or among ``ids``). Nothing is claimed in quiet hours; ``next_retry_at`` then
    says when the first held-back message may go."""
    report = DeliveryReport()
    ids = list(ids) if ids is not None else None
    if day is not None:
        expire_channels(day)
    while True:
        token, claimed = claim_channels(day=day, ids=ids)
        if not claimed:
            break
        report.merge(send_channel_batch(token, claimed))
    waiting = next_channel_attempt(day)
    if waiting is not None and (report.next_retry_at is None or waiting < report.next_retry_at):
        report.next_retry_at = waiting
    return report


def sweep(day: datetime.date | None = None, connection=None) -> DeliveryReport:
    """The whole daily run, synchronously: plan the day, then send everything sendable (the
    reminder digests, the channels, and any 督办 document email still pending)."""
    from tracker.reminders import ladder

    day = day or local_today()
    plan_day(day)
    report = deliver(day, connection=connection)
    report.ladder = ladder.deliver(connection=connection)
    return report
