"""Close-out (申请销号) with its double review (双审核): what a request needs, separation of
duties, approval, return, and reopening a closed task (回头看)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    NotAllowed,
    _begin,
    _bump,
    _label,
    _refresh_caller,
    _require_open,
    _set_status,
    record_event,
)
from tracker.actions.extensions import _end_pending_extension
from tracker.choices import EventKind, TaskStatus
from tracker.models import Task


def _pending_closeout(locked: Task):
    from tracker.models import CloseoutRequest

    return CloseoutRequest.objects.select_for_update().pending().filter(task=locked).first()


def closeout_blockers(task: Task, basic_reason: str = "", measures=None) -> list[str]:
    """Why ``task`` cannot be put forward for close-out now (empty: it can).

    Status 已完成, or 基本完成 with a stated reason (RECTIFY["CLOSEOUT_ALLOW_BASIC"]), and every
    measure done or not applicable with a reason (RECTIFY["CLOSEOUT_REQUIRE_MEASURES"])."""
    rules = settings.RECTIFY
    problems = []
    if task.status == TaskStatus.BASICALLY_COMPLETED:
        if not rules.get("CLOSEOUT_ALLOW_BASIC", True):
            problems.append(_("只有“已完成”的任务才能申请销号。"))
        elif not basic_reason.strip():
            problems.append(_("任务为“基本完成”,申请销号须说明理由。"))
    elif task.status != TaskStatus.COMPLETED:
        problems.append(
            _("任务状态为“%s”,须为“已完成”(或说明理由的“基本完成”)才能申请销号。")
            % _label(TaskStatus, task.status)
        )
    if rules.get("CLOSEOUT_REQUIRE_MEASURES", True):
        measures = task.measures.all() if measures is None else measures
        open_measures = [m for m in measures if not m.settled]
        if open_measures:
            problems.append(
                _("还有 %(n)d 项措施未完成或未说明不适用理由:%(first)s")
                % {"n": len(open_measures), "first": open_measures[0].text[:40]}
            )
    return problems


@transaction.atomic
def request_closeout(
    task: Task,
    actor: Actor,
    *,
    summary: str,
    no_evidence_reason: str = "",
    basic_reason: str = "",
    expected_version: int | None = None,
):
    """申请销号: a summary plus at least one evidence file or a written reason for having none,
    on a task that is done (``closeout_blockers``). The task's evidence so far is attached to
    the request, so reviewers see what was submitted."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _begin(task, actor, "request_closeout", expected_version)
    _require_open(locked)
    if _pending_closeout(locked) is not None:
        raise ActionError(_("该任务已有待审核的销号申请。"))
    summary, no_evidence_reason = summary.strip(), no_evidence_reason.strip()
    basic_reason = basic_reason.strip()
    if not summary:
        raise ActionError(_("请填写整改情况总结。"))
    blockers = closeout_blockers(locked, basic_reason)
    if blockers:
        raise ActionError(" ".join(blockers))
    evidence_ids = list(locked.evidence.values_list("pk", flat=True))
    if not evidence_ids and not no_evidence_reason:
        raise ActionError(_("请上传至少一份佐证材料,或说明无佐证材料的原因。"))
    if locked.status == TaskStatus.BASICALLY_COMPLETED:
        summary = f"{summary}\n{_('基本完成的理由:')}{basic_reason}"
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
        new=CloseoutStatus.PENDING_LEAD,
        reason=summary,
    )
    _refresh_caller(task, locked)
    return closeout


def _review(closeout, stage: str, decision: str, actor: Actor, comment: str) -> None:
    from tracker.models import CloseoutReview

    CloseoutReview.objects.create(
        request=closeout, stage=stage, decision=decision, comment=comment, reviewer=actor.user
    )


def _separate_duties(closeout, actor: Actor) -> None:
    """Nobody reviews a request they made, and the two stages are two different people."""
    from tracker.choices import ReviewStage

    if actor.user is None:
        return
    if closeout.requested_by_id == actor.user.pk:
        raise NotAllowed(_("不能审核本人提交的申请。"))
    first = closeout.reviews.filter(stage=ReviewStage.LEAD).first()
    if first is not None and first.reviewer_id == actor.user.pk:
        raise NotAllowed(_("双审核须由两人完成:您已进行了牵头单位审核。"))


