"""Outcomes of an inspection's rectification that the office records (处理处分, 制度, 资金)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import DECLARED_LABELS, DECLARED_OUTCOMES

# The outcome kinds in the order the import preview shows them, labelled as it labels them.
OUTCOME_CHOICES = [
    (key, label) for key, label in DECLARED_LABELS.items() if key in DECLARED_OUTCOMES
]


class InspectionOutcome(models.Model):
    """One recorded outcome figure (e.g. 党纪处分 2 人, 清退资金 12.6 万元) of an inspection.

    Several rows of one kind add up (each with its note: who, which case). The published
    notice and the report state the sums.
    """

    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        on_delete=models.PROTECT,
        related_name="outcomes",
    )
    kind = models.CharField(_("成果类别"), max_length=32, choices=OUTCOME_CHOICES)
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("整改成果")
        verbose_name_plural = _("整改成果")
        ordering = ["inspection", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value.normalize():f}"
