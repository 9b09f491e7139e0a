"""Supervisors set up an inspection in the app and assign its work.

Carol (整改办, supervisor of the organization) opens a new inspection, enters its problems and
assigns them, one by one and many at once; each change is a history event naming her. Alice
(clerk of 财政局), Dave (observer) and Mallory (no role) find none of these pages (404), and a
supervisor of another organization cannot reach this one's. A bulk assignment that one task
refuses changes no task.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests import factories
from tests.conftest import PASSWORD
from tracker import actions
from tracker.choices import EventKind, EventSource, ProblemKind, ScopeRole, TaskType
from tracker.documents.notice import build_notice
from tracker.documents.text import render_text
from tracker.models import Inspection, Problem, ScopeAssignment, Task, TaskEvent

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_carol_opens_an_inspection_and_enters_its_problems(client, carol, org, finance, planning):
    login(client, carol)
    # Given Carol on the inspections page
    page = client.get(reverse("tracker:inspection_list"))
    assert page.status_code == 200
    assert "新建巡视巡察" in page.content.decode()
    # When she creates the inspection of her organization
    response = client.post(
        reverse("tracker:inspection_new"),
        {
            "organization": org.pk,
            "level": "city",
            "round_name": "十五届市委第三轮",
            "kind": "regular",
            "group": "市委第二巡察组",
            "feedback_date": "2026-10-15",
        },
    )
    inspection = Inspection.objects.get(group="市委第二巡察组")
    assert response.status_code == 302
    assert response["Location"] == reverse("tracker:inspection_problems", args=[inspection.pk])
    # And adds a category and a problem under it, with units, leader, type and deadline
    problems = reverse("tracker:inspection_problems", args=[inspection.pk])
    client.post(
        problems, {"form": "problem", "p-kind": ProblemKind.CATEGORY, "p-title": "关于党的建设方面"}
    )
    category = Problem.objects.get(inspection=inspection, kind=ProblemKind.CATEGORY)
    response = client.post(
        problems,
        {
            "form": "problem",
            "p-kind": ProblemKind.PROBLEM,
            "p-parent": category.pk,
            "p-label": "1.",
            "p-title": "财政资金监管不严",
            "p-owner_unit": finance.pk,
            "p-responsible_units": [planning.pk],
            "p-lead_unit": planning.pk,
            "p-lead_leader": "王某某(副书记)",
            "p-task_type": TaskType.DEADLINE,
            "p-deadline": "2026-12-31",
            "p-measures": "一是建立台账\n二是完善制度\n",
        },
    )
    assert response.status_code == 302
    # Then the problem has its task with everything she entered, each recorded as hers
    task = Task.objects.get(inspection=inspection)
    assert task.problem.parent == category
    assert task.owner_unit == finance and task.lead_unit == planning
    assert set(task.responsible_units.all()) == {finance, planning}
    assert task.lead_leader_name == "王某某"
    assert task.deadline == datetime.date(2026, 12, 31)
    assert [m.text for m in task.measures.order_by("order")] == ["一是建立台账", "二是完善制度"]
    kinds = set(TaskEvent.objects.filter(task=task, actor=carol).values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.RESPONSIBLE_UNITS, EventKind.LEAD_LEADER} <= kinds
    # And the page lists it under its category
    page = client.get(problems).content.decode()
    assert "关于党的建设方面" in page and "财政资金监管不严" in page


def test_a_problem_of_the_deadline_type_needs_a_deadline_and_an_owner(client, carol, inspection):
    login(client, carol)
    page = client.post(
        reverse("tracker:inspection_problems", args=[inspection.pk]),
        {"form": "problem", "p-kind": "problem", "p-title": "无时限", "p-task_type": "deadline"},
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "请选择责任主体" in body and "限期整改的问题须填写整改时限" in body
    assert not Problem.objects.filter(title="无时限").exists()


def test_carol_assigns_three_tasks_at_once_each_change_in_their_history(
    client, carol, inspection, finance, planning
):
    tasks = [factories.make_task(inspection, owner=finance) for _ in range(3)]
    untouched = factories.make_task(inspection, owner=finance)
    login(client, carol)
    # When she selects three tasks and sets lead unit, leader, type and deadline together
    response = client.post(
        reverse("tracker:inspection_problems", args=[inspection.pk]),
        {
            "form": "assign",
            "a-tasks": [t.pk for t in tasks],
            "a-lead_unit": planning.pk,
            "a-set_responsible": "on",
            "a-responsible_units": [planning.pk],
            "a-lead_leader": "李某某",
            "a-task_type": TaskType.IMMEDIATE,
            "a-deadline": "2027-01-31",
            "a-reason": "整改方案分工",
        },
    )
    assert response.status_code == 302
    # Then each of the three has them, with one event per field naming her and the reason
    for task in tasks:
        task.refresh_from_db()
        assert task.lead_unit == planning
        assert set(task.responsible_units.all()) == {finance, planning}  # the owner stays one
        assert (task.lead_leader_name, task.task_type) == ("李某某", TaskType.IMMEDIATE)
        assert task.deadline == datetime.date(2027, 1, 31)
        events = TaskEvent.objects.filter(task=task, actor=carol, reason="整改方案分工")
        assert set(events.values_list("kind", flat=True)) == {
            EventKind.LEAD_UNIT,
            EventKind.RESPONSIBLE_UNITS,
            EventKind.LEAD_LEADER,
            EventKind.TYPE,
            EventKind.DEADLINE,
        }
    # And the task she did not select is as it was
    untouched.refresh_from_db()
    assert untouched.lead_unit is None and untouched.lead_leader_name == ""


def test_a_bulk_assignment_one_task_refuses_changes_none(client, carol, inspection, finance):
    open_task = factories.make_task(inspection, owner=finance)
    closed = factories.make_task(inspection, owner=finance)
    factories.ready_for_closeout(closed)
    actions.admin_set_status(closed, "closed", factories.SYSTEM, reason="测试")
    login(client, carol)
    page = client.post(
        reverse("tracker:inspection_problems", args=[inspection.pk]),
        {"form": "assign", "a-tasks": [open_task.pk, closed.pk], "a-deadline": "2027-03-31"},
    )
    # Then she is told which task refused and why, and neither task changed
    assert page.status_code == 200
    body = page.content.decode()
    assert "未修改任何任务" in body and f"#{closed.pk}" in body and "已销号" in body
    open_task.refresh_from_db()
    assert open_task.deadline != datetime.date(2027, 3, 31)
    assert not TaskEvent.objects.filter(task=open_task, kind=EventKind.DEADLINE).exists()


def test_an_assignment_with_nothing_to_change_is_refused(client, carol, finance_task):
    login(client, carol)
    page = client.post(
        reverse("tracker:inspection_problems", args=[finance_task.inspection_id]),
        {"form": "assign", "a-tasks": [finance_task.pk]},
    )
    assert page.status_code == 200
    assert "请至少选择一项要修改的内容" in page.content.decode()


def test_carol_withholds_a_problem_and_the_notice_counts_it_without_printing_it(
    client, carol, inspection, finance
):
    secret = factories.make_task(inspection, owner=finance, title="某案件线索处置不及时")
    factories.make_task(inspection, owner=finance, title="公开的问题")
    login(client, carol)
    response = client.post(
        reverse("tracker:problem_edit", args=[inspection.pk, secret.problem_id]),
        {"title": secret.problem.title, "label": "", "withheld": "case", "reason": "在办案件"},
    )
    assert response.status_code == 302
    event = TaskEvent.objects.get(task=secret, kind=EventKind.WITHHELD)
    assert (event.old_value, event.new_value, event.actor) == ("", "case", carol)
    text = render_text(build_notice(inspection))
    assert "某案件线索处置不及时" not in text and "公开的问题" in text
    # And the task page's history says it in words
    page = client.get(reverse("tracker:task_detail", args=[secret.pk])).content.decode()
    assert "公开设置变更" in page and "在办案件" in page


def test_rewording_a_problem_is_recorded_on_its_task(carol, finance_task):
    actor = actions.Actor.of(carol, EventSource.USER)
    actions.edit_problem(finance_task.problem, actor, title="财政资金监管不严的问题")
    event = TaskEvent.objects.get(task=finance_task, kind=EventKind.PROBLEM)
    assert event.old_value == "财政资金监管不到位"
    assert event.new_value == "财政资金监管不严的问题"
    finance_task.refresh_from_db()
    assert finance_task.version == 2  # a form loaded before the rewording is now stale


@pytest.mark.parametrize("persona", ["alice", "bob", "dave", "eve", "mallory"])
def test_nobody_but_supervisors_finds_these_pages(client, request, persona, finance_task):
    user = request.getfixturevalue(persona)
    login(client, user)
    inspection = finance_task.inspection
    for url in (
        reverse("tracker:inspection_list"),
        reverse("tracker:inspection_new"),
        reverse("tracker:inspection_edit", args=[inspection.pk]),
        reverse("tracker:inspection_problems", args=[inspection.pk]),
        reverse("tracker:problem_edit", args=[inspection.pk, finance_task.problem_id]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"form": "assign"}).status_code == 404, url


def test_a_supervisor_of_another_organization_cannot_reach_this_one(client, finance_task):
    other_org = factories.make_org("中共另一区委员会")
    frank = factories.make_unit(other_org, "另一区财政局")
    user = get_user_model().objects.create_user("frank", password=PASSWORD)
    ScopeAssignment.objects.create(user=user, role=ScopeRole.SUPERVISOR, organization=other_org)
    login(client, user)
    inspection = finance_task.inspection
    assert (
        client.get(reverse("tracker:inspection_problems", args=[inspection.pk])).status_code == 404
    )
    # And the organizations she may open an inspection of are her own only
    page = client.get(reverse("tracker:inspection_new")).content.decode()
    assert other_org.name in page and inspection.organization.name not in page
    # And the action refuses even when called directly
    with pytest.raises(actions.NotAllowed):
        actions.create_inspection(inspection.organization, actions.Actor.of(user))
    with pytest.raises(actions.NotAllowed):
        actions.assign_tasks(
            [finance_task], actions.Assignment(owner_unit=frank), actions.Actor.of(user)
        )


def test_the_assignment_page_reads_in_a_fixed_number_of_queries(
    client, carol, inspection, finance, planning, django_assert_max_num_queries
):
    category = factories.make_category(inspection)
    for _ in range(12):
        task = factories.make_task(inspection, owner=finance, category=category)
        actions.change_responsible_units(task, [finance, planning], factories.SYSTEM)
    login(client, carol)
    url = reverse("tracker:inspection_problems", args=[inspection.pk])
    client.get(url)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_every_change_of_an_inspection_is_a_row_of_its_history(client, carol, org):
    from tracker.models import InspectionEvent

    actor = actions.Actor.of(carol, EventSource.USER)
    inspection = actions.create_inspection(
        org, actor, group="市委第二巡察组", feedback_date=datetime.date(2026, 10, 15)
    )
    actions.edit_inspection(
        inspection,
        actor,
        reason="反馈会改期",
        group="市委第二巡察组",  # unchanged: no row
        feedback_date=datetime.date(2026, 10, 20),
    )
    rows = list(InspectionEvent.objects.filter(inspection=inspection).order_by("pk"))
    assert [(r.field, r.old_value, r.new_value, r.actor) for r in rows] == [
        ("created", "", str(inspection), carol),
        ("feedback_date", "2026-10-15", "2026-10-20", carol),
    ]
    assert rows[1].reason == "反馈会改期"
    # The edit page shows them in words
    client.force_login(carol)
    page = client.get(reverse("tracker:inspection_edit", args=[inspection.pk])).content.decode()
    assert "修改记录" in page and "反馈日期" in page and "2026-10-20" in page
    # Only an administrator corrects the declared figures
    with pytest.raises(actions.NotAllowed):
        actions.edit_inspection(inspection, actor, declared={"problems": 9})


def test_the_admin_changes_an_inspection_through_the_same_action(admin_client, inspection):
    from tracker.models import InspectionEvent

    url = reverse("admin:tracker_inspection_change", args=[inspection.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        feedback_date="2026-09-05",
        declared='{"problems": 12}',
        **{
            f"{prefix}-{key}": value
            for prefix in ("reports", "outcomes", "problems", "events")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    rows = InspectionEvent.objects.filter(inspection=inspection, source=EventSource.ADMIN)
    assert {r.field: r.new_value for r in rows} == {
        "feedback_date": "2026-09-05",
        "declared": '{"problems": 12}',
    }


def test_inspection_history_cannot_be_rewritten(carol, org):
    from django.db import connection

    from tracker.models import HistoryIsAppendOnly, InspectionEvent

    inspection = actions.create_inspection(org, actions.Actor.of(carol), group="第三巡察组")
    event = InspectionEvent.objects.get(inspection=inspection)
    with pytest.raises(HistoryIsAppendOnly):
        InspectionEvent.objects.filter(pk=event.pk).update(new_value="x")
    with pytest.raises(HistoryIsAppendOnly):
        event.save()
    if connection.vendor == "postgresql":
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tracker_inspectionevent SET new_value = 'x' WHERE id = %s", [event.pk]
            )


def test_outcomes_recorded_in_the_admin_are_rows_of_the_inspection_history(
    admin_client, inspection
):
    from decimal import Decimal

    from tracker.models import InspectionEvent, InspectionOutcome

    url = reverse("admin:tracker_inspection_change", args=[inspection.pk])

    def post(outcomes: list[dict]):
        form = admin_client.get(url).context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
        data["declared"] = "{}"
        for prefix in ("reports", "problems", "events"):
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        existing = list(InspectionOutcome.objects.filter(inspection=inspection).order_by("pk"))
        data.update(
            {
                "outcomes-TOTAL_FORMS": str(len(outcomes)),
                "outcomes-INITIAL_FORMS": str(len(existing)),
            }
        )
        for i, row in enumerate(outcomes):
            data.update({f"outcomes-{i}-{k}": v for k, v in row.items()})
            data[f"outcomes-{i}-inspection"] = inspection.pk
            if i < len(existing):
                data[f"outcomes-{i}-id"] = existing[i].pk
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.context and response.context["errors"]

    # An administrator records 2 party disciplinary actions, then corrects them to 3
    post([{"kind": "party_discipline", "value": "2", "note": ""}])
    post([{"kind": "party_discipline", "value": "3", "note": "含1名科级干部"}])
    [outcome] = InspectionOutcome.objects.filter(inspection=inspection)
    assert outcome.value == Decimal(3)
    rows = InspectionEvent.objects.filter(inspection=inspection, field="outcome:party_discipline")
    assert [(r.old_value, r.new_value) for r in rows.order_by("pk")] == [
        ("", "2"),
        ("2", "3(含1名科级干部)"),
    ]
    # And removing it is recorded too
    post([{"kind": "party_discipline", "value": "3", "note": "含1名科级干部", "DELETE": "on"}])
    assert not InspectionOutcome.objects.filter(inspection=inspection).exists()
    assert rows.order_by("pk").last().new_value == ""
