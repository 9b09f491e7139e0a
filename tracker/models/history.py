"""The append-only history of every task: one event row per change, never edited or deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import EventKind, EventSource


class HistoryIsAppendOnly(Exception):
    """Raised by any attempt to edit or delete a history event."""


class TaskEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise HistoryIsAppendOnly("task history cannot be updated")

    def delete(self):
        raise HistoryIsAppendOnly("task history cannot be deleted")

    _update = update


class TaskEvent(models.Model):
    """What changed on a task, from what to what, who or what did it, when and why."""

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        # PROTECT: a task with history cannot vanish, and neither can its history.
        on_delete=models.PROTECT,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=EventKind.choices)
    old_value = models.TextField(_("原值"), blank=True)
    new_value = models.TextField(_("新值"), blank=True)
    reason = models.TextField(_("说明"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("来源"), max_length=16, choices=EventSource.choices)
    # Which notice, upload or sweep: e.g. "notice:12", "ledger:upload.xlsx", "sweep:2026-11-22".
    source_ref = models.CharField(_("来源标识"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = TaskEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务历史")
        verbose_name_plural = _("任务历史")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.old_value} → {self.new_value}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise HistoryIsAppendOnly("task history cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryIsAppendOnly("task history cannot be deleted")
