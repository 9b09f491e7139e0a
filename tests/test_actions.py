"""The change functions: each writes exactly one history event naming its actor and source."""

from __future__ import annotations

import datetime

import pytest

from tests import factories
from tracker import actions
from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models.history import label_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(alice):
    return actions.Actor.of(alice)


@pytest.fixture
def as_carol(carol):
    return actions.Actor.of(carol)


def test_creating_a_task_writes_one_created_event_with_measures(inspection, finance):
    task = factories.make_task(inspection, owner=finance, measures=("一是建账", "二是立制"))
    assert [m.text for m in task.measures.all()] == ["一是建账", "二是立制"]
    (event,) = task.events.all()
    assert event.kind == EventKind.CREATED
    assert event.source == EventSource.SYSTEM


def test_a_status_change_writes_one_event_with_actor_from_to_and_reason(
    finance_task, alice, as_alice
):
    before = finance_task.version
    actions.change_status(
        finance_task, TaskStatus.BASICALLY_COMPLETED, as_alice, reason="主体工作完成"
    )
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.BASICALLY_COMPLETED
    assert finance_task.version == before + 1
    event = finance_task.events.latest("id")
    assert finance_task.events.count() == 2
    # History stores codes; labels are rendered when shown.
    assert (event.kind, event.old_value, event.new_value) == (
        EventKind.STATUS,
        TaskStatus.IN_PROGRESS,
        TaskStatus.BASICALLY_COMPLETED,
    )
    assert (event.actor, event.source, event.reason) == (alice, EventSource.USER, "主体工作完成")


def test_a_refused_transition_changes_nothing(finance_task, as_alice):
    with pytest.raises(actions.ActionError):
        actions.change_status(finance_task, TaskStatus.CLOSED, as_alice)
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.IN_PROGRESS
    assert finance_task.events.count() == 1


def test_an_unchanged_status_writes_no_event(finance_task, as_alice):
    actions.change_status(finance_task, TaskStatus.IN_PROGRESS, as_alice)
    assert finance_task.events.count() == 1


def test_a_clerk_may_not_move_a_deadline_and_nothing_is_written(finance_task, as_alice):
    first = finance_task.deadline
    with pytest.raises(actions.NotAllowed):
        actions.change_deadline(finance_task, first + datetime.timedelta(days=900), as_alice)
    finance_task.refresh_from_db()
    assert finance_task.deadline == first
    assert finance_task.events.count() == 1


def test_an_actor_without_a_user_is_refused_unless_a_granted_system_actor(finance_task):
    nobody = actions.Actor(source=EventSource.USER)
    with pytest.raises(actions.NotAllowed):
        actions.change_status(finance_task, TaskStatus.COMPLETED, nobody)
    sweep = actions.Actor.system(EventSource.SWEEP, "sweep:test")
    with pytest.raises(actions.NotAllowed):
        actions.change_status(finance_task, TaskStatus.COMPLETED, sweep)
    importer = actions.Actor.system(EventSource.IMPORT, "notice:1")
    actions.change_status(finance_task, TaskStatus.COMPLETED, importer)
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.COMPLETED
    with pytest.raises(ValueError):
        actions.Actor.system(EventSource.USER, "pretending")


def test_extending_a_deadline_keeps_the_first_one_as_original(finance_task, as_carol):
    first = finance_task.deadline
    actions.change_deadline(
        finance_task, first + datetime.timedelta(days=30), as_carol, reason="延期"
    )
    actions.change_deadline(
        finance_task, first + datetime.timedelta(days=60), as_carol, reason="再延期"
    )
    finance_task.refresh_from_db()
    assert finance_task.original_deadline == first
    assert finance_task.deadline == first + datetime.timedelta(days=60)
    deadline_events = finance_task.events.filter(kind=EventKind.DEADLINE)
    assert [(e.old_value, e.new_value) for e in deadline_events] == [
        (first.isoformat(), (first + datetime.timedelta(days=30)).isoformat()),
        (
            (first + datetime.timedelta(days=30)).isoformat(),
            (first + datetime.timedelta(days=60)).isoformat(),
        ),
    ]


def test_changing_the_owner_records_both_units_and_shows_their_names(
    finance_task, finance, planning, as_carol
):
    actions.change_owner(finance_task, planning, as_carol)
    finance_task.refresh_from_db()
    assert finance_task.owner_unit == planning
    event = finance_task.events.latest("id")
    assert (event.kind, event.old_value, event.new_value) == (
        EventKind.OWNER,
        str(finance.pk),
        str(planning.pk),
    )
    (shown,) = label_events([event])
    assert (shown.old_display, shown.new_display) == ("财政局", "规划局")


def test_making_a_task_long_term_schedules_its_first_report(finance_task, as_carol):
    actions.change_type(finance_task, TaskType.LONG_TERM, as_carol)
    finance_task.refresh_from_db()
    assert finance_task.report_due_on is not None
    type_event = finance_task.events.get(kind=EventKind.TYPE)
    assert type_event.new_value == TaskType.LONG_TERM
    report = finance_task.events.get(kind=EventKind.REPORT_DUE)
    assert report.new_value == finance_task.report_due_on.isoformat()


def test_history_labels_follow_the_reader_language_not_the_writer(finance_task, as_alice):
    from django.utils import translation

    actions.change_status(finance_task, TaskStatus.COMPLETED, as_alice)
    event = finance_task.events.latest("id")
    with translation.override("en"):
        (shown,) = label_events([event])
        assert shown.new_display == "Completed"
    with translation.override("zh-hans"):
        (shown,) = label_events([event])
        assert shown.new_display == "已完成"


def test_a_stale_version_is_refused_with_who_and_when(finance_task, alice, bob):
    seen = finance_task.version
    actions.change_status(finance_task, TaskStatus.BASICALLY_COMPLETED, actions.Actor.of(bob))
    with pytest.raises(actions.StaleTask) as caught:
        actions.change_status(
            finance_task, TaskStatus.COMPLETED, actions.Actor.of(alice), expected_version=seen
        )
    assert "bob" in str(caught.value)
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.BASICALLY_COMPLETED


def test_an_admin_correction_needs_a_reason(finance_task, admin_user):
    with pytest.raises(actions.ActionError):
        actions.admin_set_status(
            finance_task, TaskStatus.CLOSED, actions.Actor.of(admin_user, EventSource.ADMIN)
        )
    assert finance_task.events.count() == 1


def test_a_supervisor_may_not_make_an_administrator_correction(finance_task, as_carol):
    with pytest.raises(actions.NotAllowed):
        actions.admin_set_status(finance_task, TaskStatus.CLOSED, as_carol, reason="更正")


def test_an_admin_correction_may_set_any_status_and_is_recorded(finance_task, admin_user):
    actions.admin_set_status(
        finance_task,
        TaskStatus.CLOSED,
        actions.Actor.of(admin_user, EventSource.ADMIN),
        reason="录入错误更正",
    )
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.CLOSED
    assert finance_task.closed_at is not None
    event = finance_task.events.latest("id")
    assert (event.actor, event.source) == (admin_user, EventSource.ADMIN)
