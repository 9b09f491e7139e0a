"""Reminders, as the people of 财政局 live them.

alice (clerk) and bob (lead) run 财政局's tasks; carol supervises the organization; paul is its
principal (主要负责人) and lena the lead leader (牵头领导) of some tasks. Emails go through a real
SMTP server (aiosmtpd on localhost) whenever delivery is what a test is about.
"""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.smtp_server import Handler, SMTPServer
from tracker import reminders
from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models import ReminderDigest, ReminderLog, Task
from tracker.models.reminders import DeliveryState, ReminderTier

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 2)  # a Monday


def at(day: datetime.date, hour: int = 9, minute: int = 0, second: int = 0):
    """Freeze time at a wall-clock moment in Asia/Shanghai."""
    return time_machine.travel(
        datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI),
        tick=False,
    )


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def paul(org):
    user = get_user_model().objects.create_user(username="paul", email="paul@example.org")
    org.principal = user
    org.save()
    return user


@pytest.fixture
def lena(db):
    return get_user_model().objects.create_user(username="lena", email="lena@example.org")


@pytest.fixture
def people(alice, bob, carol, paul, lena):
    """The whole cast with email addresses."""


@pytest.fixture
def smtp(settings):
    with SMTPServer() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def rectify(settings):
    """Change RECTIFY settings for one test: rectify(REMINDER_WORKING_DAYS=True)."""

    def change(**values):
        settings.RECTIFY = {**settings.RECTIFY, **values}

    return change


def task_due(inspection, unit, deadline, **extra):
    return factories.make_task(inspection, owner=unit, deadline=deadline, **extra)


def tiers_on(day: datetime.date) -> dict[int, str]:
    return {item.task_id: item.tier for item in reminders.collect(day).reminders}


# --- tiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "tier"),
    [
        (21, None),
        (20, ReminderTier.GREEN),
        (11, ReminderTier.GREEN),
        (10, ReminderTier.YELLOW),
        (0, ReminderTier.YELLOW),
        (-1, ReminderTier.RED),
        (-30, ReminderTier.RED),
        (-31, ReminderTier.ESCALATED),
    ],
)
@pytest.mark.django_db
def test_a_task_enters_each_tier_exactly_at_its_boundary(inspection, finance, alice, offset, tier):
    # Given a 财政局 task falling due `offset` days from today
    task = task_due(inspection, finance, TODAY + days(offset))
    # When the sweep looks at today
    with at(TODAY):
        found = tiers_on(reminders.local_today())
    # Then the task is in the tier the boundaries say, or untouched
    assert found.get(task.pk) == tier


@pytest.mark.django_db
def test_the_day_turns_at_midnight_in_shanghai_not_in_utc(inspection, finance, alice):
    # Given a task due on 2026-11-01
    task = task_due(inspection, finance, datetime.date(2026, 11, 1))
    # At 23:59:59 Shanghai time on its deadline it is still due today (yellow)…
    with at(datetime.date(2026, 11, 1), 23, 59, 59):
        assert tiers_on(reminders.local_today())[task.pk] == ReminderTier.YELLOW
    # …and one second later, while UTC still reads 2026-11-01 16:00, it is overdue (red).
    with at(datetime.date(2026, 11, 2), 0, 0, 0):
        assert datetime.datetime.now(datetime.UTC).date() == datetime.date(2026, 11, 1)
        assert tiers_on(reminders.local_today())[task.pk] == ReminderTier.RED


@pytest.mark.django_db
def test_done_tasks_and_tasks_without_deadline_are_never_reminded(inspection, finance, alice):
    done = task_due(inspection, finance, TODAY - days(3), status=TaskStatus.COMPLETED)
    closed = task_due(inspection, finance, TODAY - days(3), status=TaskStatus.CLOSED)
    undated = task_due(inspection, finance, None)
    basically = task_due(
        inspection, finance, TODAY - days(3), status=TaskStatus.BASICALLY_COMPLETED
    )
    found = tiers_on(TODAY)
    assert done.pk not in found and closed.pk not in found and undated.pk not in found
    # 基本完成 is not done: it stays overdue like any open task
    assert found[basically.pk] == ReminderTier.RED


