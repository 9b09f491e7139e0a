"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracker.permissions import access_for


def navigation(request: HttpRequest) -> dict:
    """Whether the top bar links the dashboard, the ledger and the plan upload (read lazily: the request's
    Access is usually loaded by the view already)."""

    def allowed(name: str) -> SimpleLazyObject:
        return SimpleLazyObject(
            lambda: bool(request.user.is_authenticated and getattr(access_for(request), name))
        )

    return {
        "nav_dashboard": allowed("may_see_dashboard"),
        "nav_ledger_upload": allowed("may_upload_ledger"),
        "nav_plan_upload": allowed("is_supervisor"),
        "nav_inspection_pages": (
            "inspection_list",
            "inspection_new",
            "inspection_edit",
            "inspection_problems",
            "problem_edit",
        ),
    }
