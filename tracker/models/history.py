"""The append-only history of every task and inspection: one event row per change, never edited
or deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import (
    ChoiceLabels,
    CloseoutStatus,
    EventKind,
    EventSource,
    LadderRung,
    MeasureState,
    RecheckOutcome,
    TaskStatus,
    TaskType,
    Withheld,
)

# What old_value/new_value hold, by event kind: codes, never labels, so that switching the
# language never changes what history means. Labels are rendered when shown.
STATUS_KINDS = (
    EventKind.CREATED,
    EventKind.STATUS,
    EventKind.CLOSEOUT_APPROVED,
    EventKind.CLOSEOUT_RETURNED,
    EventKind.REOPENED,
    EventKind.IMPORTED,
)
CLOSEOUT_KINDS = (EventKind.CLOSEOUT_REQUESTED, EventKind.CLOSEOUT_LEAD_APPROVED)
UNIT_KINDS = (EventKind.OWNER, EventKind.LEAD_UNIT)  # a unit id
UNITS_KINDS = (EventKind.RESPONSIBLE_UNITS,)  # unit ids, comma-separated, sorted
MEASURE_STATE_KINDS = (EventKind.MEASURE,)


def unit_ids_of(value: str) -> list[int]:
    """The unit ids an owner / lead unit / responsible units event value names."""
    return [int(part) for part in value.split(",") if part.strip().isdigit()]


def _code_label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value  # a value written before codes were stored: shown as it was written


def label_events(events) -> list:
    """Set ``old_display`` / ``new_display`` on each event (labels in the active language, unit
    names for unit ids), with one query for all the units the events name."""
    from tracker.models.orgs import Unit
    from tracker.models.reminders import ReminderTier

    events = list(events)
    ids: set[int] = set()
    for event in events:
        if event.kind in UNIT_KINDS or event.kind in UNITS_KINDS:
            ids.update(unit_ids_of(event.old_value))
            ids.update(unit_ids_of(event.new_value))
    names = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}

    def show(kind: str, value: str) -> str:
        if kind == EventKind.WITHHELD:  # "" is a value here: 公开
            return _code_label(Withheld, value)
        if not value:
            return ""
        if kind in STATUS_KINDS:
            return _code_label(TaskStatus, value)
        if kind in CLOSEOUT_KINDS:
            return _code_label(CloseoutStatus, value)
        if kind == EventKind.TYPE:
            return _code_label(TaskType, value)
        if kind in MEASURE_STATE_KINDS:
            return _code_label(MeasureState, value)
        if kind == EventKind.REMINDER:
            return _code_label(ReminderTier, value)
        if kind == EventKind.LADDER:
            return _code_label(LadderRung, value)
        if kind == EventKind.RECHECK:
            return _code_label(RecheckOutcome, value)
        if kind in UNIT_KINDS or kind in UNITS_KINDS:
            parts = unit_ids_of(value)
            if not parts:
                return value
            return "、".join(names.get(pk, f"#{pk}") for pk in parts)
        return value

    for event in events:
        event.old_display = show(event.kind, event.old_value)
        event.new_display = show(event.kind, event.new_value)
    return events


class HistoryIsAppendOnly(Exception):
    """Raised by any attempt to edit or delete a history event."""


class AppendOnlyQuerySet(models.QuerySet):
    """A history table's rows: no bulk update or delete either."""

    def update(self, **kwargs):
        raise HistoryIsAppendOnly(f"{self.model._meta.verbose_name} cannot be updated")

    def delete(self):
        raise HistoryIsAppendOnly(f"{self.model._meta.verbose_name} cannot be deleted")

    _update = update


class AppendOnlyEvent(ChoiceLabels, models.Model):
    """What every history row holds besides what it is about: from what to what, why, who or
    what did it, when; written once, never edited or deleted (and, on PostgreSQL, a trigger and
    the app role's grants refuse it too: tracker.signals, create_app_role)."""

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

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise HistoryIsAppendOnly(f"{self._meta.verbose_name} cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryIsAppendOnly(f"{self._meta.verbose_name} cannot be deleted")


class TaskEvent(AppendOnlyEvent):
    """What changed on a task, from what to what, who or what did it, when and why."""

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        # PROTECT: a task with history cannot vanish, and neither can its history.
        on_delete=models.PROTECT,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=EventKind.choices)

    class Meta(AppendOnlyEvent.Meta):
        verbose_name = _("任务历史")
        verbose_name_plural = _("任务历史")
        indexes = [models.Index(fields=["task", "created_at"])]

    def __str__(self) -> str:
        if not hasattr(self, "new_display"):
            label_events([self])
        return f"{self.get_kind_display()}: {self.old_display} → {self.new_display}"


class InspectionEvent(AppendOnlyEvent):
    """What changed on an inspection (its group, round, dates, declared figures), from what to
    what, who did it and why; ``field`` is "created" for the row written when it was made.
    Written by ``tracker.actions.create_inspection`` / ``edit_inspection`` only."""

    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    field = models.CharField(_("字段"), max_length=32)

    class Meta(AppendOnlyEvent.Meta):
        verbose_name = _("巡视巡察历史")
        verbose_name_plural = _("巡视巡察历史")
        indexes = [models.Index(fields=["inspection", "created_at"])]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"

    @property
    def field_label(self) -> str:
        """The field's name in the reader's language."""
        from tracker.models.inspections import Inspection

        if self.field == "created":
            return str(_("创建"))
        if self.field.startswith("outcome:"):
            from tracker.choices import DECLARED_LABELS

            kind = self.field.partition(":")[2]
            return f"{_('整改成果')}:{DECLARED_LABELS.get(kind, kind)}"
        try:
            return str(Inspection._meta.get_field(self.field).verbose_name)
        except Exception:
            return self.field