@pytest.mark.django_db
def test_a_long_term_task_is_reminded_when_its_progress_report_is_due(inspection, finance, alice):
    # Given two 长期坚持 tasks, one with its report due today and one due next month
    due = task_due(inspection, finance, None, task_type=TaskType.LONG_TERM)
    later = task_due(inspection, finance, None, task_type=TaskType.LONG_TERM)
    Task.objects.filter(pk=due.pk).update(report_due_on=TODAY)
    Task.objects.filter(pk=later.pk).update(report_due_on=TODAY + days(30))
    # Then only the first is reminded, and as "report due", never as overdue
    assert tiers_on(TODAY) == {due.pk: ReminderTier.REPORT_DUE}


@pytest.mark.django_db
def test_working_days_skip_national_day_and_count_the_tiaoxiu_workdays(
    inspection, finance, alice, rectify
):
    # Given Friday 2025-09-26: National Day runs 10-01..10-08, with 调休 workdays on Sunday
    # 09-28 and Saturday 10-11. A task due Monday 10-13 is 17 calendar days away but only 7
    # working days (09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13).
    friday = datetime.date(2025, 9, 26)
    task = task_due(inspection, finance, datetime.date(2025, 10, 13))
    # Another is 27 calendar days away (10-23) but within 20 working days.
    later = task_due(inspection, finance, datetime.date(2025, 10, 23))
    assert reminders.working_days_between(friday, datetime.date(2025, 10, 13)) == 7
    # In calendar days: the first is green, the second not yet reminded
    assert tiers_on(friday) == {task.pk: ReminderTier.GREEN}
    # In working days: the first is already yellow, the second green
    rectify(REMINDER_WORKING_DAYS=True)
    assert tiers_on(friday) == {task.pk: ReminderTier.YELLOW, later.pk: ReminderTier.GREEN}


@pytest.mark.django_db
def test_escalation_in_working_days_waits_out_the_holiday(inspection, finance, alice, rectify):
    # A task due 2025-09-05 is 34 calendar days overdue on 10-09, but only 26 working days
    # (the eight days of National Day do not count): red, not yet escalated.
    task = task_due(inspection, finance, datetime.date(2025, 9, 5))
    assert tiers_on(datetime.date(2025, 10, 9))[task.pk] == ReminderTier.ESCALATED
    rectify(REMINDER_WORKING_DAYS=True)
    assert tiers_on(datetime.date(2025, 10, 9))[task.pk] == ReminderTier.RED


# --- who is told -------------------------------------------------------------------------------


def recipients_of(task, day=TODAY) -> set[str]:
    return {item.recipient for item in reminders.collect(day).reminders if item.task_id == task.pk}


@pytest.mark.django_db
def test_escalation_climbs_the_ladder_tier_by_tier(inspection, finance, planning, people, lena):
    # Given four 财政局 tasks, led by 规划局 and by lena, one in each tier
    green = task_due(inspection, finance, TODAY + days(15))
    yellow = task_due(inspection, finance, TODAY + days(5))
    red = task_due(inspection, finance, TODAY - days(5))
    escalated = task_due(inspection, finance, TODAY - days(45))
    Task.objects.filter(pk__in=[red.pk, escalated.pk]).update(lead_unit=planning, lead_leader=lena)
    lead_side = {"lena@example.org", "paul@example.org", "planning@example.org"}
    # green: the clerk only; yellow: the lead is copied
    assert recipients_of(green) == {"alice@example.org"}
    assert recipients_of(yellow) == {"alice@example.org", "bob@example.org"}
    # red: also the lead unit's contacts, the lead leader and the organization's principal
    assert recipients_of(red) == {"alice@example.org", "bob@example.org", *lead_side}
    # escalated: also carol, the inspection's supervisor
    assert recipients_of(escalated) == {
        "alice@example.org",
        "bob@example.org",
        "carol@example.org",
        *lead_side,
    }


