"""The ground every change stands on: who makes it (``Actor``), how it is refused
(``ActionError``, ``NotAllowed``, ``StaleTask``), how it is authorized (``tracker.permissions``),
how the task row is locked and versioned, and how its history event is written (codes, unit
ids, ISO dates: never labels)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker import aggregates
from tracker.choices import EventKind, EventSource, TaskStatus
from tracker.models import Task, TaskEvent


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
    """Who or what makes a change: a user (through a page, the admin, a ledger upload), or a
    named system actor (``Actor.system``: a notice import, the reminder sweep, maintenance).

    A change whose actor has no user is refused unless its source is a system actor granted
    that change (``tracker.permissions.SYSTEM_GRANTS``): no actor means refusal, not trust.
    ``access`` lets a request's already-read roles be reused; it is never trusted over ``user``.
    """

    user: AbstractBaseUser | None = None
    source: str = EventSource.USER
    ref: str = ""
    access: object = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        user: AbstractBaseUser | None,
        source: str = EventSource.USER,
        ref: str = "",
        access=None,
    ):
        user = user if user is not None and user.is_authenticated else None
        if access is not None and getattr(access, "user", None) is not user:
            access = None
        return cls(user=user, source=source, ref=ref, access=access)

    @classmethod
    def system(cls, source: str, ref: str) -> Actor:
        """A named system actor: ``source`` is IMPORT, SWEEP or SYSTEM, ``ref`` says which run."""
        if source not in (EventSource.IMPORT, EventSource.SWEEP, EventSource.SYSTEM):
            raise ValueError(f"{source!r} is not a system actor")
        return cls(user=None, source=source, ref=ref)


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
    """A code's label in the active language, for messages (history stores the code)."""
    if not value:
        return ""
    return str(choices(value).label)


class NotAllowed(ActionError):
    """The actor may see the task but may not make this change."""


def _authorize(actor: Actor, action: str, task: Task) -> None:
    """Refuse unless ``actor`` may make ``action`` on ``task`` (tracker.permissions decides)."""
    from tracker.permissions import authorize

    if not authorize(actor, action, task):
        if actor.user is None:
            raise NotAllowed(_("没有操作人的修改不被接受。"))
        raise NotAllowed(_("您没有权限进行此操作。"))


def _unit_value(unit_or_id) -> str:
    """How history stores a unit: its id."""
    if unit_or_id is None:
        return ""
    return str(getattr(unit_or_id, "pk", unit_or_id))


def _units_value(ids) -> str:
    return ",".join(str(pk) for pk in sorted(ids))


def _date_value(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def record_event(
    task: Task,
    kind: str,
    actor: Actor,
    *,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> TaskEvent:
    """Append one history event, and the notifications of the people it concerns (same
    transaction). Only this module and modules built on it call this."""
    from tracker import notifications

    event = TaskEvent.objects.create(
        task=task,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        actor=actor.user,
        source=actor.source,
        source_ref=actor.ref[:255],
    )
    notifications.notify(event)
    return event


def _save(task: Task, fields: list[str]) -> None:
    """The one place every change of a task row passes: bumps the version and, when a value the
    dashboard tallies count by changed, moves the task's count in the same transaction."""
    counted = aggregates.TASK_KEY_FIELDS.intersection(fields)
    old = task.__dict__.get("_tally_key") if counted else None
    if counted and old is None:  # not locked through _begin: lock and read the stored values
        row = Task.objects.select_for_update().filter(pk=task.pk).values(*aggregates.KEY_FIELDS)
        old = aggregates.key_of(row.get())
    task.version += 1
    task.save(update_fields=[*fields, "version", "updated_at"])
    if counted:
        new = aggregates.key_of(task)
        aggregates.move(old, new)
        task._tally_key = new


def _refresh_caller(original: Task, locked: Task) -> None:
    """Let the caller's instance see the new state without another query."""
    original.__dict__.update(
        {k: v for k, v in locked.__dict__.items() if k not in ("_state", "_tally_key")}
    )


def _require_open(locked: Task) -> None:
    if locked.status == TaskStatus.CLOSED:
        raise ActionError(_("该任务已销号,不能再修改;如需继续整改,请整改办重新打开。"))


def _begin(task: Task, actor: Actor, action: str, expected_version: int | None) -> Task:
    """Lock the task, refuse an actor the rule does not allow, then refuse a stale version.

    Permission comes first: a user who may not make the change learns that, not who else
    changed the task."""
    locked = Task.objects.select_for_update().get(pk=task.pk)
    # The values the tallies count it under, before this change (tracker.aggregates).
    locked._tally_key = aggregates.key_of(locked)
    _authorize(actor, action, locked)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTask(locked, locked.events.select_related("actor").order_by("-id").first())
    return locked


def _bump(locked: Task) -> None:
    """A change stored outside the task row (a note, a tick, a file, a request) still bumps the
    version, so a form loaded before it is refused as stale."""
    _save(locked, [])


def _set_status(
    locked: Task, new_status: str, actor: Actor, *, reason: str, kind: str = EventKind.STATUS
) -> None:
    """Write a status change on a locked task. Callers have checked the rule."""
    old_status = locked.status
    locked.status = new_status
    locked.status_changed_at = timezone.now()
    locked.closed_at = timezone.now() if new_status == TaskStatus.CLOSED else None
    _save(locked, ["status", "status_changed_at", "closed_at"])
    record_event(locked, kind, actor, old=old_status, new=new_status, reason=reason)


def _progress_status(locked: Task, new_status: str, actor: Actor, reason: str) -> None:
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status == locked.status:
        return
    if new_status not in TRANSITIONS.get(locked.status, set()):
        raise ActionError(
            _("不允许从“%(old)s”变更为“%(new)s”")
            % {"old": _label(TaskStatus, locked.status), "new": _label(TaskStatus, new_status)}
        )
    _set_status(locked, new_status, actor, reason=reason)


def _move_deadline(
    locked: Task, new_deadline: datetime.date | None, actor: Actor, kind: str, reason: str
) -> None:
    old = locked.deadline
    fields = ["deadline"]
    if locked.original_deadline is None and old is not None:
        locked.original_deadline = old
        fields.append("original_deadline")
    locked.deadline = new_deadline
    _save(locked, fields)
    record_event(
        locked, kind, actor, old=_date_value(old), new=_date_value(new_deadline), reason=reason
    )
