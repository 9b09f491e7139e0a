"""Workflow rules an office expects, as stories: what a close-out request needs, what closing
does to a pending extension, who may review whose request, and what can never be deleted.

alice is a clerk of 财政局, bob its lead, carol the supervisor, dave the observer."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.urls import reverse

from tests import factories
from tracker import actions
from tracker.choices import (
    CloseoutStatus,
    EventKind,
    ExtensionStatus,
    TaskStatus,
)
from tracker.models import ExtensionRequest, Inspection, Problem, Unit, local_today

pytestmark = pytest.mark.django_db


def act(user):
    return actions.Actor.of(user)


def request(task, user, **extra):
    extra.setdefault("no_evidence_reason", "线下报送")
    return actions.request_closeout(task, act(user), summary="已整改", **extra)


# --- what a close-out request needs -----------------------------------------------------------


def test_a_task_still_in_progress_cannot_be_put_forward(finance_task, alice):
    # Given alice ticked every measure but the task is still 整改中
    for measure in finance_task.measures.all():
        actions.tick_measure(finance_task, measure, True, act(alice))
    # When she asks for close-out, then it is refused, naming the status, and nothing is written
    with pytest.raises(actions.ActionError, match="整改中"):
        request(finance_task, alice)
    assert not finance_task.closeout_requests.exists()
    assert not finance_task.events.filter(kind=EventKind.CLOSEOUT_REQUESTED).exists()


def test_every_measure_must_be_ticked_or_marked_not_applicable_with_a_reason(finance_task, alice):
    first, second = finance_task.measures.order_by("order")
    actions.tick_measure(finance_task, first, True, act(alice))
    actions.change_status(finance_task, TaskStatus.COMPLETED, act(alice))
    with pytest.raises(actions.ActionError, match="二是完善制度"):
        request(finance_task, alice)
    # a not-applicable mark needs its reason
    with pytest.raises(actions.ActionError, match="理由"):
        actions.mark_measure_not_applicable(finance_task, second, "  ", act(alice))
    actions.mark_measure_not_applicable(finance_task, second, "制度已由上级统一制定", act(alice))
    closeout = request(finance_task, alice)
    assert closeout.status == CloseoutStatus.PENDING_LEAD
    marked = finance_task.events.filter(kind=EventKind.MEASURE).latest("id")
    assert (marked.old_value, marked.new_value) == ("open", "not_applicable")


def test_a_basically_completed_task_needs_a_stated_reason(finance_task, alice, settings):
    for measure in finance_task.measures.all():
        actions.tick_measure(finance_task, measure, True, act(alice))
    actions.change_status(finance_task, TaskStatus.BASICALLY_COMPLETED, act(alice))
    with pytest.raises(actions.ActionError, match="基本完成"):
        request(finance_task, alice)
    closeout = request(finance_task, alice, basic_reason="剩余工作为长期坚持事项")
    assert "剩余工作为长期坚持事项" in closeout.summary


def test_an_office_may_require_completed_only(finance_task, alice, settings):
    settings.RECTIFY = {**settings.RECTIFY, "CLOSEOUT_ALLOW_BASIC": False}
    for measure in finance_task.measures.all():
        actions.tick_measure(finance_task, measure, True, act(alice))
    actions.change_status(finance_task, TaskStatus.BASICALLY_COMPLETED, act(alice))
    with pytest.raises(actions.ActionError, match="已完成"):
        request(finance_task, alice, basic_reason="理由")


def test_a_task_moved_back_while_under_review_cannot_be_approved(finance_task, alice, bob):
    factories.ready_for_closeout(finance_task)
    request(finance_task, alice)
    actions.change_status(finance_task, TaskStatus.IN_PROGRESS, act(alice))
    with pytest.raises(actions.ActionError, match="不符合销号条件"):
        actions.lead_review_closeout(finance_task, act(bob))


def test_the_progress_form_marks_a_measure_not_applicable(client, alice, finance_task):
    first, second = finance_task.measures.order_by("order")
    client.force_login(alice)
    response = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {
            "version": finance_task.version,
            "measures": [first.pk],
            f"na_{second.pk}": "上级已统一出台",
            "status": TaskStatus.COMPLETED,
        },
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.not_applicable, second.na_reason) == (True, "上级已统一出台")
    page = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert "上级已统一出台" in page
    assert 'id="closeout"' in page and "blockers" not in page  # nothing stands in the way


# --- closing and pending extensions ----------------------------------------------------------


def test_closing_a_task_ends_its_pending_extension_and_no_decision_moves_it_after(
    finance_task, alice, bob, carol
):
    # Given alice asked for an extension, then finished the work and asked for close-out
    deadline = finance_task.deadline
    actions.request_extension(
        finance_task,
        act(alice),
        new_deadline=local_today() + datetime.timedelta(days=60),
        reason="跨年度项目",
    )
    factories.ready_for_closeout(finance_task)
    request(finance_task, alice)
    actions.lead_review_closeout(finance_task, act(bob))
    # When carol approves the close-out
    actions.approve_closeout(finance_task, act(carol))
    # Then the extension request has ended, recorded on the timeline
    extension = ExtensionRequest.objects.get(task=finance_task)
    assert extension.status == ExtensionStatus.CANCELLED
    assert finance_task.events.filter(kind=EventKind.EXTENSION_CANCELLED).count() == 1
    # and no later decision changes the closed task's deadline
    with pytest.raises(actions.ActionError):
        actions.approve_extension(finance_task, act(carol))
    finance_task.refresh_from_db()
    assert finance_task.deadline == deadline


def test_a_reopened_task_shows_its_reopening_not_closed(client, finance_task, alice, bob, carol):
    factories.ready_for_closeout(finance_task)
    closeout = request(finance_task, alice)
    actions.lead_review_closeout(finance_task, act(bob))
    actions.approve_closeout(finance_task, act(carol))
    actions.reopen(finance_task, act(carol), reason="回头看发现反弹")
    closeout.refresh_from_db()
    assert closeout.status == CloseoutStatus.REOPENED
    client.force_login(alice)
    page = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert "已销号后重新打开" in page
    assert ">已销号<" not in page


def test_an_administrators_correction_to_closed_waits_for_a_pending_close_out(
    finance_task, alice, bob, admin_user
):
    """A correction to 已销号 while a close-out is under review would leave a decision pending
    on a closed task (a later 退回 would put it back to 整改中): it is refused instead, and no
    close-out decision changes a closed task."""
    factories.ready_for_closeout(finance_task)
    closeout = request(finance_task, alice)
    finance_task.refresh_from_db()
    before = (finance_task.status, finance_task.version, finance_task.events.count())
    with pytest.raises(actions.ActionError, match="待审核的销号申请"):
        actions.admin_set_status(finance_task, TaskStatus.CLOSED, act(admin_user), reason="更正")
    finance_task.refresh_from_db()
    assert (finance_task.status, finance_task.version, finance_task.events.count()) == before
    # Once the request is decided (returned here), the correction goes through.
    actions.return_closeout(finance_task, act(bob), reason="材料不足")
    actions.admin_set_status(finance_task, TaskStatus.CLOSED, act(admin_user), reason="更正")
    closeout.refresh_from_db()
    assert closeout.status == CloseoutStatus.RETURNED


@pytest.mark.parametrize("decision", ["lead_review", "approve", "return"])
def test_no_close_out_decision_changes_a_closed_task(finance_task, alice, bob, carol, decision):
    from tracker.models import Task

    factories.ready_for_closeout(finance_task)
    request(finance_task, alice)
    if decision == "approve":
        actions.lead_review_closeout(finance_task, act(bob))
    # A task closed while its request stayed pending (data written before this rule, or a
    # maintenance script): the request is still there, the task is 已销号.
    Task.objects.filter(pk=finance_task.pk).update(status=TaskStatus.CLOSED)
    finance_task.refresh_from_db()
    before = (finance_task.status, finance_task.version, finance_task.events.count())
    call = {
        "lead_review": lambda: actions.lead_review_closeout(finance_task, act(bob)),
        "approve": lambda: actions.approve_closeout(finance_task, act(carol)),
        "return": lambda: actions.return_closeout(finance_task, act(carol), reason="退回"),
    }[decision]
    with pytest.raises(actions.ActionError, match="已销号"):
        call()
    finance_task.refresh_from_db()
    assert (finance_task.status, finance_task.version, finance_task.events.count()) == before


def test_an_administrators_correction_out_of_closed_shows_no_closed_close_out(
    client, finance_task, alice, bob, carol, admin_user
):
    factories.ready_for_closeout(finance_task)
    closeout = request(finance_task, alice)
    actions.lead_review_closeout(finance_task, act(bob))
    actions.approve_closeout(finance_task, act(carol))
    actions.admin_set_status(
        finance_task, TaskStatus.IN_PROGRESS, act(admin_user), reason="核实后发现未整改到位"
    )
    closeout.refresh_from_db()
    assert closeout.status == CloseoutStatus.REOPENED
    client.force_login(alice)
    page = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert "已销号后重新打开" in page
    assert ">已销号<" not in page


# --- separation of duties ------------------------------------------------------------------------


def test_a_lead_may_not_review_a_request_they_made(finance_task, bob, carol):
    factories.ready_for_closeout(finance_task)
    request(finance_task, bob)
    with pytest.raises(actions.NotAllowed, match="本人"):
        actions.lead_review_closeout(finance_task, act(bob))
    with pytest.raises(actions.NotAllowed, match="本人"):
        actions.return_closeout(finance_task, act(bob), reason="撤回")
    # carol may give the first review instead; then someone else must give the second
    actions.lead_review_closeout(finance_task, act(carol))
    with pytest.raises(actions.NotAllowed, match="两人"):
        actions.approve_closeout(finance_task, act(carol))


def test_the_review_queue_does_not_offer_your_own_request(client, finance_task, bob):
    factories.ready_for_closeout(finance_task)
    request(finance_task, bob)
    client.force_login(bob)
    response = client.get(reverse("tracker:review_queue"))
    assert list(response.context["closeouts"]) == []
    page = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert 'id="review"' not in page


def test_a_supervisor_may_not_decide_their_own_extension_request(finance_task, carol):
    actions.request_extension(
        finance_task,
        act(carol),
        new_deadline=local_today() + datetime.timedelta(days=60),
        reason="统筹安排",
    )
    with pytest.raises(actions.NotAllowed, match="本人"):
        actions.approve_extension(finance_task, act(carol))


# --- nothing that history refers to is deleted ------------------------------------------------


def test_units_inspections_and_problems_with_tasks_cannot_be_deleted(finance_task, finance):
    for obj in (finance, finance_task.inspection, finance_task.problem):
        with pytest.raises(ProtectedError):
            obj.delete()
    assert Unit.objects.filter(pk=finance.pk).exists()
    assert Inspection.objects.filter(pk=finance_task.inspection_id).exists()
    assert Problem.objects.filter(pk=finance_task.problem_id).exists()


def test_a_retired_unit_keeps_its_tasks_but_gets_no_new_ones(finance_task, planning, carol):
    planning.retired = True
    planning.save()
    with pytest.raises(actions.ActionError, match="已撤并"):
        actions.change_owner(finance_task, planning, act(carol))
    with pytest.raises(actions.ActionError, match="已撤并"):
        actions.change_responsible_units(finance_task, [planning], act(carol))


def test_a_unit_of_another_organization_cannot_take_the_task(finance_task, carol):
    elsewhere = factories.make_unit(factories.make_org("中共别处委员会"), "别处财政局")
    with pytest.raises(actions.ActionError, match="不属于"):
        actions.change_owner(finance_task, elsewhere, act(carol))


def test_an_inactive_user_changes_nothing(finance_task, alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(actions.NotAllowed):
        actions.record_note(finance_task, "离职后还想写", act(alice))


def test_a_staff_user_without_a_role_is_refused_by_the_actions(finance_task):
    staff = get_user_model().objects.create_user("staffer", password="x", is_staff=True)
    with pytest.raises(actions.NotAllowed):
        actions.change_deadline(finance_task, local_today(), act(staff))


def test_a_notice_that_reports_on_an_inspection_cannot_be_deleted(db):
    from pathlib import Path

    from tracker.importer.loader import import_file
    from tracker.models import SourceNotice

    seed = Path(__file__).resolve().parent.parent / "seeds" / "002_e510119d14028505.txt"
    notice = SourceNotice.objects.get(pk=import_file(seed).notice_id)
    with pytest.raises(ProtectedError):
        notice.delete()
    assert SourceNotice.objects.filter(pk=notice.pk).exists()


@pytest.mark.parametrize("who", ["carol", "dave", "alice", "admin"])
def test_supervised_inspections_are_those_whose_tasks_one_supervises(
    who, carol, dave, alice, admin_user, inspection, finance
):
    """Plans, notices and reports follow the supervisor rule, also before an inspection has
    tasks: the inspection queryset agrees with can_supervise on every inspection."""
    from tracker.models import Task
    from tracker.permissions import access_for

    other = factories.make_inspection(factories.make_org("中共别处委员会"))
    empty = factories.make_inspection(inspection.organization, round_name="十五届省委第三轮")
    user = {"carol": carol, "dave": dave, "alice": alice, "admin": admin_user}[who]
    access = access_for(user)
    listed = set(access.supervised_inspections().values_list("pk", flat=True))
    expected = {
        i.pk for i in (inspection, other, empty) if access.can_supervise(Task(inspection=i))
    }
    assert listed == expected
    assert (empty.pk in listed) == (who in ("carol", "admin"))
