"""Warning lights (红黄绿灯) for units and inspections, with the rules read from settings.

Offices light a unit red when it holds overdue work, yellow when work falls due soon or was
only basically completed by its deadline, and green otherwise. The counts behind a light are
grouped aggregates (see ``lamp_aggregates``, built on the one definition of each in
``tracker.rules``); this module only turns counts into a colour, so the same rule serves the
dashboard, exports and any future reminder screen.

Settings (``RECTIFY``): ``LAMP_RED_OVERDUE`` (red from this many overdue tasks, default 1),
``LAMP_YELLOW_DAYS`` (yellow when something falls due within this many days, default 10),
``LAMP_YELLOW_BASIC_LATE`` (yellow when a 基本完成 task is past its deadline, default on).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from tracker.rules import FIELDS, TaskFields, basic_late_q, due_soon_q, overdue_q

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


def lamp_aggregates(
    today: datetime.date, rules: LampRules, f: TaskFields = FIELDS
) -> dict[str, Count]:
    """The counts a light needs, to pass to ``.annotate()`` or ``.aggregate()``; ``f`` names the
    columns (``AS_OF_FIELDS`` for a past day rebuilt from history)."""
    return {
        "overdue": Count("id", filter=overdue_q(today, f)),
        "due_soon": Count("id", filter=due_soon_q(today, rules.yellow_days, f)),
        "basic_late": Count("id", filter=basic_late_q(today, f)),
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
