"""Inspections (巡视/巡察) and the published notices that report on them."""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import DatePrecision, InspectionKind, Level


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, clamped to the month's end (Dec 31 + 2 → Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def format_partial_date(day: datetime.date | None, precision: str) -> str | None:
    """ "2021-09" for month precision, "2021-09-01" for day precision, None when unknown."""
    if day is None:
        return None
    return day.strftime("%Y-%m") if precision == DatePrecision.MONTH else day.isoformat()


def default_deadline(feedback: datetime.date | None, precision: str = DatePrecision.DAY):
    """The rectification deadline a feedback date implies, or None when feedback is unknown.

    A feedback date known only to the month counts from the month's last day, so the deadline
    is never earlier than the true one.
    """
    if feedback is None:
        return None
    if precision == DatePrecision.MONTH:
        feedback = month_end(feedback)
    return add_months(feedback, settings.RECTIFY["RECTIFICATION_PERIOD_MONTHS"])


class Inspection(models.Model):
    """One inspection of one organization by one group, within a round, with its feedback date."""

    organization = models.ForeignKey(
        "tracker.Organization",
        verbose_name=_("被巡视巡察党组织"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices, blank=True)
    term = models.CharField(_("届次"), max_length=20, blank=True, help_text=_("如:十五届"))
    round_no = models.CharField(_("轮次"), max_length=20, blank=True, help_text=_("如:第二轮"))
    round_name = models.CharField(
        _("届次轮次"), max_length=60, blank=True, help_text=_("如:十五届省委第二轮")
    )
    kind = models.CharField(
        _("类型"), max_length=16, choices=InspectionKind.choices, default=InspectionKind.REGULAR
    )
    group = models.CharField(_("巡视巡察组"), max_length=60, blank=True)
    start_date = models.DateField(_("进驻开始"), null=True, blank=True)
    start_precision = models.CharField(
        _("开始日期精度"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    end_date = models.DateField(_("进驻结束"), null=True, blank=True)
    end_precision = models.CharField(
        _("结束日期精度"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    feedback_date = models.DateField(_("反馈日期"), null=True, blank=True)
    feedback_precision = models.CharField(
        _("反馈日期精度"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    deadline_override = models.DateField(
        _("整改时限(手工)"),
        null=True,
        blank=True,
        help_text=_("留空则为反馈日期加上规定整改期限"),
    )
    declared = models.JSONField(_("通报声明的数字"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("巡视巡察")
        verbose_name_plural = _("巡视巡察")
        ordering = ["-feedback_date", "organization__name"]
        indexes = [models.Index(fields=["organization", "feedback_date"])]

    def __str__(self) -> str:
        return self.label(self.organization.name, self.round_name, self.group)

    @staticmethod
    def label(organization: str, round_name: str, group: str) -> str:
        """How an inspection is named: its organization and round (or group)."""
        return " · ".join(p for p in (organization, round_name or group) if p)

    @property
    def deadline(self) -> datetime.date | None:
        """The rectification deadline: set by hand, else feedback + the configured period."""
        if self.deadline_override:
            return self.deadline_override
        return default_deadline(self.feedback_date, self.feedback_precision)

    @property
    def start(self) -> str | None:
        return format_partial_date(self.start_date, self.start_precision)

    @property
    def end(self) -> str | None:
        return format_partial_date(self.end_date, self.end_precision)


class SourceNotice(models.Model):
    """A published progress notice (整改进展情况的通报) as imported, kept verbatim."""

    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    title = models.CharField(_("标题"), max_length=300, blank=True)
    issuer = models.CharField(_("发布单位"), max_length=200, blank=True)
    published = models.DateField(_("发布日期"), null=True, blank=True)
    raw_text = models.TextField(_("原文"))
    warnings = models.JSONField(_("解析提示"), default=list, blank=True)
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    inspections = models.ManyToManyField(
        Inspection, through="NoticeReport", related_name="notices", verbose_name=_("巡视巡察")
    )

    class Meta:
        verbose_name = _("整改通报")
        verbose_name_plural = _("整改通报")
        ordering = ["-published", "-imported_at"]

    def __str__(self) -> str:
        return self.title or self.file_name


class NoticeReport(models.Model):
    """What one notice states about one inspection: its declared totals and outcomes."""

    notice = models.ForeignKey(
        SourceNotice, verbose_name=_("通报"), on_delete=models.PROTECT, related_name="reports"
    )
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("巡视巡察"), on_delete=models.PROTECT, related_name="reports"
    )
    organization_name = models.CharField(_("通报中的组织名称"), max_length=200)
    declared = models.JSONField(_("声明的数字"), default=dict, blank=True)
    published_problems = models.PositiveIntegerField(_("公布的问题数"), default=0)

    class Meta:
        verbose_name = _("通报内容")
        verbose_name_plural = _("通报内容")
        constraints = [
            models.UniqueConstraint(fields=["notice", "inspection"], name="report_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.notice} → {self.inspection}"

    @property
    def declared_gap(self) -> int | None:
        """Problems the notice declares but does not print (涉密, privacy…), or None."""
        declared = self.declared.get("problems")
        return None if declared is None else declared - self.published_problems
