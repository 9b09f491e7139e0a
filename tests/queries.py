"""What the query-count stories set apart: the top bar's badges (unread notifications, reviews
waiting), each one bounded count of its own small table that every page runs; their own story
is tests/test_notifications.py."""

from __future__ import annotations

import re

BADGES = re.compile(
    r'^SELECT COUNT\(\*\)(?: AS "__count")? FROM \(?(?:SELECT .*? )?FROM "tracker_'
    r'(?:notification|closeoutrequest|extensionrequest)"'
)


def without_badges(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if not BADGES.match(sql)]