@pytest.mark.django_db
def test_supervisors_of_the_inspection_itself_or_of_everything_hear_of_escalations(
    inspection, finance, alice
):
    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment

    user_model = get_user_model()
    vera = user_model.objects.create_user(username="vera", email="vera@example.org")
    zoe = user_model.objects.create_user(username="zoe", email="zoe@example.org")
    ScopeAssignment.objects.create(user=vera, role=ScopeRole.SUPERVISOR, inspection=inspection)
    ScopeAssignment.objects.create(user=zoe, role=ScopeRole.SUPERVISOR, all_organizations=True)
    task = task_due(inspection, finance, TODAY - days(31))
    assert {"vera@example.org", "zoe@example.org"} <= recipients_of(task)


@pytest.mark.django_db
def test_a_unit_nobody_can_be_reached_at_is_reported_to_the_supervisor(
    org, inspection, finance, alice, carol, smtp
):
    # Given 档案馆 with open tasks but no contact address and no member with an email
    archive = factories.make_unit(org, "档案馆", "")
    task = task_due(inspection, archive, TODAY + days(15))
    # Then the dashboard's list of units without contact shows it (and not 财政局)
    assert list(reminders.units_without_contact()) == [archive]
    # When the sweep runs
    with at(TODAY):
        reminders.sweep()
    # Then carol receives its reminder, marked "no contact"
    (received,) = smtp.handler.to("carol@example.org")
    assert "无联系人1项" in received.subject
    assert "无联系人" in received.part("text/plain")
    log = ReminderLog.objects.get(task=task)
    assert (log.recipient, log.no_contact) == ("carol@example.org", True)


@pytest.mark.django_db
def test_the_fallback_address_hears_of_a_contactless_unit_when_nobody_supervises(
    org, inspection, rectify, smtp
):
    rectify(REMINDER_FALLBACK_EMAIL="zhenggaiban@example.org")
    archive = factories.make_unit(org, "档案馆", "")
    task_due(inspection, archive, TODAY - days(2))
    with at(TODAY):
        reminders.sweep()
    assert smtp.handler.per_recipient() == {"zhenggaiban@example.org": 1}


@pytest.mark.django_db
def test_a_contactless_owner_is_reported_even_when_its_lead_unit_has_addresses(
    org, inspection, planning, carol, rectify, smtp
):
    # Given 档案馆, which nobody can be emailed at, owns an overdue task that 规划局 leads
    rectify(REMINDER_FALLBACK_EMAIL="zhenggaiban@example.org")
    archive = factories.make_unit(org, "档案馆", "")
    task = task_due(inspection, archive, TODAY - days(3))
    Task.objects.filter(pk=task.pk).update(lead_unit=planning)
    # When the sweep runs
    with at(TODAY):
        reminders.sweep()
    # Then 规划局 hears of it as the lead unit, and carol and the fallback address hear of it
    # for 档案馆, marked "no contact": 规划局's address does not make 档案馆 reachable
    flags = dict(ReminderLog.objects.filter(task=task).values_list("recipient", "no_contact"))
    assert flags == {
        "planning@example.org": False,
        "carol@example.org": True,
        "zhenggaiban@example.org": True,
    }
    (received,) = smtp.handler.to("zhenggaiban@example.org")
    assert "无联系人1项" in received.subject
    (lead_unit_mail,) = smtp.handler.to("planning@example.org")
    assert "无联系人" not in lead_unit_mail.subject


