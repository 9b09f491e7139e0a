"""Reminders through messenger channels, as 财政局 and its supervisors live them.

财政局's 企业微信 group has a robot; carol (整改办) reads her reminders on a personal 钉钉 robot
with 加签; the office's OA system takes a signed JSON webhook. Every message goes to a real HTTP
server on localhost (tests/http_server.py) that records what it received and answers like the
vendor would: nothing in the HTTP layer is replaced.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import zoneinfo
from collections import deque

import pytest
import time_machine

from tests import factories
from tests.http_server import HTTPServer, Robot
from tracker import reminders
from tracker.models import ChannelDelivery, ReminderChannel, ReminderDigest
from tracker.models.reminders import ChannelKind, DeliveryState

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 2)  # a Monday, a working day
FRIDAY = datetime.date(2026, 11, 6)
MONDAY = datetime.date(2026, 11, 9)


def at(day: datetime.date, hour: int = 9, minute: int = 0, second: int = 0):
    """Freeze time at a wall-clock moment in Asia/Shanghai."""
    return time_machine.travel(
        datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI),
        tick=False,
    )


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def rectify(settings):
    def change(**values):
        settings.RECTIFY = {**settings.RECTIFY, **values}

    change(REMINDER_QUIET_HOURS=((22, 0), (8, 0)), REMINDER_QUIET_NON_WORKDAYS=True)
    return change


@pytest.fixture
def robot():
    with HTTPServer(Robot()) as server:
        yield server


def wecom_group(unit, server, **extra) -> ReminderChannel:
    return ReminderChannel.objects.create(
        name=f"{unit.name}工作群",
        kind=ChannelKind.WECOM,
        unit=unit,
        url=server.url("/cgi-bin/webhook/send?key=wecom-key-0001"),
        **extra,
    )


def overdue_task(inspection, unit, n: int = 3, **extra):
    return factories.make_task(inspection, owner=unit, deadline=TODAY - days(n), **extra)


# --- each message exactly once ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_units_wecom_group_gets_its_daily_digest_once_when_beat_fires_twice(
    inspection, finance, planning, alice, robot, rectify
):
    # Given 财政局's 企业微信 group has a robot, and 财政局 and 规划局 each have an overdue task
    wecom_group(finance, robot)
    task = overdue_task(inspection, finance, title="财政资金监管不到位")
    overdue_task(inspection, planning, title="规划审批把关不严")
    # When beat fires the daily sweep twice
    with at(TODAY, 8, 0):
        first = reminders.sweep()
        second = reminders.sweep()
    # Then the group received one markdown message, in 企业微信's format, about 财政局's task only
    (request,) = robot.robot.requests
    assert request.query == {"key": "wecom-key-0001"}
    assert request.json["msgtype"] == "markdown"
    content = request.json["markdown"]["content"]
    assert content.startswith("### 财政局 【逾期1项】整改任务提醒")
    assert "财政资金监管不到位" in content and f"/tasks/{task.pk}/" in content
    assert "规划审批把关不严" not in content
    assert (len(first.channels.sent), len(second.channels.sent)) == (1, 0)
    # and alice's email went out as before
    assert ReminderDigest.objects.get(recipient="alice@example.org").state == DeliveryState.SENT
    delivery = ChannelDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 1)


@pytest.mark.django_db
def test_a_sender_killed_after_its_claim_leaves_the_message_to_the_next_run_once(
    inspection, finance, alice, robot, rectify
):
    # Given the sweep planned the day and a sender claimed the group's message, then its worker
    # was killed before posting (the claim stays "sending" with its lease)
    wecom_group(finance, robot)
    overdue_task(inspection, finance)
    with at(TODAY, 8, 0):
        reminders.plan_day()
        _token, claimed = reminders.claim_channels(TODAY)
    assert len(claimed) == 1
    # While the lease runs, no other run posts it
    with at(TODAY, 8, 10):
        assert reminders.deliver(TODAY).channels.sent == []
    assert robot.robot.requests == []
    # After the lease (15 minutes) the catch-up run takes it over and posts it, once
    with at(TODAY, 9, 17):
        assert len(reminders.deliver(TODAY).channels.sent) == 1
        assert reminders.deliver(TODAY).channels.sent == []
    assert len(robot.robot.requests) == 1
    assert ChannelDelivery.objects.get().attempts == 2


@pytest.mark.django_db
def test_a_claim_abandoned_too_often_is_marked_failed(inspection, finance, alice, robot, rectify):
    rectify(REMINDER_MAX_ATTEMPTS=2)
    wecom_group(finance, robot)
    overdue_task(inspection, finance)
    for minute in (0, 20):
        with at(TODAY, 8, minute):
            if minute == 0:
                reminders.plan_day()
            assert reminders.claim_channels(TODAY)[1]
    with at(TODAY, 9, 0):
        reminders.deliver(TODAY)
    delivery = ChannelDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED and "中断" in delivery.last_error
    assert robot.robot.requests == []


# --- 钉钉: signed requests ---------------------------------------------------------------------


@pytest.mark.django_db
def test_carols_dingtalk_robot_gets_her_digest_signed_as_dingtalk_checks_it(
    inspection, finance, alice, carol, rectify
):
    # Given carol reads her reminders on a 钉钉 robot with 加签, and a task 40 days overdue
    # (escalated: the supervisors hear of it)
    secret = "SEC0123456789abcdef"
    with HTTPServer(Robot(dingtalk_secret=secret)) as server:
        ReminderChannel.objects.create(
            name="carol的钉钉",
            kind=ChannelKind.DINGTALK,
            user=carol,
            url=server.url("/robot/send?access_token=ding-token"),
            secret=secret,
        )
        task = overdue_task(inspection, finance, 40, title="专项资金挪用")
        # When the day is swept
        with at(TODAY, 8, 0):
            report = reminders.sweep()
    # Then the robot, checking the signature as 钉钉 does, took one markdown message
    (request,) = server.robot.requests
    assert request.signed is True
    assert request.query["access_token"] == "ding-token"
    assert request.json["msgtype"] == "markdown"
    assert request.json["markdown"]["title"].startswith("【逾期1项】")
    assert "专项资金挪用" in request.json["markdown"]["text"]
    assert f"/tasks/{task.pk}/" in request.json["markdown"]["text"]
    assert len(report.channels.sent) == 1
    assert ChannelDelivery.objects.get().digest.recipient == "carol@example.org"


@pytest.mark.django_db
def test_a_wrong_dingtalk_secret_is_recorded_as_a_permanent_failure(
    inspection, finance, carol, rectify
):
    # Given carol's channel was saved with a secret the robot does not have
    with HTTPServer(Robot(dingtalk_secret="SEC-the-right-one")) as server:
        ReminderChannel.objects.create(
            name="carol的钉钉",
            kind=ChannelKind.DINGTALK,
            user=carol,
            url=server.url("/robot/send?access_token=t"),
            secret="SEC-a-wrong-one",
        )
        overdue_task(inspection, finance, 40)
        with at(TODAY, 8, 0):
            report = reminders.sweep()
        # later runs do not try again
        with at(TODAY, 10, 0):
            reminders.deliver(TODAY)
    # Then the robot's answer (200, errcode 310000) is recorded, and it is not retried
    assert len(server.robot.requests) == 1
    delivery = ChannelDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "310000" in delivery.last_error
    assert report.channels.failed == 1


# --- failures: 5xx retried, 4xx recorded -----------------------------------------------------


@pytest.mark.django_db
def test_a_5xx_is_retried_with_backoff_then_sent_once(inspection, finance, alice, rectify):
    rectify(REMINDER_RETRY_SECONDS=60)
    robot = Robot(answers=deque([(502, b"Bad Gateway"), (503, b"busy")]))
    with HTTPServer(robot) as server:
        wecom_group(finance, server)
        overdue_task(inspection, finance)
        # The 08:00 sweep meets a 502
        with at(TODAY, 8, 0):
            first = reminders.sweep()
        delivery = ChannelDelivery.objects.get()
        assert (first.channels.retried, delivery.state) == (1, DeliveryState.PENDING)
        assert "HTTP 502" in delivery.last_error
        # Before the backoff (60 s) has run out, nothing is posted
        with at(TODAY, 8, 0, 30):
            assert reminders.deliver(TODAY).channels.sent == []
        # After it, a 503: the backoff doubles (120 s)
        with at(TODAY, 8, 1, 1):
            assert reminders.deliver(TODAY).channels.retried == 1
        with at(TODAY, 8, 2, 0):
            assert reminders.deliver(TODAY).channels.sent == []
        # and then the robot takes it: sent once
        with at(TODAY, 8, 3, 2):
            assert len(reminders.deliver(TODAY).channels.sent) == 1
            assert reminders.deliver(TODAY).channels.sent == []
    assert [r.answered for r in robot.requests] == [502, 503, 200]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 3, "")


@pytest.mark.django_db
def test_an_unreachable_robot_is_retried_like_a_5xx(inspection, finance, alice, rectify):
    # Given the group's robot address points at a port nobody listens on
    with HTTPServer(Robot()) as gone:
        url = gone.url("/cgi-bin/webhook/send?key=k")
    ReminderChannel.objects.create(name="群", kind=ChannelKind.WECOM, unit=finance, url=url)
    overdue_task(inspection, finance)
    with at(TODAY, 8, 0):
        report = reminders.sweep()
    delivery = ChannelDelivery.objects.get()
    assert (report.channels.retried, delivery.state) == (1, DeliveryState.PENDING)
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


@pytest.mark.parametrize(
    ("answer", "recorded"),
    [
        ((404, b"not found"), "HTTP 404"),
        ((400, b"bad request"), "HTTP 400"),
        ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), "errcode 93000"),
    ],
)
@pytest.mark.django_db
def test_a_4xx_or_a_vendor_errcode_is_recorded_as_a_permanent_failure(
    inspection, finance, alice, rectify, admin_client, answer, recorded
):
    with HTTPServer(Robot(answers=deque([answer]))) as server:
        wecom_group(finance, server)
        overdue_task(inspection, finance)
        with at(TODAY, 8, 0):
            report = reminders.sweep()
        with at(TODAY, 12, 0):  # hours later: no retry of a refusal
            reminders.deliver(TODAY)
    assert len(server.robot.requests) == 1
    delivery = ChannelDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED and recorded in delivery.last_error
    assert (report.channels.failed, report.channels.retried) == (1, 0)
    # and administrators find it among the failed channel messages
    page = admin_client.get("/admin/tracker/channeldelivery/", {"state__exact": "failed"})
    assert page.status_code == 200 and "财政局工作群" in page.content.decode()


@pytest.mark.django_db
def test_a_rate_limited_robot_is_tried_again(inspection, finance, alice, rectify):
    rectify(REMINDER_RETRY_SECONDS=60)
    busy = (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    with HTTPServer(Robot(answers=deque([busy]))) as server:
        wecom_group(finance, server)
        overdue_task(inspection, finance)
        with at(TODAY, 8, 0):
            reminders.sweep()
        with at(TODAY, 8, 2):
            assert len(reminders.deliver(TODAY).channels.sent) == 1
    assert ChannelDelivery.objects.get().state == DeliveryState.SENT


# --- the generic webhook ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_oa_webhook_gets_the_tasks_as_json_with_a_body_signature(
    inspection, finance, alice, robot, rectify
):
    secret = "oa-shared-secret"
    channel = ReminderChannel.objects.create(
        name="OA系统",
        kind=ChannelKind.WEBHOOK,
        unit=finance,
        url=robot.url("/oa/reminders"),
        secret=secret,
    )
    task = overdue_task(inspection, finance, title="财政资金监管不到位")
    with at(TODAY, 8, 0):
        reminders.sweep()
    (request,) = robot.robot.requests
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Rectify-Signature"] == expected
    delivery = ChannelDelivery.objects.get(channel=channel)
    assert request.headers["X-Rectify-Delivery"] == str(delivery.pk)
    body = request.json
    assert (body["event"], body["day"], body["audience"]["unit"]) == (
        "reminder.daily",
        "2026-11-02",
        "财政局",
    )
    (item,) = body["items"]
    assert (item["task_id"], item["tier"], item["deadline"]) == (task.pk, "red", "2026-10-30")


@pytest.mark.django_db
def test_a_supervisors_weekly_summary_also_reaches_her_channel(
    inspection, finance, carol, robot, rectify
):
    ReminderChannel.objects.create(
        name="carol的OA", kind=ChannelKind.WEBHOOK, user=carol, url=robot.url("/oa")
    )
    overdue_task(inspection, finance, 5)
    with at(TODAY, 8, 0):
        reminders.plan_weekly()
        reminders.plan_weekly()
        reminders.deliver(TODAY)
    weekly = [r for r in robot.robot.requests if r.json["event"] == "reminder.weekly"]
    assert len(weekly) == 1
    assert "整改工作周报" in weekly[0].json["title"]


@pytest.mark.django_db
def test_a_disabled_channel_hears_nothing(inspection, finance, alice, robot, rectify):
    wecom_group(finance, robot, enabled=False)
    overdue_task(inspection, finance)
    with at(TODAY, 8, 0):
        reminders.sweep()
    assert robot.robot.requests == [] and not ChannelDelivery.objects.exists()


# --- quiet hours -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_due_at_night_before_a_weekend_waits_for_monday_morning(
    inspection, finance, alice, robot, rectify, settings
):
    # Given the daily sweep runs at 23:00 (quiet 22:00-08:00, weekends quiet too)
    wecom_group(finance, robot)
    overdue_task(inspection, finance)
    with at(FRIDAY, 23, 0):
        report = reminders.sweep(FRIDAY)
    # Then the emails go out, the robot message does not: it is deferred to Monday 08:00
    assert set(ReminderDigest.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    delivery = ChannelDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and robot.robot.requests == []
    monday_8 = datetime.datetime(2026, 11, 9, 8, 0, tzinfo=SHANGHAI)
    assert delivery.next_attempt_at == monday_8
    assert report.channels.next_retry_at == monday_8
    # Saturday morning is not a working day; Monday 07:59 is still quiet
    for day, hour, minute in ((FRIDAY + days(1), 10, 0), (MONDAY, 7, 59)):
        with at(day, hour, minute):
            assert reminders.deliver_channels(day).sent == []
    assert robot.robot.requests == []
    # At 08:00 on Monday it goes, once
    with at(MONDAY, 8, 0):
        assert len(reminders.deliver_channels(MONDAY).sent) == 1
        assert reminders.deliver_channels(MONDAY).sent == []
    (request,) = robot.robot.requests
    assert "逾期1项" in request.json["markdown"]["content"]


@pytest.mark.django_db
def test_held_back_messages_are_superseded_by_a_newer_one_for_the_same_group(
    inspection, finance, alice, robot, rectify
):
    # Given Saturday's and Sunday's 08:00 sweeps each planned a message, both held back
    wecom_group(finance, robot)
    overdue_task(inspection, finance)
    for day in (FRIDAY + days(1), FRIDAY + days(2)):
        with at(day, 8, 0):
            reminders.sweep(day)
    assert robot.robot.requests == []
    # When Monday's sweep runs, its message lists the same tasks again: only it is posted
    with at(MONDAY, 8, 0):
        reminders.sweep(MONDAY)
    assert len(robot.robot.requests) == 1
    states = dict(ChannelDelivery.objects.values_list("day", "state"))
    assert states == {
        FRIDAY + days(1): DeliveryState.SUPERSEDED,
        FRIDAY + days(2): DeliveryState.SUPERSEDED,
        MONDAY: DeliveryState.SENT,
    }


@pytest.mark.django_db
def test_a_retry_that_would_fall_in_quiet_hours_waits_for_the_morning(
    inspection, finance, alice, rectify
):
    rectify(REMINDER_RETRY_SECONDS=600)
    with HTTPServer(Robot(answers=deque([(500, b"oops")]))) as server:
        wecom_group(finance, server)
        overdue_task(inspection, finance)
        with at(TODAY, 21, 55):
            reminders.sweep()
    delivery = ChannelDelivery.objects.get()
    assert delivery.next_attempt_at == datetime.datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)


def test_quiet_hours_follow_the_official_calendar():
    quiet = reminders.QuietHours(window=((22, 0), (8, 0)), non_workdays=True)

    def moment(day, hour, minute=0):
        return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)

    # the National Day holiday (10-01 to 10-07) is quiet all day; 10-08 is a working day
    assert quiet.next_allowed(moment(datetime.date(2026, 9, 30), 23)) == moment(
        datetime.date(2026, 10, 8), 8
    )
    # Saturday 10-10 is a 调休 working day: robots may speak
    assert quiet.allows(moment(datetime.date(2026, 10, 10), 9))
    # an ordinary working day, inside and outside the window
    assert quiet.allows(moment(TODAY, 8))
    assert not quiet.allows(moment(TODAY, 7, 59))
    assert quiet.next_allowed(moment(TODAY, 22, 30)) == moment(TODAY + days(1), 8)
    # a window within one day, and none at all
    noon = reminders.QuietHours(window=((12, 0), (14, 0)), non_workdays=False)
    assert noon.next_allowed(moment(TODAY, 12, 30)) == moment(TODAY, 14)
    assert reminders.QuietHours(window=None, non_workdays=False).allows(moment(FRIDAY, 3))


@pytest.mark.django_db
def test_without_quiet_hours_a_message_goes_at_once(inspection, finance, alice, robot, rectify):
    rectify(REMINDER_QUIET_HOURS=None, REMINDER_QUIET_NON_WORKDAYS=False)
    wecom_group(finance, robot)
    overdue_task(inspection, finance)
    with at(FRIDAY + days(1), 3, 0):  # a Saturday, 03:00
        reminders.sweep(FRIDAY + days(1))
    assert len(robot.robot.requests) == 1
