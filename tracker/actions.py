"""The one way to change a task.

Status, deadline, owner, type and close-out change only through the functions here. Each one
runs in a transaction, locks the task row, checks the rule, writes exactly one history event
naming its actor and source, bumps the task's version, and defers any email or queued work to
``transaction.on_commit``. The admin, the views, the notice importer, the ledger upload and the
Celery sweep all call these functions; none of them assigns ``task.status`` itself.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models import Measure, Problem, Task, TaskEvent, Unit


class ActionError(Exception):
    """A change that the rules do not allow; the message is shown to the user as is."""


class StaleTask(ActionError):
    """The task changed since the user loaded it (optimistic concurrency)."""

    def __init__(self, task: Task, last_event: TaskEvent | None):
        self.task = task
        self.last_event = last_event
        who = (last_event.actor or last_event.get_source_display()) if last_event else "?"
        when = (
            timezone.localtime(last_event.created_at).strftime("%Y-%m-%d %H:%M")
            if last_event
            else "?"
        )
        super().__init__(
            _("该任务已被 %(who)s 于 %(when)s 修改,请刷新后重试。") % {"who": who, "when": when}
        )


@dataclass(frozen=True)
class Actor:
    """Who or what makes a change: a user, or a source such as a notice import or a sweep."""

    user: AbstractBaseUser | None = None
    source: str = EventSource.USER
    ref: str = ""

    @classmethod
    def of(cls, user: AbstractBaseUser | None, source: str = EventSource.USER, ref: str = ""):
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            source=source,
            ref=ref,
        )


# Allowed status moves for ordinary progress reporting. Close-out (→ 已销号) and reopening
# (已销号 → 整改中) have their own functions with their own review rules.
TRANSITIONS: dict[str, set[str]] = {
    TaskStatus.NOT_STARTED: {
        TaskStatus.IN_PROGRESS,
        TaskStatus.BASICALLY_COMPLETED,
        TaskStatus.COMPLETED,
    },
    TaskStatus.IN_PROGRESS: {TaskStatus.BASICALLY_COMPLETED, TaskStatus.COMPLETED},
    TaskStatus.BASICALLY_COMPLETED: {TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED},
    TaskStatus.COMPLETED: {TaskStatus.IN_PROGRESS, TaskStatus.BASICALLY_COMPLETED},
    TaskStatus.CLOSED: set(),
}


def allowed_statuses(task: Task) -> list[str]:
    """The statuses a progress update may move ``task`` to (for forms and the ledger upload)."""
    return [s for s in TaskStatus.values if s in TRANSITIONS[task.status]]


def _label(choices, value) -> str:
    """The label stored in history: always in the site language, whoever's UI made the change."""
    if not value:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        return str(choices(value).label)


def _lock(task: Task, expected_version: int | None) -> Task:
    """Re-read the task under a row lock and check the version the caller saw."""
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTask(locked, locked.events.select_related("actor").order_by("-id").first())
    return locked


def record_event(
    task: Task,
    kind: str,
    actor: Actor,
    *,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> TaskEvent:
    """Append one history event. Only this module and modules built on it call this."""
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        actor=actor.user,
        source=actor.source,
        source_ref=actor.ref[:255],
    )


def _save(task: Task, fields: list[str]) -> None:
    task.version += 1
    task.save(update_fields=[*fields, "version", "updated_at"])


def _refresh_caller(original: Task, locked: Task) -> None:
    """Let the caller's instance see the new state without another query."""
    original.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})


