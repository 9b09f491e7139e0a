"""Logging in: throttling and lockout (django-axes), the lockout page, the client address and
a password rule worded in Chinese.

The limits are settings (rectify/settings.py, from the environment): a username is locked after
``LOGIN_FAILURE_LIMIT`` failed logins from any address, an address after
``LOGIN_ADDRESS_FAILURE_LIMIT`` failed logins across usernames, for ``LOGIN_COOLOFF_MINUTES``
after the last counted failure (0: until an administrator releases it). The same rules hold
for the workspace login and the admin login: both authenticate through
``django.contrib.auth.authenticate``, where ``LoginThrottleBackend`` comes first.
"""

from __future__ import annotations

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import password_validation
from django.db.models import Sum
from django.shortcuts import render
from django.utils.translation import gettext


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses any login of a locked username or from a locked address, before the password is
    even checked (so the right password is refused too while the lock lasts).

    A call without a request (``Client.login`` in tests, a shell) comes from no address and is
    not a login over the web: axes could neither count nor lock it, so it is passed on to the
    next backend instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for each lockout parameter.

    axes compares one number with one limit; here the failures of the username (from any
    address) are held to ``LOGIN_FAILURE_LIMIT`` and those of the address (for any username) to
    ``LOGIN_ADDRESS_FAILURE_LIMIT``. ``get_failures`` reports the username's count, raised to
    the limit when the address is locked, so axes' own ``>= AXES_FAILURE_LIMIT`` decides both.
    """

    def failures_by_parameter(self, request, credentials=None) -> dict[str, int]:
        counts = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return dict(zip(settings.AXES_LOCKOUT_PARAMETERS, counts, strict=True))

    def get_failures(self, request, credentials=None) -> int:
        counts = self.failures_by_parameter(request, credentials)
        by_username = counts.get("username", 0)
        if counts.get("ip_address", 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful login, clear that username's failures only: logging in to one's
        own account must not clear an address's count of failures on other accounts."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def attempted_username(request, credentials=None) -> str:
    """The username a failure is counted for, cut to the length a username can have (150):
    a 5,000-character one must be refused like any wrong login, not fail to be recorded."""
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or "")[:150]


def client_address(request) -> str | None:
    """The address failures are counted for: REMOTE_ADDR, or behind ``TRUSTED_PROXIES`` reverse
    proxies the X-Forwarded-For entry the nearest of them appended (entries further left come
    from the client and can be forged)."""
    hops = settings.TRUSTED_PROXIES
    if hops:
        forwarded = [
            entry.strip()
            for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if entry.strip()
        ]
        if len(forwarded) >= hops:
            try:
                return str(ipaddress.ip_address(forwarded[-hops]))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (HTTP 429), in the language of the request."""
    minutes = settings.LOGIN_COOLOFF_MINUTES
    response = render(
        request,
        "registration/lockout.html",
        {"cooloff_minutes": minutes, "login_url": request.path},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with the error Django's zh-hans catalogue leaves in English."""

    def get_error_message(self) -> str:
        return gettext("密码太短,至少需要 %(min_length)d 个字符。") % {
            "min_length": self.min_length
        }
