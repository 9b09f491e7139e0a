"""One definition each of the domain's predicates, as ``Q`` builders over tasks, and next to
each the same rule for one loaded task (a plain function) where a page needs it without a query.

Models (``TaskQuerySet``, the ``Task`` predicates), selectors, lamps, reminders, filtersets and
permissions all build on these; nothing else spells out what "overdue", "due soon", "no
deadline", "report due", "basically completed but late", "contactable" or "may lead review"
means. ``tests/test_rules.py`` checks, over a grid of tasks, that each Python predicate agrees
with its ``Q`` builder evaluated by the database, so the two forms cannot drift.

The task builders read the columns named by a ``TaskFields``: ``FIELDS`` for the task's own
columns, ``AS_OF_FIELDS`` for the as-of annotations of ``tracker.history_asof.tasks_as_of``
(a task as it stood at the end of a past day), so one rule serves both.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Exists, OuterRef, Q

from tracker.choices import DONE_STATUSES, TaskStatus, TaskType


@dataclass(frozen=True)
class TaskFields:
    """The names the rules read a task's status, deadline, type, report date and owner from."""

    status: str = "status"
    deadline: str = "deadline"
    task_type: str = "task_type"
    report_due: str = "report_due_on"
    owner: str = "owner_unit_id"


FIELDS = TaskFields()
# The annotations of ``tracker.history_asof.tasks_as_of``.
AS_OF_FIELDS = TaskFields(
    status="asof_status",
    deadline="asof_deadline",
    task_type="asof_type",
    report_due="asof_report_due",
    owner="asof_owner",
)


# --- done / open ----------------------------------------------------------------------------


def done_q(f: TaskFields = FIELDS) -> Q:
    """已完成 or 已销号: counted in the completion rate, never overdue."""
    return Q(**{f"{f.status}__in": DONE_STATUSES})


def completion_rate(completed: int, total: int) -> float | None:
    """Completed (已完成 + 已销号) over all, as a percentage with two decimals."""
    return None if total == 0 else round(100.0 * completed / total, 2)


def open_q(f: TaskFields = FIELDS) -> Q:
    return ~done_q(f)


def is_done(task, f: TaskFields = FIELDS) -> bool:
    return getattr(task, f.status) in DONE_STATUSES


def _long_term_q(f: TaskFields) -> Q:
    return Q(**{f.task_type: TaskType.LONG_TERM})


def _is_long_term(task, f: TaskFields) -> bool:
    return getattr(task, f.task_type) == TaskType.LONG_TERM


# --- overdue --------------------------------------------------------------------------------


def overdue_q(today: datetime.date, f: TaskFields = FIELDS) -> Q:
    """Overdue on ``today`` (a day in Asia/Shanghai): the deadline has passed and the task is
    neither 已完成 nor 已销号. 长期坚持 is never overdue (its periodic report falls due)."""
    return open_q(f) & ~_long_term_q(f) & Q(**{f"{f.deadline}__lt": today})


def is_overdue(task, today: datetime.date, f: TaskFields = FIELDS) -> bool:
    deadline = getattr(task, f.deadline)
    return (
        not is_done(task, f)
        and not _is_long_term(task, f)
        and deadline is not None
        and deadline < today
    )


def days_overdue(task, today: datetime.date, f: TaskFields = FIELDS) -> int:
    """Days past the deadline on ``today`` (0 when not overdue)."""
    return (today - getattr(task, f.deadline)).days if is_overdue(task, today, f) else 0


# --- due soon -------------------------------------------------------------------------------


def due_soon_q(today: datetime.date, days: int, f: TaskFields = FIELDS) -> Q:
    """Open, not 长期坚持, and due within ``days`` days: today ≤ deadline ≤ today + days (a task
    due today is due soon, not overdue)."""
    return (
        open_q(f)
        & ~_long_term_q(f)
        & Q(
            **{
                f"{f.deadline}__gte": today,
                f"{f.deadline}__lte": today + datetime.timedelta(days=days),
            }
        )
    )


def is_due_soon(task, today: datetime.date, days: int, f: TaskFields = FIELDS) -> bool:
    deadline = getattr(task, f.deadline)
    return (
        not is_done(task, f)
        and not _is_long_term(task, f)
        and deadline is not None
        and today <= deadline <= today + datetime.timedelta(days=days)
    )


# --- no deadline ----------------------------------------------------------------------------


def no_deadline_q(f: TaskFields = FIELDS) -> Q:
    """Open, not 长期坚持, and without a deadline (its inspection has no feedback date): listed
    as such, never given an invented one."""
    return open_q(f) & ~_long_term_q(f) & Q(**{f"{f.deadline}__isnull": True})


def has_no_deadline(task, f: TaskFields = FIELDS) -> bool:
    return not is_done(task, f) and not _is_long_term(task, f) and getattr(task, f.deadline) is None


# --- report due -----------------------------------------------------------------------------


def report_due_q(today: datetime.date, f: TaskFields = FIELDS) -> Q:
    """Open 长期坚持 tasks whose periodic progress report has come due (on or before today)."""
    return open_q(f) & _long_term_q(f) & Q(**{f"{f.report_due}__lte": today})


def is_report_due(task, today: datetime.date, f: TaskFields = FIELDS) -> bool:
    report_due = getattr(task, f.report_due)
    return (
        not is_done(task, f)
        and _is_long_term(task, f)
        and report_due is not None
        and report_due <= today
    )


# --- basically completed, late ----------------------------------------------------------------


def basic_late_q(today: datetime.date, f: TaskFields = FIELDS) -> Q:
    """基本完成 and past its deadline: offices treat it as a warning (a yellow light). It is also
    overdue: 基本完成 is not done."""
    return (
        Q(**{f.status: TaskStatus.BASICALLY_COMPLETED})
        & ~_long_term_q(f)
        & Q(**{f"{f.deadline}__lt": today})
    )


def is_basic_late(task, today: datetime.date, f: TaskFields = FIELDS) -> bool:
    return getattr(task, f.status) == TaskStatus.BASICALLY_COMPLETED and is_overdue(task, today, f)


# --- contactable ----------------------------------------------------------------------------


def no_contact_q(unit: str = "") -> Q:
    """Units nobody can be emailed at: no contact address and no active member with an email.
    Over units with ``unit=""``; over tasks whose owner is such a unit with ``unit="owner_unit"``."""
    # The model by name: the models build on this module, not the other way round.
    membership = apps.get_model("tracker", "Membership")
    prefix = f"{unit}__" if unit else ""
    reachable = membership.objects.filter(
        unit=OuterRef(unit or "pk"), user__is_active=True
    ).exclude(user__email="")
    return Q(**{f"{prefix}contact_emails__regex": r"^[^@]*$"}) & ~Exists(reachable)


# --- may lead review ------------------------------------------------------------------------


def lead_review_q(unit_ids: Iterable[int], prefix: str = "") -> Q:
    """Tasks whose first close-out review (牵头单位审核) belongs to one of ``unit_ids``: the lead
    unit's, or the owner unit's when the task has no lead unit."""
    ids = list(unit_ids)
    return Q(**{f"{prefix}lead_unit_id__in": ids}) | Q(
        **{f"{prefix}lead_unit__isnull": True, f"{prefix}owner_unit_id__in": ids}
    )


def lead_review_unit_id(task) -> int:
    """The unit whose leads give the first review of ``task`` (``lead_review_q`` for one task)."""
    return task.lead_unit_id or task.owner_unit_id