@transaction.atomic
def create_task(
    problem: Problem,
    actor: Actor,
    *,
    owner_unit: Unit,
    deadline: datetime.date | None,
    status: str = TaskStatus.NOT_STARTED,
    task_type: str = TaskType.DEADLINE,
    measures: list[str] | tuple[str, ...] = (),
    lead_leader_name: str = "",
    report_period_days: int | None = None,
) -> Task:
    """Create the task for a leaf problem, with its measures and a 'created' event."""

    report_due_on = None
    if task_type == TaskType.LONG_TERM:
        period = report_period_days or settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        report_due_on = timezone.localdate() + datetime.timedelta(days=period)
    task = Task.objects.create(
        problem=problem,
        inspection_id=problem.inspection_id,
        owner_unit=owner_unit,
        deadline=deadline,
        status=status,
        task_type=task_type,
        lead_leader_name=lead_leader_name,
        report_due_on=report_due_on,
        status_changed_at=timezone.now(),
        closed_at=timezone.now() if status == TaskStatus.CLOSED else None,
    )
    Measure.objects.bulk_create(
        [Measure(task=task, order=i, text=text) for i, text in enumerate(measures, start=1)]
    )
    record_event(task, EventKind.CREATED, actor, new=_label(TaskStatus, status))
    return task


@dataclass(frozen=True)
class NewTask:
    """The arguments of ``create_task`` for one leaf problem, for ``create_tasks``."""

    problem: Problem
    owner_unit: Unit
    deadline: datetime.date | None
    status: str = TaskStatus.NOT_STARTED
    task_type: str = TaskType.DEADLINE
    measures: tuple[str, ...] = ()
    lead_leader_name: str = ""


# No savepoint: nothing here catches an error half-way, and the importer calls it once per
# notice inside its own transaction (a SAVEPOINT/RELEASE pair would be two more round trips).
@transaction.atomic(savepoint=False)
def create_tasks(new_tasks: list[NewTask] | tuple[NewTask, ...], actor: Actor) -> list[Task]:
    """``create_task`` for many problems at once (the notice importer): the same rows and the
    same one 'created' event per task, in three bulk INSERTs instead of three per task."""

    now = timezone.now()
    report_due_on = timezone.localdate() + datetime.timedelta(
        days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                problem=n.problem,
                inspection_id=n.problem.inspection_id,
                owner_unit=n.owner_unit,
                deadline=n.deadline,
                status=n.status,
                task_type=n.task_type,
                lead_leader_name=n.lead_leader_name,
                report_due_on=report_due_on if n.task_type == TaskType.LONG_TERM else None,
                status_changed_at=now,
                closed_at=now if n.status == TaskStatus.CLOSED else None,
            )
            for n in new_tasks
        ]
    )
    Measure.objects.bulk_create(
        [
            Measure(task=task, order=i, text=text)
            for task, n in zip(tasks, new_tasks, strict=True)
            for i, text in enumerate(n.measures, start=1)
        ]
    )
    # One label per distinct status, not per task (translation.override is not free).
    labels = {s: _label(TaskStatus, s) for s in {n.status for n in new_tasks}}
    TaskEvent.objects.bulk_create(
        [
            TaskEvent(
                task=task,
                kind=EventKind.CREATED,
                new_value=labels[task.status],
                actor=actor.user,
                source=actor.source,
                source_ref=actor.ref[:255],
            )
            for task in tasks
        ]
    )
    return tasks


