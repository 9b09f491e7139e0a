"""In-app to-dos and notifications (通知).

Alice (clerk of 财政局) asks to close out a task; Bob (her unit's lead) returns it: Alice sees a
notification the moment it is returned, with the reason, and the badge counts it until she reads
it. Carol (supervisor) refuses Alice's extension and gives a task to 规划局: Eve (clerk of 规划局)
is told of the new task, Alice of the refusal. A change that is refused or rolled back tells
nobody. The 审核队列 link, with its count, is shown only to those who review.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import PASSWORD
from tracker import actions, notifications
from tracker.choices import EventKind, EventSource
from tracker.models import Notification, local_today

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def as_(user):
    return actions.Actor.of(user, EventSource.USER)


def test_alice_sees_her_returned_closeout_at_once_and_reads_it(client, alice, bob, finance_task):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, as_(alice), summary="已完成", no_evidence_reason="线下")
    # Bob, who reviews, sees the request counted on his 审核队列 link
    login(client, bob)
    page = client.get(reverse("tracker:task_list")).content.decode()
    assert "审核队列" in page and 'class="badge" aria-label="1 项待审核"' in page
    # When Bob returns it
    actions.return_closeout(finance_task, as_(bob), reason="缺少佐证材料")
    # Then Alice has one unread notification naming the return and its reason
    assert notifications.unread_count(alice) == 1
    assert notifications.unread_count(bob) == 0  # he made the change
    login(client, alice)
    page = client.get(reverse("tracker:notification_list")).content.decode()
    assert "退回" in page and "缺少佐证材料" in page and "未读" in page
    note = Notification.objects.get(user=alice)
    assert note.event.kind == EventKind.CLOSEOUT_RETURNED
    # And opening it goes to the task and marks it read
    response = client.get(reverse("tracker:notification_open", args=[note.pk]))
    assert response["Location"] == reverse("tracker:task_detail", args=[finance_task.pk])
    assert notifications.unread_count(alice) == 0


def test_a_decided_extension_and_a_new_task_reach_the_people_they_concern(
    alice, carol, eve, finance_task, planning
):
    actions.request_extension(
        finance_task,
        as_(alice),
        new_deadline=local_today() + datetime.timedelta(days=60),
        reason="跨年度",
    )
    actions.refuse_extension(finance_task, as_(carol), reason="理由不足")
    actions.change_owner(factories.make_task(finance_task.inspection), planning, as_(carol))
    kinds = {
        user.username: set(
            Notification.objects.filter(user=user).values_list("event__kind", flat=True)
        )
        for user in (alice, eve, carol)
    }
    assert kinds == {
        "alice": {EventKind.EXTENSION_REFUSED},
        "eve": {EventKind.OWNER},
        "carol": set(),
    }


def test_a_change_that_is_refused_tells_nobody(alice, carol, eve, finance_task, planning):
    closed = factories.make_task(finance_task.inspection)
    actions.admin_set_status(closed, "closed", factories.SYSTEM, reason="测试")
    with pytest.raises(actions.ActionError):
        actions.assign_tasks(
            [finance_task, closed], actions.Assignment(owner_unit=planning), as_(carol)
        )
    assert not Notification.objects.exists()  # rolled back with the change itself


def test_a_notice_import_tells_nobody_of_each_new_task(alice, inspection, finance):
    factories.make_task(inspection, owner=finance)  # created by a system actor
    assert not Notification.objects.exists()


def test_the_review_link_is_shown_only_to_those_who_review(client, alice, dave, carol):
    for user, shown in ((alice, False), (dave, False), (carol, True)):
        login(client, user)
        page = client.get(reverse("tracker:task_list")).content.decode()
        assert (reverse("tracker:review_queue") in page) is shown, user.username


def test_a_notification_of_a_task_no_longer_in_scope_opens_nothing(
    client, alice, carol, finance_task, planning
):
    # Alice was told of a reopening of her unit's task; the task has since gone to 规划局
    factories.ready_for_closeout(finance_task)
    actions.admin_set_status(finance_task, "closed", factories.SYSTEM, reason="测试")
    actions.reopen(finance_task, as_(carol), reason="回头看发现反弹")
    note = Notification.objects.get(user=alice, event__kind=EventKind.REOPENED)
    actions.change_owner(finance_task, planning, as_(carol))
    login(client, alice)
    assert client.get(reverse("tracker:notification_open", args=[note.pk])).status_code == 404
    # Nor does anyone open another user's notification
    login(client, carol)
    assert client.get(reverse("tracker:notification_open", args=[note.pk])).status_code == 404


def test_a_ladder_document_reaches_the_unit_and_its_reply_the_supervisor_once(
    alice, bob, carol, inspection, finance
):
    late = [
        factories.make_task(
            inspection, owner=finance, deadline=local_today() - datetime.timedelta(days=20)
        )
        for _ in range(2)
    ]
    document = actions.issue_ladder_document(late, "notice", as_(carol))
    # One notification per person of the unit for the document, not one per task it lists
    for person in (alice, bob):
        assert Notification.objects.filter(user=person, event__kind=EventKind.LADDER).count() == 1
    actions.reply_ladder_document(document, as_(alice), text="已制定拨付计划")
    replies = Notification.objects.filter(event__kind=EventKind.LADDER_REPLY)
    assert list(replies.values_list("user__username", flat=True)) == ["carol"]


def test_the_top_bar_badges_are_one_statement(client, alice, bob, finance_task):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.queries import BADGES

    # Given a close-out waiting for Bob's review and a notification Bob has not read
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, as_(alice), summary="已完成", no_evidence_reason="线下")
    Notification.objects.create(user=bob, event=finance_task.events.order_by("-id").first())
    login(client, bob)

    # When Bob opens any page
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("tracker:task_list")).content.decode()

    # Then both badges show, read by one statement
    assert 'aria-label="1 项待审核"' in page and 'aria-label="1 条未读"' in page
    assert len([q for q in ctx.captured_queries if BADGES.match(q["sql"])]) == 1
