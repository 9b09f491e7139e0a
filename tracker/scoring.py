"""Unit scoring (考核): per owner unit and period, the figures offices rank units on, combined
with configurable weights into one score.

Figures, for the tasks a unit owns (责任主体) in the chosen scope, over a period [start, end]:

- **due**: 限期整改 and 立行立改 tasks whose deadline falls in the period (长期坚持 tasks are
  reported on periodically and have no deadline to meet);
- **on time**: those of them completed (已完成 or 已销号) on or before their deadline, the day of
  completion read from history (the first move to a done status);
- **days overdue**: over the due tasks, the days each was late: from the deadline to its
  completion, or to the end of the period (or today, if earlier) while still open;
- **close-outs returned**, **extensions asked**, **re-checks failed** (反向核查 未到位): events
  of those kinds on the unit's tasks in the period;
- **ladder**: the highest rung of the 督办 ladder issued in the period (1 督办通知书 … 4 问责书).

Score = 100 − rate × (1 − on-time rate) − days × (days overdue per due task) − returned ×
close-outs returned − extension × extensions asked − recheck × re-checks failed − ladder ×
highest rung, floored at 0; a unit with no task due loses nothing for the rate. The weights are
the ``SCORE_WEIGHTS`` setting. Events count under the task's owner unit today.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from tracker.choices import (
    DONE_STATUSES,
    LADDER_ORDER,
    EventKind,
    RecheckOutcome,
    TaskType,
)
from tracker.models import TaskEvent, Unit, local_today
from tracker.models.history import STATUS_KINDS

WEIGHT_NAMES = ("rate", "days", "returned", "extension", "recheck", "ladder")


def weights() -> dict[str, float]:
    """The ``SCORE_WEIGHTS`` setting (rectify/settings.py gives each its default)."""
    return {name: float(settings.RECTIFY["SCORE_WEIGHTS"][name]) for name in WEIGHT_NAMES}


@dataclass
class UnitScore:
    unit_id: int
    name: str
    due: int = 0
    on_time: int = 0
    days_overdue: int = 0
    returned: int = 0
    extensions: int = 0
    rechecks_failed: int = 0
    ladder: int = 0  # the highest rung's place in LADDER_ORDER, 1-based; 0: none
    score: float = 100.0
    rank: int = 0
    deductions: dict[str, float] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.due else self.on_time / self.due

    @property
    def ladder_code(self) -> str:
        return LADDER_ORDER[self.ladder - 1] if self.ladder else ""


def _bounds(start: datetime.date, end: datetime.date):
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def score_units(
    tasks, start: datetime.date, end: datetime.date, *, today: datetime.date | None = None
) -> list[UnitScore]:
    """The ranked scores of the owner units of ``tasks`` (a queryset already in the user's
    scope) over [start, end]; a handful of grouped queries whatever the number of units."""
    today = today or local_today()
    w = weights()
    tasks = tasks.order_by()
    units: dict[int, UnitScore] = {}

    def unit(pk: int) -> UnitScore:
        if pk not in units:
            units[pk] = UnitScore(unit_id=pk, name="")
        return units[pk]

    due = list(
        tasks.filter(deadline__gte=start, deadline__lte=end)
        .exclude(task_type=TaskType.LONG_TERM)
        .values_list("pk", "owner_unit_id", "deadline", "status")
    )
    done_on = dict(
        TaskEvent.objects.filter(
            task_id__in=[pk for pk, *_rest in due if _rest[2] in DONE_STATUSES],
            kind__in=STATUS_KINDS,
            new_value__in=DONE_STATUSES,
        )
        .order_by()
        .values("task_id")
        .annotate(first=Min("created_at"))
        .values_list("task_id", "first")
    )
    horizon = min(end, today)
    for pk, owner, deadline, status in due:
        row = unit(owner)
        row.due += 1
        finished = done_on.get(pk)
        finished_day = timezone.localdate(finished) if finished else None
        if status in DONE_STATUSES and finished_day is not None and finished_day <= deadline:
            row.on_time += 1
        last = finished_day if finished_day is not None else horizon
        row.days_overdue += max(0, (last - deadline).days)

    lo, hi = _bounds(start, end)
    events = (
        TaskEvent.objects.filter(task__in=tasks, created_at__gte=lo, created_at__lt=hi)
        .order_by()
        .values("task__owner_unit_id")
    )
    counted = events.annotate(
        returned=Count("pk", filter=Q(kind=EventKind.CLOSEOUT_RETURNED)),
        extensions=Count("pk", filter=Q(kind=EventKind.EXTENSION_REQUESTED)),
        rechecks=Count("pk", filter=Q(kind=EventKind.RECHECK, new_value=RecheckOutcome.FAILED)),
    ).filter(
        Q(kind__in=(EventKind.CLOSEOUT_RETURNED, EventKind.EXTENSION_REQUESTED))
        | Q(kind=EventKind.RECHECK, new_value=RecheckOutcome.FAILED)
    )
    for row in counted:
        u = unit(row["task__owner_unit_id"])
        u.returned, u.extensions, u.rechecks_failed = (
            row["returned"],
            row["extensions"],
            row["rechecks"],
        )
    rungs = (
        events.filter(kind=EventKind.LADDER)
        .values_list("task__owner_unit_id", "new_value")
        .distinct()
    )
    for owner, code in rungs:
        if code in LADDER_ORDER:
            u = unit(owner)
            u.ladder = max(u.ladder, LADDER_ORDER.index(code) + 1)

    # Every owner unit in scope is ranked, those with nothing due and no events at 100.
    for owner in tasks.values_list("owner_unit_id", flat=True).distinct():
        unit(owner)
    names = dict(Unit.objects.filter(pk__in=units).values_list("pk", "name"))
    for u in units.values():
        u.name = names.get(u.unit_id, f"#{u.unit_id}")
        rate = u.on_time_rate
        u.deductions = {
            "rate": 0.0 if rate is None else w["rate"] * (1 - rate),
            "days": w["days"] * (u.days_overdue / u.due if u.due else 0.0),
            "returned": w["returned"] * u.returned,
            "extension": w["extension"] * u.extensions,
            "recheck": w["recheck"] * u.rechecks_failed,
            "ladder": w["ladder"] * u.ladder,
        }
        u.score = round(max(0.0, 100.0 - sum(u.deductions.values())), 1)
    ranked = sorted(units.values(), key=lambda u: (-u.score, u.name, u.unit_id))
    previous, place = None, 0
    for index, u in enumerate(ranked, start=1):
        if u.score != previous:
            place, previous = index, u.score
        u.rank = place  # equal scores share a place
    return ranked
