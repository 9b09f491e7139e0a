"""Progress as a unit reports it: notes, measures (ticked, not applicable, and their wording,
which supervisors set), evidence, and the one-form progress report. A task that is 已销号 is
read-only until a supervisor reopens it (回头看)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    _begin,
    _bump,
    _label,
    _progress_status,
    _refresh_caller,
    _require_open,
    _save,
    record_event,
)
from tracker.choices import EventKind, MeasureState
from tracker.models import Measure, Task


def _note(locked: Task, text: str, actor: Actor, *, required: bool = True) -> None:
    text = text.strip()
    if not text and required:
        raise ActionError(_("请填写进展情况。"))
    if text == locked.progress.strip() and not required:
        return
    old = locked.progress
    locked.progress = text
    _save(locked, ["progress"])
    record_event(locked, EventKind.NOTE, actor, old=old, new=text)


def _tick(locked: Task, measure: Measure, done: bool, actor: Actor) -> bool:
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    if measure.done == done:
        return False
    old = measure.state
    measure.done = done
    measure.done_at = timezone.now() if done else None
    fields = ["done", "done_at"]
    if done and measure.not_applicable:
        measure.not_applicable, measure.na_reason = False, ""
        fields += ["not_applicable", "na_reason"]
    measure.save(update_fields=fields)
    _bump(locked)
    record_event(locked, EventKind.MEASURE, actor, old=old, new=measure.state, reason=measure.text)
    return True


def _mark_na(locked: Task, measure: Measure, reason: str | None, actor: Actor) -> bool:
    """``reason`` text marks the measure not applicable; None clears the mark."""
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    if reason is None:
        if not measure.not_applicable:
            return False
        old = measure.state
        measure.not_applicable, measure.na_reason = False, ""
    else:
        reason = reason.strip()
        if not reason:
            raise ActionError(_("措施“%s”标为不适用须说明理由。") % measure.text[:30])
        if measure.not_applicable and measure.na_reason == reason:
            return False
        old = measure.state
        measure.not_applicable, measure.na_reason = True, reason[:500]
        measure.done, measure.done_at = False, None
    measure.save(update_fields=["not_applicable", "na_reason", "done", "done_at"])
    _bump(locked)
    record_event(
        locked,
        EventKind.MEASURE,
        actor,
        old=old,
        new=measure.state,
        reason=measure.text + (f"({measure.na_reason})" if measure.na_reason else ""),
    )
    return True


def _evidence(locked: Task, upload, actor: Actor, description: str = ""):
    from tracker.evidence import check_upload
    from tracker.models import Evidence

    checked = check_upload(upload)  # ValidationError for the form; re-checked for every caller
    evidence = Evidence(
        task=locked,
        original_name=checked.display_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        description=description[:200],
        uploaded_by=actor.user,
    )
    evidence.file.save(checked.stored_name, upload, save=False)
    evidence.save()
    _bump(locked)
    record_event(locked, EventKind.EVIDENCE, actor, new=checked.display_name, reason=description)
    return evidence


@transaction.atomic
def record_note(
    task: Task,
    text: str,
    actor: Actor,
    *,
    expected_version: int | None = None,
    required: bool = True,
):
    """Write a progress note (进展情况): it becomes the task's current progress text. With
    ``required=False`` (an administrator's correction of the text) it may also be emptied."""
    locked = _begin(task, actor, "record_note", expected_version)
    _require_open(locked)
    _note(locked, text, actor, required=required)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def tick_measure(
    task: Task, measure: Measure, done: bool, actor: Actor, *, expected_version: int | None = None
):
    """Mark one measure done or not done."""
    locked = _begin(task, actor, "tick_measure", expected_version)
    _require_open(locked)
    _tick(locked, Measure.objects.select_for_update().get(pk=measure.pk), done, actor)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def mark_measure_not_applicable(
    task: Task,
    measure: Measure,
    reason: str | None,
    actor: Actor,
    *,
    expected_version: int | None = None,
):
    """Mark one measure not applicable with a reason (None: clear the mark)."""
    locked = _begin(task, actor, "mark_measure_not_applicable", expected_version)
    _require_open(locked)
    _mark_na(locked, Measure.objects.select_for_update().get(pk=measure.pk), reason, actor)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def add_measure(
    task: Task, text: str, actor: Actor, *, reason: str = "", expected_version: int | None = None
) -> Measure:
    """Add a rectification measure (supervisors: measures are part of the plan)."""
    from django.db.models import Max

    locked = _begin(task, actor, "add_measure", expected_version)
    _require_open(locked)
    text = text.strip()
    if not text:
        raise ActionError(_("请填写措施内容。"))
    last = Measure.objects.filter(task=locked).aggregate(m=Max("order"))["m"] or 0
    measure = Measure.objects.create(task=locked, order=last + 1, text=text)
    _bump(locked)
    record_event(locked, EventKind.MEASURE_ADDED, actor, new=text, reason=reason)
    _refresh_caller(task, locked)
    return measure


@transaction.atomic
def edit_measure(
    task: Task,
    measure: Measure,
    text: str,
    actor: Actor,
    *,
    order: int | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Measure:
    """Reword (or reorder) a measure; its done / not applicable state stays."""
    locked = _begin(task, actor, "edit_measure", expected_version)
    _require_open(locked)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    text = text.strip()
    if not text:
        raise ActionError(_("请填写措施内容。"))
    fields = []
    if order is not None and order != measure.order:
        measure.order = order
        fields.append("order")
    old = measure.text
    if text != old:
        measure.text = text
        fields.append("text")
    if not fields:
        return measure
    measure.save(update_fields=fields)
    _bump(locked)
    record_event(
        locked,
        EventKind.MEASURE_EDITED,
        actor,
        old=old if "text" in fields else f"#{measure.order}",
        new=text if "text" in fields else f"#{order}",
        reason=reason or (old if "text" not in fields else ""),
    )
    _refresh_caller(task, locked)
    return measure


@transaction.atomic
def remove_measure(
    task: Task,
    measure: Measure,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> None:
    """Remove a measure; its text and state stay in the event."""
    locked = _begin(task, actor, "remove_measure", expected_version)
    _require_open(locked)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    record_event(
        locked,
        EventKind.MEASURE_REMOVED,
        actor,
        old=measure.text,
        new="",
        reason=reason or _label(MeasureState, measure.state),
    )
    measure.delete()
    _bump(locked)
    _refresh_caller(task, locked)


@transaction.atomic
def add_evidence(
    task: Task,
    upload,
    actor: Actor,
    *,
    description: str = "",
    expected_version: int | None = None,
):
    """Attach one evidence file (validated by content; stored under a random name)."""
    locked = _begin(task, actor, "add_evidence", expected_version)
    _require_open(locked)
    evidence = _evidence(locked, upload, actor, description)
    _refresh_caller(task, locked)
    return evidence


@transaction.atomic
def update_progress(
    task: Task,
    actor: Actor,
    *,
    expected_version: int | None,
    note: str = "",
    done_measure_ids: set[int] | None = None,
    not_applicable: dict[int, str] | None = None,
    status: str | None = None,
    uploads: list | tuple = (),
) -> Task:
    """One progress report as a clerk submits it: measure ticks (and measures marked not
    applicable, with their reasons), evidence, a note and a status move, all or nothing,
    checked once against the version the form was loaded with. Each part writes its own
    event, exactly as the single-purpose functions above do."""
    locked = _begin(task, actor, "update_progress", expected_version)
    _require_open(locked)
    if done_measure_ids is not None or not_applicable is not None:
        na = not_applicable or {}
        for measure in Measure.objects.select_for_update().filter(task=locked).order_by("order"):
            if measure.pk in na:
                _mark_na(locked, measure, na[measure.pk], actor)
            else:
                if not_applicable is not None:
                    _mark_na(locked, measure, None, actor)
                if done_measure_ids is not None:
                    _tick(locked, measure, measure.pk in done_measure_ids, actor)
    for upload in uploads:
        _evidence(locked, upload, actor)
    if note.strip():
        _note(locked, note, actor)
    if status:
        _progress_status(locked, status, actor, reason="")
    _refresh_caller(task, locked)
    return task