# --- digests -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_person_gets_one_digest_a_day_grouping_all_their_tasks_by_tier(
    inspection, finance, people, smtp, settings
):
    # Given alice has three overdue tasks, one escalated, and five falling due soon
    settings.SITE_URL = "https://rectify.example.org"
    overdue = [task_due(inspection, finance, TODAY - days(n)) for n in (1, 2, 40)]
    soon = [task_due(inspection, finance, TODAY + days(n)) for n in (0, 3, 10, 12, 20)]
    # When the day's sweep runs
    with at(TODAY):
        report = reminders.sweep()
    # Then alice receives exactly one email listing all eight, with counts in the subject
    (received,) = smtp.handler.to("alice@example.org")
    assert received.subject == "【逾期3项·即将到期5项】整改任务提醒"
    text, html = received.part("text/plain"), received.part("text/html")
    for section in ("逾期督办(1项)", "已逾期(2项)", "即将到期(3项)", "临近到期(2项)"):
        assert section in text
    # most urgent section first
    assert text.index("逾期督办") < text.index("已逾期") < text.index("即将到期")
    for task in overdue + soon:
        link = f"https://rectify.example.org/tasks/{task.pk}/"
        assert link in text and f'href="{link}"' in html
    assert "已逾期40天" in text and "剩余20天" in text
    # and everyone got one email each
    assert all(n == 1 for n in smtp.handler.per_recipient().values())
    assert len(report.sent) == len(smtp.handler.received)


@pytest.mark.django_db
def test_a_long_term_task_past_its_old_deadline_is_never_called_overdue(
    inspection, finance, alice, smtp, settings
):
    # Given a task that became 长期坚持 after its deadline passed (the column keeps the date),
    # with its progress report due today
    from tracker import actions

    task = task_due(inspection, finance, TODAY - days(5))
    actions.change_type(task, TaskType.LONG_TERM, factories.SYSTEM)
    Task.objects.filter(pk=task.pk).update(report_due_on=TODAY)
    # When the day's sweep runs
    with at(TODAY):
        reminders.sweep()
    # Then the email reminds of the report, and nowhere says the task is overdue (tracker.rules:
    # 长期坚持 is never overdue)
    (received,) = smtp.handler.to("alice@example.org")
    text, html = received.part("text/plain"), received.part("text/html")
    assert "待报进展" in received.subject
    assert "已逾期" not in text and "已逾期" not in html
    assert "报告日期:" + TODAY.isoformat() in text
    # and so does a group channel's message, with the same words
    from tracker.reminders.channels import text as channel_text
    from tracker.reminders.content import load_unit_items

    message = channel_text.daily(
        TODAY, load_unit_items(finance.pk, TODAY), "https://x/tasks/{id}/", audience={}
    )
    assert "已逾期" not in message.text
    assert TODAY.isoformat() in message.text


@pytest.mark.django_db
def test_with_working_days_the_email_counts_the_days_left_in_working_days(
    inspection, finance, alice, smtp, rectify
):
    # Given working days are on, and on Friday 2025-09-26 a task falls due on Monday 10-13:
    # 17 calendar days away, 7 working days (National Day skipped, 调休 workdays counted)
    rectify(REMINDER_WORKING_DAYS=True)
    friday = datetime.date(2025, 9, 26)
    task_due(inspection, finance, datetime.date(2025, 10, 13))
    # When that day's sweep runs
    with at(friday):
        reminders.sweep()
    # Then alice's email says how many working days are left, as the tier counted them
    (received,) = smtp.handler.to("alice@example.org")
    text, html = received.part("text/plain"), received.part("text/html")
    assert "剩余7个工作日" in text and "剩余7个工作日" in html
    assert "剩余17天" not in text


@pytest.mark.django_db
def test_a_long_list_is_capped_per_tier_but_counted_in_full(
    inspection, finance, alice, smtp, rectify
):
    rectify(REMINDER_DIGEST_MAX_ITEMS=3)
    for n in range(5):
        task_due(inspection, finance, TODAY - days(n + 1))
    with at(TODAY):
        reminders.sweep()
    (received,) = smtp.handler.to("alice@example.org")
    assert received.subject == "【逾期5项】整改任务提醒"
    assert "另有2项" in received.part("text/plain")


