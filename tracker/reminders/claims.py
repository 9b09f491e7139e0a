"""Claims: the state of each delivery (pending → sending → sent / failed / superseded), taken
before sending and closed right after, with leases, retries with backoff and the timeline.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from tracker import actions
from tracker.models.reminders import ChannelDelivery, DeliveryState, DigestKind, ReminderDigest
from tracker.reminders.quiet import QuietHours

logger = logging.getLogger(__name__)


# pg_advisory_xact_lock key serialising timeline writes of concurrent senders ("REM1").
_TIMELINE_LOCK = 0x52454D31


@dataclass
class DeliveryReport:
    sent: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # (recipient, tiers)
    retried: int = 0
    failed: int = 0
    # Digests put back for a later attempt, and the earliest moment one of them is due: the
    # Celery sender queues itself again for then (tracker.tasks.send_digest).
    retry_ids: list[int] = field(default_factory=list)
    next_retry_at: datetime.datetime | None = None
    # The messenger channels' own report (their retries are queued apart from the emails').
    channels: DeliveryReport | None = None
    # The 督办 documents' emails (tracker.reminders.ladder), sent by the same sweep.
    ladder: DeliveryReport | None = None

    def merge(self, other: DeliveryReport) -> None:
        if other.channels is not None:
            if self.channels is None:
                self.channels = DeliveryReport()
            self.channels.merge(other.channels)
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.retry_ids += other.retry_ids
        if other.next_retry_at and (
            self.next_retry_at is None or other.next_retry_at < self.next_retry_at
        ):
            self.next_retry_at = other.next_retry_at

    def retry_later(self, pk: int, when: datetime.datetime) -> None:
        self.retried += 1
        self.retry_ids.append(pk)
        if self.next_retry_at is None or when < self.next_retry_at:
            self.next_retry_at = when


def _claimable(now: datetime.datetime) -> Q:
    max_attempts = settings.RECTIFY["REMINDER_MAX_ATTEMPTS"]
    due = Q(state=DeliveryState.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(state=DeliveryState.SENDING, lease_until__lt=now)
    return (due | abandoned) & Q(attempts__lt=max_attempts)


def _deliverable_days(day: datetime.date) -> Q:
    """Today's daily digests, and weekly summaries of the current week."""
    return Q(kind=DigestKind.DAILY, day=day) | Q(
        kind=DigestKind.WEEKLY, day__gt=day - datetime.timedelta(days=7), day__lte=day
    )


def expire(day: datetime.date, now: datetime.datetime | None = None) -> None:
    """Close what can no longer be sent: earlier days' daily digests (today's lists the same
    tasks again), and claims abandoned once too often."""
    now = now or timezone.now()
    ReminderDigest.objects.filter(
        kind=DigestKind.DAILY,
        day__lt=day,
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING],
    ).filter(Q(state=DeliveryState.PENDING) | Q(lease_until__lt=now)).update(
        state=DeliveryState.SUPERSEDED, claim_token=""
    )
    ReminderDigest.objects.filter(
        state=DeliveryState.SENDING,
        lease_until__lt=now,
        attempts__gte=settings.RECTIFY["REMINDER_MAX_ATTEMPTS"],
    ).update(
        state=DeliveryState.FAILED,
        claim_token="",
        last_error="发送过程多次中断,已停止重试",
    )


