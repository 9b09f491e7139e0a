"""签收 (acknowledgement), as 财政局 lives it.

carol (supervisor) gives 财政局 a new task in the app; alice (clerk) and bob (lead) must sign for
it. Unsigned after ACK_WORKING_DAYS (3) working days it joins their reminders as 待签收 and the
dashboard counts it; signed, it leaves both. Tasks a notice import created never wait.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests import factories
from tests.test_reminders import at, smtp  # noqa: F401 — fixtures
from tracker import actions, reminders
from tracker.actions import Actor, TaskFields
from tracker.choices import EventKind, EventSource
from tracker.models import Task, TaskEvent
from tracker.models.reminders import ReminderTier

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 2)
THURSDAY = datetime.date(2026, 11, 5)


def day(d: datetime.date, n: int) -> datetime.date:
    return d + datetime.timedelta(days=n)


def give(inspection, unit, carol, title="新发现:财政专户管理混乱") -> Task:
    """carol adds a problem in the app: its task goes to ``unit`` and waits for 签收."""
    problem = actions.create_problem(
        inspection,
        Actor.of(carol),
        title=title,
        task=TaskFields(owner_unit=unit, deadline=datetime.date(2027, 3, 31)),
    )
    return Task.objects.get(problem=problem)


def unsigned_on(d: datetime.date) -> dict[int, set[str]]:
    """{task id: recipients} of the 待签收 tier on day ``d``."""
    out: dict[int, set[str]] = {}
    for item in reminders.collect(d).reminders:
        if item.tier == ReminderTier.UNACKNOWLEDGED:
            out.setdefault(item.task_id, set()).add(item.recipient)
    return out


def test_a_task_signed_for_late(client, inspection, finance, alice, bob, carol, smtp):  # noqa: F811
    # Given carol gives 财政局 a task on Thursday morning
    with at(THURSDAY):
        task = give(inspection, finance, carol)
    assert task.awaits_acknowledgement
    # Friday and Monday are one and two working days later: not late yet (the weekend is skipped)
    for d in (day(THURSDAY, 1), day(THURSDAY, 2), day(THURSDAY, 3), day(THURSDAY, 4)):
        assert task.pk not in unsigned_on(d), d
    # On Tuesday, three working days later, it is 待签收 for alice and bob
    tuesday = day(THURSDAY, 5)
    assert unsigned_on(tuesday) == {task.pk: {"alice@example.org", "bob@example.org"}}
    # … and their reminder says so, once each, over real SMTP, with one event on the timeline
    with at(tuesday):
        reminders.sweep(tuesday)
        reminders.sweep(tuesday)
    assert smtp.handler.per_recipient() == {"alice@example.org": 1, "bob@example.org": 1}
    (mail,) = smtp.handler.to("alice@example.org")
    assert "待签收1项" in mail.subject
    assert "待签收" in mail.part("text/plain")
    reminder = TaskEvent.objects.get(task=task, kind=EventKind.REMINDER)
    assert reminder.new_value == ReminderTier.UNACKNOWLEDGED
    # The dashboard counts it, and its figure opens the list of exactly that task
    client.force_login(carol)
    with at(tuesday):
        page = client.get(reverse("tracker:dashboard"))
        assert page.context["ack_late"] == 1
        listed = client.get(page.context["links"]["ack_late"])
    assert [t.pk for t in listed.context["tasks"]] == [task.pk]
    # When alice signs for it on the task page on Wednesday
    client.force_login(alice)
    wednesday = day(tuesday, 1)
    with at(wednesday):
        shown = client.get(reverse("tracker:task_detail", args=[task.pk]))
        assert shown.context["acknowledge_form"] is not None
        assert shown.context["ack_late"] is True
        answer = client.post(
            reverse("tracker:task_acknowledge", args=[task.pk]), {"version": task.version}
        )
    assert answer.status_code == 302
    # Then the timeline shows her 签收, and the task has left the tier and the dashboard figure
    event = TaskEvent.objects.filter(task=task).latest("id")
    assert (event.kind, event.actor, event.source) == (
        EventKind.ACKNOWLEDGED,
        alice,
        EventSource.USER,
    )
    task.refresh_from_db()
    assert not task.awaits_acknowledgement
    assert task.pk not in unsigned_on(wednesday)
    client.force_login(carol)
    with at(wednesday):
        assert client.get(reverse("tracker:dashboard")).context["ack_late"] == 0
    # and signing twice is refused, writing nothing
    events = TaskEvent.objects.filter(task=task).count()
    with pytest.raises(actions.ActionError):
        actions.acknowledge(task, Actor.of(bob))
    assert TaskEvent.objects.filter(task=task).count() == events


def test_tasks_of_a_notice_import_never_wait(inspection, finance, alice):
    # Given a task created by a system actor (a notice import, maintenance)
    task = factories.make_task(inspection, owner=finance)
    # Then it does not wait for 签收, and there is nothing to sign for
    assert not task.awaits_acknowledgement
    with pytest.raises(actions.ActionError):
        actions.acknowledge(task, Actor.of(alice))
    assert unsigned_on(day(MONDAY, 30)) == {}


def test_a_new_owner_signs_afresh(inspection, finance, planning, alice, carol, eve):
    # Given alice signed for a task carol gave 财政局
    with at(MONDAY):
        task = give(inspection, finance, carol)
        actions.acknowledge(task, Actor.of(alice))
    assert not Task.objects.get(pk=task.pk).awaits_acknowledgement
    # When carol gives it to 规划局 (a bulk assignment: each task's own owner change)
    with at(day(MONDAY, 1)):
        actions.assign_tasks(
            [Task.objects.get(pk=task.pk)],
            actions.Assignment(owner_unit=planning),
            Actor.of(carol),
        )
    # Then 规划局 must sign for it; eve (its clerk) may, alice no longer reaches it
    task = Task.objects.get(pk=task.pk)
    assert task.awaits_acknowledgement
    assert unsigned_on(day(MONDAY, 4)) == {task.pk: {"eve@example.org"}}
    with pytest.raises(actions.NotAllowed):
        actions.acknowledge(task, Actor.of(alice))
    actions.acknowledge(task, Actor.of(eve))
    assert not Task.objects.get(pk=task.pk).awaits_acknowledgement


@pytest.mark.parametrize("persona", ["dave", "mallory", "eve"])
def test_those_outside_the_unit_cannot_sign(
    client, inspection, finance, carol, dave, mallory, eve, persona
):
    people = {"dave": dave, "mallory": mallory, "eve": eve}
    with at(MONDAY):
        task = give(inspection, finance, carol)
    before = TaskEvent.objects.filter(task=task).count()
    # Through the action: refused, nothing written
    with pytest.raises(actions.NotAllowed):
        actions.acknowledge(task, Actor.of(people[persona]))
    # Through the page: the observer sees the task but gets no button and a 403; the others 404
    client.force_login(people[persona])
    url = reverse("tracker:task_acknowledge", args=[task.pk])
    answer = client.post(url, {"version": task.version})
    if persona == "dave":
        assert answer.status_code == 403
        page = client.get(reverse("tracker:task_detail", args=[task.pk]))
        assert page.context["acknowledge_form"] is None
    else:
        assert answer.status_code == 404
    assert TaskEvent.objects.filter(task=task).count() == before
    assert Task.objects.get(pk=task.pk).awaits_acknowledgement


def test_a_supervisor_may_sign_for_the_unit(inspection, finance, carol):
    with at(MONDAY):
        task = give(inspection, finance, carol)
        actions.acknowledge(task, Actor.of(carol))
    assert TaskEvent.objects.filter(task=task, kind=EventKind.ACKNOWLEDGED, actor=carol).exists()