@pytest.mark.django_db
def test_a_sent_reminder_shows_in_the_task_timeline(inspection, finance, alice, bob, smtp):
    # Given a task of 财政局 due in five days (alice and bob are reminded)
    task = task_due(inspection, finance, TODAY + days(5))
    # When the sweep sends today's digests, and the catch-up run sweeps again
    with at(TODAY):
        reminders.sweep()
    with at(TODAY, 10):
        reminders.sweep()
    # Then the task's timeline shows one reminder event for the day, naming both recipients
    (event,) = task.events.filter(kind=EventKind.REMINDER)
    assert event.reason == "提醒邮件已发送至 alice@example.org、bob@example.org"
    assert (event.new_value, event.source, event.source_ref) == (
        "yellow",  # the tier's code; the timeline shows its label (即将到期)
        EventSource.SWEEP,
        f"sweep:{TODAY}",
    )
    # and every (task, recipient) reminder is logged as sent with its digest
    assert ReminderLog.objects.filter(task=task).count() == 2
    assert not ReminderLog.objects.filter(digest__sent_at__isnull=True).exists()
    # and the next day's reminder is a new event
    with at(TODAY + days(1)):
        reminders.sweep()
    assert task.events.filter(kind=EventKind.REMINDER).count() == 2


@pytest.mark.django_db
def test_a_task_reminded_over_several_batches_gets_one_timeline_event(
    inspection, finance, alice, bob, smtp, rectify
):
    # Given digests sent one per batch, so alice's and bob's go out separately
    rectify(REMINDER_BATCH_SIZE=1)
    task = task_due(inspection, finance, TODAY + days(5))
    with at(TODAY):
        reminders.sweep()
    # Then the timeline has one event for the day, naming the first batch and the total
    assert len(smtp.handler.received) == 2
    (event,) = task.events.filter(kind=EventKind.REMINDER)
    assert event.reason == "提醒邮件已发送至 alice@example.org 等2人"
    assert ReminderDigest.objects.filter(recorded=False).count() == 0


@pytest.mark.django_db
def test_a_sender_killed_after_sending_leaves_the_timeline_to_the_next_run(
    inspection, finance, alice, bob, smtp
):
    # Given digests marked sent whose timeline was not written (the sender died in between)
    task = task_due(inspection, finance, TODAY + days(5))
    with at(TODAY):
        reminders.plan_day()
        ReminderDigest.objects.update(state=DeliveryState.SENT, recorded=False)
        assert not task.events.filter(kind=EventKind.REMINDER).exists()
        # When the next run delivers
        reminders.deliver(reminders.local_today())
    # Then the timeline is written, once, and nothing is sent again
    assert task.events.filter(kind=EventKind.REMINDER).count() == 1
    assert smtp.handler.received == []


@pytest.mark.django_db
def test_a_supervisor_gets_a_weekly_summary_of_counts_red_units_and_longest_overdue(
    inspection, finance, planning, alice, carol, smtp
):
    oldest = task_due(inspection, planning, TODAY - days(50), title="规划审批超期未整改")
    task_due(inspection, finance, TODAY - days(3))
    task_due(inspection, finance, TODAY - days(4))
    task_due(inspection, finance, TODAY + days(5))
    with at(TODAY):
        reminders.plan_weekly()
        reminders.plan_weekly()  # beat fired twice: still one summary
        reminders.deliver(reminders.local_today())
    (received,) = smtp.handler.to("carol@example.org")
    assert received.subject == "【逾期3项】整改工作周报(2026-11-02当周)"
    text = received.part("text/plain")
    assert "财政局:逾期2项,最长4天" in text
    assert "规划局:逾期1项,最长50天" in text
    assert f"/tasks/{oldest.pk}/" in text and "逾期50天" in text
    # The 督办 rule proposes a 督办通知书 for 规划局 (50 days overdue), none yet for 财政局 (3–4)
    assert "建议下发的督办文书" in text and "规划局:督办通知书(1项任务)" in text
    assert "财政局:督办通知书" not in text and "/ladder/" in text


# --- never twice, never lost -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_second_identical_reminder(inspection, finance, alice):
    task = task_due(inspection, finance, TODAY - days(1))
    with at(TODAY):
        reminders.plan_day()
    log = ReminderLog.objects.get(task=task, recipient="alice@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderLog.objects.create(
            task=task, recipient=log.recipient, tier=log.tier, day=log.day, digest=log.digest
        )


