"""督办 documents by email: each ``LadderDelivery`` (one document to one recipient, its DOCX
attached) is claimed before it is sent and closed right after, with the digests' claim, lease,
backoff and permanent failure (``tracker.reminders.claims``), so a repeated or concurrent run,
the Celery task queued at issue and the daily sweep, never sends one twice.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import get_connection
from django.utils import timezone

from tracker import emails
from tracker.documents.docx import render_docx
from tracker.documents.ladder import build_ladder_document
from tracker.models.ladder import LadderDelivery, SupervisionDocument
from tracker.models.reminders import DeliveryState
from tracker.reminders.channels.email import is_permanent
from tracker.reminders.claims import DeliveryReport, _claimable, _take, fail, release

logger = logging.getLogger(__name__)


def expire(now=None) -> None:
    """Fail claims abandoned once too often (a sender that kept dying mid-send)."""
    now = now or timezone.now()
    LadderDelivery.objects.filter(
        state=DeliveryState.SENDING,
        lease_until__lt=now,
        attempts__gte=settings.RECTIFY["REMINDER_MAX_ATTEMPTS"],
    ).update(state=DeliveryState.FAILED, claim_token="", last_error="发送过程多次中断,已停止重试")


def claimable_ids(document_ids: Iterable[int] | None = None) -> list[int]:
    qs = LadderDelivery.objects.filter(_claimable(timezone.now()))
    if document_ids is not None:
        qs = qs.filter(document_id__in=list(document_ids))
    return list(qs.order_by("pk").values_list("pk", flat=True))


def claim(
    ids: Iterable[int] | None = None,
    document_ids: Iterable[int] | None = None,
    limit: int | None = None,
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` sendable deliveries (rows another sender holds are skipped)."""
    limit = limit or settings.RECTIFY["REMINDER_BATCH_SIZE"]
    now = timezone.now()
    token = uuid.uuid4().hex
    qs = LadderDelivery.objects.filter(_claimable(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if document_ids is not None:
        qs = qs.filter(document_id__in=list(document_ids))
    return token, _take(LadderDelivery, qs, now, token, limit)


def _mark_sent(pk: int, token: str) -> None:
    """The server accepted the email: close the claim at once (one single-row UPDATE)."""
    LadderDelivery.objects.filter(pk=pk, claim_token=token, state=DeliveryState.SENDING).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), claim_token="", last_error=""
    )


def send_batch(token: str, ids: list[int], connection=None) -> DeliveryReport:
    """Send claimed deliveries over one SMTP connection, each DOCX rendered once per document.
    Whatever goes wrong on the way, no claim stays in ``sending``."""
    report = DeliveryReport()
    deliveries = list(
        LadderDelivery.objects.filter(pk__in=ids, claim_token=token)
        .select_related("document__unit__organization")
        .order_by("pk")
    )
    if not deliveries:
        return report
    started = time.monotonic()
    budget = settings.RECTIFY["REMINDER_LEASE_SECONDS"] * 0.8
    files: dict[int, tuple[str, bytes]] = {}
    connection = connection or get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 — any failure to connect is temporary
        for d in deliveries:
            fail(d.pk, token, d.attempts, error, report, is_permanent(error), model=LadderDelivery)
        return report
    done: set[int] = set()
    try:
        for index, delivery in enumerate(deliveries):
            if time.monotonic() - started > budget:
                release([d.pk for d in deliveries[index:]], token, model=LadderDelivery)
                break
            document = delivery.document
            if document.pk not in files:
                doc = build_ladder_document(document)
                files[document.pk] = (f"{document.reference}{doc.title}.docx", render_docx(doc))
            name, body = files[document.pk]
            message = emails.ladder_document(document, delivery.recipient, name, body)
            try:
                connection.send_messages([message])
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                done.add(delivery.pk)
                fail(
                    delivery.pk,
                    token,
                    delivery.attempts,
                    error,
                    report,
                    is_permanent(error),
                    model=LadderDelivery,
                )
                try:
                    connection.close()
                    connection.open()
                except Exception:  # noqa: BLE001
                    for rest in deliveries[index + 1 :]:
                        done.add(rest.pk)
                        fail(rest.pk, token, rest.attempts, error, report, model=LadderDelivery)
                    return report
                continue
            except smtplib.SMTPException as error:
                done.add(delivery.pk)
                fail(
                    delivery.pk,
                    token,
                    delivery.attempts,
                    error,
                    report,
                    is_permanent(error),
                    model=LadderDelivery,
                )
                continue
            _mark_sent(delivery.pk, token)
            done.add(delivery.pk)
            report.sent.append((delivery.recipient, {document.rung: 1}))
    except Exception as error:
        logger.exception("sending 督办 documents failed; their claims are put back")
        for d in deliveries:
            if d.pk not in done:
                fail(d.pk, token, d.attempts, error, report, model=LadderDelivery)
        raise
    finally:
        try:
            connection.close()
        except Exception as error:  # noqa: BLE001 — everything was recorded already
            logger.info("closing the SMTP connection failed: %s", error)
    return report


def deliver(
    ids: Iterable[int] | None = None,
    document_ids: Iterable[int] | None = None,
    connection=None,
) -> DeliveryReport:
    """Claim and send batch after batch until nothing sendable is left (among ``ids`` or the
    deliveries of ``document_ids``, else all). Safe to run in several processes at once."""
    report = DeliveryReport()
    ids = list(ids) if ids is not None else None
    document_ids = list(document_ids) if document_ids is not None else None
    expire()
    while True:
        token, claimed = claim(ids=ids, document_ids=document_ids)
        if not claimed:
            break
        report.merge(send_batch(token, claimed, connection=connection))
    return report


def delivery_summary(document: SupervisionDocument) -> dict[str, int]:
    """{state: count} of a document's emails, for its page."""
    counts: dict[str, int] = {}
    for state in document.deliveries.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts
