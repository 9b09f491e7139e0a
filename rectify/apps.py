"""App configurations the project gives to third-party apps."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _attempt_str(attempt) -> str:
    return gettext("登录尝试:%(time)s") % {"time": _when(attempt.attempt_time)}


def _failure_str(failure) -> str:
    return gettext("登录失败:%(username)s%(locked)s,%(time)s,来自 %(ip)s") % {
        "username": failure.username or "—",
        "locked": gettext("(已锁定)") if failure.locked_out else "",
        "time": _when(failure.attempt_time),
        "ip": failure.ip_address or "—",
    }


def _log_str(log) -> str:
    return gettext("%(username)s 的登录记录:%(time)s") % {
        "username": log.username or "—",
        "time": _when(log.attempt_time),
    }


class AxesConfig(AxesAppConfig):
    """django-axes (login throttling, rectify/accounts.py) under a Chinese name in the admin;
    its models keep axes' own names (translated in locale/zh_Hans), and their ``__str__``,
    which axes writes in English without marking it for translation (the admin shows it in
    page titles, breadcrumbs and delete confirmations), is given in the user's language."""

    verbose_name = _("登录保护")

    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessAttempt.__str__ = _attempt_str
        AccessFailureLog.__str__ = _failure_str
        AccessLog.__str__ = _log_str
