"""Delivery: claim and send batch after batch until nothing sendable is left, and the whole daily
run (plan, then deliver).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from tracker.models import local_today
from tracker.reminders.channels.email import send_batch
from tracker.reminders.claims import DeliveryReport, claim, expire, record_sent
from tracker.reminders.planning import plan_day


def deliver(
    day: datetime.date | None = None,
    ids: Iterable[int] | None = None,
    connection=None,
) -> DeliveryReport:
    """Claim and send batch after batch until nothing sendable is left (for ``day``, or among
    ``ids``). Safe to run in several processes at once: each claims different rows."""
    report = DeliveryReport()
    ids = list(ids) if ids is not None else None
    if day is not None:
        expire(day)
    record_sent()  # what a sender killed after sending left off the timeline
    while True:
        token, claimed = claim(day=day, ids=ids)
        if not claimed:
            return report
        report.merge(send_batch(token, claimed, connection=connection))


def sweep(day: datetime.date | None = None, connection=None) -> DeliveryReport:
    """The whole daily run, synchronously: plan the day, then send everything sendable."""
    day = day or local_today()
    plan_day(day)
    return deliver(day, connection=connection)
