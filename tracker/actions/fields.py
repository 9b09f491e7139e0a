"""Creating tasks and changing the fields a supervisor decides: status (as on the task page),
deadline, owner, lead unit, responsible units, lead leader, type, report date, and an
administrator's status correction."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker import aggregates
from tracker.actions.base import (
    ActionError,
    Actor,
    _authorize,
    _begin,
    _bump,
    _date_value,
    _move_deadline,
    _progress_status,
    _refresh_caller,
    _require_open,
    _save,
    _set_status,
    _unit_value,
    _units_value,
    record_event,
)
from tracker.actions.extensions import _end_pending_extension
from tracker.choices import EventKind, TaskStatus, TaskType
from tracker.models import Measure, Problem, Task, TaskEvent, Unit


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
        # Given by a person: the owner unit signs for it (签收); by a system actor: never waits.
        assigned_at=timezone.now() if actor.user is not None else None,
    )
    task.category_id = aggregates.category_id_of(problem)
    _authorize(actor, "create_task", task)
    task.save()
    aggregates.add([aggregates.key_of(task)])
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


def _categories(problems: list[Problem]) -> dict[int, int]:
    """{parent id: category id} for the problems' parents: a parent's own parent when it has
    one (a leaf under a sub-problem), else the parent itself (``aggregates.category_id_of`` for
    many problems); read from the parents in memory, else in one query."""
    known: dict[int, int] = {}
    unknown: set[int] = set()
    for p in problems:
        if p.parent_id is None or p.parent_id in known:
            continue
        if Problem.parent.is_cached(p):  # the importer builds the tree in memory: no query
            known[p.parent_id] = p.parent.parent_id or p.parent_id
        else:
            unknown.add(p.parent_id)
    rows = Problem.objects.filter(pk__in=unknown - known.keys()).values_list("pk", "parent_id")
    return known | {pk: grandparent or pk for pk, grandparent in rows}


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
    categories = _categories([n.problem for n in new_tasks])
    report_due_on = timezone.localdate() + datetime.timedelta(
        days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                problem=n.problem,
                inspection_id=n.problem.inspection_id,
                category_id=categories.get(n.problem.parent_id),
                owner_unit=n.owner_unit,
                deadline=n.deadline,
                status=n.status,
                task_type=n.task_type,
                lead_leader_name=n.lead_leader_name,
                report_due_on=report_due_on if n.task_type == TaskType.LONG_TERM else None,
                status_changed_at=now,
                closed_at=now if n.status == TaskStatus.CLOSED else None,
                assigned_at=now if actor.user is not None else None,
            )
            for n in new_tasks
        ]
    )
    aggregates.add(aggregates.key_of(task) for task in tasks)
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
        fields = [field]
        if field == "owner_unit":
            # A new owner signs for the task afresh (签收), unless a system actor moved it.
            locked.assigned_at = timezone.now() if actor.user is not None else None
            locked.acknowledged_at = None
            fields += ["assigned_at", "acknowledged_at"]
        _save(locked, fields)
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
    other change. A correction that closes the task ends a pending extension request (as a
    close-out does) and is refused while a close-out request is under review (its reviewers
    decide it first: a later decision must not change a closed task). A correction out of
    已销号 marks the close-out that closed it as reopened, as ``reopen`` does, so no panel still
    shows the task as 已销号."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _begin(task, actor, "admin_set_status", expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status == locked.status:
        _refresh_caller(task, locked)
        return task
    reason = reason.strip()
    if not reason and actor.user is not None:
        raise ActionError(_("管理员更正状态须填写变更说明。"))
    if new_status == TaskStatus.CLOSED and (
        CloseoutRequest.objects.select_for_update().pending().filter(task=locked).exists()
    ):
        raise ActionError(
            _("该任务有待审核的销号申请,请先在任务页面审核或退回该申请,再更正为“已销号”。")
        )
    if locked.status == TaskStatus.CLOSED:
        CloseoutRequest.objects.filter(task=locked, status=CloseoutStatus.APPROVED).update(
            status=CloseoutStatus.REOPENED
        )
    _set_status(locked, new_status, actor, reason=reason)
    if new_status == TaskStatus.CLOSED:
        _end_pending_extension(locked, actor)
    _refresh_caller(task, locked)
    return task
