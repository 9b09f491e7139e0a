"""Tasks as they stood at the end of a past day, rebuilt from the append-only history.

Every change of a task's status, deadline, owner unit, type or report date goes through
``tracker.actions`` and appends an event holding the value before (``old_value``) and after
(``new_value``), as codes, unit ids or ISO dates. So a task's value at the end of day D is the
``old_value`` of the first matching event after D (that change had not happened yet), or the
task's current value when nothing changed since. ``tasks_as_of`` annotates exactly that, in
SQL that PostgreSQL and SQLite both run, under the names of ``tracker.rules.AS_OF_FIELDS``, so
the same rule builders (``overdue_q(day, AS_OF_FIELDS)``) judge the past day.
"""

from __future__ import annotations

import datetime

from django.db.models import (
    Case,
    CharField,
    DateField,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from tracker.choices import EventKind
from tracker.models import Task, TaskEvent, local_today
from tracker.models.history import STATUS_KINDS
from tracker.rules import AS_OF_FIELDS, FIELDS, TaskFields

# The event kinds that change each value. 'created' is left out of the status kinds: its old
# value is empty, and a task created after the day is not counted at all.
AS_OF_STATUS_KINDS = tuple(k for k in STATUS_KINDS if k != EventKind.CREATED)
AS_OF_DEADLINE_KINDS = (EventKind.DEADLINE, EventKind.EXTENSION_APPROVED)
AS_OF_OWNER_KINDS = (EventKind.OWNER,)
AS_OF_TYPE_KINDS = (EventKind.TYPE,)
AS_OF_REPORT_DUE_KINDS = (EventKind.REPORT_DUE,)


def end_of(day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` in the project's time zone (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tz)


def _later(kinds: tuple[str, ...], end: datetime.datetime) -> QuerySet[TaskEvent]:
    """The task's events of ``kinds`` after ``end``, first first (the ``task, created_at``
    index serves it)."""
    return TaskEvent.objects.filter(
        task=OuterRef("pk"), kind__in=kinds, created_at__gte=end
    ).order_by("created_at", "id")


def _changed_since(kinds: tuple[str, ...], end: datetime.datetime) -> QuerySet[TaskEvent]:
    """Ids of the tasks with an event of ``kinds`` after ``end``: an uncorrelated subquery,
    which PostgreSQL runs once and probes as a hash (SQLite as an index), so a task that did
    not change since the day costs no history lookup at all."""
    return TaskEvent.objects.filter(kind__in=kinds, created_at__gte=end).values("task_id")


def _undone(kinds, end, current: str, value, output_field) -> Case:
    """``value`` (the first later event's old value, converted) for the tasks changed since
    ``end``; the current column for all others."""
    return Case(
        When(pk__in=_changed_since(kinds, end), then=value),
        default=F(current),
        output_field=output_field,
    )


def _first_old_value(kinds, end) -> Subquery:
    return Subquery(_later(kinds, end).values("old_value")[:1], output_field=CharField())


def _undone_text(kinds, end, current: str) -> Case:
    return _undone(kinds, end, current, _first_old_value(kinds, end), CharField())


def _undone_date(kinds, end, current: str) -> Case:
    # A later event's old value is the as-of value even when empty ('' = no date).
    value = Cast(NullIf(_first_old_value(kinds, end), Value("")), output_field=DateField())
    return _undone(kinds, end, current, value, DateField())


def _undone_unit(kinds, end, current: str) -> Case:
    # Only unit ids count: a name left by history written before ids were stored (a unit the
    # 0003 migration could not resolve) is skipped rather than failing the cast.
    first = Subquery(
        _later(kinds, end).filter(old_value__regex=r"^[0-9]+$").values("old_value")[:1],
        output_field=CharField(),
    )
    value = Coalesce(Cast(first, output_field=IntegerField()), F(current))
    return _undone(kinds, end, current, value, IntegerField())


def is_as_of(tasks: QuerySet[Task]) -> bool:
    """Whether ``tasks`` came through ``tasks_as_of``."""
    return AS_OF_FIELDS.status in tasks.query.annotations


def fields_of(tasks: QuerySet[Task]) -> TaskFields:
    """The names the rules should read on ``tasks``: the as-of annotations if it has them."""
    return AS_OF_FIELDS if is_as_of(tasks) else FIELDS


def tasks_as_of(tasks: QuerySet[Task], day: datetime.date) -> QuerySet[Task]:
    """``tasks`` that existed at the end of ``day``, annotated with their status, deadline,
    owner unit, type and report date as they stood then (``AS_OF_FIELDS``)."""
    end = end_of(day)
    return tasks.filter(created_at__lt=end).annotate(
        **{
            AS_OF_FIELDS.status: _undone_text(AS_OF_STATUS_KINDS, end, FIELDS.status),
            AS_OF_FIELDS.deadline: _undone_date(AS_OF_DEADLINE_KINDS, end, FIELDS.deadline),
            AS_OF_FIELDS.owner: _undone_unit(AS_OF_OWNER_KINDS, end, FIELDS.owner),
            AS_OF_FIELDS.task_type: _undone_text(AS_OF_TYPE_KINDS, end, FIELDS.task_type),
            AS_OF_FIELDS.report_due: _undone_date(AS_OF_REPORT_DUE_KINDS, end, FIELDS.report_due),
        }
    )


def scope_as_of(tasks: QuerySet[Task], day: datetime.date) -> tuple[QuerySet[Task], TaskFields]:
    """The tasks and the field names to judge ``day`` by: for a past day, ``tasks_as_of`` and
    ``AS_OF_FIELDS``; for today or later, the tasks unchanged and their own columns (the fast
    path: nothing in the future is known beyond what is stored now). ``tasks`` already as of a
    day (the dashboard's filterset) are taken as they are: annotate each scope for one day."""
    if is_as_of(tasks):
        return tasks, AS_OF_FIELDS
    if day >= local_today():
        return tasks, FIELDS
    return tasks_as_of(tasks, day), AS_OF_FIELDS
