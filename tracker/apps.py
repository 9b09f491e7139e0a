from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = _("巡视巡察整改")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tracker import scope_choices
        from tracker.middleware import mark_session_fresh
        from tracker.signals import install_history_guard

        post_migrate.connect(install_history_guard, sender=self)
        user_logged_in.connect(mark_session_fresh, dispatch_uid="rectify-session-fresh")
        scope_choices.connect()


class RectifyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (tracker.admin_site) as ``admin.site``."""

    default = False  # named in INSTALLED_APPS; TrackerConfig stays this module's default
    default_site = "tracker.admin_site.RectifyAdminSite"