@transaction.atomic
def change_status(
    task: Task,
    new_status: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Move a task along the allowed progress transitions (not into or out of 已销号)."""
    locked = _lock(task, expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status == locked.status:
        _refresh_caller(task, locked)
        return task
    if new_status not in TRANSITIONS[locked.status]:
        raise ActionError(
            _("不允许从“%(old)s”变更为“%(new)s”")
            % {"old": _label(TaskStatus, locked.status), "new": _label(TaskStatus, new_status)}
        )
    _set_status(locked, new_status, actor, reason=reason)
    _refresh_caller(task, locked)
    return task


def _set_status(
    locked: Task, new_status: str, actor: Actor, *, reason: str, kind: str = EventKind.STATUS
) -> None:
    """Write a status change on a locked task. Callers have checked the rule."""
    old_status = locked.status
    locked.status = new_status
    locked.status_changed_at = timezone.now()
    locked.closed_at = timezone.now() if new_status == TaskStatus.CLOSED else None
    _save(locked, ["status", "status_changed_at", "closed_at"])
    record_event(
        locked,
        kind,
        actor,
        old=_label(TaskStatus, old_status),
        new=_label(TaskStatus, new_status),
        reason=reason,
    )


@transaction.atomic
def change_deadline(
    task: Task,
    new_deadline: datetime.date | None,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Set a new deadline; the first deadline a task had stays on record as the original."""
    locked = _lock(task, expected_version)
    if new_deadline == locked.deadline:
        _refresh_caller(task, locked)
        return task
    old = locked.deadline
    fields = ["deadline"]
    if locked.original_deadline is None and old is not None:
        locked.original_deadline = old
        fields.append("original_deadline")
    locked.deadline = new_deadline
    _save(locked, fields)
    record_event(
        locked,
        EventKind.DEADLINE,
        actor,
        old=old.isoformat() if old else "",
        new=new_deadline.isoformat() if new_deadline else "",
        reason=reason,
    )
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def change_owner(
    task: Task,
    unit: Unit,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Assign the task to another unit (责任主体)."""
    locked = _lock(task, expected_version)
    if unit.pk == locked.owner_unit_id:
        _refresh_caller(task, locked)
        return task
    old_unit = Unit.objects.get(pk=locked.owner_unit_id)
    locked.owner_unit = unit
    _save(locked, ["owner_unit"])
    record_event(locked, EventKind.OWNER, actor, old=old_unit.name, new=unit.name, reason=reason)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def change_type(
    task: Task,
    task_type: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """Change 立行立改 / 限期整改 / 长期坚持; a long-term task gets its first report date."""

    locked = _lock(task, expected_version)
    if task_type == locked.task_type:
        _refresh_caller(task, locked)
        return task
    old = locked.task_type
    locked.task_type = task_type
    fields = ["task_type"]
    if task_type == TaskType.LONG_TERM and locked.report_due_on is None:
        locked.report_due_on = timezone.localdate() + datetime.timedelta(
            days=settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        )
        fields.append("report_due_on")
    _save(locked, fields)
    record_event(
        locked,
        EventKind.TYPE,
        actor,
        old=_label(TaskType, old),
        new=_label(TaskType, task_type),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def admin_set_status(
    task: Task,
    new_status: str,
    actor: Actor,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> Task:
    """An administrator's correction: any status, recorded like every other change."""
    locked = _lock(task, expected_version)
    if new_status not in TaskStatus.values:
        raise ActionError(_("未知的整改状态:%s") % new_status)
    if new_status != locked.status:
        _set_status(locked, new_status, actor, reason=reason or _("管理员更正"))
    _refresh_caller(task, locked)
    return task


# --- Workspace workflow: progress, evidence, close-out (双审核), extensions, reopening ---------
#
# Who may do what is checked here, not in views: ``_require`` asks tracker.permissions and raises
# ``NotAllowed`` (the views answer 403: the user can see the task but may not change it). Actors
# without a user (an import, a sweep, a test's system actor) are trusted callers and skip it.
# A task that is 已销号 is read-only until a supervisor reopens it (回头看).


class NotAllowed(ActionError):
    """The actor may see the task but may not make this change."""


def _require(actor: Actor, task: Task, check: str) -> None:
    """``check`` names an Access predicate: can_edit, can_lead_review or can_supervise."""
    if actor.user is None:
        return
    from tracker.permissions import access_for

    if not getattr(access_for(actor.user), check)(task):
        raise NotAllowed(_("您没有权限进行此操作。"))


def _require_open(locked: Task) -> None:
    if locked.status == TaskStatus.CLOSED:
        raise ActionError(_("该任务已销号,不能再修改;如需继续整改,请整改办重新打开。"))


def _bump(locked: Task) -> None:
    """A change stored outside the task row (a note, a tick, a file, a request) still bumps the
    version, so a form loaded before it is refused as stale."""
    _save(locked, [])


def _note(locked: Task, text: str, actor: Actor) -> None:
    text = text.strip()
    if not text:
        raise ActionError(_("请填写进展情况。"))
    locked.progress = text
    _save(locked, ["progress"])
    record_event(locked, EventKind.NOTE, actor, new=text)


def _tick(locked: Task, measure: Measure, done: bool, actor: Actor) -> bool:
    if measure.task_id != locked.pk:
        raise ActionError(_("该措施不属于此任务。"))
    if measure.done == done:
        return False
    measure.done = done
    measure.done_at = timezone.now() if done else None
    measure.save(update_fields=["done", "done_at"])
    _bump(locked)
    record_event(
        locked,
        EventKind.MEASURE,
        actor,
        old=_("已完成") if not done else _("未完成"),
        new=_("已完成") if done else _("未完成"),
        reason=measure.text,
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


def _progress_status(locked: Task, new_status: str, actor: Actor, reason: str) -> None:
    if new_status == locked.status:
        return
    if new_status not in TRANSITIONS.get(locked.status, set()):
        raise ActionError(
            _("不允许从“%(old)s”变更为“%(new)s”")
            % {"old": _label(TaskStatus, locked.status), "new": _label(TaskStatus, new_status)}
        )
    _set_status(locked, new_status, actor, reason=reason)


@transaction.atomic
def record_note(task: Task, text: str, actor: Actor, *, expected_version: int | None = None):
    """Write a progress note (进展情况): it becomes the task's current progress text."""
    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
    _require_open(locked)
    _note(locked, text, actor)
    _refresh_caller(task, locked)
    return task


@transaction.atomic
def tick_measure(
    task: Task, measure: Measure, done: bool, actor: Actor, *, expected_version: int | None = None
):
    """Mark one measure done or not done."""
    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
    _require_open(locked)
    _tick(locked, Measure.objects.select_for_update().get(pk=measure.pk), done, actor)
    _refresh_caller(task, locked)
    return task


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
    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
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
    status: str | None = None,
    uploads: list | tuple = (),
) -> Task:
    """One progress report as a clerk submits it: measure ticks, evidence, a note and a status
    move, all or nothing, checked once against the version the form was loaded with. Each part
    writes its own event, exactly as the single-purpose functions above do."""
    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
    _require_open(locked)
    if done_measure_ids is not None:
        for measure in Measure.objects.select_for_update().filter(task=locked).order_by("order"):
            _tick(locked, measure, measure.pk in done_measure_ids, actor)
    for upload in uploads:
        _evidence(locked, upload, actor)
    if note.strip():
        _note(locked, note, actor)
    if status:
        _progress_status(locked, status, actor, reason="")
    _refresh_caller(task, locked)
    return task


def _pending_closeout(locked: Task):
    from tracker.models import CloseoutRequest

    return CloseoutRequest.objects.select_for_update().pending().filter(task=locked).first()


@transaction.atomic
def request_closeout(
    task: Task,
    actor: Actor,
    *,
    summary: str,
    no_evidence_reason: str = "",
    expected_version: int | None = None,
):
    """申请销号: a summary plus at least one evidence file or a written reason for having none.
    The task's evidence so far is attached to the request, so reviewers see what was submitted."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
    _require_open(locked)
    if _pending_closeout(locked) is not None:
        raise ActionError(_("该任务已有待审核的销号申请。"))
    summary, no_evidence_reason = summary.strip(), no_evidence_reason.strip()
    if not summary:
        raise ActionError(_("请填写整改情况总结。"))
    evidence_ids = list(locked.evidence.values_list("pk", flat=True))
    if not evidence_ids and not no_evidence_reason:
        raise ActionError(_("请上传至少一份佐证材料,或说明无佐证材料的原因。"))
    closeout = CloseoutRequest.objects.create(
        task=locked,
        summary=summary,
        no_evidence_reason=no_evidence_reason,
        requested_by=actor.user,
        status=CloseoutStatus.PENDING_LEAD,
    )
    closeout.evidence.set(evidence_ids)
    _bump(locked)
    record_event(
        locked,
        EventKind.CLOSEOUT_REQUESTED,
        actor,
        new=_label(CloseoutStatus, CloseoutStatus.PENDING_LEAD),
        reason=summary,
    )
    _refresh_caller(task, locked)
    return closeout


def _review(closeout, stage: str, decision: str, actor: Actor, comment: str) -> None:
    from tracker.models import CloseoutReview

    CloseoutReview.objects.create(
        request=closeout, stage=stage, decision=decision, comment=comment, reviewer=actor.user
    )


@transaction.atomic
def lead_review_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """First review (牵头单位审核): a lead of the lead unit (owner unit when none) approves."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _lock(task, expected_version)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_LEAD:
        raise ActionError(_("没有待牵头单位审核的销号申请。"))
    _require(actor, locked, "can_lead_review")
    _review(closeout, ReviewStage.LEAD, ReviewDecision.APPROVED, actor, comment.strip())
    closeout.status = CloseoutStatus.PENDING_SUPERVISOR
    closeout.save(update_fields=["status"])
    _bump(locked)
    record_event(
        locked,
        EventKind.CLOSEOUT_LEAD_APPROVED,
        actor,
        old=_label(CloseoutStatus, CloseoutStatus.PENDING_LEAD),
        new=_label(CloseoutStatus, CloseoutStatus.PENDING_SUPERVISOR),
        reason=comment.strip(),
    )
    _refresh_caller(task, locked)
    return closeout


@transaction.atomic
def approve_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """Second review (整改办审核): a supervisor approves and the task is struck off (已销号).

    双审核 means two people: the supervisor must not be the one who gave the first review.
    """
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _lock(task, expected_version)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_SUPERVISOR:
        raise ActionError(_("没有待整改办审核的销号申请。"))
    _require(actor, locked, "can_supervise")
    first = closeout.reviews.filter(stage=ReviewStage.LEAD).first()
    if actor.user is not None and first is not None and first.reviewer_id == actor.user.pk:
        raise NotAllowed(_("双审核须由两人完成:您已进行了牵头单位审核。"))
    _review(closeout, ReviewStage.SUPERVISOR, ReviewDecision.APPROVED, actor, comment.strip())
    closeout.status = CloseoutStatus.APPROVED
    closeout.decided_at = timezone.now()
    closeout.save(update_fields=["status", "decided_at"])
    _set_status(
        locked,
        TaskStatus.CLOSED,
        actor,
        reason=comment.strip(),
        kind=EventKind.CLOSEOUT_APPROVED,
    )
    _refresh_caller(task, locked)
    return closeout


@transaction.atomic
def return_closeout(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None):
    """Either reviewer sends the request back with a required reason; the task is 整改中 again."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _lock(task, expected_version)
    closeout = _pending_closeout(locked)
    if closeout is None:
        raise ActionError(_("没有待审核的销号申请。"))
    lead_stage = closeout.status == CloseoutStatus.PENDING_LEAD
    _require(actor, locked, "can_lead_review" if lead_stage else "can_supervise")
    reason = reason.strip()
    if not reason:
        raise ActionError(_("退回须填写理由。"))
    stage = ReviewStage.LEAD if lead_stage else ReviewStage.SUPERVISOR
    _review(closeout, stage, ReviewDecision.RETURNED, actor, reason)
    closeout.status = CloseoutStatus.RETURNED
    closeout.decided_at = timezone.now()
    closeout.save(update_fields=["status", "decided_at"])
    _set_status(
        locked, TaskStatus.IN_PROGRESS, actor, reason=reason, kind=EventKind.CLOSEOUT_RETURNED
    )
    _refresh_caller(task, locked)
    return closeout


def _pending_extension(locked: Task):
    from tracker.models import ExtensionRequest

    return ExtensionRequest.objects.select_for_update().pending().filter(task=locked).first()


@transaction.atomic
def request_extension(
    task: Task,
    actor: Actor,
    *,
    new_deadline: datetime.date,
    reason: str,
    expected_version: int | None = None,
):
    """申请延期: a later date and a reason, for a supervisor to approve or refuse."""
    from tracker.models import ExtensionRequest, local_today

    locked = _lock(task, expected_version)
    _require(actor, locked, "can_edit")
    _require_open(locked)
    if locked.is_done:
        raise ActionError(_("已完成的任务无需延期。"))
    if locked.task_type == TaskType.LONG_TERM:
        raise ActionError(_("长期坚持的任务没有整改时限,无需延期。"))
    if _pending_extension(locked) is not None:
        raise ActionError(_("该任务已有待审批的延期申请。"))
    reason = reason.strip()
    if not reason:
        raise ActionError(_("请填写延期理由。"))
    floor = max(filter(None, [locked.deadline, local_today()]))
    if new_deadline <= floor:
        raise ActionError(_("申请延至的日期须晚于 %s。") % floor.isoformat())
    extension = ExtensionRequest.objects.create(
        task=locked,
        current_deadline=locked.deadline,
        new_deadline=new_deadline,
        reason=reason,
        requested_by=actor.user,
    )
    _bump(locked)
    record_event(
        locked,
        EventKind.EXTENSION_REQUESTED,
        actor,
        old=locked.deadline.isoformat() if locked.deadline else "",
        new=new_deadline.isoformat(),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return extension


@transaction.atomic
def approve_extension(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """A supervisor approves the pending extension: the deadline moves, and the first deadline
    the task ever had stays on record as ``original_deadline`` (as in ``change_deadline``)."""
    from tracker.choices import ExtensionStatus

    locked = _lock(task, expected_version)
    extension = _pending_extension(locked)
    if extension is None:
        raise ActionError(_("没有待审批的延期申请。"))
    _require(actor, locked, "can_supervise")
    old = locked.deadline
    fields = ["deadline"]
    if locked.original_deadline is None and old is not None:
        locked.original_deadline = old
        fields.append("original_deadline")
    locked.deadline = extension.new_deadline
    _save(locked, fields)
    extension.status = ExtensionStatus.APPROVED
    extension.decided_by = actor.user
    extension.decided_at = timezone.now()
    extension.decision_comment = comment.strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    record_event(
        locked,
        EventKind.EXTENSION_APPROVED,
        actor,
        old=old.isoformat() if old else "",
        new=extension.new_deadline.isoformat(),
        reason=comment.strip() or extension.reason,
    )
    _refresh_caller(task, locked)
    return extension


@transaction.atomic
def refuse_extension(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None):
    """A supervisor refuses the pending extension, with a required reason; the deadline stays."""
    from tracker.choices import ExtensionStatus

    locked = _lock(task, expected_version)
    extension = _pending_extension(locked)
    if extension is None:
        raise ActionError(_("没有待审批的延期申请。"))
    _require(actor, locked, "can_supervise")
    reason = reason.strip()
    if not reason:
        raise ActionError(_("驳回须填写理由。"))
    extension.status = ExtensionStatus.REFUSED
    extension.decided_by = actor.user
    extension.decided_at = timezone.now()
    extension.decision_comment = reason
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    _bump(locked)
    record_event(
        locked,
        EventKind.EXTENSION_REFUSED,
        actor,
        old=locked.deadline.isoformat() if locked.deadline else "",
        new=extension.new_deadline.isoformat(),
        reason=reason,
    )
    _refresh_caller(task, locked)
    return extension


@transaction.atomic
def reopen(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None) -> Task:
    """回头看: a supervisor finds a closed task not really fixed and puts it back to 整改中."""
    locked = _lock(task, expected_version)
    _require(actor, locked, "can_supervise")
    if locked.status != TaskStatus.CLOSED:
        raise ActionError(_("只有已销号的任务才能重新打开。"))
    reason = reason.strip()
    if not reason:
        raise ActionError(_("重新打开须填写理由。"))
    _set_status(locked, TaskStatus.IN_PROGRESS, actor, reason=reason, kind=EventKind.REOPENED)
    _refresh_caller(task, locked)
    return task


def record_reminder(
    task_ids: list[int] | tuple[int, ...],
    *,
    recipient: str,
    tiers: dict[int, str],
    day: datetime.date,
) -> int:
    """Append one 'reminder' event per task for a digest email that was just sent.

    A reminder changes nothing on the task (no lock, no version bump); the event only puts the
    email on the task's timeline: which tier, to whom, from which day's sweep. Written in bulk
    because one digest can carry hundreds of tasks.
    """
    from tracker.models.reminders import ReminderTier

    actor = Actor(source=EventSource.SWEEP, ref=f"sweep:{day.isoformat()}")
    reason = _("提醒邮件已发送至 %s") % recipient
    events = [
        TaskEvent(
            task_id=task_id,
            kind=EventKind.REMINDER,
            new_value=_label(ReminderTier, tiers.get(task_id, "")),
            reason=reason,
            actor=None,
            source=actor.source,
            source_ref=actor.ref,
        )
        for task_id in task_ids
    ]
    TaskEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def record_reminders(digest_ids: list[int]) -> int:
    """Append one 'reminder' event per task for the day's reminder digests ``digest_ids`` that
    were just sent, unless the task already has one for that day.

    One event per task and day, not per recipient: a full-size sweep reminds 100,000 tasks
    through half a million (task, recipient) pairs, and the pairs are already in the reminder
    log. The event names the recipients of these digests, and how many people the task's
    reminder went to that day when that is more. Written by PostgreSQL in one INSERT … SELECT
    (the caller serialises concurrent calls, so "already has one" holds).
    """
    from django.db import connection

    from tracker.models.reminders import ReminderDigest, ReminderLog, ReminderTier

    if not digest_ids:
        return 0
    log_table = ReminderLog._meta.db_table
    digest_table = ReminderDigest._meta.db_table
    event_table = TaskEvent._meta.db_table
    labels = {tier.value: _label(ReminderTier, tier.value) for tier in ReminderTier}
    # Parameters carry explicit types: with server-side binding (settings) PostgreSQL must
    # deduce each $n once, and a value used as text in one place and varchar in another fails.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {event_table} (task_id, kind, old_value, new_value, reason, actor_id,
                                       source, source_ref, created_at)
            SELECT s.task_id, %(kind)s::varchar, '', COALESCE(%(labels)s::jsonb ->> s.tier, ''),
                   CASE WHEN s.total > cardinality(s.recipients)
                        THEN replace(replace(%(to_some)s::text, '%%(who)s',
                                             array_to_string(s.recipients, '、')),
                                     '%%(n)s', s.total::text)
                        ELSE replace(%(to_all)s::text, '%%s', array_to_string(s.recipients, '、'))
                   END,
                   NULL, %(source)s::varchar, s.ref, %(now)s::timestamptz
              FROM (
                SELECT l.task_id, l.tier, 'sweep:' || to_char(l.day, 'YYYY-MM-DD') AS ref,
                       array_agg(d.recipient ORDER BY d.recipient) AS recipients,
                       (SELECT count(*) FROM {log_table} a
                         WHERE a.task_id = l.task_id AND a.day = l.day) AS total
                  FROM {log_table} l JOIN {digest_table} d ON d.id = l.digest_id
                 WHERE d.id = ANY(%(ids)s)
                 GROUP BY l.task_id, l.tier, l.day
              ) s
             WHERE NOT EXISTS (
                   SELECT 1 FROM {event_table} e
                    WHERE e.task_id = s.task_id AND e.kind = %(kind)s::varchar AND e.source_ref = s.ref)
             ORDER BY s.task_id
            """,  # noqa: S608 — table names from the models, values as parameters
            {
                "ids": list(digest_ids),
                "kind": EventKind.REMINDER.value,
                "source": EventSource.SWEEP.value,
                "labels": json.dumps(labels, ensure_ascii=False),
                "to_some": _("提醒邮件已发送至 %(who)s 等%(n)s人"),
                "to_all": _("提醒邮件已发送至 %s"),
                "now": timezone.now(),
            },
        )
        return cursor.rowcount
