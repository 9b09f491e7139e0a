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


def compile_counts(
    querysets: dict[str, QuerySet], cap: int
) -> tuple[dict[str, int], list, str, list]:
    """The one statement of scalar subqueries that counts at most ``cap`` rows of each queryset
    (``SELECT (SELECT COUNT(*) FROM (… LIMIT cap)), …``): (the counts known without asking,
    the names counted, the SQL or "" when nothing is asked, its parameters). An empty queryset
    (``none()``) is 0 without asking."""
    zeros: dict[str, int] = {}
    parts: list[str] = []
    params: list = []
    names: list[str] = []
    for name, qs in querysets.items():
        query = qs.order_by().values("pk")[:cap].query
        try:
            sql, part_params = query.sql_with_params()
        except EmptyResultSet:
            zeros[name] = 0
            continue
        # The ORM's own compiled SQL and parameters: nothing here comes from the request.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS badge_{len(parts)})")  # noqa: S608
        params.extend(part_params)
        names.append(name)
    return zeros, names, ("SELECT " + ", ".join(parts)) if parts else "", params


def run_counts(compiled: tuple[dict[str, int], list, str, list]) -> dict[str, int]:
    zeros, names, sql, params = compiled
    counts = dict(zeros)
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts.update(zip(names, cursor.fetchone(), strict=True))
    return counts


def bounded_counts(querysets: dict[str, QuerySet], cap: int) -> dict[str, int]:
    """How many rows each queryset has, counting at most ``cap`` of each, in one statement."""
    return run_counts(compile_counts(querysets, cap))


# The badges' compiled statement per Access.signature() (the SQL is a function of the user's
# roles and scope only: no date, nothing from the request), so a page does not build and
# compile three querysets to count them. Bounded: emptied when full.
_BADGE_STATEMENTS: dict[tuple, tuple] = {}
_BADGE_STATEMENTS_MAX = 2048


def badge_counts(request: HttpRequest, reviewer: bool, cap: int) -> dict[str, int]:
    """Unread notifications, and for a reviewer the close-outs and extensions waiting for their
    review, each counted up to ``cap``, in one statement."""
    access = access_for(request)
    key = (access.signature(), reviewer, cap)
    compiled = _BADGE_STATEMENTS.get(key)
    if compiled is None:
        counted = {"unread": notifications.unread_queryset(request.user)}
        if reviewer:
            counted["closeouts"] = closeouts_to_review(access)
            counted["extensions"] = extensions_to_review(access)
        compiled = compile_counts(counted, cap)
        if len(_BADGE_STATEMENTS) >= _BADGE_STATEMENTS_MAX:
            _BADGE_STATEMENTS.clear()
        _BADGE_STATEMENTS[key] = compiled
    return run_counts(compiled)


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
        cached = request._rectify_badges = badge_counts(request, reviewer(), BADGE_CAP + 1)
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