@pytest.mark.django_db
def test_beat_firing_twice_sends_each_digest_once(inspection, finance, people, smtp):
    task_due(inspection, finance, TODAY - days(40))
    task_due(inspection, finance, TODAY + days(5))
    with at(TODAY, 8, 0):
        first = reminders.sweep()
        second = reminders.sweep()
    assert len(first.sent) == 5 and second.sent == []
    assert smtp.handler.per_recipient() == {
        "alice@example.org": 1,
        "bob@example.org": 1,
        "carol@example.org": 1,
        "finance@example.org": 1,
        "paul@example.org": 1,
    }
    assert ReminderLog.objects.count() == 7  # escalated: 5 recipients, yellow: 2; planned once


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's in-memory test database (shared cache) fails a locked table at once instead"
    " of waiting; two senders on a SQLite file are in tests/test_reminders_sqlite.py",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_claim_disjoint_digests(org, inspection, smtp, rectify):
    # Given 30 units, each with a clerk and an overdue task, sent in batches of 4
    rectify(REMINDER_BATCH_SIZE=4)
    user_model = get_user_model()
    from tracker.choices import UnitRole
    from tracker.models import Membership

    for n in range(30):
        unit = factories.make_unit(org, f"单位{n}", "")
        user = user_model.objects.create_user(username=f"clerk{n}", email=f"clerk{n}@example.org")
        Membership.objects.create(user=user, unit=unit, role=UnitRole.CLERK)
        task_due(inspection, unit, TODAY - days(2))
    reminders.plan_day(TODAY)
    # When two sweeps run at the same moment in two threads (two database connections)
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            reports.append(reminders.sweep(TODAY))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every clerk got exactly one email, and the two sweeps split the work
    assert errors == []
    assert smtp.handler.per_recipient() == {f"clerk{n}@example.org": 1 for n in range(30)}
    assert sum(len(r.sent) for r in reports) == 30
    assert {r for report in reports for r, _t in report.sent} == {
        f"clerk{n}@example.org" for n in range(30)
    }


@pytest.mark.django_db
def test_smtp_refusing_temporarily_is_retried_with_backoff_then_sent_once(
    inspection, finance, alice, rectify
):
    rectify(REMINDER_RETRY_SECONDS=60)
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    with SMTPServer(Handler(temp_failures=1)) as server:
        from django.test import override_settings

        with override_settings(**server.settings()):
            # The 08:00 sweep meets "451 try again later"
            with at(TODAY, 8, 0):
                first = reminders.sweep()
            digest = ReminderDigest.objects.get(recipient="alice@example.org")
            assert (first.retried, digest.state, digest.attempts) == (1, DeliveryState.PENDING, 1)
            assert "451" in digest.last_error
            assert server.handler.received == []
            # Half a minute later the backoff has not run out: the catch-up sends nothing
            with at(TODAY, 8, 0, 30):
                assert reminders.deliver(reminders.local_today()).sent == []
            # After the backoff the server accepts: sent once
            with at(TODAY, 8, 2):
                second = reminders.deliver(reminders.local_today())
            assert [r for r, _t in second.sent] == ["alice@example.org"]
            with at(TODAY, 9, 17):
                assert reminders.deliver(reminders.local_today()).sent == []
    assert server.handler.per_recipient() == {"alice@example.org": 1}
    digest.refresh_from_db()
    assert (digest.state, digest.attempts, digest.last_error) == (DeliveryState.SENT, 2, "")


