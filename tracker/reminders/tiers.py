"""Tiers: how urgent a task is on a day (green / yellow / red / escalated / report due), in
calendar or working days, and the open tasks that can be in a tier at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.db.models import QuerySet

from tracker import rules
from tracker.choices import TaskStatus, TaskType
from tracker.models import Task
from tracker.models.reminders import ReminderTier
from tracker.workdays import working_days_between


@dataclass(frozen=True)
class Policy:
    """The tier thresholds, read from ``settings.RECTIFY`` (see the README)."""

    green_days: int = 20
    yellow_days: int = 10
    escalate_days: int = 30
    working_days: bool = False

    @classmethod
    def from_settings(cls) -> Policy:
        conf = settings.RECTIFY
        return cls(
            green_days=conf["REMINDER_GREEN_DAYS"],
            yellow_days=conf["REMINDER_YELLOW_DAYS"],
            escalate_days=conf["REMINDER_ESCALATE_DAYS"],
            working_days=conf["REMINDER_WORKING_DAYS"],
        )

    def horizon(self, today: datetime.date) -> int:
        """Calendar days ahead that can still be within ``green_days`` (working days are sparser:
        the longest run of holidays is the Spring Festival's, about nine days)."""
        return self.green_days * 2 + 14 if self.working_days else self.green_days


def days_between(start: datetime.date, end: datetime.date, working: bool) -> int:
    """Days from ``start`` to ``end`` (negative when end is earlier), calendar or working."""
    if not working:
        return (end - start).days
    if end >= start:
        return working_days_between(start, end)
    return -working_days_between(end, start)


def tier_for(
    *,
    today: datetime.date,
    deadline: datetime.date | None,
    task_type: str,
    report_due_on: datetime.date | None = None,
    policy: Policy | None = None,
) -> str | None:
    """The tier of an open task on ``today``, or None when nobody needs telling today.

    Overdue and report due are judged by the one rule of ``tracker.rules`` (calendar days);
    only the distances (how close, how long overdue) switch to working days when configured.
    """
    policy = policy or Policy.from_settings()
    # The fields of an open task, as the rules read them.
    task = SimpleNamespace(
        status=TaskStatus.IN_PROGRESS,
        deadline=deadline,
        task_type=task_type,
        report_due_on=report_due_on,
    )
    if rules.is_report_due(task, today):
        return ReminderTier.REPORT_DUE
    if task_type == TaskType.LONG_TERM or deadline is None:
        return None
    if rules.is_overdue(task, today):
        overdue = days_between(deadline, today, policy.working_days)
        return ReminderTier.ESCALATED if overdue > policy.escalate_days else ReminderTier.RED
    left = days_between(today, deadline, policy.working_days)
    if left <= policy.yellow_days:
        return ReminderTier.YELLOW
    if left <= policy.green_days:
        return ReminderTier.GREEN
    return None


def candidate_tasks(
    today: datetime.date, policy: Policy, fields: Iterable[str] | None = None
) -> QuerySet:
    """Open tasks that may be in a tier today (rows of ``fields``): overdue, due within the
    horizon, or 长期坚持 with a progress report due.

    Built from the one definition of overdue / due-within / report-due, one query per tier
    joined with UNION ALL (they are disjoint): each is a range scan of a partial index
    (``task_open_deadline``, ``task_open_report_due``). ORing them instead compiles to one
    filter that the planner can only apply after reading every open task.
    """
    fields = tuple(fields or _TASK_FIELDS)
    return (
        Task.objects.overdue(today)
        .order_by()
        .values(*fields)
        .union(
            Task.objects.due_within(policy.horizon(today), today).order_by().values(*fields),
            Task.objects.report_due(today).order_by().values(*fields),
            all=True,
        )
    )


_TASK_FIELDS = (
    "id",
    "deadline",
    "task_type",
    "report_due_on",
    "owner_unit_id",
    "lead_unit_id",
    "lead_leader_id",
    "inspection_id",
)


def unacknowledged_tasks(today: datetime.date, fields: Iterable[str] | None = None) -> QuerySet:
    """Open tasks not signed for (签收) ACK_WORKING_DAYS working days after they were given
    (rows of ``fields``): the 待签收 tier, a range scan of the partial index ``task_awaiting_ack``."""
    from tracker.supervision import ack_late_q

    return Task.objects.filter(ack_late_q(today)).order_by().values(*(fields or _TASK_FIELDS))
