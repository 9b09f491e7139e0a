"""The one way to change a task.

Every field of a task that matters (status, deadline, owner, lead unit, responsible units, lead
leader, type, report date, progress, measures) and the close-out and extension workflow change
only through the functions here. Each one runs in a transaction, locks the task row, asks
``tracker.permissions.authorize`` whether its actor may make this change (role, scope, stage:
callers never decide), checks the workflow rule, writes one history event per change naming its
actor and source, bumps the task's version, and defers any email or queued work to
``transaction.on_commit``. The admin, the views, the notice importer, the ledger upload and the
Celery sweep all call these functions; none of them assigns ``task.status`` itself.

Events store codes (status, type, measure state, close-out stage), unit ids and ISO dates, never
labels: ``tracker.models.history.label_events`` renders them in the reader's language.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.choices import EventKind, EventSource, MeasureState, TaskStatus, TaskType
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
    lead_unit: Unit | None = None,
    report_due_on: datetime.date | None = None,
) -> Task:
    """Create the task for a leaf problem, with its measures and a 'created' event.

    Supervisors of the problem's inspection (and administrators, and the notice import) may."""

    if report_due_on is None and task_type == TaskType.LONG_TERM:
        period = report_period_days or settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        report_due_on = timezone.localdate() + datetime.timedelta(days=period)
    task = Task(
        problem=problem,
        inspection_id=problem.inspection_id,
        owner_unit=owner_unit,
        lead_unit=lead_unit,
        deadline=deadline,
        status=status,
        task_type=task_type,
        lead_leader_name=lead_leader_name,
        report_due_on=report_due_on,
        status_changed_at=timezone.now(),
        closed_at=timezone.now() if status == TaskStatus.CLOSED else None,
    )
    _authorize(actor, "create_task", task)
    task.save()
    Measure.objects.bulk_create(
        [Measure(task=task, order=i, text=text) for i, text in enumerate(measures, start=1)]
    )
    record_event(task, EventKind.CREATED, actor, new=status)
    return task


@dataclass(frozen=True)
class NewTask:
    """The arguments of ``create_task`` for one leaf problem, for ``create_tasks``."""

    problem: Problem
    owner_unit: Unit
    deadline: datetime.date | None
    status: str = TaskStatus.NOT_STARTED
    task_type: str = TaskType.DEADLINE
    measures: tuple[str, ...] = ()
    lead_leader_name: str = ""


# No savepoint: nothing here catches an error half-way, and the importer calls it once per
# notice inside its own transaction (a SAVEPOINT/RELEASE pair would be two more round trips).
@transaction.atomic(savepoint=False)
def create_tasks(new_tasks: list[NewTask] | tuple[NewTask, ...], actor: Actor) -> list[Task]:
    """``create_task`` for many problems at once (the notice importer): the same rows and the
    same one 'created' event per task, in three bulk INSERTs instead of three per task."""

    if actor.user is not None:
        for n in new_tasks:  # a user is judged per inspection, as create_task does
            _authorize(actor, "create_task", Task(inspection_id=n.problem.inspection_id))
    elif new_tasks:
        _authorize(actor, "create_task", Task(inspection_id=new_tasks[0].problem.inspection_id))
    now = timezone.now()
    report_due_on = timezone.localdate() + datetime.timedelta(
        days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                problem=n.problem,
                inspection_id=n.problem.inspection_id,
                owner_unit=n.owner_unit,
                deadline=n.deadline,
                status=n.status,
                task_type=n.task_type,
                lead_leader_name=n.lead_leader_name,
                report_due_on=report_due_on if n.task_type == TaskType.LONG_TERM else None,
                status_changed_at=now,
                closed_at=now if n.status == TaskStatus.CLOSED else None,
            )
            for n in new_tasks
        ]
    )
    Measure.objects.bulk_create(
        [
            Measure(task=task, order=i, text=text)
            for task, n in zip(tasks, new_tasks, strict=True)
            for i, text in enumerate(n.measures, start=1)
        ]
    )
    TaskEvent.objects.bulk_create(
        [
            TaskEvent(
                task=task,
                kind=EventKind.CREATED,
                new_value=task.status,
                actor=actor.user,
                source=actor.source,
                source_ref=actor.ref[:255],
            )
            for task in tasks
        ]
    )
    return tasks


