"""Working days by the official calendar (chinese-calendar: weekends and public holidays off,
调休 weekend workdays on), Monday to Friday outside the years it covers. One definition for the
reminder tiers, quiet hours, 签收 and the 督办 reply deadlines."""

from __future__ import annotations

import datetime
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def is_workday(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # Outside the years the official calendar is published for: Monday to Friday.
        return day.weekday() < 5


@lru_cache(maxsize=65536)
def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days in (start, end], counting 调休 weekend workdays and skipping holidays."""
    count, day = 0, start + datetime.timedelta(days=1)
    while day <= end:
        count += is_workday(day)
        day += datetime.timedelta(days=1)
    return count


def add_working_days(day: datetime.date, n: int) -> datetime.date:
    """The ``n``-th working day after ``day`` (``day`` itself when n is 0)."""
    while n > 0:
        day += datetime.timedelta(days=1)
        n -= is_workday(day)
    return day
