"""Read-side aggregates: the numbers that summaries, dashboards and exports show.

Everything here is a grouped query over ``Task`` using the one definition of overdue in
``TaskQuerySet``; nothing loops over rows in Python.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, Q, QuerySet

from tracker.choices import DONE_STATUSES, TaskStatus, TaskType
from tracker.models import Inspection, Task, local_today


def status_counts(tasks: QuerySet[Task]) -> dict[str, int]:
    """{status code: count} for every status, zeros included."""
    counts = dict.fromkeys(TaskStatus.values, 0)
    for row in tasks.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def overdue_q(today: datetime.date) -> Q:
    """The Q form of ``TaskQuerySet.overdue`` for conditional aggregates."""
    return ~Q(status__in=DONE_STATUSES) & Q(deadline__lt=today) & ~Q(task_type=TaskType.LONG_TERM)


def no_deadline_q() -> Q:
    return (
        ~Q(status__in=DONE_STATUSES) & Q(deadline__isnull=True) & ~Q(task_type=TaskType.LONG_TERM)
    )


def completion_rate(completed: int, total: int) -> float | None:
    """Completed (已完成 + 已销号) over all, as a percentage with two decimals."""
    return None if total == 0 else round(100.0 * completed / total, 2)


def inspection_summaries(
    inspections: QuerySet[Inspection] | None = None, today: datetime.date | None = None
) -> dict:
    """Per inspection: organization, round, group, deadline, declared, and task counts.

    This is the stable shape of ``manage.py summary --json`` (see the README).
    """
    today = today or local_today()
    inspections = (
        (Inspection.objects.all() if inspections is None else inspections)
        .select_related("organization")
        .order_by("organization__name", "feedback_date", "pk")
    )
    by_inspection: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(TaskStatus.values, 0)
    )
    extra: dict[int, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "no_deadline": 0})
    tasks = Task.objects.filter(inspection__in=inspections).order_by()
    for row in tasks.values("inspection_id", "status").annotate(n=Count("id")):
        by_inspection[row["inspection_id"]][row["status"]] = row["n"]
    for row in tasks.values("inspection_id").annotate(
        overdue=Count("id", filter=overdue_q(today)),
        no_deadline=Count("id", filter=no_deadline_q()),
    ):
        extra[row["inspection_id"]] = {"overdue": row["overdue"], "no_deadline": row["no_deadline"]}

    rows = []
    totals = {"inspections": 0, "tasks": 0, "overdue": 0, "no_deadline": 0}
    for inspection in inspections:
        by_status = dict(by_inspection[inspection.pk])
        total = sum(by_status.values())
        done = by_status[TaskStatus.COMPLETED] + by_status[TaskStatus.CLOSED]
        declared_problems = inspection.declared.get("problems")
        rows.append(
            {
                "id": inspection.pk,
                "organization": inspection.organization.name,
                "round": inspection.round_name or None,
                "group": inspection.group or None,
                "feedback": inspection.feedback_date.isoformat()
                if inspection.feedback_date
                else None,
                "deadline": inspection.deadline.isoformat() if inspection.deadline else None,
                "declared": inspection.declared,
                "declared_gap": None if declared_problems is None else declared_problems - total,
                "tasks": {
                    "total": total,
                    "overdue": extra[inspection.pk]["overdue"],
                    "no_deadline": extra[inspection.pk]["no_deadline"],
                    "completion_rate": completion_rate(done, total),
                    "by_status": by_status,
                },
            }
        )
        totals["inspections"] += 1
        totals["tasks"] += total
        totals["overdue"] += extra[inspection.pk]["overdue"]
        totals["no_deadline"] += extra[inspection.pk]["no_deadline"]
    return {"as_of": today.isoformat(), "totals": totals, "inspections": rows}
