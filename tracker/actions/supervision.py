"""Supervision (督办): a unit signing for a task (签收), a supervisor issuing the next document of
the ladder about a unit's overdue tasks, and the unit's reply.

Each is one transaction that locks the tasks it touches, asks ``tracker.permissions`` first,
checks the rule (``tracker.supervision``), writes its rows and one history event per task:
``签收`` for an acknowledgement, ``督办文书`` (new_value: the rung code, old_value: the rung before)
for each task a document covers, ``督办回复`` for each task of an answered document. A refused
change writes nothing. A document's emails are queued only after commit; the reminder sweep
sends whatever is still pending, claimed one by one, so each goes out once.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    NotAllowed,
    _begin,
    _bump,
    _label,
    _refresh_caller,
    _require_open,
    _save,
    record_event,
)
from tracker.choices import EventKind, LadderRung
from tracker.models import Task, Unit, local_today
from tracker.models.ladder import (
    DocumentCounter,
    DocumentState,
    LadderDelivery,
    SupervisionDocument,
)
from tracker.workdays import add_working_days

logger = logging.getLogger(__name__)


@transaction.atomic
def acknowledge(task: Task, actor: Actor, *, expected_version: int | None = None) -> Task:
    """The owner unit signs for a task given to it (签收): its members, or a supervisor."""
    locked = _begin(task, actor, "acknowledge", expected_version)
    _require_open(locked)
    if not locked.awaits_acknowledgement:
        raise ActionError(_("该任务无需签收或已经签收。"))
    locked.acknowledged_at = timezone.now()
    _save(locked, ["acknowledged_at"])
    record_event(
        locked,
        EventKind.ACKNOWLEDGED,
        actor,
        old=timezone.localtime(locked.assigned_at).isoformat(timespec="minutes"),
        new=timezone.localtime(locked.acknowledged_at).isoformat(timespec="minutes"),
    )
    _refresh_caller(task, locked)
    return task


def _next_number(organization_id: int, year: int) -> int:
    """Take the next number of the organization's year: the counter row is locked until the
    transaction ends, so concurrent issues wait in turn and a rolled-back one leaves no gap."""
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(organization_id=organization_id, year=year)], ignore_conflicts=True
    )
    counter = DocumentCounter.objects.select_for_update().get(
        organization_id=organization_id, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _queue_delivery(document_id: int) -> None:
    """After commit: ask a worker to send the document now. If the broker is down the hourly
    catch-up sweep sends it anyway (its deliveries stay pending)."""
    try:
        from tracker.tasks import send_ladder_emails

        send_ladder_emails.delay(document_id=document_id)
    except Exception:  # noqa: BLE001 — the sweep delivers what was not queued
        logger.warning(
            "could not queue the emails of document %s; the sweep sends them", document_id
        )


@transaction.atomic
def issue_ladder_document(
    tasks,
    rung: str,
    actor: Actor,
    *,
    reply_days: int | None = None,
    reason: str = "",
) -> SupervisionDocument:
    """Issue the next ladder document to one unit about some of its overdue tasks (supervisors).

    The tasks must all be open, overdue today and owned by the same unit, and ``rung`` must be
    the next rung of every one of them: the highest rung issued about it plus one, never a
    skipped rung, nothing after 问责书. The document takes the next number of its organization
    and year (〔2026〕7号), a reply deadline ``reply_days`` working days ahead
    (LADDER_REPLY_WORKING_DAYS), its recipients, and one email per recipient to be sent."""
    from django.conf import settings

    from tracker import supervision
    from tracker.documents.ladder import ladder_items

    if rung not in LadderRung.values:
        raise ActionError(_("未知的督办文书类别:%s") % rung)
    tasks = sorted({t.pk: t for t in tasks}.values(), key=lambda t: t.pk)
    if not tasks:
        raise ActionError(_("请选择要督办的任务。"))
    locked = [_begin(task, actor, "issue_ladder_document", None) for task in tasks]
    today = local_today()
    units = {t.owner_unit_id for t in locked}
    if len(units) != 1:
        raise ActionError(_("一份督办文书只能发给一个责任主体,请按单位分别发文。"))
    for task in locked:
        _require_open(task)
        if not task.is_overdue(today):
            raise ActionError(_("任务 #%s 未逾期,不能发督办文书。") % task.pk)
    where = supervision.positions(t.pk for t in locked)
    for task in locked:
        position = where[task.pk]
        expected = position.next_rung
        if expected is None:
            raise ActionError(_("任务 #%s 已发出问责书,督办文书已到最后一级。") % task.pk)
        if expected != rung:
            raise ActionError(
                _("任务 #%(pk)s 应发“%(expected)s”,不能发“%(rung)s”:督办文书须逐级发出。")
                % {
                    "pk": task.pk,
                    "expected": _label(LadderRung, expected),
                    "rung": _label(LadderRung, rung),
                }
            )
    days = settings.RECTIFY["LADDER_REPLY_WORKING_DAYS"] if reply_days is None else reply_days
    if days < 1:
        raise ActionError(_("回复期限至少为一个工作日。"))
    unit = Unit.objects.select_related("organization__principal").get(pk=locked[0].owner_unit_id)
    now = timezone.now()
    document = SupervisionDocument.objects.create(
        organization=unit.organization,
        year=today.year,
        number=_next_number(unit.organization_id, today.year),
        rung=rung,
        unit=unit,
        reply_due=add_working_days(today, days),
        issued_by=actor.user,
        issued_at=now,
        issuer_name=supervision.issuer_name(unit),
        items=ladder_items(locked, today),
        recipients=supervision.recipients_for(unit, locked, rung),
    )
    document.tasks.set(locked)
    LadderDelivery.objects.bulk_create(
        [
            LadderDelivery(document=document, recipient=email, next_attempt_at=now)
            for email in document.recipients
        ]
    )
    text = _("%(ref)s,回复期限 %(due)s") % {
        "ref": document.reference,
        "due": document.reply_due.isoformat(),
    }
    if reason.strip():
        text += ";" + reason.strip()
    for task in locked:
        before = where[task.pk].rung or ""
        _bump(task)
        record_event(task, EventKind.LADDER, actor, old=before, new=rung, reason=text)
    for original, task in zip(tasks, locked, strict=True):
        _refresh_caller(original, task)
    if document.recipients:
        transaction.on_commit(lambda: _queue_delivery(document.pk))
    return document


@transaction.atomic
def reply_ladder_document(
    document: SupervisionDocument,
    actor: Actor,
    *,
    text: str,
    file=None,
) -> SupervisionDocument:
    """Record the addressed unit's reply (text, and evidence optionally): its members, or a
    supervisor recording a reply received on paper. Once per document."""
    from tracker.evidence import check_upload
    from tracker.permissions import Access, can_reply

    locked = SupervisionDocument.objects.select_for_update().get(pk=document.pk)
    tasks = list(locked.tasks.order_by("pk"))
    locked_tasks = [_begin(task, actor, "reply_ladder_document", None) for task in tasks]
    access = actor.access if actor.access is not None else Access(actor.user)
    if actor.user is not None and not can_reply(access, locked):
        raise NotAllowed(_("您没有权限进行此操作。"))
    if locked.state == DocumentState.REPLIED:
        raise ActionError(_("该督办文书已经回复。"))
    text = (text or "").strip()
    if not text:
        raise ActionError(_("请填写回复内容。"))
    fields = ["state", "reply_text", "replied_at", "replied_by"]
    if file is not None:
        checked = check_upload(file)
        locked.reply_file.save(checked.stored_name, file, save=False)
        locked.reply_file_name = checked.display_name
        locked.reply_content_type = checked.content_type
        fields += ["reply_file", "reply_file_name", "reply_content_type"]
    locked.state = DocumentState.REPLIED
    locked.reply_text = text
    locked.replied_at = timezone.now()
    locked.replied_by = actor.user
    locked.save(update_fields=fields)
    late = timezone.localtime(locked.replied_at).date() > locked.reply_due
    for task in locked_tasks:
        _bump(task)
        record_event(
            task,
            EventKind.LADDER_REPLY,
            actor,
            old=locked.rung,
            new=locked.reference,
            reason=(_("逾期回复:") if late else "") + text[:500],
        )
    document.__dict__.update({k: v for k, v in locked.__dict__.items() if k not in ("_state",)})
    return document
