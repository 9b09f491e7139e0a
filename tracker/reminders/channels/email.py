"""Email: a batch of claimed digests over one SMTP connection, each marked sent as soon as the
server accepted it; 5xx refusals are permanent, 4xx and lost connections temporary.
"""

from __future__ import annotations

import logging
import smtplib
import time

from django.conf import settings
from django.core.mail import get_connection

from tracker import emails
from tracker.models.reminders import DeliveryState, DigestKind, ReminderDigest
from tracker.reminders.claims import (
    DeliveryReport,
    LazyCommits,
    fail,
    mark_sent,
    record_sent,
    release,
    settle_after_crash,
)
from tracker.reminders.content import count_working_days, load_items, task_url_template, tier_counts

logger = logging.getLogger(__name__)


def smtp_code(error: BaseException) -> int | None:
    """The SMTP reply code an error carries, if any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


def is_permanent(error: BaseException) -> bool:
    """5xx replies are permanent (the address or the message is refused); 4xx and lost
    connections are temporary."""
    code = smtp_code(error)
    return code is not None and 500 <= code < 600


def send_batch(token: str, ids: list[int], connection=None) -> DeliveryReport:
    """Send claimed digests over one SMTP connection, marking each sent as soon as it is.

    Whatever goes wrong on the way (a template, the database, a bug), no claim is left in
    ``sending``: the digests this batch had not sent yet are put back for a retry with the
    usual backoff (counted as an attempt, so a failure that repeats ends as failed after
    REMINDER_MAX_ATTEMPTS), and the error is raised again for the log.
    """
    try:
        with LazyCommits():
            return _send_batch(token, ids, connection)
    except Exception as error:
        settle_after_crash(token, ids, error)
        raise


def _send_batch(token: str, ids: list[int], connection=None) -> DeliveryReport:
    report = DeliveryReport()
    if not ids:
        return report
    started = time.monotonic()
    # Stop well before the lease runs out, so nobody else can take over a claim still in use.
    budget = settings.RECTIFY["REMINDER_LEASE_SECONDS"] * 0.8
    digests = list(ReminderDigest.objects.filter(pk__in=ids, claim_token=token).order_by("pk"))
    items = load_items([d.pk for d in digests if d.kind == DigestKind.DAILY])
    if settings.RECTIFY["REMINDER_WORKING_DAYS"]:
        count_working_days(digests, items)
    url = task_url_template()
    connection = connection or get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 — any failure to connect is temporary
        for digest in digests:
            fail(digest.pk, token, digest.attempts, error, report, is_permanent(error))
        return report
    try:
        for index, digest in enumerate(digests):
            if time.monotonic() - started > budget:
                release([d.pk for d in digests[index:]], token)
                break
            if digest.kind == DigestKind.WEEKLY:
                message = emails.weekly_summary(digest, url)
                carried: list[dict] = []
            else:
                carried = items.get(digest.pk, [])
                if not carried:  # every reminder of it went elsewhere: nothing to say
                    ReminderDigest.objects.filter(pk=digest.pk, claim_token=token).update(
                        state=DeliveryState.SUPERSEDED, claim_token=""
                    )
                    continue
                message = emails.reminder_digest(digest, carried, url)
            try:
                connection.send_messages([message])
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                # The connection is gone: this message is retried later; so is the rest of the
                # batch unless a fresh connection works.
                fail(digest.pk, token, digest.attempts, error, report, is_permanent(error))
                try:
                    connection.close()
                    connection.open()
                except Exception:  # noqa: BLE001
                    for rest in digests[index + 1 :]:
                        fail(rest.pk, token, rest.attempts, error, report, is_permanent(error))
                    return report
                continue
            except smtplib.SMTPException as error:
                fail(digest.pk, token, digest.attempts, error, report, is_permanent(error))
                continue
            mark_sent(digest, token, carried)
            report.sent.append(
                (digest.recipient, tier_counts(carried) if carried else {"weekly": 1})
            )
    finally:
        try:
            connection.close()
        except Exception as error:  # noqa: BLE001 — everything was recorded already
            logger.info("closing the SMTP connection failed: %s", error)
        record_sent([d.pk for d in digests])
    return report