@pytest.mark.django_db
def test_the_celery_sender_queues_a_temporary_failure_again_for_when_its_backoff_is_due(
    inspection, finance, alice, rectify, monkeypatch
):
    from tracker import tasks

    # Given the server answers "451 try again later" once, and retries wait 60 seconds
    rectify(REMINDER_RETRY_SECONDS=60)
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    queued: list[dict] = []
    # (the broker is not what this is about: record what the task asks it to do)
    monkeypatch.setattr(
        tasks.send_digest,
        "apply_async",
        lambda args, countdown: queued.append({"args": args, "countdown": countdown}),
    )
    with SMTPServer(Handler(temp_failures=1)) as server:
        from django.test import override_settings

        with override_settings(**server.settings()):
            with at(TODAY, 8, 0):
                reminders.plan_day()
                (digest_id,) = reminders.claimable_ids(reminders.local_today())
                # When the worker's send_digest meets the refusal
                first = tasks.send_digest([digest_id])
            # Then it has queued itself again for the moment the backoff runs out, not for the
            # next hourly catch-up
            assert (first["sent"], first["retried"], first["retry_in"]) == (0, 1, 60)
            assert queued == [{"args": [[digest_id]], "countdown": 60}]
            # and that run, a minute later, sends the email, once, and queues nothing more
            with at(TODAY, 8, 1):
                second = tasks.send_digest(*queued[0]["args"])
    assert (second["sent"], second["retry_in"]) == (1, None)
    assert len(queued) == 1
    assert server.handler.per_recipient() == {"alice@example.org": 1}


@pytest.mark.django_db
def test_a_sender_that_crashes_leaves_no_claim_in_sending(
    inspection, finance, alice, smtp, monkeypatch, rectify
):
    from tracker import emails

    rectify(REMINDER_RETRY_SECONDS=60)
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    # Given rendering the digest fails with a bug, once
    render = emails.reminder_digest
    calls = []

    def broken_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("template bug")
        return render(*args, **kwargs)

    monkeypatch.setattr(emails, "reminder_digest", broken_once)
    # When the sweep meets it, the error is raised for the log…
    with at(TODAY, 8, 0), pytest.raises(RuntimeError):
        reminders.sweep()
    # …but the digest is not left "sending": it waits for its retry, with the error recorded
    digest = ReminderDigest.objects.get()
    assert (digest.state, digest.claim_token, digest.attempts) == (DeliveryState.PENDING, "", 1)
    assert "template bug" in digest.last_error
    # and once the backoff has run out the next run sends it
    with at(TODAY, 8, 2):
        assert [r for r, _t in reminders.deliver(reminders.local_today()).sent] == [
            "alice@example.org"
        ]
    assert smtp.handler.per_recipient() == {"alice@example.org": 1}


@pytest.mark.django_db
def test_a_permanent_refusal_is_recorded_and_not_retried(
    inspection, finance, alice, bob, admin_client
):
    task_due(inspection, finance, TODAY + days(5))
    handler = Handler(refuse={"bob@example.org"})
    with SMTPServer(handler) as server:
        from django.test import override_settings

        with override_settings(**server.settings()), at(TODAY):
            report = reminders.sweep()
            assert reminders.deliver(reminders.local_today()).sent == []
    assert (len(report.sent), report.failed) == (1, 1)
    assert handler.per_recipient() == {"alice@example.org": 1}
    failed = ReminderDigest.objects.get(recipient="bob@example.org")
    assert failed.state == DeliveryState.FAILED and "550" in failed.last_error
    # and administrators see it among the failures in the admin
    page = admin_client.get("/admin/tracker/reminderdigest/", {"state__exact": "failed"})
    assert page.status_code == 200
    assert "bob@example.org" in page.content.decode()
    assert "alice@example.org" not in page.content.decode()


@pytest.mark.django_db
def test_an_abandoned_claim_is_taken_over_after_its_lease(inspection, finance, alice, smtp):
    # Given a sweep claimed alice's digest and died before sending (the worker was killed)
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    with at(TODAY, 8, 0):
        reminders.plan_day()
        token, claimed = reminders.claim(reminders.local_today())
    assert len(claimed) == 1
    # While the lease runs, nobody else sends it
    with at(TODAY, 8, 10):
        assert reminders.deliver(reminders.local_today()).sent == []
    # After the lease (15 minutes) the catch-up run takes it over and sends it, once
    with at(TODAY, 9, 17):
        assert len(reminders.deliver(reminders.local_today()).sent) == 1
        assert reminders.deliver(reminders.local_today()).sent == []
    assert smtp.handler.per_recipient() == {"alice@example.org": 1}
    assert ReminderDigest.objects.get().attempts == 2