def _still_ready(locked: Task, closeout) -> None:
    """A close-out is approved only while the task still qualifies (status, measures)."""
    basic = _("基本完成的理由:")
    reason = closeout.summary.split(basic, 1)[1] if basic in closeout.summary else ""
    blockers = closeout_blockers(locked, reason)
    if blockers:
        raise ActionError(_("任务已不符合销号条件:") + " ".join(blockers))


@transaction.atomic
def lead_review_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """First review (牵头单位审核): a lead of the lead unit (owner unit when none) approves."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _begin(task, actor, "lead_review_closeout", expected_version)
    _require_open(locked)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_LEAD:
        raise ActionError(_("没有待牵头单位审核的销号申请。"))
    _separate_duties(closeout, actor)
    _still_ready(locked, closeout)
    _review(closeout, ReviewStage.LEAD, ReviewDecision.APPROVED, actor, comment.strip())
    closeout.status = CloseoutStatus.PENDING_SUPERVISOR
    closeout.save(update_fields=["status"])
    _bump(locked)
    record_event(
        locked,
        EventKind.CLOSEOUT_LEAD_APPROVED,
        actor,
        old=CloseoutStatus.PENDING_LEAD,
        new=CloseoutStatus.PENDING_SUPERVISOR,
        reason=comment.strip(),
    )
    _refresh_caller(task, locked)
    return closeout


@transaction.atomic
def approve_closeout(
    task: Task, actor: Actor, *, comment: str = "", expected_version: int | None = None
):
    """Second review (整改办审核): a supervisor approves and the task is struck off (已销号).

    双审核 means two people: the supervisor is neither the requester nor the first reviewer. A
    pending extension request ends with the close-out (recorded), undecided.
    """
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = _begin(task, actor, "approve_closeout", expected_version)
    _require_open(locked)
    closeout = _pending_closeout(locked)
    if closeout is None or closeout.status != CloseoutStatus.PENDING_SUPERVISOR:
        raise ActionError(_("没有待整改办审核的销号申请。"))
    _separate_duties(closeout, actor)
    _still_ready(locked, closeout)
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
    _end_pending_extension(locked, actor)
    _refresh_caller(task, locked)
    return closeout


@transaction.atomic
def return_closeout(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None):
    """Either reviewer sends the request back with a required reason; the task is 整改中 again."""
    from tracker.choices import CloseoutStatus, ReviewDecision, ReviewStage

    locked = Task.objects.select_for_update().get(pk=task.pk)
    closeout = _pending_closeout(locked)
    lead_stage = closeout is not None and closeout.status == CloseoutStatus.PENDING_LEAD
    locked = _begin(
        task,
        actor,
        "lead_review_closeout" if lead_stage else "approve_closeout",
        expected_version,
    )
    _require_open(locked)  # no decision changes a closed task
    if closeout is None:
        raise ActionError(_("没有待审核的销号申请。"))
    _separate_duties(closeout, actor)
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


@transaction.atomic
def reopen(task: Task, actor: Actor, *, reason: str, expected_version: int | None = None) -> Task:
    """回头看: a supervisor finds a closed task not really fixed and puts it back to 整改中. The
    close-out that closed it is marked reopened, so no panel shows the task as 已销号."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    locked = _begin(task, actor, "reopen", expected_version)
    if locked.status != TaskStatus.CLOSED:
        raise ActionError(_("只有已销号的任务才能重新打开。"))
    reason = reason.strip()
    if not reason:
        raise ActionError(_("重新打开须填写理由。"))
    CloseoutRequest.objects.filter(task=locked, status=CloseoutStatus.APPROVED).update(
        status=CloseoutStatus.REOPENED
    )
    _set_status(locked, TaskStatus.IN_PROGRESS, actor, reason=reason, kind=EventKind.REOPENED)
    _refresh_caller(task, locked)
    return task
