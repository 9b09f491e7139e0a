"""The inspection and its problem tree, set up in the app by a supervisor: creating and editing
an inspection, adding a category or a problem (a problem gets its task at once), editing a
problem's title or whether it is published, and assigning many tasks at once.

Who may: whoever may create tasks in the inspection's organization (``create_task``'s rule,
judged on the inspection), and ``edit_problem``'s rule for edits. A bulk assignment is each
task's own change (``change_owner``, ``change_deadline``, ...), judged one by one, all or
nothing: one refused task and none of them changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    NotAllowed,
    _authorize,
    _bump,
    record_event,
)
from tracker.actions.fields import (
    change_deadline,
    change_lead_leader,
    change_lead_unit,
    change_owner,
    change_responsible_units,
    change_type,
    create_task,
)
from tracker.actions.repeats import link_repeats, recompute_repeats
from tracker.choices import EventKind, ProblemKind, TaskType, Withheld
from tracker.models import Inspection, Organization, Problem, Task, Unit

# The inspection fields a supervisor sets on the inspection screen.
INSPECTION_FIELDS = (
    "level",
    "term",
    "round_no",
    "round_name",
    "kind",
    "group",
    "start_date",
    "end_date",
    "feedback_date",
    "deadline_override",
)


# What an administrator may also correct (the figures a notice declared, how precise its dates
# are); not on the app's form.
ADMIN_INSPECTION_FIELDS = ("declared", "start_precision", "end_precision", "feedback_precision")


def _inspection_value(value) -> str:
    """How inspection history stores a value: ISO dates, JSON for figures, codes as they are."""
    import json

    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _record_inspection(inspection, field: str, actor: Actor, old: str, new: str, reason: str):
    from tracker.models import InspectionEvent

    InspectionEvent.objects.create(
        inspection=inspection,
        field=field,
        old_value=old,
        new_value=new,
        reason=reason,
        actor=actor.user,
        source=actor.source,
        source_ref=actor.ref[:255],
    )


def _is_admin(actor: Actor) -> bool:
    """An administrator, or a system actor (maintenance, a notice import)."""
    from tracker.permissions import access_for

    return actor.user is None or access_for(actor.access or actor.user).is_admin


def _judge_inspection(actor: Actor, inspection: Inspection) -> None:
    """The rule of creating tasks in ``inspection`` (its organization or itself in scope)."""
    _authorize(actor, "create_task", Task(inspection=inspection))


# No savepoint: the notice importer calls these inside its own transaction, once per
# inspection of a notice. Refusals (who may, what is valid) come before anything is written, so
# a caller that catches one can go on with its transaction.
def create_inspection(
    organization: Organization, actor: Actor, *, reason: str = "", **values
) -> Inspection:
    """A new inspection of ``organization`` (supervisors of that organization, administrators),
    with a 'created' row in its history."""
    unknown = set(values) - set(INSPECTION_FIELDS) - set(ADMIN_INSPECTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown inspection fields: {sorted(unknown)}")
    inspection = Inspection(organization=organization, **values)
    _judge_inspection(actor, inspection)
    inspection.full_clean(exclude=["organization"])  # given as a saved instance: no lookup
    with transaction.atomic(savepoint=False):
        inspection.save()
        _record_inspection(inspection, "created", actor, "", str(inspection), reason)
    return inspection


def edit_inspection(inspection: Inspection, actor: Actor, *, reason: str = "", **values):
    """Change an inspection's facts (group, round, dates; an administrator also the declared
    figures), one history row per field that changed. Its tasks keep their deadlines."""
    unknown = set(values) - set(INSPECTION_FIELDS) - set(ADMIN_INSPECTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown inspection fields: {sorted(unknown)}")
    _judge_inspection(actor, inspection)
    if set(values) & set(ADMIN_INSPECTION_FIELDS) and not _is_admin(actor):
        raise NotAllowed(_("只有管理员可以更正通报声明的数字和日期精度。"))
    with transaction.atomic(savepoint=False):
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        changed = {
            name: (getattr(locked, name), value)
            for name, value in values.items()
            if getattr(locked, name) != value
        }
        for name, (_old, value) in changed.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["organization"])
        if changed:
            locked.save(update_fields=list(changed))
        for name, (old, value) in changed.items():
            _record_inspection(
                locked, name, actor, _inspection_value(old), _inspection_value(value), reason
            )
    inspection.__dict__.update({k: getattr(locked, k) for k in values})
    return inspection


def _outcome_value(outcome) -> str:
    text = f"{outcome.value.normalize():f}"
    return f"{text}({outcome.note})" if outcome.note else text


@transaction.atomic
def record_outcome(inspection: Inspection, actor: Actor, *, kind: str, value, note: str = ""):
    """Record an outcome figure of the inspection's rectification (处理处分, 制度, 资金) that the
    published notice states; a row of the inspection's history."""
    from tracker.models import InspectionOutcome

    _judge_inspection(actor, inspection)
    outcome = InspectionOutcome(inspection=inspection, kind=kind, value=value, note=note or "")
    outcome.full_clean()
    outcome.save()
    _record_inspection(inspection, f"outcome:{kind}", actor, "", _outcome_value(outcome), "")
    return outcome


