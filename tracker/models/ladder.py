"""The 督办 ladder: formal documents a supervisor issues to a unit about its overdue tasks
(督办通知书 → 提醒书 → 告诫书 → 问责书), their numbers, their delivery by email and the unit's reply.

- ``DocumentCounter``: the last number given per organization and year, a row locked while a
  document takes the next one, so numbers have no gaps and never repeat (a rolled-back issue
  rolls its number back too);
- ``SupervisionDocument``: one issued document: its number (〔2026〕7号), rung, unit, tasks, reply
  deadline, recipients and the reply;
- ``LadderDelivery``: one email of a document to one recipient, claimed before it is sent with
  the reminder machinery's claim, lease, retry and failure fields (``tracker.reminders.ladder``).

Written only by ``tracker.actions.supervision``; each document also puts one ``督办文书`` event
on each task it covers (new_value: the rung code) and the reply one ``督办回复`` event.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tracker.choices import LADDER_ORDER, ChoiceLabels, LadderRung
from tracker.models.reminders import Claimable


class DocumentCounter(models.Model):
    """The last document number given in an organization and year (locked to take the next)."""

    organization = models.ForeignKey(
        "tracker.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("已用编号"), default=0)

    class Meta:
        verbose_name = _("督办文书编号")
        verbose_name_plural = _("督办文书编号")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="document_counter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.year}: {self.last}"


def reply_path(instance: SupervisionDocument, filename: str) -> str:
    """Under MEDIA_ROOT; ``filename`` is a random name made by ``tracker.evidence``."""
    return f"ladder/{instance.pk}/{filename}"


class DocumentState(models.TextChoices):
    ISSUED = "issued", _("待回复")
    REPLIED = "replied", _("已回复")


class SupervisionDocument(ChoiceLabels, models.Model):
    """One 督办 document issued to a unit about some of its overdue tasks."""

    organization = models.ForeignKey(
        "tracker.Organization",
        verbose_name=_("党组织"),
        on_delete=models.PROTECT,
        related_name="supervision_documents",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("编号"))
    rung = models.CharField(_("文书类别"), max_length=16, choices=LadderRung.choices)
    unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name=_("责任主体"),
        on_delete=models.PROTECT,
        related_name="supervision_documents",
    )
    tasks = models.ManyToManyField(
        "tracker.Task", verbose_name=_("整改任务"), related_name="supervision_documents"
    )
    reply_due = models.DateField(_("回复期限"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("签发时间"))
    issuer_name = models.CharField(_("发文机关"), max_length=200, blank=True)
    # What the document lists, as it stood when issued (the DOCX never changes afterwards):
    # [{"task": id, "title": …, "deadline": ISO date, "days_overdue": n}, …]
    items = models.JSONField(_("所列任务"), default=list, blank=True)
    # The addresses the document was sent to, as decided when it was issued.
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=DocumentState.choices, default=DocumentState.ISSUED
    )
    reply_text = models.TextField(_("回复内容"), blank=True)
    reply_file = models.FileField(_("回复佐证"), upload_to=reply_path, max_length=255, blank=True)
    reply_file_name = models.CharField(_("佐证文件名"), max_length=200, blank=True)
    reply_content_type = models.CharField(_("佐证文件类型"), max_length=100, blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("督办文书")
        verbose_name_plural = _("督办文书")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "number"], name="supervision_document_number"
            ),
        ]
        indexes = [models.Index(fields=["unit", "rung"], name="supervision_doc_unit_rung")]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_rung_display()}"

    @property
    def reference(self) -> str:
        """The number line (发文字号), e.g. 〔2026〕7号, after the configured prefix."""
        prefix = settings.RECTIFY.get("LADDER_NUMBER_PREFIX", "")
        return f"{prefix}〔{self.year}〕{self.number}号"

    @property
    def rung_index(self) -> int:
        return LADDER_ORDER.index(self.rung)

    def reply_missed(self, today: datetime.date) -> bool:
        """Not answered and past its reply deadline: the ladder moves on at once."""
        return self.state == DocumentState.ISSUED and self.reply_due < today


class LadderDelivery(Claimable):
    """One email of a document (with its DOCX) to one recipient, claimed before it is sent."""

    document = models.ForeignKey(
        SupervisionDocument,
        verbose_name=_("督办文书"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    recipient = models.EmailField(_("收件人"), max_length=254)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督办文书邮件")
        verbose_name_plural = _("督办文书邮件")
        ordering = ["document_id", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["document", "recipient"], name="ladder_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="ladder_delivery_open",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.recipient} ({self.get_state_display()})"
