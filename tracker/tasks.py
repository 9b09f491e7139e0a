"""Celery tasks for reminders (and the nightly roll of the dashboard's figures). They take ids and ISO dates, never model instances, and every one
of them is safe to run twice or at the same time as itself (claims, unique rows).

``acks_late`` and ``task_reject_on_worker_lost`` are set globally (settings): a task whose worker
dies is delivered again, and the claim lease decides who sends.
"""

from __future__ import annotations

import datetime
import math

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tracker import reminders
from tracker.models import local_today


def _day(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else local_today()


def _fan_out(day: datetime.date) -> int:
    """Queue the day's sendable digests as send_digest(ids) batches, and the channel deliveries
    as send_channel_messages(ids) batches; returns how many batches."""
    size = settings.RECTIFY["REMINDER_BATCH_SIZE"]
    ids = reminders.claimable_ids(day)
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    for batch in batches:
        send_digest.delay(batch)
    channel_ids = reminders.channel_claimable_ids(day)
    channel_batches = [channel_ids[i : i + size] for i in range(0, len(channel_ids), size)]
    for batch in channel_batches:
        send_channel_messages.delay(batch)
    _queue_held_back(day)
    ladder = 0
    if reminders.ladder_claimable_ids():  # 督办 document emails still pending (or due a retry)
        send_ladder_emails.delay()
        ladder = 1
    return len(batches) + len(channel_batches) + ladder


def _queue_held_back(day: datetime.date) -> None:
    """Messages held back by quiet hours go at the next allowed moment: queue a run for then
    when it comes before the next hourly catch-up (which sends them anyway). Long countdowns
    are left to the catch-up: a broker redelivers tasks held longer than its visibility
    timeout."""
    when = reminders.next_channel_attempt(day)
    if when is None:
        return
    countdown = math.ceil((when - timezone.now()).total_seconds())
    if 0 < countdown <= 3600:
        send_channel_messages.apply_async(args=[None, day.isoformat()], countdown=countdown)


@shared_task(name="tracker.tasks.roll_figures")
def roll_figures() -> dict:
    """Judge the dashboard's figures for the new day (``tracker.figures.roll``) just after
    midnight, so no reader pays for it, then tidy the rewritten tables (``figures.tidy``); safe
    to run twice (a second run finds them rolled)."""
    from tracker import figures

    day, yellow_days = figures.wanted()
    rolled = figures.roll(day, yellow_days)
    return {"day": day.isoformat(), "rolled": rolled, "tidied": rolled and figures.tidy()}


@shared_task(name="tracker.tasks.daily_sweep")
def daily_sweep(day: str | None = None) -> dict:
    """Plan today's reminders (idempotent) and queue their sending."""
    the_day = _day(day)
    sweep = reminders.plan_day(the_day)
    reminders.expire(the_day)
    reminders.expire_channels(the_day)
    return {"day": the_day.isoformat(), "digests": sweep.digests, "batches": _fan_out(the_day)}


@shared_task(name="tracker.tasks.catch_up_sweep")
def catch_up_sweep(day: str | None = None) -> dict:
    """Send only what the daily run could not: retries that are due and abandoned claims.

    If the daily run never happened today (beat or worker down at that time), plan the day
    now, but never before the configured sweep time.
    """
    the_day = _day(day)
    planned = False
    if not reminders.is_planned(the_day) and (day or reminders.sweep_time_passed()):
        reminders.plan_day(the_day)
        planned = True
    reminders.expire(the_day)
    reminders.expire_channels(the_day)
    return {"day": the_day.isoformat(), "planned": planned, "batches": _fan_out(the_day)}


@shared_task(name="tracker.tasks.weekly_summary")
def weekly_summary(day: str | None = None) -> dict:
    """One summary per supervisor for the current week, then queue the sending."""
    the_day = _day(day)
    sweep = reminders.plan_weekly(the_day)
    return {"day": the_day.isoformat(), "digests": sweep.digests, "batches": _fan_out(the_day)}


@shared_task(name="tracker.tasks.send_digest")
def send_digest(ids: list[int]) -> dict:
    """Claim these digests (those nobody else holds) and send them over one SMTP connection.

    Digests the server refused for now (4xx, connection lost) are queued again for the moment
    their backoff runs out (REMINDER_RETRY_SECONDS, doubled per attempt), rather than waiting
    for the next hourly catch-up run. Queuing twice is harmless: the claim decides who sends.
    """
    report = reminders.deliver(ids=ids)
    countdown = None
    if report.retry_ids and report.next_retry_at is not None:
        countdown = max(1, math.ceil((report.next_retry_at - timezone.now()).total_seconds()))
        send_digest.apply_async(args=[sorted(report.retry_ids)], countdown=countdown)
    return {
        "sent": len(report.sent),
        "retried": report.retried,
        "failed": report.failed,
        "retry_in": countdown,
    }


@shared_task(name="tracker.tasks.send_channel_messages")
def send_channel_messages(ids: list[int] | None = None, day: str | None = None) -> dict:
    """Claim these channel deliveries (or the day's, with ``ids`` None) and post them to their
    robots and webhooks. Temporary failures (5xx, timeouts) are queued again for when their
    backoff runs out, like send_digest; in quiet hours nothing is claimed."""
    report = reminders.deliver_channels(
        day=datetime.date.fromisoformat(day) if day else None, ids=ids
    )
    countdown = None
    if report.retry_ids and report.next_retry_at is not None:
        countdown = max(1, math.ceil((report.next_retry_at - timezone.now()).total_seconds()))
        send_channel_messages.apply_async(args=[sorted(report.retry_ids)], countdown=countdown)
    return {
        "sent": len(report.sent),
        "retried": report.retried,
        "failed": report.failed,
        "retry_in": countdown,
    }


@shared_task(name="tracker.tasks.send_ladder_emails")
def send_ladder_emails(ids: list[int] | None = None, document_id: int | None = None) -> dict:
    """Claim and send 督办 document emails (those of ``document_id``, of ``ids``, or all that are
    sendable): queued when a document is issued, and by every sweep while some are pending.
    Temporary failures are queued again for when their backoff runs out; queuing twice is
    harmless, the claim decides who sends."""
    report = reminders.deliver_ladder(
        ids=ids, document_ids=[document_id] if document_id is not None else None
    )
    countdown = None
    if report.retry_ids and report.next_retry_at is not None:
        countdown = max(1, math.ceil((report.next_retry_at - timezone.now()).total_seconds()))
        send_ladder_emails.apply_async(args=[sorted(report.retry_ids)], countdown=countdown)
    return {
        "sent": len(report.sent),
        "retried": report.retried,
        "failed": report.failed,
        "retry_in": countdown,
    }


@shared_task(name="tracker.tasks.run_ledger_job")
def run_ledger_job(job_id: int) -> dict:
    """A large ledger's export, upload preview or apply (``tracker.ledger_jobs``); safe to run
    twice: the job is claimed first, and a claimed job is not run again (until its lease runs
    out, its worker lost)."""
    from tracker import ledger_jobs

    return {"job": job_id, "status": ledger_jobs.run(job_id)}


@shared_task(name="tracker.tasks.purge_ledger_jobs")
def purge_ledger_jobs() -> dict:
    """Delete ledger job files past their retention; queue again jobs whose worker was lost."""
    from tracker import ledger_jobs

    return ledger_jobs.purge()