@transaction.atomic
def change_outcome(outcome, actor: Actor, *, value, note: str = "", reason: str = ""):
    """Correct a recorded outcome's figure or note (the old one stays in the history)."""
    from tracker.models import InspectionOutcome

    locked = (
        InspectionOutcome.objects.select_for_update()
        .select_related("inspection")
        .get(pk=outcome.pk)
    )
    _judge_inspection(actor, locked.inspection)
    old = _outcome_value(locked)
    locked.value, locked.note = value, note or ""
    locked.full_clean()
    if _outcome_value(locked) != old:
        locked.save(update_fields=["value", "note"])
        _record_inspection(
            locked.inspection, f"outcome:{locked.kind}", actor, old, _outcome_value(locked), reason
        )
    return locked


@transaction.atomic
def remove_outcome(outcome, actor: Actor, *, reason: str = "") -> None:
    """Remove a recorded outcome (recorded in error); the history keeps what it said."""
    from tracker.models import InspectionOutcome

    locked = (
        InspectionOutcome.objects.select_for_update()
        .select_related("inspection")
        .get(pk=outcome.pk)
    )
    _judge_inspection(actor, locked.inspection)
    _record_inspection(
        locked.inspection, f"outcome:{locked.kind}", actor, _outcome_value(locked), "", reason
    )
    locked.delete()


@dataclass(frozen=True)
class TaskFields:
    """What a new problem's task starts with."""

    owner_unit: Unit
    deadline: datetime.date | None = None
    task_type: str = TaskType.DEADLINE
    measures: tuple[str, ...] = ()
    lead_unit: Unit | None = None
    responsible_units: tuple[Unit, ...] = ()
    lead_leader_name: str = ""
    lead_leader: object = None


