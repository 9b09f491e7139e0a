"""Recurring problems (屡巡屡犯): a problem of a later inspection that reads like one an earlier
inspection of the same organization already fed back. Written by ``tracker.actions.repeats``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RepeatLink(models.Model):
    """A likely repeat: ``problem`` (later inspection) resembles ``earlier_problem`` (an earlier
    inspection of the same organization, by feedback date) with similarity ``score`` (0-1)."""

    problem = models.ForeignKey(
        "tracker.Problem",
        verbose_name=_("问题"),
        on_delete=models.CASCADE,
        related_name="repeat_links",
    )
    earlier_problem = models.ForeignKey(
        "tracker.Problem",
        verbose_name=_("此前反馈的问题"),
        on_delete=models.CASCADE,
        related_name="later_repeat_links",
    )
    score = models.FloatField(_("相似度"))
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("屡巡屡犯")
        verbose_name_plural = _("屡巡屡犯")
        ordering = ["problem", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "earlier_problem"], name="repeat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} ≈ {self.earlier_problem_id} ({self.score:.2f})"
