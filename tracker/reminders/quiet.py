"""Quiet hours: when messenger channels (group robots, webhooks) may not speak, and the next
moment they may. Email is never held back: it waits in an inbox, a robot message pings a phone.

Quiet are the local-time range REMINDER_QUIET_HOURS (it may pass midnight, "22:00-08:00") and,
with REMINDER_QUIET_NON_WORKDAYS, whole non-working days by the official calendar (weekends,
holidays, with 调休 weekend workdays counted as working).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from tracker.workdays import is_workday

Clock = tuple[int, int]


@dataclass(frozen=True)
class QuietHours:
    """The quiet rules, read from ``settings.RECTIFY``."""

    window: tuple[Clock, Clock] | None = ((22, 0), (8, 0))
    non_workdays: bool = True

    @classmethod
    def from_settings(cls) -> QuietHours:
        conf = settings.RECTIFY
        return cls(
            window=conf.get("REMINDER_QUIET_HOURS"),
            non_workdays=conf.get("REMINDER_QUIET_NON_WORKDAYS", True),
        )

    def _in_window(self, local: datetime.datetime) -> bool:
        if self.window is None:
            return False
        start, end = self.window
        clock = (local.hour, local.minute)
        if start < end:  # e.g. 12:00-14:00
            return start <= clock < end
        return clock >= start or clock < end  # passes midnight, e.g. 22:00-08:00

    def allows(self, moment: datetime.datetime) -> bool:
        """Whether a robot message may go out at ``moment``."""
        local = timezone.localtime(moment)
        if self.non_workdays and not is_workday(local.date()):
            return False
        return not self._in_window(local)

    def next_allowed(self, moment: datetime.datetime) -> datetime.datetime:
        """``moment`` itself when it is allowed, else the first allowed moment after it: the end
        of the quiet window, on the next working day when non-working days are quiet."""
        local = timezone.localtime(moment)
        for _step in range(400):  # a year of days at most; the calendar has no such run
            if self.allows(local):
                return local
            if self.non_workdays and not is_workday(local.date()):
                local = _at(local.date() + datetime.timedelta(days=1), (0, 0), local.tzinfo)
                continue
            end = self.window[1]  # in the window: it is quiet until its end
            end_today = _at(local.date(), end, local.tzinfo)
            local = end_today if end_today > local else end_today + datetime.timedelta(days=1)
            local = _at(local.date(), end, local.tzinfo)
        return local


def _at(day: datetime.date, clock: Clock, tz) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=tz)
