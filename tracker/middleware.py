"""Request middleware of the tracker."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ExplicitLanguageMiddleware:
    """Chinese unless the user chose otherwise.

    Offices' browsers often send ``Accept-Language: en``; the UI must still open in Chinese
    (zh-hans, LANGUAGE_CODE). Only an explicit choice — the language switcher's cookie — picks
    English. Placed before LocaleMiddleware, it hides the browser's header from it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class SessionIdleMiddleware:
    """Log out after SESSION_COOKIE_AGE of inactivity without a session write per request.

    Django's ``SESSION_SAVE_EVERY_REQUEST`` pushes the expiry forward by writing the session row
    (a committed UPDATE) on every request. Here the session is marked modified only when its last
    refresh is older than ``SESSION_REFRESH_SECONDS``, so a busy user costs one write a minute and
    an idle session still ends between ``SESSION_COOKIE_AGE - SESSION_REFRESH_SECONDS`` and
    ``SESSION_COOKIE_AGE`` after the last request. Place it after SessionMiddleware.
    """

    KEY = "_rectify_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            seen = session.get(self.KEY, 0)
            if now - seen >= settings.SESSION_REFRESH_SECONDS:
                # Marks the session modified: SessionMiddleware saves it (new expiry) and
                # re-sends the cookie after this returns.
                session[self.KEY] = now
        return response


def mark_session_fresh(sender, request, user, **kwargs) -> None:
    """At login the session is new and saved anyway: record it as refreshed now, so the first
    request after login does not write it again (``user_logged_in`` receiver)."""
    if request is not None and hasattr(request, "session"):
        request.session[SessionIdleMiddleware.KEY] = int(time.time())
