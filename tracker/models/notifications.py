"""In-app notifications: a history event that concerns someone who did not make it (their
close-out returned or approved, their extension decided, a task given to their unit, a task of
their unit reopened), kept per user with read/unread. Written by ``tracker.notifications`` in
the transaction of the action whose event it points to; its text is the event's, rendered in
the reader's language."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "tracker.TaskEvent",
        verbose_name=_("事件"),
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.user} · {self.event}"
