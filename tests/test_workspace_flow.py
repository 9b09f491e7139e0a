"""The workspace's change functions as stories: progress, close-out with double review,
extensions, reopening, and who may do each. Rules live in tracker.actions; these tests call it
directly, and the views' tests (test_workspace_views.py) check the pages call it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.test_workspace_evidence import PNG_BYTES
from tracker import actions
from tracker.choices import CloseoutStatus, EventKind, ExtensionStatus, TaskStatus
from tracker.models import CloseoutRequest, Evidence, ExtensionRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def act(user):
    return actions.Actor.of(user)


def png(name: str = "现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def kinds(task) -> list[str]:
    return list(task.events.values_list("kind", flat=True))


# --- progress ---------------------------------------------------------------------------------


def test_alice_reports_progress_in_one_go_and_each_part_is_in_the_timeline(finance_task, alice):
    first, second = finance_task.measures.order_by("order")
    actions.update_progress(
        finance_task,
        act(alice),
        expected_version=finance_task.version,
        note="已建立专项台账",
        done_measure_ids={first.pk},
        status=TaskStatus.BASICALLY_COMPLETED,
        uploads=[png()],
    )
    finance_task.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.done, second.done) == (True, False)
    assert finance_task.progress == "已建立专项台账"
    assert finance_task.status == TaskStatus.BASICALLY_COMPLETED
    assert finance_task.evidence.get().original_name == "现场照片.png"
    assert kinds(finance_task) == [
        EventKind.CREATED,
        EventKind.MEASURE,
        EventKind.EVIDENCE,
        EventKind.NOTE,
        EventKind.STATUS,
    ]
    assert set(
        finance_task.events.exclude(kind=EventKind.CREATED).values_list("actor", flat=True)
    ) == {alice.pk}


def test_a_refused_transition_in_a_progress_report_saves_none_of_it(finance_task, alice):
    with pytest.raises(actions.ActionError):
        actions.update_progress(
            finance_task,
            act(alice),
            expected_version=finance_task.version,
            note="想直接销号",
            status=TaskStatus.CLOSED,
        )
    finance_task.refresh_from_db()
    assert finance_task.progress == ""
    assert kinds(finance_task) == [EventKind.CREATED]


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, True),
        (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, True),
        (TaskStatus.COMPLETED, TaskStatus.IN_PROGRESS, True),
        (TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED, False),
        (TaskStatus.IN_PROGRESS, TaskStatus.CLOSED, False),
    ],
)
def test_progress_status_moves_follow_the_transition_table(
    inspection, finance, alice, start, target, allowed
):
    from tests import factories

    task = factories.make_task(inspection, owner=finance, status=start)
    if allowed:
        actions.update_progress(task, act(alice), expected_version=task.version, status=target)
        task.refresh_from_db()
        assert task.status == target
    else:
        with pytest.raises(actions.ActionError):
            actions.update_progress(task, act(alice), expected_version=task.version, status=target)
        task.refresh_from_db()
        assert task.status == start


def test_dave_the_observer_may_not_write_even_a_note(finance_task, dave):
    with pytest.raises(actions.NotAllowed):
        actions.record_note(finance_task, "观察意见", act(dave))
    assert kinds(finance_task) == [EventKind.CREATED]


def test_measures_can_be_ticked_and_unticked_one_by_one(finance_task, alice):
    measure = finance_task.measures.first()
    actions.tick_measure(finance_task, measure, True, act(alice))
    actions.tick_measure(finance_task, measure, False, act(alice))
    measure.refresh_from_db()
    assert measure.done is False and measure.done_at is None
    events = finance_task.events.filter(kind=EventKind.MEASURE)
    assert [(e.old_value, e.new_value) for e in events] == [("open", "done"), ("done", "open")]


# --- concurrency --------------------------------------------------------------------------------


def test_bobs_save_on_a_stale_version_is_refused_and_overwrites_nothing(finance_task, alice, bob):
    seen_by_bob = finance_task.version
    with time_machine.travel(datetime.datetime(2026, 10, 8, 9, 30, tzinfo=datetime.UTC)):
        actions.record_note(finance_task, "alice 的进展", act(alice), expected_version=seen_by_bob)
    with pytest.raises(actions.StaleTask) as refused:
        actions.record_note(finance_task, "bob 的进展", act(bob), expected_version=seen_by_bob)
    assert str(refused.value) == "该任务已被 alice 于 2026-10-08 17:30 修改,请刷新后重试。"
    finance_task.refresh_from_db()
    assert finance_task.progress == "alice 的进展"
    assert finance_task.events.filter(kind=EventKind.NOTE).count() == 1


# --- close-out: request, double review, return ----------------------------------------------------


def test_a_closeout_needs_evidence_or_a_written_reason(finance_task, alice):
    factories.ready_for_closeout(finance_task)
    with pytest.raises(actions.ActionError, match="佐证材料"):
        actions.request_closeout(finance_task, act(alice), summary="已整改到位")
    closeout = actions.request_closeout(
        finance_task, act(alice), summary="已整改到位", no_evidence_reason="涉密材料,线下报送"
    )
    assert closeout.status == CloseoutStatus.PENDING_LEAD


def test_a_closeout_needs_a_summary(finance_task, alice):
    factories.ready_for_closeout(finance_task)
    actions.add_evidence(finance_task, png(), act(alice))
    with pytest.raises(actions.ActionError, match="总结"):
        actions.request_closeout(finance_task, act(alice), summary="  ")
    assert not CloseoutRequest.objects.exists()


def test_closeout_is_reviewed_by_the_lead_then_the_supervisor_and_both_reviews_are_kept(
    finance_task, alice, bob, carol
):
    factories.ready_for_closeout(finance_task)
    actions.add_evidence(finance_task, png(), act(alice))
    closeout = actions.request_closeout(finance_task, act(alice), summary="已建立长效机制")
    assert list(closeout.evidence.all()) == list(Evidence.objects.filter(task=finance_task))

    # carol cannot skip bob's review
    with pytest.raises(actions.ActionError):
        actions.approve_closeout(finance_task, act(carol))
    actions.lead_review_closeout(finance_task, act(bob), comment="同意")
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.COMPLETED  # not struck off on one review

    actions.approve_closeout(finance_task, act(carol), comment="同意销号")
    finance_task.refresh_from_db()
    closeout.refresh_from_db()
    assert finance_task.status == TaskStatus.CLOSED
    assert finance_task.closed_at is not None
    assert closeout.status == CloseoutStatus.APPROVED
    assert [(r.stage, r.decision, r.reviewer) for r in closeout.reviews.all()] == [
        ("lead", "approved", bob),
        ("supervisor", "approved", carol),
    ]
    assert kinds(finance_task)[-3:] == [
        EventKind.CLOSEOUT_REQUESTED,
        EventKind.CLOSEOUT_LEAD_APPROVED,
        EventKind.CLOSEOUT_APPROVED,
    ]
    approved = finance_task.events.latest("id")
    assert (approved.old_value, approved.new_value, approved.actor) == (
        TaskStatus.COMPLETED,
        TaskStatus.CLOSED,
        carol,
    )


def test_alice_the_clerk_may_not_review_her_own_units_closeout(finance_task, alice):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    with pytest.raises(actions.NotAllowed):
        actions.lead_review_closeout(finance_task, act(alice))
    with pytest.raises(actions.NotAllowed):
        actions.return_closeout(finance_task, act(alice), reason="自己退回")


def test_bob_the_lead_may_not_give_the_supervisors_approval(finance_task, alice, bob):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    actions.lead_review_closeout(finance_task, act(bob))
    with pytest.raises(actions.NotAllowed):
        actions.approve_closeout(finance_task, act(bob))


def test_the_double_review_takes_two_people(finance_task, alice, carol):
    """carol may give the lead review (supervisors may), but then not also the second one."""
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    actions.lead_review_closeout(finance_task, act(carol))
    with pytest.raises(actions.NotAllowed, match="两人"):
        actions.approve_closeout(finance_task, act(carol))
    finance_task.refresh_from_db()
    assert finance_task.status != TaskStatus.CLOSED


@pytest.mark.parametrize("returned_at", ["lead", "supervisor"])
def test_either_reviewer_returns_with_a_required_reason_back_to_in_progress(
    finance_task, alice, bob, carol, returned_at
):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    reviewer = bob
    if returned_at == "supervisor":
        actions.lead_review_closeout(finance_task, act(bob))
        reviewer = carol
    with pytest.raises(actions.ActionError, match="理由"):
        actions.return_closeout(finance_task, act(reviewer), reason=" ")
    closeout = actions.return_closeout(finance_task, act(reviewer), reason="佐证材料不足")
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.IN_PROGRESS
    assert closeout.status == CloseoutStatus.RETURNED
    assert closeout.reviews.get(decision="returned").reviewer == reviewer
    event = finance_task.events.latest("id")
    assert (event.kind, event.reason, event.new_value) == (
        EventKind.CLOSEOUT_RETURNED,
        "佐证材料不足",
        TaskStatus.IN_PROGRESS,
    )
    # and the unit may ask again, once the task is done again
    actions.change_status(finance_task, TaskStatus.COMPLETED, act(alice))
    actions.request_closeout(finance_task, act(alice), summary="补充后", no_evidence_reason="无")


def test_only_one_closeout_is_under_review_at_a_time(finance_task, alice):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    with pytest.raises(actions.ActionError, match="待审核"):
        actions.request_closeout(finance_task, act(alice), summary="再来", no_evidence_reason="无")


def test_a_closed_task_is_read_only_until_reopened(finance_task, alice, bob, carol):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    actions.lead_review_closeout(finance_task, act(bob))
    actions.approve_closeout(finance_task, act(carol))
    with pytest.raises(actions.ActionError, match="已销号"):
        actions.record_note(finance_task, "还想补充", act(alice))
    with pytest.raises(actions.ActionError, match="已销号"):
        actions.add_evidence(finance_task, png(), act(alice))


# --- reopening (回头看) ----------------------------------------------------------------------------


def test_carol_reopens_a_closed_task_with_a_reason(finance_task, alice, bob, carol):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, act(alice), summary="完成", no_evidence_reason="无")
    actions.lead_review_closeout(finance_task, act(bob))
    actions.approve_closeout(finance_task, act(carol))
    with pytest.raises(actions.NotAllowed):
        actions.reopen(finance_task, act(bob), reason="我觉得没改好")
    with pytest.raises(actions.ActionError, match="理由"):
        actions.reopen(finance_task, act(carol), reason="")
    actions.reopen(finance_task, act(carol), reason="回头看发现问题反弹")
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.IN_PROGRESS
    assert finance_task.closed_at is None
    event = finance_task.events.latest("id")
    assert (event.kind, event.old_value, event.new_value, event.reason) == (
        EventKind.REOPENED,
        TaskStatus.CLOSED,
        TaskStatus.IN_PROGRESS,
        "回头看发现问题反弹",
    )


def test_only_a_closed_task_can_be_reopened(finance_task, carol):
    with pytest.raises(actions.ActionError, match="已销号"):
        actions.reopen(finance_task, act(carol), reason="回头看")


# --- extensions ---------------------------------------------------------------------------------


@time_machine.travel(datetime.date(2026, 10, 20))
def test_an_approved_extension_moves_the_deadline_and_keeps_the_original(
    finance_task, alice, carol
):
    original = finance_task.deadline  # 2026-11-01
    new = original + datetime.timedelta(days=30)
    actions.request_extension(finance_task, act(alice), new_deadline=new, reason="需跨年度完成")
    finance_task.refresh_from_db()
    assert finance_task.deadline == original  # nothing moves before approval
    actions.approve_extension(finance_task, act(carol), comment="同意")
    finance_task.refresh_from_db()
    assert (finance_task.deadline, finance_task.original_deadline) == (new, original)
    assert ExtensionRequest.objects.get().status == ExtensionStatus.APPROVED
    event = finance_task.events.latest("id")
    assert (event.kind, event.old_value, event.new_value) == (
        EventKind.EXTENSION_APPROVED,
        original.isoformat(),
        new.isoformat(),
    )

    # a second extension still remembers the first deadline
    later = new + datetime.timedelta(days=30)
    actions.request_extension(finance_task, act(alice), new_deadline=later, reason="再延期")
    actions.approve_extension(finance_task, act(carol))
    finance_task.refresh_from_db()
    assert (finance_task.deadline, finance_task.original_deadline) == (later, original)


@time_machine.travel(datetime.date(2026, 10, 20))
def test_a_refused_extension_needs_a_reason_and_leaves_the_deadline(finance_task, alice, carol):
    original = finance_task.deadline
    actions.request_extension(
        finance_task, act(alice), new_deadline=original + datetime.timedelta(days=10), reason="忙"
    )
    with pytest.raises(actions.ActionError, match="理由"):
        actions.refuse_extension(finance_task, act(carol), reason="")
    actions.refuse_extension(finance_task, act(carol), reason="理由不充分")
    finance_task.refresh_from_db()
    assert finance_task.deadline == original and finance_task.original_deadline is None
    assert ExtensionRequest.objects.get().status == ExtensionStatus.REFUSED
    assert finance_task.events.latest("id").kind == EventKind.EXTENSION_REFUSED


@time_machine.travel(datetime.date(2026, 10, 20))
def test_extension_rules(finance_task, alice, bob, dave):
    original = finance_task.deadline
    with pytest.raises(actions.ActionError, match="晚于"):
        actions.request_extension(finance_task, act(alice), new_deadline=original, reason="x")
    with pytest.raises(actions.ActionError, match="理由"):
        actions.request_extension(
            finance_task, act(alice), new_deadline=original + datetime.timedelta(1), reason=""
        )
    with pytest.raises(actions.NotAllowed):
        actions.request_extension(
            finance_task, act(dave), new_deadline=original + datetime.timedelta(1), reason="x"
        )
    actions.request_extension(
        finance_task, act(alice), new_deadline=original + datetime.timedelta(1), reason="x"
    )
    with pytest.raises(actions.NotAllowed):  # a unit lead does not approve extensions
        actions.approve_extension(finance_task, act(bob))
    with pytest.raises(actions.ActionError, match="待审批"):
        actions.request_extension(
            finance_task, act(alice), new_deadline=original + datetime.timedelta(2), reason="y"
        )
