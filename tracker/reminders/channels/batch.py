"""Sending a batch of claimed channel deliveries: each message built, posted, and its claim
closed right after the robot or webhook answered.

Exactly once as far as HTTP allows: a delivery is claimed (``claims.claim_channels``) before
it is posted and marked sent by one single-row UPDATE right after the 2xx answer, so the only
window for a duplicate is between that answer and the UPDATE. A sender killed before the
answer leaves its lease to run out and the next run takes the claim over (the receiver then
sees the message once, or twice only if the first POST had landed; webhooks get the same
``X-Rectify-Delivery`` id both times to tell).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from tracker.models.reminders import ChannelDelivery, ChannelKind, DeliveryState, DigestKind
from tracker.reminders.channels import dingtalk, text, webhook, wecom
from tracker.reminders.channels.http import ChannelError, Message
from tracker.reminders.claims import (
    DeliveryReport,
    close_channel,
    fail_channel,
    release_channels,
    settle_channels_after_crash,
)
from tracker.reminders.content import (
    count_working_days,
    load_items,
    load_unit_items,
    task_url_template,
    tier_counts,
)
from tracker.reminders.quiet import QuietHours

SENDERS = {
    ChannelKind.WECOM: wecom.send,
    ChannelKind.DINGTALK: dingtalk.send,
    ChannelKind.WEBHOOK: webhook.send,
}


def send_channel_batch(token: str, ids: list[int]) -> DeliveryReport:
    """Send claimed channel deliveries; whatever goes wrong on the way, no claim is left in
    ``sending`` (they are put back for a retry) and the error is raised again for the log."""
    try:
        return _send(token, ids)
    except Exception as error:
        settle_channels_after_crash(token, ids, error)
        raise


def _audience(delivery: ChannelDelivery) -> dict:
    channel = delivery.channel
    if channel.unit_id:
        return {"unit_id": channel.unit_id, "unit": channel.unit.name}
    return {"user": channel.user.get_username(), "email": channel.user.email}


def build(delivery: ChannelDelivery, items: list[dict], url_template: str) -> Message | None:
    """The message of one delivery, or None when it has nothing to say."""
    if delivery.kind == DigestKind.WEEKLY:
        if delivery.digest is None:
            return None
        return text.weekly(delivery.digest, url_template, audience=_audience(delivery))
    if not items:
        return None
    heading = delivery.channel.unit.name if delivery.channel.unit_id else ""
    return text.daily(
        delivery.day, items, url_template, audience=_audience(delivery), heading=heading
    )


def _items(deliveries: list[ChannelDelivery]) -> dict[int, list[dict]]:
    """Each daily delivery's tasks: a person's are their digest's, a unit's the unit's."""
    by_digest = load_items(
        [d.digest_id for d in deliveries if d.digest_id and d.kind == DigestKind.DAILY]
    )
    out: dict[int, list[dict]] = {}
    for delivery in deliveries:
        if delivery.kind != DigestKind.DAILY:
            continue
        if delivery.digest_id:
            out[delivery.pk] = by_digest.get(delivery.digest_id, [])
        else:
            out[delivery.pk] = load_unit_items(delivery.channel.unit_id, delivery.day)
    if settings.RECTIFY["REMINDER_WORKING_DAYS"]:
        count_working_days(deliveries, out)
    return out


def _send(token: str, ids: list[int]) -> DeliveryReport:
    report = DeliveryReport()
    if not ids:
        return report
    started = time.monotonic()
    budget = settings.RECTIFY["REMINDER_LEASE_SECONDS"] * 0.8
    timeout = settings.RECTIFY["REMINDER_CHANNEL_TIMEOUT"]
    quiet = QuietHours.from_settings()
    deliveries = list(
        ChannelDelivery.objects.filter(pk__in=ids, claim_token=token, state=DeliveryState.SENDING)
        .select_related("channel__unit", "channel__user", "digest")
        .order_by("pk")
    )
    items = _items(deliveries)
    url = task_url_template()
    for index, delivery in enumerate(deliveries):
        now = timezone.now()
        if time.monotonic() - started > budget:
            release_channels([d.pk for d in deliveries[index:]], token)
            break
        if not quiet.allows(now):  # quiet hours began while this batch was sending
            when = quiet.next_allowed(now)
            release_channels([d.pk for d in deliveries[index:]], token, until=when)
            report.retry_later(delivery.pk, when)
            break
        channel = delivery.channel
        carried = items.get(delivery.pk, [])
        message = build(delivery, carried, url) if channel.enabled else None
        if message is None:  # nothing to say, or the channel was turned off meanwhile
            close_channel(delivery.pk, token, DeliveryState.SUPERSEDED)
            continue
        send = SENDERS.get(channel.kind)
        try:
            if send is None:
                raise ChannelError(f"unknown channel kind {channel.kind!r}", permanent=True)
            if channel.kind == ChannelKind.WEBHOOK:
                webhook.send(channel, message, timeout=timeout, delivery_id=delivery.pk)
            else:
                send(channel, message, timeout=timeout)
        except ChannelError as error:
            fail_channel(delivery.pk, token, delivery.attempts, error, report, error.permanent)
            continue
        close_channel(delivery.pk, token)
        report.sent.append((str(channel), tier_counts(carried) if carried else {delivery.kind: 1}))
    return report
