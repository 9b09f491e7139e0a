"""Error pages in the app's own style (templates/404.html, 403.html, 403_csrf.html, 500.html).

Hooked in ``rectify/urls.py`` (handler404, handler403, handler500) and ``CSRF_FAILURE_VIEW``.

Logging: Django logs a refused request (403) as a warning carrying the exception, so every
``PermissionDenied`` (often raised while handling ``actions.NotAllowed``) wrote two chained
tracebacks. A refusal is an expected answer, not a fault: ``permission_denied`` logs one line
(method, path, user, reason) on ``tracker.access`` and marks the response as logged, which is
how Django's own ``log_response`` knows to stay quiet.
"""

from __future__ import annotations

import logging

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger("tracker.access")


def _user_label(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return f"{user.get_username()}#{user.pk}"


def _one_line(text: object) -> str:
    """A reason fit for one log line: no line breaks, at most 200 characters."""
    return " ".join(str(text).split())[:200]


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: the same page for "does not exist" and "not yours" (the message is never shown)."""
    body = loader.render_to_string("404.html", {"request_path": request.path}, request)
    return HttpResponseNotFound(body)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the app's page, and one concise log line instead of Django's tracebacks."""
    body = loader.render_to_string("403.html", {}, request)
    response = HttpResponseForbidden(body)
    logger.warning(
        "Forbidden: %s %s user=%s reason=%s",
        request.method,
        request.path,
        _user_label(request),
        _one_line(exception) if exception is not None and str(exception) else "-",
        extra={"status_code": 403, "request": request},
    )
    response._has_been_logged = True  # read by django.utils.log.log_response
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without the request (no context processors, no database), as Django's own
    ``server_error`` does: whatever broke the page must not break the error page."""
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without a valid token (an old page, cookies off, a forged
    request). Django's CSRF middleware logs the one line itself."""
    body = loader.render_to_string("403_csrf.html", {"reason": reason}, request)
    return HttpResponseForbidden(body)
