"""What the query-count stories set apart: the top bar's badges (unread notifications, reviews
waiting), each one bounded count of its own small table that every page runs; their own story
is tests/test_notifications.py."""

from __future__ import annotations

import re

# One statement of bounded counts (tracker.context_processors.compile_counts), or one count.
BADGES = re.compile(
    r'^SELECT (?:\(SELECT COUNT\(\*\) FROM \(|COUNT\(\*\)(?: AS "__count")? FROM \(?)'
    r'(?:SELECT .*? )?FROM "tracker_(?:notification|closeoutrequest|extensionrequest)"'
)


def without_badges(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if not BADGES.match(sql)]