def _require_open(locked: Task) -> None:
    if locked.status == TaskStatus.CLOSED:
        raise ActionError(_("该任务已销号,不能再修改;如需继续整改,请整改办重新打开。"))


def _begin(task: Task, actor: Actor, action: str, expected_version: int | None) -> Task:
    """Lock the task, refuse an actor the rule does not allow, then refuse a stale version.

    Permission comes first: a user who may not make the change learns that, not who else
    changed the task."""
    locked = Task.objects.select_for_update().get(pk=task.pk)
    _authorize(actor, action, locked)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTask(locked, locked.events.select_related("actor").order_by("-id").first())
    return locked


def _bump(locked: Task) -> None:
    """A change stored outside the task row (a note, a tick, a file, a request) still bumps the
    version, so a form loaded before it is refused as stale."""
    _save(locked, [])


@transaction.atomic
def change_status(
    task: Task,
    new_status: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Move a task along the allowed progress transitions (not into or out of 已销号): the rule
    of the task page, whichever way the change comes in (page, ledger upload, notice import)."""
    locked = _begin(task, actor, "change_status", expected_version)
    _require_open(locked)
    _progress_status(locked, new_status, actor, reason=reason)
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


@transaction.atomic
def change_deadline(
    task: Task,
    new_deadline: datetime.date | None,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set a new deadline (supervisors; a clerk asks for an extension instead); the first
    deadline a task had stays on record as the original."""
    locked = _begin(task, actor, "change_deadline", expected_version)
    if new_deadline == locked.deadline:
        _refresh_caller(task, locked)
        return task
    _require_open(locked)
    _move_deadline(locked, new_deadline, actor, EventKind.DEADLINE, reason)
    _refresh_caller(task, locked)
    return task


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


def _check_unit(locked: Task, unit: Unit) -> None:
    """A unit given a task belongs to the task's organization and is not retired."""
    from tracker.models import Inspection

    org_id = Inspection.objects.values_list("organization_id", flat=True).get(
        pk=locked.inspection_id
    )
    if unit.organization_id != org_id:
        raise ActionError(_("单位“%s”不属于该任务所在的党组织。") % unit.name)
    if unit.retired:
        raise ActionError(_("单位“%s”已撤并,不能再分派任务。") % unit.name)


def _set_unit(
    task: Task, locked: Task, field: str, kind: str, unit: Unit | None, actor: Actor, reason: str
) -> Task:
    """Give ``field`` (owner_unit or lead_unit) ``unit``; one event with both unit ids."""
    old_id = getattr(locked, f"{field}_id")
    new_id = unit.pk if unit is not None else None
    if new_id != old_id:
        _require_open(locked)
        if unit is not None:
            _check_unit(locked, unit)
        setattr(locked, field, unit)
        _save(locked, [field])
        record_event(
            locked, kind, actor, old=_unit_value(old_id), new=_unit_value(new_id), reason=reason
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
    """Assign the task to another unit (责任主体): supervisors only."""
    locked = _begin(task, actor, "change_owner", expected_version)
    return _set_unit(task, locked, "owner_unit", EventKind.OWNER, unit, actor, reason)


@transaction.atomic
def change_lead_unit(
    task: Task,
    unit: Unit | None,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set or clear the lead unit (牵头单位), whose leads give the first close-out review."""
    locked = _begin(task, actor, "change_lead_unit", expected_version)
    return _set_unit(task, locked, "lead_unit", EventKind.LEAD_UNIT, unit, actor, reason)


@transaction.atomic
def change_responsible_units(
    task: Task,
    units,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Replace the responsible units (责任单位) with ``units``; one event with both sets."""
    locked = _begin(task, actor, "change_responsible_units", expected_version)
    units = list(units)
    old_ids = set(locked.responsible_units.values_list("pk", flat=True))
    new_ids = {u.pk for u in units}
    if old_ids == new_ids:
        _refresh_caller(task, locked)
        return task
    _require_open(locked)
    for unit in units:
        if unit.pk not in old_ids:
            _check_unit(locked, unit)
    locked.responsible_units.set(units)
    _bump(locked)
    record_event(
        locked,
        EventKind.RESPONSIBLE_UNITS,
        actor,
        old=_units_value(old_ids),
        new=_units_value(new_ids),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return task


def _leader_value(name: str, user) -> str:
    if user is None:
        return name
    return f"{name}〔{user.get_username()}〕" if name else f"〔{user.get_username()}〕"


@transaction.atomic
def change_lead_leader(
    task: Task,
    name: str,
    actor: Actor,
    *,
    user=None,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set the lead leader (牵头领导): the name as written, and the account when there is one."""
    locked = _begin(task, actor, "change_lead_leader", expected_version)
    name = (name or "").strip()
    user_id = user.pk if user is not None else None
    if name == locked.lead_leader_name and user_id == locked.lead_leader_id:
        _refresh_caller(task, locked)
        return task
    _require_open(locked)
    old = _leader_value(locked.lead_leader_name, locked.lead_leader)
    locked.lead_leader_name = name
    locked.lead_leader = user
    _save(locked, ["lead_leader_name", "lead_leader"])
    record_event(
        locked, EventKind.LEAD_LEADER, actor, old=old, new=_leader_value(name, user), reason=reason
    )
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

    locked = _begin(task, actor, "change_type", expected_version)
    if task_type not in TaskType.values:
        raise ActionError(_("未知的整改类型:%s") % task_type)
    if task_type == locked.task_type:
        _refresh_caller(task, locked)
        return task
    _require_open(locked)
    old = locked.task_type
    locked.task_type = task_type
    _save(locked, ["task_type"])
    record_event(locked, EventKind.TYPE, actor, old=old, new=task_type, reason=reason)
    if task_type == TaskType.LONG_TERM and locked.report_due_on is None:
        _move_report_due(
            locked,
            timezone.localdate()
            + datetime.timedelta(days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]),
            actor,
            reason,
        )
    _refresh_caller(task, locked)
    return task


def _move_report_due(locked: Task, day: datetime.date | None, actor: Actor, reason: str) -> None:
    old = locked.report_due_on
    locked.report_due_on = day
    _save(locked, ["report_due_on"])
    record_event(
        locked,
        EventKind.REPORT_DUE,
        actor,
        old=_date_value(old),
        new=_date_value(day),
        reason=reason,
    )


@transaction.atomic
def change_report_due(
    task: Task,
    day: datetime.date | None,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set the day a 长期坚持 task's next periodic progress report is due."""
    locked = _begin(task, actor, "change_report_due", expected_version)
    if day == locked.report_due_on:
        _refresh_caller(task, locked)
        return task
    _require_open(locked)
    _move_report_due(locked, day, actor, reason)
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
    """An administrator's correction: any status, with a stated reason, recorded like every
    other change. A close-out under review or an extension pending ends with it when the
    correction closes the task."""
    locked = _begin(task, actor, "admin_set_status", expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status == locked.status:
        _refresh_caller(task, locked)
        return task
    reason = reason.strip()
    if not reason and actor.user is not None:
        raise ActionError(_("管理员更正状态须填写变更说明。"))
    _set_status(locked, new_status, actor, reason=reason)
    if new_status == TaskStatus.CLOSED:
        _end_pending_extension(locked, actor)
    _refresh_caller(task, locked)
    return task


# --- Workspace workflow: progress, evidence, measures, close-out (双审核), extensions ---------
#
# A task that is 已销号 is read-only until a supervisor reopens it (回头看).


def _note(locked: Task, text: str, actor: Actor, *, required: bool = True) -> None:
    text = text.strip()
    if not text and required:
        raise ActionError(_("请填写进展情况。"))
    if text == locked.progress.strip() and not required:
        return
    old = locked.progress
    locked.progress = text
    _save(locked, ["progress"])
    record_event(locked, EventKind.NOTE, actor, old=old, new=text)


def _tick(locked: Task, measure: Measure, done: bool, actor: Actor) -> bool:
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    if measure.done == done:
        return False
    old = measure.state
    measure.done = done
    measure.done_at = timezone.now() if done else None
    fields = ["done", "done_at"]
    if done and measure.not_applicable:
        measure.not_applicable, measure.na_reason = False, ""
        fields += ["not_applicable", "na_reason"]
    measure.save(update_fields=fields)
    _bump(locked)
    record_event(locked, EventKind.MEASURE, actor, old=old, new=measure.state, reason=measure.text)
    return True


def _mark_na(locked: Task, measure: Measure, reason: str | None, actor: Actor) -> bool:
    """``reason`` text marks the measure not applicable; None clears the mark."""
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    if reason is None:
        if not measure.not_applicable:
            return False
        old = measure.state
        measure.not_applicable, measure.na_reason = False, ""
    else:
        reason = reason.strip()
        if not reason:
            raise ActionError(_("措施“%s”标为不适用须说明理由。") % measure.text[:30])
        if measure.not_applicable and measure.na_reason == reason:
            return False
        old = measure.state
        measure.not_applicable, measure.na_reason = True, reason[:500]
        measure.done, measure.done_at = False, None
    measure.save(update_fields=["not_applicable", "na_reason", "done", "done_at"])
    _bump(locked)
    record_event(
        locked,
        EventKind.MEASURE,
        actor,
        old=old,
        new=measure.state,
        reason=measure.text + (f"({measure.na_reason})" if measure.na_reason else ""),
    )
    return True


def _evidence(locked: Task, upload, actor: Actor, description: str = ""):
    from tracker.evidence import check_upload
    from tracker.models import Evidence

    checked = check_upload(upload)  # ValidationError for the form; re-checked for every caller
    evidence = Evidence(
        task=locked,
        original_name=checked.display_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        description=description[:200],
        uploaded_by=actor.user,
    )
    evidence.file.save(checked.stored_name, upload, save=False)
    evidence.save()
    _bump(locked)
    record_event(locked, EventKind.EVIDENCE, actor, new=checked.display_name, reason=description)
    return evidence


@transaction.atomic
def record_note(
    task: Task,
    text: str,
    actor: Actor,
    *,
    expected_version: int | None = None,
    required: bool = True,
):
    """Write a progress note (进展情况): it becomes the task's current progress text. With
    ``required=False`` (an administrator's correction of the text) it may also be emptied."""
    locked = _begin(task, actor, "record_note", expected_version)
    _require_open(locked)
    _note(locked, text, actor, required=required)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def tick_measure(
    task: Task, measure: Measure, done: bool, actor: Actor, *, expected_version: int | None = None
):
    """Mark one measure done or not done."""
    locked = _begin(task, actor, "tick_measure", expected_version)
    _require_open(locked)
    _tick(locked, Measure.objects.select_for_update().get(pk=measure.pk), done, actor)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def mark_measure_not_applicable(
    task: Task,
    measure: Measure,
    reason: str | None,
    actor: Actor,
    *,
    expected_version: int | None = None,
):
    """Mark one measure not applicable with a reason (None: clear the mark)."""
    locked = _begin(task, actor, "mark_measure_not_applicable", expected_version)
    _require_open(locked)
    _mark_na(locked, Measure.objects.select_for_update().get(pk=measure.pk), reason, actor)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def add_measure(
    task: Task, text: str, actor: Actor, *, reason: str = "", expected_version: int | None = None
) -> Measure:
    """Add a rectification measure (supervisors: measures are part of the plan)."""
    from django.db.models import Max

    locked = _begin(task, actor, "add_measure", expected_version)
    _require_open(locked)
    text = text.strip()
    if not text:
        raise ActionError(_("请填写措施内容。"))
    last = Measure.objects.filter(task=locked).aggregate(m=Max("order"))["m"] or 0
    measure = Measure.objects.create(task=locked, order=last + 1, text=text)
    _bump(locked)
    record_event(locked, EventKind.MEASURE_ADDED, actor, new=text, reason=reason)
    _refresh_caller(task, locked)
    return measure


@transaction.atomic
def edit_measure(
    task: Task,
    measure: Measure,
    text: str,
    actor: Actor,
    *,
    order: int | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Measure:
    """Reword (or reorder) a measure; its done / not applicable state stays."""
    locked = _begin(task, actor, "edit_measure", expected_version)
    _require_open(locked)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    text = text.strip()
    if not text:
        raise ActionError(_("请填写措施内容。"))
    fields = []
    if order is not None and order != measure.order:
        measure.order = order
        fields.append("order")
    old = measure.text
    if text != old:
        measure.text = text
        fields.append("text")
    if not fields:
        return measure
    measure.save(update_fields=fields)
    _bump(locked)
    record_event(
        locked,
        EventKind.MEASURE_EDITED,
        actor,
        old=old if "text" in fields else f"#{measure.order}",
        new=text if "text" in fields else f"#{order}",
        reason=reason or (old if "text" not in fields else ""),
    )
    _refresh_caller(task, locked)
    return measure


@transaction.atomic
def remove_measure(
    task: Task,
    measure: Measure,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> None:
    """Remove a measure; its text and state stay in the event."""
    locked = _begin(task, actor, "remove_measure", expected_version)
    _require_open(locked)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    record_event(
        locked,
        EventKind.MEASURE_REMOVED,
        actor,
        old=measure.text,
        new="",
        reason=reason or _label(MeasureState, measure.state),
    )
    measure.delete()
    _bump(locked)
    _refresh_caller(task, locked)


@transaction.atomic
def add_evidence(
    task: Task,
    upload,
    actor: Actor,
    *,
    description: str = "",
    expected_version: int | None = None,
):
    """Attach one evidence file (validated by content; stored under a random name)."""
    locked = _begin(task, actor, "add_evidence", expected_version)
    _require_open(locked)
    evidence = _evidence(locked, upload, actor, description)
    _refresh_caller(task, locked)
    return evidence


@transaction.atomic
def update_progress(
    task: Task,
    actor: Actor,
    *,
    expected_version: int | None,
    note: str = "",
    done_measure_ids: set[int] | None = None,
    not_applicable: dict[int, str] | None = None,
    status: str | None = None,
    uploads: list | tuple = (),
) -> Task:
    """One progress report as a clerk submits it: measure ticks (and measures marked not
    applicable, with their reasons), evidence, a note and a status move, all or nothing,
    checked once against the version the form was loaded with. Each part writes its own
    event, exactly as the single-purpose functions above do."""
    locked = _begin(task, actor, "update_progress", expected_version)
    _require_open(locked)
    if done_measure_ids is not None or not_applicable is not None:
        na = not_applicable or {}
        for measure in Measure.objects.select_for_update().filter(task=locked).order_by("order"):
            if measure.pk in na:
                _mark_na(locked, measure, na[measure.pk], actor)
            else:
                if not_applicable is not None:
                    _mark_na(locked, measure, None, actor)
                if done_measure_ids is not None:
                    _tick(locked, measure, measure.pk in done_measure_ids, actor)
    for upload in uploads:
        _evidence(locked, upload, actor)
    if note.strip():
        _note(locked, note, actor)
    if status:
        _progress_status(locked, status, actor, reason="")
    _refresh_caller(task, locked)
    return task


def _pending_closeout(locked: Task):
    from tracker.models import CloseoutRequest

    return CloseoutRequest.objects.select_for_update().pending().filter(task=locked).first()


def closeout_blockers(task: Task, basic_reason: str = "", measures=None) -> list[str]:
    """Why ``task`` cannot be put forward for close-out now (empty: it can).

    Status 已完成, or 基本完成 with a stated reason (RECTIFY["CLOSEOUT_ALLOW_BASIC"]), and every
    measure done or not applicable with a reason (RECTIFY["CLOSEOUT_REQUIRE_MEASURES"])."""
    rules = settings.RECTIFY
    problems = []
    if task.status == TaskStatus.BASICALLY_COMPLETED:
        if not rules.get("CLOSEOUT_ALLOW_BASIC", True):
            problems.append(_("只有“已完成”的任务才能申请销号。"))
        elif not basic_reason.strip():
            problems.append(_("任务为“基本完成”,申请销号须说明理由。"))
    elif task.status != TaskStatus.COMPLETED:
        problems.append(
            _("任务状态为“%s”,须为“已完成”(或说明理由的“基本完成”)才能申请销号。")
            % _label(TaskStatus, task.status)
        )
    if rules.get("CLOSEOUT_REQUIRE_MEASURES", True):
        measures = task.measures.all() if measures is None else measures
        open_measures = [m for m in measures if not m.settled]
        if open_measures:
            problems.append(
                _("还有 %(n)d 项措施未完成或未说明不适用理由:%(first)s")
                % {"n": len(open_measures), "first": open_measures[0].text[:40]}
            )
    return problems


@transaction.atomic
def request_closeout(
    task: Task,
    actor: Actor,
    *,
    summary: str,
    no_evidence_reason: str = "",
    basic_reason: str = "",
    expected_version: int | None = None,
):
    """申请销号: a summary plus at least one evidence file or a written reason for having none,
    on a task that is done (``closeout_blockers``). The task's evidence so far is attached to
    the request, so reviewers see what was submitted."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _begin(task, actor, "request_closeout", expected_version)
    _require_open(locked)
    if _pending_closeout(locked) is not None:
        raise ActionError(_("该任务已有待审核的销号申请。"))
    summary, no_evidence_reason = summary.strip(), no_evidence_reason.strip()
    basic_reason = basic_reason.strip()
    if not summary:
        raise ActionError(_("请填写整改情况总结。"))
    blockers = closeout_blockers(locked, basic_reason)
    if blockers:
        raise ActionError(" ".join(blockers))
    evidence_ids = list(locked.evidence.values_list("pk", flat=True))
    if not evidence_ids and not no_evidence_reason:
        raise ActionError(_("请上传至少一份佐证材料,或说明无佐证材料的原因。"))
    if locked.status == TaskStatus.BASICALLY_COMPLETED:
        summary = f"{summary}\n{_('基本完成的理由:')}{basic_reason}"
    closeout = CloseoutRequest.objects.create(
        task=locked,
        summary=summary,
        no_evidence_reason=no_evidence_reason,
        requested_by=actor.user,
        status=CloseoutStatus.PENDING_LEAD,
    )
    closeout.evidence.set(evidence_ids)
    _bump(locked)
    record_event(
        locked,
        EventKind.CLOSEOUT_REQUESTED,
        actor,
        new=CloseoutStatus.PENDING_LEAD,
        reason=summary,
    )
    _refresh_caller(task, locked)
    return closeout


def _review(closeout, stage: str, decision: str, actor: Actor, comment: str) -> None:
    from tracker.models import CloseoutReview

    CloseoutReview.objects.create(
        request=closeout, stage=stage, decision=decision, comment=comment, reviewer=actor.user
    )


def _separate_duties(closeout, actor: Actor) -> None:
    """Nobody reviews a request they made, and the two stages are two different people."""
    from tracker.choices import ReviewStage

    if actor.user is None:
        return
    if closeout.requested_by_id == actor.user.pk:
        raise NotAllowed(_("不能审核本人提交的申请。"))
    first = closeout.reviews.filter(stage=ReviewStage.LEAD).first()
    if first is not None and first.reviewer_id == actor.user.pk:
        raise NotAllowed(_("双审核须由两人完成:您已进行了牵头单位审核。"))


def _still_ready(locked: Task, closeout) -> None:
    """A close-out is approved only while the task still qualifies (status, measures)."""
    basic = _("基本完成的理由:")
    reason = closeout.summary.split(basic, 1)[1] if basic in closeout.summary else ""
    blockers = closeout_blockers(locked, reason)
    if blockers:
        raise ActionError(_("任务已不符合销号条件:") + " ".join(blockers))


@transaction.atomic
def lead_review_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """First review (牵头单位审核): a lead of the lead unit (owner unit when none) approves."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _begin(task, actor, "lead_review_closeout", expected_version)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_LEAD:
        raise ActionError(_("没有待牵头单位审核的销号申请。"))
    _separate_duties(closeout, actor)
    _still_ready(locked, closeout)
    _review(closeout, ReviewStage.LEAD, ReviewDecision.APPROVED, actor, comment.strip())
    closeout.status = CloseoutStatus.PENDING_SUPERVISOR
    closeout.save(update_fields=["status"])
    _bump(locked)
    record_event(
        locked,
        EventKind.CLOSEOUT_LEAD_APPROVED,
        actor,
        old=CloseoutStatus.PENDING_LEAD,
        new=CloseoutStatus.PENDING_SUPERVISOR,
        reason=comment.strip(),
    )
    _refresh_caller(task, locked)
    return closeout


@transaction.atomic
def approve_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """Second review (整改办审核): a supervisor approves and the task is struck off (已销号).

    双审核 means two people: the supervisor is neither the requester nor the first reviewer. A
    pending extension request ends with the close-out (recorded), undecided.
    """
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _begin(task, actor, "approve_closeout", expected_version)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_SUPERVISOR:
        raise ActionError(_("没有待整改办审核的销号申请。"))
    _separate_duties(closeout, actor)
    _still_ready(locked, closeout)
    _review(closeout, ReviewStage.SUPERVISOR, ReviewDecision.APPROVED, actor, comment.strip())
    closeout.status = CloseoutStatus.APPROVED
    closeout.decided_at = timezone.now()
    closeout.save(update_fields=["status", "decided_at"])
    _set_status(
        locked,
        TaskStatus.CLOSED,
        actor,
        reason=comment.strip(),
        kind=EventKind.CLOSEOUT_APPROVED,
    )
    _end_pending_extension(locked, actor)
    _refresh_caller(task, locked)
    return closeout


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


@transaction.atomic
def return_closeout(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None):
    """Either reviewer sends the request back with a required reason; the task is 整改中 again."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = Task.objects.select_for_update().get(pk=task.pk)
    closeout = _pending_closeout(locked)
    lead_stage = closeout is not None and closeout.status == CloseoutStatus.PENDING_LEAD
    locked = _begin(
        task,
        actor,
        "lead_review_closeout" if lead_stage else "approve_closeout",
        expected_version,
    )
    if closeout is None:
        raise ActionError(_("没有待审核的销号申请。"))
    _separate_duties(closeout, actor)
    reason = reason.strip()
    if not reason:
        raise ActionError(_("退回须填写理由。"))
    stage = ReviewStage.LEAD if lead_stage else ReviewStage.SUPERVISOR
    _review(closeout, stage, ReviewDecision.RETURNED, actor, reason)
    closeout.status = CloseoutStatus.RETURNED
    closeout.decided_at = timezone.now()
    closeout.save(update_fields=["status", "decided_at"])
    _set_status(
        locked, TaskStatus.IN_PROGRESS, actor, reason=reason, kind=EventKind.CLOSEOUT_RETURNED
    )
    _refresh_caller(task, locked)
    return closeout


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


@transaction.atomic
def reopen(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None) -> Task:
    """回头看: a supervisor finds a closed task not really fixed and puts it back to 整改中. The
    close-out that closed it is marked reopened, so no panel shows the task as 已销号."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _begin(task, actor, "reopen", expected_version)
    if locked.status != TaskStatus.CLOSED:
        raise ActionError(_("只有已销号的任务才能重新打开。"))
    reason = reason.strip()
    if not reason:
        raise ActionError(_("重新打开须填写理由。"))
    CloseoutRequest.objects.filter(task=locked, status=CloseoutStatus.APPROVED).update(
        status=CloseoutStatus.REOPENED
    )
    _set_status(locked, TaskStatus.IN_PROGRESS, actor, reason=reason, kind=EventKind.REOPENED)
    _refresh_caller(task, locked)
    return task


def record_reminder(
    task_ids: list[int] | tuple[int, ...],
    *,
    recipient: str,
    tiers: dict[int, str],
    day: datetime.date,
) -> int:
    """Append one 'reminder' event per task for a digest email that was just sent.

    A reminder changes nothing on the task (no lock, no version bump); the event only puts the
    email on the task's timeline: which tier, to whom, from which day's sweep. Written in bulk
    because one digest can carry hundreds of tasks.
    """
    actor = Actor.system(EventSource.SWEEP, f"sweep:{day.isoformat()}")
    reason = _("提醒邮件已发送至 %s") % recipient
    events = [
        TaskEvent(
            task_id=task_id,
            kind=EventKind.REMINDER,
            new_value=tiers.get(task_id, ""),
            reason=reason,
            actor=None,
            source=actor.source,
            source_ref=actor.ref,
        )
        for task_id in task_ids
    ]
    TaskEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def record_reminders(digest_ids: list[int]) -> int:
    """Append one 'reminder' event per task for the day's reminder digests ``digest_ids`` that
    were just sent, unless the task already has one for that day.

    One event per task and day, not per recipient: a full-size sweep reminds 100,000 tasks
    through half a million (task, recipient) pairs, and the pairs are already in the reminder
    log. The event names the recipients of these digests, and how many people the task's
    reminder went to that day when that is more. On PostgreSQL written in one INSERT … SELECT;
    elsewhere (SQLite, ``make run``) the same rows are built from two ORM reads (the caller
    serialises concurrent calls, so "already has one" holds on both).
    """
    if not digest_ids:
        return 0
    from django.db import connection

    if connection.vendor == "postgresql":
        return _record_reminders_postgresql(digest_ids)
    return _record_reminders_portable(digest_ids)


def _reminder_reason(recipients: list[str], total: int) -> str:
    """The timeline text of a reminder event (the same words the PostgreSQL path writes)."""
    who = "、".join(recipients)
    if total > len(recipients):
        return _("提醒邮件已发送至 %(who)s 等%(n)s人") % {"who": who, "n": total}
    return _("提醒邮件已发送至 %s") % who


def _record_reminders_portable(digest_ids: list[int]) -> int:
    from django.db.models import Count

    from tracker.models.reminders import ReminderLog

    groups: dict[tuple[int, str, datetime.date], list[str]] = {}
    for task_id, tier, day, recipient in ReminderLog.objects.filter(
        digest_id__in=list(digest_ids)
    ).values_list("task_id", "tier", "day", "digest__recipient"):
        groups.setdefault((task_id, tier, day), []).append(recipient)
    if not groups:
        return 0
    task_ids = {task_id for task_id, _tier, _day in groups}
    days = {day for _task, _tier, day in groups}
    totals = {
        (row["task_id"], row["day"]): row["n"]
        for row in ReminderLog.objects.filter(task_id__in=task_ids, day__in=days)
        .order_by()
        .values("task_id", "day")
        .annotate(n=Count("id"))
    }
    refs = {day: f"sweep:{day.isoformat()}" for day in days}
    done = set(
        TaskEvent.objects.filter(
            kind=EventKind.REMINDER, task_id__in=task_ids, source_ref__in=refs.values()
        ).values_list("task_id", "source_ref")
    )
    now = timezone.now()
    events = []
    for (task_id, tier, day), recipients in sorted(groups.items()):
        if (task_id, refs[day]) in done:
            continue
        done.add((task_id, refs[day]))  # a task has one tier a day; never two events anyway
        recipients = sorted(set(recipients))
        events.append(
            TaskEvent(
                task_id=task_id,
                kind=EventKind.REMINDER,
                old_value="",
                new_value=tier,
                reason=_reminder_reason(recipients, totals.get((task_id, day), 0)),
                actor=None,
                source=EventSource.SWEEP,
                source_ref=refs[day],
                created_at=now,
            )
        )
    TaskEvent.objects.bulk_create(events, batch_size=500)
    return len(events)


def _record_reminders_postgresql(digest_ids: list[int]) -> int:
    from django.db import connection

    from tracker.models.reminders import ReminderDigest, ReminderLog

    log_table = ReminderLog._meta.db_table
    digest_table = ReminderDigest._meta.db_table
    event_table = TaskEvent._meta.db_table
    # Parameters carry explicit types: with server-side binding (settings) PostgreSQL must
    # deduce each $n once, and a value used as text in one place and varchar in another fails.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {event_table} (task_id, kind, old_value, new_value, reason, actor_id,
                                       source, source_ref, created_at)
            SELECT s.task_id, %(kind)s::varchar, '', s.tier,
                   CASE WHEN s.total > cardinality(s.recipients)
                        THEN replace(replace(%(to_some)s::text, '%%(who)s',
                                             array_to_string(s.recipients, '、')),
                                     '%%(n)s', s.total::text)
                        ELSE replace(%(to_all)s::text, '%%s', array_to_string(s.recipients, '、'))
                   END,
                   NULL, %(source)s::varchar, s.ref, %(now)s::timestamptz
              FROM (
                SELECT l.task_id, l.tier, 'sweep:' || to_char(l.day, 'YYYY-MM-DD') AS ref,
                       array_agg(d.recipient ORDER BY d.recipient) AS recipients,
                       (SELECT count(*) FROM {log_table} a
                         WHERE a.task_id = l.task_id AND a.day = l.day) AS total
                  FROM {log_table} l JOIN {digest_table} d ON d.id = l.digest_id
                 WHERE d.id = ANY(%(ids)s)
                 GROUP BY l.task_id, l.tier, l.day
              ) s
             WHERE NOT EXISTS (
                   SELECT 1 FROM {event_table} e
                    WHERE e.task_id = s.task_id AND e.kind = %(kind)s::varchar AND e.source_ref = s.ref)
             ORDER BY s.task_id
            """,  # noqa: S608 — table names from the models, values as parameters
            {
                "ids": list(digest_ids),
                "kind": EventKind.REMINDER.value,
                "source": EventSource.SWEEP.value,
                "to_some": _("提醒邮件已发送至 %(who)s 等%(n)s人"),
                "to_all": _("提醒邮件已发送至 %s"),
                "now": timezone.now(),
            },
        )
        return cursor.rowcount
