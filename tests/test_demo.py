"""A newcomer's first ``make run``: the demo lives. It is dated from today, several units have
people, the dashboard lights red, yellow and green, and reviews are waiting for the lead and the
supervisor."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from tracker import demo, selectors
from tracker.choices import CloseoutStatus, TaskStatus
from tracker.models import CloseoutRequest, Task
from tracker.permissions import access_for, closeouts_to_review, extensions_to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def user(name):
    return get_user_model().objects.get(username=name)


def test_the_demo_prints_accounts_of_several_units_and_builds_once(loaded):
    for name in ("admin", "clerk", "lead", "clerk2", "lead2", "supervisor", "observer"):
        assert f"  {name} " in loaded
    assert "Built the living demo" in loaded
    count = Task.objects.count()
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "Built the living demo" not in again.getvalue()
    assert Task.objects.count() == count


def test_the_supervisors_dashboard_shows_all_three_lights(loaded):
    data = selectors.dashboard(access_for(user("supervisor")).tasks(), use_cache=False)
    lamps = {row["name"]: row["lamp"] for row in data["units"]}
    assert lamps["财政局"] == "red"  # an overdue task
    assert lamps["规划局"] == "yellow"  # due within days
    assert "green" in lamps.values()
    assert data["totals"]["overdue"] >= 1 and data["totals"]["report_due"] == 1


def test_reviews_wait_for_the_lead_and_the_supervisor(loaded):
    lead_queue = list(closeouts_to_review(access_for(user("lead"))))
    assert [c.status for c in lead_queue] == [CloseoutStatus.PENDING_LEAD]
    supervisor = access_for(user("supervisor"))
    stages = {c.status for c in closeouts_to_review(supervisor)}
    assert CloseoutStatus.PENDING_SUPERVISOR in stages
    assert len(list(extensions_to_review(supervisor))) == 1
    # a closed task and a reopened one are on record
    assert Task.objects.filter(
        status=TaskStatus.CLOSED, inspection__organization__name=demo.ORGANIZATION
    ).exists()
    assert CloseoutRequest.objects.filter(status=CloseoutStatus.REOPENED).exists()


def test_every_page_a_newcomer_opens_shows_something(client, loaded):
    for name, url, expected in [
        ("clerk", reverse("tracker:task_list"), "专项资金拨付滞后"),
        ("lead", reverse("tracker:review_queue"), "政府采购内控制度执行不严"),
        ("supervisor", reverse("tracker:review_queue"), "违法建设整治不彻底"),
        ("supervisor", reverse("tracker:dashboard"), "财政局"),
        ("observer", reverse("tracker:dashboard"), "规划局"),
        ("clerk3", reverse("tracker:task_list"), "教师招聘程序不规范"),
    ]:
        client.force_login(user(name))
        response = client.get(url)
        assert response.status_code == 200, (name, url)
        assert expected in response.content.decode(), (name, url)


def test_the_demo_tasks_come_from_the_shipped_plan_imported_by_the_supervisor(loaded):
    # The shipped spreadsheet reads as the demo's tasks say (rebuild it with build_demo_plan)
    from tracker.importer import plan

    parsed = plan.read_plan(demo.plan_path().read_bytes(), demo.PLAN_FILE, demo.PLAN_FEEDBACK)
    assert not parsed.errors
    by_title = {row.problem: row for row in parsed.rows}
    assert set(by_title) == {spec.title for spec in demo.TASKS}
    for spec in demo.TASKS:
        row = by_title[spec.title]
        assert row.owner_name == spec.owner
        assert row.other_units == list(spec.responsible)
        assert (row.lead_unit, row.lead_leader) == (spec.lead_unit, spec.leader)
        assert row.task_type == spec.task_type
        assert len(row.measures) == len(demo.MEASURES)
    # And every demo task was created by the supervisor's plan import, its deadline moved to
    # today's scenario
    from tracker.choices import EventKind, EventSource
    from tracker.models import TaskEvent, local_today

    tasks = Task.objects.filter(inspection__organization__name=demo.ORGANIZATION)
    created = TaskEvent.objects.filter(task__in=tasks, kind=EventKind.CREATED)
    assert set(created.values_list("source", "actor__username")) == {
        (EventSource.PLAN, "supervisor")
    }
    overdue = tasks.get(problem__title=demo.TASKS[0].title)
    assert overdue.deadline == local_today() + datetime.timedelta(days=demo.TASKS[0].days)
    assert overdue.lead_leader_name == "王某某"


def test_supervision_lives_in_the_demo_too(client, loaded):
    from tracker.models import RecheckRound, SupervisionDocument

    tasks = Task.objects.filter(inspection__organization__name=demo.ORGANIZATION)
    waiting = [t for t in tasks.select_related("owner_unit") if t.awaits_acknowledgement]
    assert {t.owner_unit.name for t in waiting} == {"卫生健康局"}
    [document] = SupervisionDocument.objects.filter(tasks__in=tasks).distinct()
    assert document.rung == "notice" and document.replied_at is None
    assert RecheckRound.objects.filter(items__task__in=tasks).distinct().count() == 1
    client.force_login(user("supervisor"))
    assert document.reference in client.get(reverse("tracker:ladder")).content.decode()
    client.force_login(user("clerk"))
    page = client.get(reverse("tracker:notification_list")).content.decode()
    assert "督办文书" in page
