"""Template context shared by every page."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracker import notifications
from tracker.permissions import access_for, closeouts_to_review, extensions_to_review

# Badges count at most this many (then read "99+"): each is one bounded, indexed count.
BADGE_CAP = 99


def bounded_counts(querysets: dict[str, QuerySet], cap: int) -> dict[str, int]:
    """How many rows each queryset has, counting at most ``cap`` of each, in one statement of
    scalar subqueries (``SELECT (SELECT COUNT(*) FROM (… LIMIT cap)), …``); an empty
    queryset (``none()``) is 0 without asking."""
    counts: dict[str, int] = {}
    parts: list[str] = []
    params: list = []
    names: list[str] = []
    for name, qs in querysets.items():
        query = qs.order_by().values("pk")[:cap].query
        try:
            sql, part_params = query.sql_with_params()
        except EmptyResultSet:
            counts[name] = 0
            continue
        # The ORM's own compiled SQL and parameters: nothing here comes from the request.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS badge_{len(parts)})")  # noqa: S608
        params.extend(part_params)
        names.append(name)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            counts.update(zip(names, cursor.fetchone(), strict=True))
    return counts


def navigation(request: HttpRequest) -> dict:
    """Whether the top bar links the dashboard, the ledger and the plan upload (read lazily: the request's
    Access is usually loaded by the view already)."""

    def allowed(name: str) -> SimpleLazyObject:
        return SimpleLazyObject(
            lambda: bool(request.user.is_authenticated and getattr(access_for(request), name))
        )

    def reviewer() -> bool:
        """Whether this user reviews anything (supervisors, and leads of a unit)."""
        if not request.user.is_authenticated:
            return False
        access = access_for(request)
        return bool(access.is_supervisor or access.lead_unit_ids)

    def badges() -> dict[str, int]:
        """The top bar's counts, each bounded, read in one statement (one round trip for
        every page, not three): unread notifications, and for a reviewer the close-outs and
        extensions waiting for their review."""
        cached = getattr(request, "_rectify_badges", None)
        if cached is not None:
            return cached
        cap = BADGE_CAP + 1
        counted = {"unread": notifications.unread_queryset(request.user)}
        if reviewer():
            access = access_for(request)
            counted["closeouts"] = closeouts_to_review(access)
            counted["extensions"] = extensions_to_review(access)
        cached = request._rectify_badges = bounded_counts(counted, cap)
        return cached

    def reviews() -> int:
        """Close-outs and extensions waiting for this user's review."""
        if not reviewer():
            return 0
        counts = badges()
        return min(BADGE_CAP + 1, counts["closeouts"] + counts["extensions"])

    return {
        "nav_reviewer": SimpleLazyObject(reviewer),
        "nav_reviews": SimpleLazyObject(reviews),
        "nav_unread": SimpleLazyObject(lambda: badges()["unread"]),
        "badge_cap": BADGE_CAP,
        "nav_dashboard": allowed("may_see_dashboard"),
        "nav_ledger_upload": allowed("may_upload_ledger"),
        "nav_plan_upload": allowed("is_supervisor"),
        "nav_rechecks": allowed("may_see_rechecks"),
        "nav_inspection_pages": (
            "inspection_list",
            "inspection_new",
            "inspection_edit",
            "inspection_problems",
            "problem_edit",
        ),
    }
