"""The one way to change a task.

Status, deadline, owner, type and close-out change only through the functions here. Each one
runs in a transaction, locks the task row, checks the rule, writes exactly one history event
naming its actor and source, bumps the task's version, and defers any email or queued work to
``transaction.on_commit``. The admin, the views, the notice importer, the ledger upload and the
Celery sweep all call these functions; none of them assigns ``task.status`` itself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models import Measure, Problem, Task, TaskEvent, Unit


class ActionError(Exception):
    """A change that the rules do not allow; the message is shown to the user as is."""


class StaleTask(ActionError):
    """The task changed since the user loaded it (optimistic concurrency)."""

    def __init__(self, task: Task, last_event: TaskEvent | None):
        self.task = task
        self.last_event = last_event
        who = (last_event.actor or last_event.get_source_display()) if last_event else "?"
        when = (
            timezone.localtime(last_event.created_at).strftime("%Y-%m-%d %H:%M")
            if last_event
            else "?"
        )
        super().__init__(
            _("该任务已被 %(who)s 于 %(when)s 修改,请刷新后重试。") % {"who": who, "when": when}
        )


@dataclass(frozen=True)
class Actor:
    """Who or what makes a change: a user, or a source such as a notice import or a sweep."""

    user: AbstractBaseUser | None = None
    source: str = EventSource.USER
    ref: str = ""

    @classmethod
    def of(cls, user: AbstractBaseUser | None, source: str = EventSource.USER, ref: str = ""):
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            source=source,
            ref=ref,
        )


# Allowed status moves for ordinary progress reporting. Close-out (→ 已销号) and reopening
# (已销号 → 整改中) have their own functions with their own review rules.
TRANSITIONS: dict[str, set[str]] = {
    TaskStatus.NOT_STARTED: {
        TaskStatus.IN_PROGRESS,
        TaskStatus.BASICALLY_COMPLETED,
        TaskStatus.COMPLETED,
    },
    TaskStatus.IN_PROGRESS: {TaskStatus.BASICALLY_COMPLETED, TaskStatus.COMPLETED},
    TaskStatus.BASICALLY_COMPLETED: {TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED},
    TaskStatus.COMPLETED: {TaskStatus.IN_PROGRESS, TaskStatus.BASICALLY_COMPLETED},
    TaskStatus.CLOSED: set(),
}


def allowed_statuses(task: Task) -> list[str]:
    """The statuses a progress update may move ``task`` to (for forms and the ledger upload)."""
    return [s for s in TaskStatus.values if s in TRANSITIONS[task.status]]


def _label(choices, value) -> str:
    return str(choices(value).label) if value else ""


def _lock(task: Task, expected_version: int | None) -> Task:
    """Re-read the task under a row lock and check the version the caller saw."""
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTask(locked, locked.events.select_related("actor").order_by("-id").first())
    return locked


def record_event(
    task: Task,
    kind: str,
    actor: Actor,
    *,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> TaskEvent:
    """Append one history event. Only this module and modules built on it call this."""
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        actor=actor.user,
        source=actor.source,
        source_ref=actor.ref[:255],
    )


def _save(task: Task, fields: list[str]) -> None:
    task.version += 1
    task.save(update_fields=[*fields, "version", "updated_at"])


def _refresh_caller(original: Task, locked: Task) -> None:
    """Let the caller's instance see the new state without another query."""
    original.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})


@transaction.atomic
def create_task(
    problem: Problem,
    actor: Actor,
    *,
    owner_unit: Unit,
    deadline: datetime.date | None,
    status: str = TaskStatus.NOT_STARTED,
    task_type: str = TaskType.DEADLINE,
    measures: list[str] | tuple[str, ...] = (),
    lead_leader_name: str = "",
    report_period_days: int | None = None,
) -> Task:
    """Create the task for a leaf problem, with its measures and a 'created' event."""
    from django.conf import settings

    report_due_on = None
    if task_type == TaskType.LONG_TERM:
        period = report_period_days or settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        report_due_on = timezone.localdate() + datetime.timedelta(days=period)
    task = Task.objects.create(
        problem=problem,
        inspection_id=problem.inspection_id,
        owner_unit=owner_unit,
        deadline=deadline,
        status=status,
        task_type=task_type,
        lead_leader_name=lead_leader_name,
        report_due_on=report_due_on,
        status_changed_at=timezone.now(),
        closed_at=timezone.now() if status == TaskStatus.CLOSED else None,
    )
    Measure.objects.bulk_create(
        [Measure(task=task, order=i, text=text) for i, text in enumerate(measures, start=1)]
    )
    record_event(task, EventKind.CREATED, actor, new=_label(TaskStatus, status))
    return task


