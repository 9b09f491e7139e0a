"""The close-out workflow around a task: evidence (佐证材料), close-out requests with their two
reviews (双审核), and deadline extension requests.

Rows here are written only by ``tracker.actions``; each write also appends a ``TaskEvent``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import (
    ChoiceLabels,
    CloseoutStatus,
    ExtensionStatus,
    ReviewDecision,
    ReviewStage,
)


def evidence_path(instance: Evidence, filename: str) -> str:
    """Where the file lands under MEDIA_ROOT. ``filename`` is already a random safe name made by
    ``tracker.evidence``; the user's name is only kept in ``original_name`` for display."""
    return f"evidence/{instance.task_id}/{filename}"


class Evidence(models.Model):
    """One evidence file attached to a task, stored under a random name, downloaded only through
    the permission-checked view."""

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["task", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class CloseoutRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(
            status__in=[CloseoutStatus.PENDING_LEAD, CloseoutStatus.PENDING_SUPERVISOR]
        )


class CloseoutRequest(ChoiceLabels, models.Model):
    """A unit's request to strike a task off (申请销号): a summary plus evidence or a written
    reason for having none, reviewed first by the lead unit, then by the supervisor."""

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        on_delete=models.PROTECT,
        related_name="closeout_requests",
    )
    summary = models.TextField(_("整改情况总结"))
    no_evidence_reason = models.TextField(_("无佐证材料的说明"), blank=True)
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="closeout_requests"
    )
    status = models.CharField(
        _("审核状态"),
        max_length=24,
        choices=CloseoutStatus.choices,
        default=CloseoutStatus.PENDING_LEAD,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    objects = CloseoutRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("销号申请")
        verbose_name_plural = _("销号申请")
        ordering = ["requested_at", "id"]
        constraints = [
            # A task has at most one close-out under review at a time.
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status__in=["pending_lead", "pending_supervisor"]),
                name="closeout_one_pending_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status in (CloseoutStatus.PENDING_LEAD, CloseoutStatus.PENDING_SUPERVISOR)


class CloseoutReview(ChoiceLabels, models.Model):
    """One of the two reviews of a close-out request: the lead unit's, then the supervisor's."""

    request = models.ForeignKey(
        CloseoutRequest,
        verbose_name=_("销号申请"),
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    stage = models.CharField(_("审核环节"), max_length=16, choices=ReviewStage.choices)
    decision = models.CharField(_("审核意见"), max_length=16, choices=ReviewDecision.choices)
    comment = models.TextField(_("说明"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("销号审核")
        verbose_name_plural = _("销号审核")
        ordering = ["reviewed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "stage"], name="closeout_review_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} · {self.get_decision_display()}"


class ExtensionRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=ExtensionStatus.PENDING)


class ExtensionRequest(ChoiceLabels, models.Model):
    """A request to move a task's deadline (申请延期), approved or refused by a supervisor. The
    task keeps its first deadline as ``original_deadline`` whatever happens."""

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        on_delete=models.PROTECT,
        related_name="extension_requests",
    )
    current_deadline = models.DateField(_("申请时的时限"), null=True, blank=True)
    new_deadline = models.DateField(_("申请延至"))
    reason = models.TextField(_("延期理由"))
    status = models.CharField(
        _("审批状态"),
        max_length=16,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    objects = ExtensionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status="pending"),
                name="extension_one_pending_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.new_deadline} · {self.get_status_display()}"
