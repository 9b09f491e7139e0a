"""Small builders for test data. Tasks are created through tracker.actions, as in the app."""

from __future__ import annotations

import datetime
import itertools

from tracker import actions
from tracker.choices import EventSource, ProblemKind, TaskStatus, TaskType
from tracker.models import Inspection, Organization, Problem, Task, Unit

_seq = itertools.count(1)

SYSTEM = actions.Actor.system(EventSource.SYSTEM, "test")


def make_org(name: str = "中共测试开发区工作委员会") -> Organization:
    org, _ = Organization.objects.get_or_create(name=name)
    return org


def make_unit(org: Organization, name: str, emails: str = "") -> Unit:
    unit, _ = Unit.objects.get_or_create(
        organization=org, name=name, defaults={"contact_emails": emails}
    )
    return unit


def make_inspection(
    org: Organization, feedback: datetime.date | None = datetime.date(2026, 9, 1), **fields
) -> Inspection:
    fields.setdefault("round_name", "十五届省委第二轮")
    fields.setdefault("group", "省委第七巡视组")
    return Inspection.objects.create(organization=org, feedback_date=feedback, **fields)


def make_task(
    inspection: Inspection,
    *,
    title: str | None = None,
    owner: Unit | None = None,
    deadline: datetime.date | None | str = "inspection",
    status: str = TaskStatus.IN_PROGRESS,
    task_type: str = TaskType.DEADLINE,
    category: Problem | None = None,
    measures: tuple[str, ...] = ("一是建立台账", "二是完善制度"),
) -> Task:
    n = next(_seq)
    problem = Problem.objects.create(
        inspection=inspection,
        parent=category,
        kind=ProblemKind.PROBLEM,
        label=f"{n}.",
        order=n,
        title=title or f"问题{n}:落实主体责任不到位",
    )
    return actions.create_task(
        problem,
        SYSTEM,
        owner_unit=owner or inspection.organization.self_unit(),
        deadline=inspection.deadline if deadline == "inspection" else deadline,
        status=status,
        task_type=task_type,
        measures=measures,
    )


def make_category(inspection: Inspection, title: str = "关于落实主体责任方面") -> Problem:
    n = next(_seq)
    return Problem.objects.create(
        inspection=inspection, kind=ProblemKind.CATEGORY, label="(一)", order=n, title=title
    )


def ready_for_closeout(task: Task) -> Task:
    """Tick every measure and move the task to 已完成: what a close-out request needs."""
    for measure in task.measures.all():
        actions.tick_measure(task, measure, True, SYSTEM)
    actions.change_status(task, TaskStatus.COMPLETED, SYSTEM)
    task.refresh_from_db()
    return task