@transaction.atomic
def change_status(
    task: Task,
    new_status: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Move a task along the allowed progress transitions (not into or out of 已销号)."""
    locked = _lock(task, expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status == locked.status:
        _refresh_caller(task, locked)
        return task
    if new_status not in TRANSITIONS[locked.status]:
        raise ActionError(
            _("不允许从“%(old)s”变更为“%(new)s”")
            % {"old": _label(TaskStatus, locked.status), "new": _label(TaskStatus, new_status)}
        )
    _set_status(locked, new_status, actor, reason=reason)
    _refresh_caller(task, locked)
    return task


def _set_status(
    locked: Task, new_status: str, actor: Actor, *, reason: str, kind: str = EventKind.STATUS
) -> None:
    """Write a status change on a locked task. Callers have checked the rule."""
    old_status = locked.status
    locked.status = new_status
    locked.status_changed_at = timezone.now()
    locked.closed_at = timezone.now() if new_status == TaskStatus.CLOSED else None
    _save(locked, ["status", "status_changed_at", "closed_at"])
    record_event(
        locked,
        kind,
        actor,
        old=_label(TaskStatus, old_status),
        new=_label(TaskStatus, new_status),
        reason=reason,
    )


@transaction.atomic
def change_deadline(
    task: Task,
    new_deadline: datetime.date | None,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set a new deadline; the first deadline a task had stays on record as the original."""
    locked = _lock(task, expected_version)
    if new_deadline == locked.deadline:
        _refresh_caller(task, locked)
        return task
    old = locked.deadline
    fields = ["deadline"]
    if locked.original_deadline is None and old is not None:
        locked.original_deadline = old
        fields.append("original_deadline")
    locked.deadline = new_deadline
    _save(locked, fields)
    record_event(
        locked,
        EventKind.DEADLINE,
        actor,
        old=old.isoformat() if old else "",
        new=new_deadline.isoformat() if new_deadline else "",
        reason=reason,
    )
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def change_owner(
    task: Task,
    unit: Unit,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Assign the task to another unit (责任主体)."""
    locked = _lock(task, expected_version)
    if unit.pk == locked.owner_unit_id:
        _refresh_caller(task, locked)
        return task
    old_unit = Unit.objects.get(pk=locked.owner_unit_id)
    locked.owner_unit = unit
    _save(locked, ["owner_unit"])
    record_event(locked, EventKind.OWNER, actor, old=old_unit.name, new=unit.name, reason=reason)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def change_type(
    task: Task,
    task_type: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Change 立行立改 / 限期整改 / 长期坚持; a long-term task gets its first report date."""
    from django.conf import settings

    locked = _lock(task, expected_version)
    if task_type == locked.task_type:
        _refresh_caller(task, locked)
        return task
    old = locked.task_type
    locked.task_type = task_type
    fields = ["task_type"]
    if task_type == TaskType.LONG_TERM and locked.report_due_on is None:
        locked.report_due_on = timezone.localdate() + datetime.timedelta(
            days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        )
        fields.append("report_due_on")
    _save(locked, fields)
    record_event(
        locked,
        EventKind.TYPE,
        actor,
        old=_label(TaskType, old),
        new=_label(TaskType, task_type),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def admin_set_status(
    task: Task,
    new_status: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """An administrator's correction: any status, recorded like every other change."""
    locked = _lock(task, expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status != locked.status:
        _set_status(locked, new_status, actor, reason=reason or _("管理员更正"))
    _refresh_caller(task, locked)
    return task
