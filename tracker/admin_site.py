"""The admin site: Django's, with a superuser's app list built once per language.

Every admin page builds the list of apps and models for its sidebar and breadcrumbs
(``each_context``): for each of the ~30 registered models, five permission checks, two
``reverse`` calls and the translated names, a tenth of a changelist's CPU. For an active
superuser every one of those checks answers the same (Django's model permissions are all
granted, and this project's ``has_*_permission`` overrides ask only ``is_active`` and
``is_superuser``), so the list is kept per language and URL prefix and each page gets its own
copy. Other users' lists are built on every request, as Django does.
"""

from __future__ import annotations

import threading

from django.contrib import admin
from django.urls import get_script_prefix
from django.utils import translation


class RectifyAdminSite(admin.AdminSite):
    _app_lists: dict[tuple, list[dict]] = {}
    _lock = threading.Lock()

    def get_app_list(self, request, app_label=None):
        user = request.user
        if app_label is not None or not (user.is_active and user.is_superuser):
            return super().get_app_list(request, app_label)
        key = (self.name, translation.get_language(), get_script_prefix())
        app_list = self._app_lists.get(key)
        if app_list is None:
            app_list = super().get_app_list(request)
            with self._lock:
                self._app_lists[key] = app_list
        # A copy per page: a view or template that changes its list changes only its own.
        return [{**app, "models": [dict(model) for model in app["models"]]} for app in app_list]
