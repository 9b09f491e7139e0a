"""App configurations the project gives to third-party apps."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes (login throttling, rectify/accounts.py) under a Chinese name in the admin;
    its models keep axes' own names."""

    verbose_name = _("登录保护")