def _next_order(inspection: Inspection) -> int:
    last = (
        Problem.objects.filter(inspection=inspection)
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    return (last or 0) + 1


@transaction.atomic
def create_problem(
    inspection: Inspection,
    actor: Actor,
    *,
    title: str,
    kind: str = ProblemKind.PROBLEM,
    parent: Problem | None = None,
    label: str = "",
    task: TaskFields | None = None,
) -> Problem:
    """Add a category (方面) or a problem to the inspection's tree; a problem gets its task
    (through ``create_task``, with its units and leader through their own changes)."""
    _judge_inspection(actor, inspection)
    title = (title or "").strip()
    if not title:
        raise ActionError(_("请填写问题。"))
    if parent is not None and parent.inspection_id != inspection.pk:
        raise ActionError(_("上级问题不属于该巡视巡察。"))
    if kind == ProblemKind.CATEGORY and parent is not None:
        raise ActionError(_("问题类别不能有上级。"))
    if kind != ProblemKind.CATEGORY and task is None:
        raise ActionError(_("请填写责任主体。"))
    # Inspection rows are locked so that two supervisors adding problems get distinct orders.
    Inspection.objects.select_for_update().filter(pk=inspection.pk).exists()
    problem = Problem.objects.create(
        inspection=inspection,
        parent=parent,
        kind=kind,
        label=(label or "").strip()[:20],
        order=_next_order(inspection),
        title=title,
    )
    if kind == ProblemKind.CATEGORY:
        return problem
    new = create_task(
        problem,
        actor,
        owner_unit=task.owner_unit,
        deadline=task.deadline,
        task_type=task.task_type,
        measures=[m for m in task.measures if m.strip()],
        lead_unit=task.lead_unit,
    )
    others = [u for u in task.responsible_units if u.pk != task.owner_unit.pk]
    if others:
        change_responsible_units(new, [task.owner_unit, *others], actor)
    if task.lead_leader_name or task.lead_leader is not None:
        change_lead_leader(new, task.lead_leader_name, actor, user=task.lead_leader)
    # 屡巡屡犯: the new problem against the organization's other inspections.
    link_repeats([problem], actor)
    return problem


def _subtree_ids(problem: Problem) -> list[int]:
    """The problem and every problem below it (a tree is a few levels deep)."""
    ids = [problem.pk]
    frontier = [problem.pk]
    while frontier:
        frontier = list(Problem.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


@transaction.atomic
def edit_problem(
    problem: Problem,
    actor: Actor,
    *,
    title: str | None = None,
    label: str | None = None,
    withheld: str | None = None,
    reason: str = "",
) -> Problem:
    """Reword a problem, renumber it, or withhold it from publication (涉密, privacy, an ongoing
    case: counted in a notice, not printed). Each task of the problem and of the problems below
    it gets the event, since what the task is about (or whether it is printed) changed."""
    locked = Problem.objects.select_for_update().select_related("inspection").get(pk=problem.pk)
    tasks = list(
        Task.objects.select_for_update()
        .filter(problem_id__in=_subtree_ids(locked))
        .select_related("inspection")
        .order_by("pk")
    )
    for task in tasks:
        _authorize(actor, "edit_problem", task)
    if not tasks:  # a category with nothing under it yet: judged on the inspection
        _authorize(actor, "edit_problem", Task(inspection=locked.inspection))
    if withheld is not None and withheld not in Withheld.values:
        raise ActionError(_("未知的公开设置:%s") % withheld)
    changes: list[tuple[str, str, str]] = []
    fields: list[str] = []
    if title is not None and title.strip() != locked.title:
        if not title.strip():
            raise ActionError(_("请填写问题。"))
        changes.append((EventKind.PROBLEM, locked.title, title.strip()))
        locked.title = title.strip()
        fields += ["title", "title_key"]
    if label is not None and label.strip()[:20] != locked.label:
        locked.label = label.strip()[:20]
        fields.append("label")
    if withheld is not None and withheld != locked.withheld:
        changes.append((EventKind.WITHHELD, locked.withheld, withheld))
        locked.withheld = withheld
        fields.append("withheld")
    if fields:
        locked.save(update_fields=fields)
    for task in tasks if changes else ():
        _bump(task)
        for kind, old, new in changes:
            record_event(task, kind, actor, old=old, new=new, reason=reason)
    if "title" in fields:
        # Reworded, it may now read like another inspection's problem, or no longer: its
        # inspection's 屡巡屡犯 links are recomputed in this transaction.
        recompute_repeats([locked.inspection], actor)
    problem.__dict__.update({k: getattr(locked, k) for k in ("title", "title_key", "label")})
    problem.withheld = locked.withheld
    return problem


class _Keep:
    """A field the bulk assignment leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class Assignment:
    """What to set on each selected task; ``KEEP`` leaves a field alone."""

    owner_unit: object = KEEP
    lead_unit: object = KEEP  # a Unit, or None to clear
    responsible_units: object = KEEP  # units; the owner is always among them
    lead_leader: object = KEEP  # (name, user or None)
    task_type: object = KEEP
    deadline: object = KEEP
    reason: str = ""

    def changed(self) -> list[str]:
        return [
            name
            for name in (
                "owner_unit",
                "lead_unit",
                "responsible_units",
                "lead_leader",
                "task_type",
                "deadline",
            )
            if getattr(self, name) is not KEEP
        ]


@transaction.atomic
def assign_tasks(tasks: Iterable[Task], assignment: Assignment, actor: Actor) -> list[Task]:
    """Apply ``assignment`` to every task, each field through its own change, all or nothing:
    the first task refused stops the whole assignment with a message naming that task."""
    done = []
    reason = assignment.reason
    for task in sorted(tasks, key=lambda t: t.pk):  # one lock order: no deadlock between two
        try:
            _assign_one(task, assignment, actor, reason)
        except ActionError as error:
            raise type(error)(
                _("任务 #%(pk)s(%(problem)s):%(error)s")
                % {"pk": task.pk, "problem": _short(task), "error": error}
            ) from error
        done.append(task)
    return done


def _short(task: Task) -> str:
    title = task.problem.title if task.problem_id else ""
    return title if len(title) <= 24 else title[:23] + "…"


def _assign_one(task: Task, a: Assignment, actor: Actor, reason: str) -> None:
    if a.owner_unit is not KEEP:
        change_owner(task, a.owner_unit, actor, reason=reason)
    if a.lead_unit is not KEEP:
        change_lead_unit(task, a.lead_unit, actor, reason=reason)
    if a.responsible_units is not KEEP:
        units = {u.pk: u for u in a.responsible_units}
        units.setdefault(task.owner_unit_id, task.owner_unit)
        change_responsible_units(task, list(units.values()), actor, reason=reason)
    if a.lead_leader is not KEEP:
        name, user = a.lead_leader
        change_lead_leader(task, name, actor, user=user, reason=reason)
    if a.task_type is not KEEP:
        change_type(task, a.task_type, actor, reason=reason)
    if a.deadline is not KEEP:
        change_deadline(task, a.deadline, actor, reason=reason)