def claimable_ids(day: datetime.date) -> list[int]:
    """Ids of the digests a run on ``day`` could send now (for fanning out to workers)."""
    return list(
        ReminderDigest.objects.filter(_deliverable_days(day), _claimable(timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def claim(
    day: datetime.date | None = None, ids: Iterable[int] | None = None, limit: int | None = None
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` sendable digests; rows another sweep holds are skipped, not waited
    for. Returns the claim token and the claimed ids.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, then mark the rows. Elsewhere (SQLite has
    no row locks; ``skip_locked`` is ignored there) one conditional UPDATE whose WHERE repeats
    the claimable test, so of two senders racing for a row only one sets its token on it; the
    claimed ids are then read back by token.
    """
    limit = limit or settings.RECTIFY["REMINDER_BATCH_SIZE"]
    now = timezone.now()
    token = uuid.uuid4().hex
    qs = ReminderDigest.objects.filter(_claimable(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if day is not None:
        qs = qs.filter(_deliverable_days(day))
    return token, _take(ReminderDigest, qs, now, token, limit)


def _take(model, qs, now: datetime.datetime, token: str, limit: int) -> list[int]:
    """Mark up to ``limit`` rows of ``qs`` (all claimable at ``now``) as sending under ``token``
    and return their ids; the claim of ``claim`` for any model with the claim fields."""
    mark = {
        "state": DeliveryState.SENDING,
        "claim_token": token,
        "lease_until": now + datetime.timedelta(seconds=settings.RECTIFY["REMINDER_LEASE_SECONDS"]),
        "attempts": F("attempts") + 1,
    }
    if db_connection.vendor != "postgresql":
        candidates = qs.order_by("pk").values("pk")[:limit]
        model.objects.filter(_claimable(now), pk__in=candidates).update(**mark)
        return list(
            model.objects.filter(claim_token=token, state=DeliveryState.SENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    with transaction.atomic():
        claimed = list(
            qs.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if claimed:
            model.objects.filter(pk__in=claimed).update(**mark)
    return claimed


def fail(
    pk: int,
    token: str,
    attempts: int,
    error: BaseException | str,
    report: DeliveryReport,
    permanent: bool = False,
    model=ReminderDigest,
) -> None:
    """Close a claim that did not send: failed for good when ``permanent`` (the channel says
    the message is refused) or after REMINDER_MAX_ATTEMPTS, else pending again after a backoff.
    ``model``: any row with the claim fields (a digest, a 督办 document's email)."""
    now = timezone.now()
    message = (
        str(error)[:2000] if isinstance(error, str) else f"{type(error).__name__}: {error}"[:2000]
    )
    if permanent or attempts >= settings.RECTIFY["REMINDER_MAX_ATTEMPTS"]:
        fields = {"state": DeliveryState.FAILED}
        report.failed += 1
        logger.error("reminder digest %s failed permanently: %s", pk, message)
    else:
        delay = settings.RECTIFY["REMINDER_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
        when = now + datetime.timedelta(seconds=delay)
        fields = {"state": DeliveryState.PENDING, "next_attempt_at": when}
        report.retry_later(pk, when)
        logger.warning("reminder digest %s will be retried in %ss: %s", pk, delay, message)
    model.objects.filter(pk=pk, claim_token=token, state=DeliveryState.SENDING).update(
        last_error=message, claim_token="", lease_until=None, **fields
    )


def release(pks: list[int], token: str, model=ReminderDigest) -> None:
    """Hand back claims this sender will not get to, without counting them as attempts."""
    model.objects.filter(pk__in=pks, claim_token=token, state=DeliveryState.SENDING).update(
        state=DeliveryState.PENDING, claim_token="", lease_until=None, attempts=F("attempts") - 1
    )


def settle_after_crash(token: str, ids: list[int], error: BaseException) -> None:
    """Put back for a later attempt the digests of ``ids`` still claimed by ``token``."""
    logger.exception("sending reminder digests failed; their claims are put back")
    report = DeliveryReport()
    try:
        if not db_connection.in_atomic_block and not db_connection.is_usable():
            db_connection.close()  # e.g. the server dropped it: the next query reconnects
        for pk, attempts in ReminderDigest.objects.filter(
            pk__in=ids, claim_token=token, state=DeliveryState.SENDING
        ).values_list("pk", "attempts"):
            fail(pk, token, attempts, f"{type(error).__name__}: {error}", report)
    except Exception:  # noqa: BLE001 — the lease still runs out and the next run takes over
        logger.exception("could not put the claims back; their lease will run out")


def mark_sent(digest: ReminderDigest, token: str, carried: list[dict]) -> None:
    """The server accepted the email: close the claim at once (one single-row UPDATE, so the
    window in which a dying sender could leave it to be resent stays tiny). The timeline
    follows per batch in ``record_sent``.

    Unless REMINDER_DURABLE_MARK is set, the commit does not wait for the disk flush (a
    full-size sweep makes thousands of these commits, and each flush took milliseconds on a
    busy machine): the row is visible to every other sweep at once, so a killed worker changes
    nothing; only a crash of the database server itself could lose the last ~0.6 s of marks
    (PostgreSQL's wal_writer_delay × 3) and have those few emails sent again.
    """
    with db_connection.cursor() as cursor:  # plain SQL: the ORM's compile cost, per email
        cursor.execute(
            f"UPDATE {ReminderDigest._meta.db_table} SET state = %s, sent_at = %s,"  # noqa: S608
            " claim_token = '', last_error = '' WHERE id = %s AND claim_token = %s AND state = %s",
            [
                DeliveryState.SENT.value,
                timezone.now(),
                digest.pk,
                token,
                DeliveryState.SENDING.value,
            ],
        )


class LazyCommits:
    """While sending a batch, commit without waiting for the disk flush (see ``mark_sent``)."""

    def __enter__(self) -> None:
        self.on = db_connection.vendor == "postgresql" and not settings.RECTIFY.get(
            "REMINDER_DURABLE_MARK", False
        )
        if self.on:
            with db_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO OFF")

    def __exit__(self, *exc) -> None:
        if self.on:
            with db_connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def record_sent(ids: Iterable[int] | None = None) -> int:
    """Put today's reminders of sent digests on the tasks' timelines: one event per task and
    day, written with the first batch that carried the task (naming that batch's recipients;
    every (task, recipient) pair is in ``ReminderLog``). Exactly once per digest: the
    ``recorded`` flag flips in the same transaction, rows another sender is recording are
    skipped, and an advisory lock serialises the "has this task an event today" check. With
    ``ids`` None, records whatever a sender killed after sending left unrecorded."""
    qs = ReminderDigest.objects.filter(state=DeliveryState.SENT, recorded=False)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    total = 0
    postgresql = db_connection.vendor == "postgresql"
    while True:
        with transaction.atomic():
            if not postgresql:
                # SQLite has neither row locks nor advisory locks, but one writer at a time:
                # write first, so this transaction holds the write lock before it reads (a
                # read-then-write transaction could not take it while another one writes).
                ReminderDigest.objects.filter(pk=0).update(recorded=False)
            batch = list(
                qs.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:1000]
            )
            if not batch:
                return total
            if postgresql:
                with db_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TIMELINE_LOCK])
            actions.record_reminders(batch)
            ReminderDigest.objects.filter(pk__in=batch).update(recorded=True)
            total += len(batch)


# --- channel deliveries: the same claim, lease, backoff and failure, one row per channel --------


def _channel_deliverable(day: datetime.date) -> Q:
    """What a run on ``day`` may send to channels: that day's and earlier days' deliveries not
    superseded yet (a message held back by quiet hours waits for its next allowed time)."""
    return Q(day__lte=day)


def expire_channels(day: datetime.date, now: datetime.datetime | None = None) -> None:
    """Supersede a channel's unsent delivery of an earlier day once a later one exists for the
    same channel (it lists the same tasks again, recomputed), and fail claims abandoned too
    often. A delivery held back with nothing newer stays: deferred, not dropped."""
    now = now or timezone.now()
    newer = ChannelDelivery.objects.filter(
        channel=OuterRef("channel"), kind=OuterRef("kind"), day__gt=OuterRef("day"), day__lte=day
    )
    ChannelDelivery.objects.filter(
        Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.SENDING, lease_until__lt=now),
        Exists(newer),
    ).update(state=DeliveryState.SUPERSEDED, claim_token="")
    ChannelDelivery.objects.filter(
        state=DeliveryState.SENDING,
        lease_until__lt=now,
        attempts__gte=settings.RECTIFY["REMINDER_MAX_ATTEMPTS"],
    ).update(state=DeliveryState.FAILED, claim_token="", last_error="发送过程多次中断,已停止重试")


def channel_claimable_ids(day: datetime.date, now: datetime.datetime | None = None) -> list[int]:
    """Ids of the channel deliveries a run on ``day`` could send now (none in quiet hours)."""
    now = now or timezone.now()
    if not QuietHours.from_settings().allows(now):
        return []
    return list(
        ChannelDelivery.objects.filter(_channel_deliverable(day), _claimable(now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def next_channel_attempt(day: datetime.date | None = None) -> datetime.datetime | None:
    """The earliest moment a pending channel delivery becomes sendable (quiet hours included)."""
    qs = ChannelDelivery.objects.filter(state=DeliveryState.PENDING)
    if day is not None:
        qs = qs.filter(_channel_deliverable(day))
    when = qs.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if when is None and not qs.exists():
        return None
    return QuietHours.from_settings().next_allowed(max(when or timezone.now(), timezone.now()))


def claim_channels(
    day: datetime.date | None = None, ids: Iterable[int] | None = None, limit: int | None = None
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` sendable channel deliveries, as ``claim`` does for emails; in quiet
    hours nothing is sendable."""
    limit = limit or settings.RECTIFY["REMINDER_BATCH_SIZE"]
    now = timezone.now()
    token = uuid.uuid4().hex
    if not QuietHours.from_settings().allows(now):
        return token, []
    qs = ChannelDelivery.objects.filter(_claimable(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if day is not None:
        qs = qs.filter(_channel_deliverable(day))
    return token, _take(ChannelDelivery, qs, now, token, limit)


def fail_channel(
    pk: int,
    token: str,
    attempts: int,
    error: BaseException | str,
    report: DeliveryReport,
    permanent: bool = False,
) -> None:
    """A channel that did not take its message: failed for good when ``permanent`` (4xx, a
    vendor errcode) or after REMINDER_MAX_ATTEMPTS, else pending again after the backoff,
    moved past quiet hours when the backoff ends in them."""
    now = timezone.now()
    message = (
        str(error)[:2000] if isinstance(error, str) else f"{type(error).__name__}: {error}"[:2000]
    )
    if permanent or attempts >= settings.RECTIFY["REMINDER_MAX_ATTEMPTS"]:
        fields = {"state": DeliveryState.FAILED}
        report.failed += 1
        logger.error("channel delivery %s failed permanently: %s", pk, message)
    else:
        delay = settings.RECTIFY["REMINDER_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
        when = QuietHours.from_settings().next_allowed(now + datetime.timedelta(seconds=delay))
        fields = {"state": DeliveryState.PENDING, "next_attempt_at": when}
        report.retry_later(pk, when)
        logger.warning("channel delivery %s will be retried at %s: %s", pk, when, message)
    ChannelDelivery.objects.filter(pk=pk, claim_token=token, state=DeliveryState.SENDING).update(
        last_error=message, claim_token="", lease_until=None, **fields
    )


def release_channels(pks: list[int], token: str, until: datetime.datetime | None = None) -> None:
    """Hand back channel claims this sender will not get to (a spent budget, or quiet hours
    that began meanwhile: then not before ``until``), without counting them as attempts."""
    extra = {"next_attempt_at": until} if until is not None else {}
    ChannelDelivery.objects.filter(
        pk__in=pks, claim_token=token, state=DeliveryState.SENDING
    ).update(
        state=DeliveryState.PENDING,
        claim_token="",
        lease_until=None,
        attempts=F("attempts") - 1,
        **extra,
    )


def close_channel(pk: int, token: str, state: str = DeliveryState.SENT) -> None:
    """The channel accepted the message (or there was nothing to say): close the claim at once,
    one single-row UPDATE, so a sender dying right after cannot leave it to be sent again."""
    fields = {"sent_at": timezone.now(), "last_error": ""} if state == DeliveryState.SENT else {}
    ChannelDelivery.objects.filter(pk=pk, claim_token=token, state=DeliveryState.SENDING).update(
        state=state, claim_token="", lease_until=None, **fields
    )


def settle_channels_after_crash(token: str, ids: list[int], error: BaseException) -> None:
    """Put back for a later attempt the channel deliveries of ``ids`` still claimed by ``token``."""
    logger.exception("sending channel messages failed; their claims are put back")
    report = DeliveryReport()
    try:
        if not db_connection.in_atomic_block and not db_connection.is_usable():
            db_connection.close()
        for pk, attempts in ChannelDelivery.objects.filter(
            pk__in=ids, claim_token=token, state=DeliveryState.SENDING
        ).values_list("pk", "attempts"):
            fail_channel(pk, token, attempts, f"{type(error).__name__}: {error}", report)
    except Exception:  # noqa: BLE001 — the lease still runs out and the next run takes over
        logger.exception("could not put the channel claims back; their lease will run out")
