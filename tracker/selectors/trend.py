"""The completion trend of a dashboard: tasks and completed tasks at the end of each of the
last weeks, for a scope.

Read from the day tallies every change writes as it happens (``TaskDayTally``) where the scope
can be said on their columns, otherwise replayed from the scope's history in one grouped scan.
Nothing here loops over tasks or events in Python, only over days.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from tracker.aggregates import TREND_GENERATION_KEY
from tracker.choices import DONE_STATUSES, EventKind
from tracker.history_asof import end_of
from tracker.models import Task, TaskDayTally, TaskEvent, local_today
from tracker.models.history import STATUS_KINDS
from tracker.rules import completion_rate

DASHBOARD_HISTORY_WEEKS = 26


def completion_history(
    tasks: QuerySet[Task] | None,
    as_of: datetime.date,
    weeks: int = DASHBOARD_HISTORY_WEEKS,
    day_tally: Q | None = None,
) -> list[dict]:
    """Tasks and completed tasks at the end of each of the last ``weeks`` weeks.

    With ``day_tally`` (a Q over TaskDayTally), read from the day tallies that every change
    writes as it happens: per day, tasks created and tasks that became (+1) or stopped being
    (−1) done; running sums give each week's end. Otherwise replayed from the history of
    ``tasks``: every status event moves the done count by done(new) − done(old), a 'created'
    event adds a task (the scan path, for scopes the day tallies cannot express)."""
    if day_tally is not None:
        per_day = _day_tally_per_day(day_tally, as_of)
    else:
        per_day = _history_per_day(tasks, as_of)
    week_ends = [as_of - datetime.timedelta(weeks=weeks - 1 - k) for k in range(weeks)]
    created_by_week = [0] * weeks
    done_by_week = [0] * weeks
    before = {"created": 0, "done": 0}
    for r in per_day:
        k = weeks - 1 - (as_of - r["day"]).days // 7
        if k < 0:
            before["created"] += r["created"] or 0
            before["done"] += r["done"] or 0
        elif k < weeks:
            created_by_week[k] += r["created"] or 0
            done_by_week[k] += r["done"] or 0
    total, completed = before["created"] or 0, before["done"] or 0
    rows = []
    for k, week_end in enumerate(week_ends):
        total += created_by_week[k]
        completed += done_by_week[k]
        rows.append(
            {
                "week_end": week_end,
                "total": total,
                "done": completed,
                "completion_rate": completion_rate(completed, total),
            }
        )
    return rows


def _day_tally_per_day(day_tally: Q, as_of: datetime.date) -> list[dict]:
    """Per day up to ``as_of``: the day tallies matching ``day_tally`` summed.

    Every change writes the row of the day it happens on, so the days before today no longer
    change: their sums are cached per scope and day (until ``aggregates.rebuild`` bumps
    ``TREND_GENERATION_KEY``, or DASHBOARD_CACHE_SECONDS pass, which also covers a change
    committed just after midnight), and only today's rows are read on each request."""
    rows = TaskDayTally.objects.filter(day_tally).order_by().values("day")
    sums = {"created": Sum("created"), "done": Sum("done")}
    today = local_today()
    if as_of < today:
        return list(rows.filter(day__lte=as_of).annotate(**sums))
    sql, params = rows.query.sql_with_params()
    raw = repr((sql, params, today, cache.get(TREND_GENERATION_KEY, 0)))
    key = "rectify:trend:" + hashlib.sha256(raw.encode()).hexdigest()
    past = cache.get(key)
    if past is None:
        past = list(rows.filter(day__lt=today).annotate(**sums))
        cache.set(key, past, settings.RECTIFY.get("DASHBOARD_CACHE_SECONDS", 300))
    return [*past, *rows.filter(day__gte=today, day__lte=as_of).annotate(**sums)]


def _history_per_day(tasks: QuerySet[Task], as_of: datetime.date) -> QuerySet:
    """Per day in Asia/Shanghai up to ``as_of``: tasks created and the change of the done
    count, replayed from the history of ``tasks`` (one scan)."""
    done = list(DONE_STATUSES)  # history stores status codes
    tz = timezone.get_current_timezone()
    status_kind = Q(kind__in=STATUS_KINDS)
    delta = Case(
        When(status_kind & Q(new_value__in=done) & ~Q(old_value__in=done), then=Value(1)),
        When(status_kind & Q(old_value__in=done) & ~Q(new_value__in=done), then=Value(-1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    events = TaskEvent.objects.filter(created_at__lt=end_of(as_of))
    if tasks.query.where:
        # A scope narrower than everything: only its tasks' events (a semi-join).
        events = events.filter(task__in=tasks.order_by().values("pk"))
    return (
        events.annotate(day=TruncDate("created_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(created=Count("id", filter=Q(kind=EventKind.CREATED)), done=Sum(delta))
    )
