"""Warning lights (红黄绿灯) for units and inspections, with the rules read from settings.

Offices light a unit red when it holds overdue work, yellow when work falls due soon or was
only basically completed by its deadline, and green otherwise. The counts behind a light are
grouped aggregates (see ``lamp_aggregates``); this module only turns counts into a colour, so
the same rule serves the dashboard, exports and any future reminder screen.

Settings (``RECTIFY``): ``LAMP_RED_OVERDUE`` (red from this many overdue tasks, default 1),
``LAMP_YELLOW_DAYS`` (yellow when something falls due within this many days, default 10),
``LAMP_YELLOW_BASIC_LATE`` (yellow when a 基本完成 task is past its deadline, default on).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from tracker.choices import DONE_STATUSES, TaskStatus, TaskType

RED, YELLOW, GREEN = "red", "yellow", "green"
LAMP_LABELS = {RED: _("红灯"), YELLOW: _("黄灯"), GREEN: _("绿灯")}
# Sorting key: red units first.
LAMP_ORDER = {RED: 0, YELLOW: 1, GREEN: 2}


@dataclass(frozen=True)
class LampRules:
    """The thresholds a light is judged by."""

    red_overdue: int = 1
    yellow_days: int = 10
    yellow_basic_late: bool = True

    @classmethod
    def from_settings(cls) -> LampRules:
        rectify = settings.RECTIFY
        return cls(
            red_overdue=max(1, int(rectify.get("LAMP_RED_OVERDUE", 1))),
            yellow_days=int(rectify.get("LAMP_YELLOW_DAYS", 10)),
            yellow_basic_late=bool(rectify.get("LAMP_YELLOW_BASIC_LATE", True)),
        )


def overdue_q(today: datetime.date) -> Q:
    """Same rule as ``TaskQuerySet.overdue``, as a Q for conditional aggregates."""
    return ~Q(status__in=DONE_STATUSES) & Q(deadline__lt=today) & ~Q(task_type=TaskType.LONG_TERM)


def due_soon_q(today: datetime.date, days: int) -> Q:
    """Same rule as ``TaskQuerySet.due_within``: open, not 长期坚持, today ≤ deadline ≤ today+days."""
    return (
        ~Q(status__in=DONE_STATUSES)
        & ~Q(task_type=TaskType.LONG_TERM)
        & Q(deadline__gte=today, deadline__lte=today + datetime.timedelta(days=days))
    )


def basic_late_q(today: datetime.date) -> Q:
    """基本完成 and past its deadline: offices treat it as a warning, not yet as overdue work."""
    return (
        Q(status=TaskStatus.BASICALLY_COMPLETED)
        & Q(deadline__lt=today)
        & ~Q(task_type=TaskType.LONG_TERM)
    )


def lamp_aggregates(today: datetime.date, rules: LampRules) -> dict[str, Count]:
    """The counts a light needs, to pass to ``.annotate()`` or ``.aggregate()``."""
    return {
        "overdue": Count("id", filter=overdue_q(today)),
        "due_soon": Count("id", filter=due_soon_q(today, rules.yellow_days)),
        "basic_late": Count("id", filter=basic_late_q(today)),
    }


def lamp(counts: Mapping[str, int], rules: LampRules) -> str:
    """Red, yellow or green for a group whose counts came from ``lamp_aggregates``."""
    if counts.get("overdue", 0) >= rules.red_overdue:
        return RED
    # Overdue work below the red threshold is still a warning, never green.
    if counts.get("overdue", 0) > 0 or counts.get("due_soon", 0) > 0:
        return YELLOW
    if rules.yellow_basic_late and counts.get("basic_late", 0) > 0:
        return YELLOW
    return GREEN
