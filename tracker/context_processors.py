"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracker import notifications
from tracker.permissions import access_for, closeouts_to_review, extensions_to_review

# Badges count at most this many (then read "99+"): each is one bounded, indexed count.
BADGE_CAP = 99


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

    def reviews() -> int:
        """Close-outs and extensions waiting for this user's review."""
        if not reviewer():
            return 0
        access = access_for(request)
        cap = BADGE_CAP + 1
        closeouts = closeouts_to_review(access).order_by()[:cap].count()
        return min(cap, closeouts + extensions_to_review(access).order_by()[:cap].count())

    return {
        "nav_reviewer": SimpleLazyObject(reviewer),
        "nav_reviews": SimpleLazyObject(reviews),
        "nav_unread": SimpleLazyObject(
            lambda: notifications.unread_count(request.user, cap=BADGE_CAP + 1)
        ),
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
