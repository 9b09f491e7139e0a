"""Party organizations, their internal units, and who works in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import ScopeRole, UnitRole


class Organization(models.Model):
    """A party organization (党委/党组/党工委…) that can be inspected, arranged as a tree."""

    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    # The core name (without 中共/党委/委员会…) that notices are matched on.
    core_name = models.CharField(_("核心名称"), max_length=200, db_index=True, blank=True)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    principal_name = models.CharField(_("主要负责人"), max_length=100, blank=True)
    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主要负责人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.core_name:
            from tracker.importer.parser import core_org_name

            self.core_name = core_org_name(self.name)
        super().save(*args, **kwargs)

    def self_unit(self) -> Unit:
        """The unit that stands for the organization itself (本级): the default task owner."""
        unit, _created = Unit.objects.get_or_create(
            organization=self, is_self=True, defaults={"name": self.name}
        )
        return unit


class Unit(models.Model):
    """A unit inside an organization that leads or carries rectification (牵头单位/责任单位)."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("所属党组织"), on_delete=models.PROTECT, related_name="units"
    )
    name = models.CharField(_("名称"), max_length=200)
    is_self = models.BooleanField(
        _("本级"), default=False, help_text=_("代表党组织本身的单位,任务未分派时归属于此")
    )
    lead_name = models.CharField(_("分管领导"), max_length=100, blank=True)
    contact_emails = models.TextField(
        _("联系邮箱"), blank=True, help_text=_("多个地址用逗号或换行分隔")
    )
    # A unit that tasks or history name is never deleted (PROTECT); a merged or dissolved unit
    # is retired instead: it keeps its tasks and history but is no longer offered for new work.
    retired = models.BooleanField(
        _("已撤并"), default=False, help_text=_("已撤销或合并的单位不再用于分派任务,历史保留")
    )

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unit_unique_name"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_self=True), name="unit_one_self"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def emails(self) -> list[str]:
        raw = self.contact_emails.replace("\n", ",").replace(";", ",")
        return [item.strip() for item in raw.split(",") if item.strip()]


class Membership(models.Model):
    """A user's place in a unit: clerk (经办人) or unit lead (分管领导). A user may have several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=16, choices=UnitRole.choices)

    class Meta:
        verbose_name = _("单位成员")
        verbose_name_plural = _("单位成员")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class ScopeAssignment(models.Model):
    """A supervisor (整改办) or observer (纪检) over an organization, an inspection, or everything."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="scopes",
    )
    role = models.CharField(_("角色"), max_length=16, choices=ScopeRole.choices)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("党组织"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scopes",
    )
    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scopes",
    )
    all_organizations = models.BooleanField(_("全部"), default=False)

    class Meta:
        verbose_name = _("监督范围")
        verbose_name_plural = _("监督范围")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        all_organizations=True, organization__isnull=True, inspection__isnull=True
                    )
                    | models.Q(
                        all_organizations=False, organization__isnull=False, inspection__isnull=True
                    )
                    | models.Q(
                        all_organizations=False, organization__isnull=True, inspection__isnull=False
                    )
                ),
                name="scope_exactly_one_target",
            ),
        ]

    def __str__(self) -> str:
        target = self.organization or self.inspection or _("全部")
        return f"{self.user} · {self.get_role_display()} · {target}"
