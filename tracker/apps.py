from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = _("巡视巡察整改")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tracker.signals import install_history_guard

        post_migrate.connect(install_history_guard, sender=self)
