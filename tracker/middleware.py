"""Request middleware of the tracker."""

from __future__ import annotations

from collections.abc import Callable

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
