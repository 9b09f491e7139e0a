"""Background work on a large ledger (整改台账): an export, an upload's preview, or applying a
confirmed upload, run by a Celery worker (``tracker.ledger_jobs``) for the user who asked. The
row holds what the worker needs (the filters, the staged upload), how far it got, and where its
result file is (under MEDIA_ROOT/ledger-jobs/)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerJob(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", _("台账导出")
        PREVIEW = "preview", _("台账导入预览")
        APPLY = "apply", _("台账导入")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="ledger_jobs",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    # export: {"query": the request's query string, "today": ISO day, "language": code};
    # preview/apply: {"token", "name", "language"} (+ apply: "versions", "digest").
    params = models.JSONField(_("参数"), default=dict)
    result_path = models.CharField(_("结果文件"), max_length=300, blank=True)
    # export: {"filename"}; preview: {"versions", "digest"}; apply: {"applied"}.
    result = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # The worker's last sign of life (each progress report): the lease runs from it, so a long
    # export is not taken again while it still reports.
    heartbeat_at = models.DateTimeField(_("最近进展时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("台账后台任务")
        verbose_name_plural = _("台账后台任务")
        indexes = [models.Index(fields=["user", "kind", "-id"], name="ledgerjob_user_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} · {self.user}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
