"""Re-checks of closed tasks (反向核查): a round draws a seeded sample of 已销号 tasks, each
sampled task is an item with its checker and outcome. Rows here are written only by
``tracker.actions.rechecks``; every recorded outcome also appends a RECHECK ``TaskEvent``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import RecheckOutcome, RecheckState


class RecheckRound(models.Model):
    """One re-check round over an organization or one inspection: the seed and size it was drawn
    with (so the draw can be repeated and checked) and whether every item has its outcome."""

    name = models.CharField(_("名称"), max_length=200)
    organization = models.ForeignKey(
        "tracker.Organization",
        verbose_name=_("党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recheck_rounds",
    )
    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recheck_rounds",
    )
    seed = models.BigIntegerField(_("随机种子"))
    percent = models.PositiveSmallIntegerField(_("抽取比例(%)"), null=True, blank=True)
    count = models.PositiveIntegerField(_("抽取数量"), null=True, blank=True)
    # How many closed tasks the scope held when the sample was drawn.
    population = models.PositiveIntegerField(_("已销号任务数"), default=0)
    state = models.CharField(
        _("状态"), max_length=8, choices=RecheckState.choices, default=RecheckState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("反向核查")
        verbose_name_plural = _("反向核查")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(organization__isnull=False, inspection__isnull=True)
                    | models.Q(organization__isnull=True, inspection__isnull=False)
                ),
                name="recheck_round_one_scope",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(percent__isnull=False, count__isnull=True)
                    | models.Q(percent__isnull=True, count__isnull=False)
                ),
                name="recheck_round_one_size",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self):
        """The organization or inspection the round samples."""
        return self.inspection or self.organization


class RecheckItem(models.Model):
    """One sampled task of a round: who checks it, and what they found (确认到位 / 未到位)."""

    round = models.ForeignKey(
        RecheckRound, verbose_name=_("核查批次"), on_delete=models.CASCADE, related_name="items"
    )
    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        on_delete=models.PROTECT,
        related_name="recheck_items",
    )
    # The owner unit (the stratum) when drawn: the round's table stays as drawn if the owner
    # changes later, e.g. when a failed re-check is handed to another unit.
    unit = models.ForeignKey(
        "tracker.Unit", verbose_name=_("责任主体"), on_delete=models.PROTECT, related_name="+"
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recheck_items",
    )
    outcome = models.CharField(
        _("核查结果"), max_length=16, choices=RecheckOutcome.choices, blank=True
    )
    findings = models.TextField(_("核查情况"), blank=True)
    # Evidence is kept with the task's other evidence (validated and downloaded the same way).
    evidence = models.ForeignKey(
        "tracker.Evidence",
        verbose_name=_("佐证材料"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("核查事项")
        verbose_name_plural = _("核查事项")
        ordering = ["round", "unit__name", "task_id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "task"], name="recheck_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.task_id}"