@pytest.mark.django_db
def test_a_claim_abandoned_too_often_is_marked_failed(inspection, finance, alice, rectify, smtp):
    rectify(REMINDER_MAX_ATTEMPTS=2)
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    for minute in (0, 20):
        with at(TODAY, 8, minute):
            if minute == 0:
                reminders.plan_day()
            assert reminders.claim(reminders.local_today())[1]
    with at(TODAY, 9, 0):
        assert reminders.deliver(reminders.local_today()).sent == []
    digest = ReminderDigest.objects.get()
    assert digest.state == DeliveryState.FAILED and "中断" in digest.last_error
    assert smtp.handler.received == []


@pytest.mark.django_db
def test_yesterdays_unsent_digest_is_superseded_by_todays(inspection, finance, alice, smtp):
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    with at(TODAY - days(1)):
        reminders.plan_day()  # planned, never sent (SMTP down all day)
    with at(TODAY):
        reminders.sweep()
    states = dict(ReminderDigest.objects.values_list("day", "state"))
    assert states == {
        TODAY - days(1): DeliveryState.SUPERSEDED,
        TODAY: DeliveryState.SENT,
    }
    assert smtp.handler.per_recipient() == {"alice@example.org": 1}


@pytest.mark.django_db
def test_the_catch_up_run_never_plans_before_the_daily_sweep_time(
    inspection, finance, alice, settings
):
    from tracker import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    task_due(inspection, finance, TODAY + days(5))  # yellow: alice alone
    with at(TODAY, 7, 17):
        assert tasks.catch_up_sweep()["planned"] is False
    assert mail.outbox == []
    with at(TODAY, 8, 17):
        assert tasks.catch_up_sweep()["planned"] is True
        assert tasks.catch_up_sweep()["planned"] is False
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


# --- the command and the admin --------------------------------------------------------------


@pytest.mark.django_db
def test_dry_run_prints_what_would_be_sent_and_sends_nothing(
    inspection, finance, alice, bob, capsys, smtp
):
    task_due(inspection, finance, TODAY + days(5))
    task_due(inspection, finance, TODAY - days(2))
    call_command("send_reminders", "--dry-run", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert "alice@example.org\t已逾期\t1" in out
    assert "alice@example.org\t即将到期\t1" in out
    assert "bob@example.org\t即将到期\t1" in out
    assert smtp.handler.received == []
    assert not ReminderLog.objects.exists() and not ReminderDigest.objects.exists()


@pytest.mark.django_db
def test_the_command_sends_for_a_given_date_and_prints_it(inspection, finance, alice, capsys, smtp):
    task_due(inspection, finance, TODAY - days(2))
    call_command("send_reminders", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert "alice@example.org\t已逾期\t1" in out and "finance@example.org\t已逾期\t1" in out
    assert "sent 2" in out
    assert smtp.handler.per_recipient() == {"alice@example.org": 1, "finance@example.org": 1}
    assert set(ReminderDigest.objects.values_list("day", flat=True)) == {TODAY}


@pytest.mark.django_db
def test_the_reminder_log_admin_lists_rows_in_constant_queries(
    inspection, finance, alice, bob, admin_client
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/admin/tracker/reminderlog/").status_code == 200
        return len(ctx.captured_queries)

    task_due(inspection, finance, TODAY - days(1))
    with at(TODAY):
        reminders.plan_day()
    few = page_queries()
    for n in range(10):
        task_due(inspection, finance, TODAY - days(n + 2))
    with at(TODAY):
        reminders.plan_day()
    assert ReminderLog.objects.count() == 33  # alice, bob and 财政局's address, 11 tasks
    assert page_queries() == few
