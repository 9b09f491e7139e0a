"""Deadline extensions (申请延期): a unit asks, a supervisor (not the requester) approves or
refuses; closing a task ends a pending request."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    NotAllowed,
    _begin,
    _bump,
    _date_value,
    _move_deadline,
    _refresh_caller,
    _require_open,
    record_event,
)
from tracker.choices import EventKind, TaskType
from tracker.models import Task


def _end_pending_extension(locked: Task, actor: Actor) -> None:
    """Closing a task ends its pending extension request: no later decision can move the
    deadline of a closed task."""
    from tracker.choices import ExtensionStatus

    extension = _pending_extension(locked)
    if extension is None:
        return
    extension.status = ExtensionStatus.CANCELLED
    extension.decided_at = timezone.now()
    extension.decision_comment = _("任务已销号,延期申请自动终止。")
    extension.save(update_fields=["status", "decided_at", "decision_comment"])
    record_event(
        locked,
        EventKind.EXTENSION_CANCELLED,
        actor,
        old=_date_value(locked.deadline),
        new=_date_value(extension.new_deadline),
        reason=extension.decision_comment,
    )


def _pending_extension(locked: Task):
    from tracker.models import ExtensionRequest

    return ExtensionRequest.objects.select_for_update().pending().filter(task=locked).first()


@transaction.atomic
def request_extension(
    task: Task,
    actor: Actor,
    *,
    new_deadline: datetime.date,
    reason: str,
    expected_version: int | None = None,
):
    """申请延期: a later date and a reason, for a supervisor to approve or refuse."""
    from tracker.models import ExtensionRequest, local_today

    locked = _begin(task, actor, "request_extension", expected_version)
    _require_open(locked)
    if locked.is_done:
        raise ActionError(_("已完成的任务无需延期。"))
    if locked.task_type == TaskType.LONG_TERM:
        raise ActionError(_("长期坚持的任务没有整改时限,无需延期。"))
    if _pending_extension(locked) is not None:
        raise ActionError(_("该任务已有待审批的延期申请。"))
    reason = reason.strip()
    if not reason:
        raise ActionError(_("请填写延期理由。"))
    floor = max(filter(None, [locked.deadline, local_today()]))
    if new_deadline <= floor:
        raise ActionError(_("申请延至的日期须晚于 %s。") % floor.isoformat())
    extension = ExtensionRequest.objects.create(
        task=locked,
        current_deadline=locked.deadline,
        new_deadline=new_deadline,
        reason=reason,
        requested_by=actor.user,
    )
    _bump(locked)
    record_event(
        locked,
        EventKind.EXTENSION_REQUESTED,
        actor,
        old=_date_value(locked.deadline),
        new=new_deadline.isoformat(),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return extension


def _decidable_extension(locked: Task, actor: Actor):
    extension = _pending_extension(locked)
    if extension is None:
        raise ActionError(_("没有待审批的延期申请。"))
    _require_open(locked)
    if actor.user is not None and extension.requested_by_id == actor.user.pk:
        raise NotAllowed(_("不能审核本人提交的申请。"))
    return extension


@transaction.atomic
def approve_extension(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """A supervisor approves the pending extension: the deadline moves, and the first deadline
    the task ever had stays on record as ``original_deadline`` (as in ``change_deadline``)."""
    from tracker.choices import ExtensionStatus

    locked = _begin(task, actor, "approve_extension", expected_version)
    extension = _decidable_extension(locked, actor)
    extension.status = ExtensionStatus.APPROVED
    extension.decided_by = actor.user
    extension.decided_at = timezone.now()
    extension.decision_comment = comment.strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    _move_deadline(
        locked,
        extension.new_deadline,
        actor,
        EventKind.EXTENSION_APPROVED,
        comment.strip() or extension.reason,
    )
    _refresh_caller(task, locked)
    return extension


@transaction.atomic
def refuse_extension(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None):
    """A supervisor refuses the pending extension, with a required reason; the deadline stays."""
    from tracker.choices import ExtensionStatus

    locked = _begin(task, actor, "refuse_extension", expected_version)
    extension = _decidable_extension(locked, actor)
    reason = reason.strip()
    if not reason:
        raise ActionError(_("驳回须填写理由。"))
    extension.status = ExtensionStatus.REFUSED
    extension.decided_by = actor.user
    extension.decided_at = timezone.now()
    extension.decision_comment = reason
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    _bump(locked)
    record_event(
        locked,
        EventKind.EXTENSION_REFUSED,
        actor,
        old=_date_value(locked.deadline),
        new=extension.new_deadline.isoformat(),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return extension
