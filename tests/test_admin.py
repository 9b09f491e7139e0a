"""The admin, in Chinese: every changelist, add and change page renders; edits write history."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tracker.choices import EventKind, EventSource, TaskStatus
from tracker.models import NoticeReport, SourceNotice, TaskEvent

pytestmark = pytest.mark.django_db

MODELS = [m for m in admin.site._registry if m._meta.app_label == "tracker"]


@pytest.fixture
def world(inspection, finance, finance_task, planning_task, carol, alice, settings, tmp_path):
    """At least one row of every model the admin shows, made through the app's own paths."""
    import base64

    from django.core.files.uploadedfile import SimpleUploadedFile

    from tracker import actions, reminders

    settings.MEDIA_ROOT = tmp_path
    notice = SourceNotice.objects.create(file_name="n.txt", sha256="0" * 64, raw_text="…")
    NoticeReport.objects.create(notice=notice, inspection=inspection, organization_name="x")
    as_alice = actions.Actor.of(alice)
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    actions.add_evidence(finance_task, SimpleUploadedFile("证明.png", png, "image/png"), as_alice)
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(finance_task, as_alice, summary="已整改到位")
    # A date later than both the deadline and today, whatever day the suite runs on.
    later = max(planning_task.deadline, timezone.localdate()) + datetime.timedelta(days=30)
    actions.request_extension(
        planning_task,
        actions.Actor.of(carol),
        new_deadline=later,
        reason="需要跨年度实施",
    )
    # 规划局's 企业微信 group has a robot: the plan also writes its channel delivery.
    from tracker.models import ReminderChannel

    ReminderChannel.objects.create(
        name="规划局工作群",
        kind="wecom",
        unit=planning_task.owner_unit,
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )
    # Overdue on the sweep day: the reminder plan writes a sweep, digests and log rows.
    reminders.plan_day(planning_task.deadline + datetime.timedelta(days=1))
    # Supervision: a 督办通知书 about an overdue task, a re-check round over a closed one, and a
    # later inspection repeating a problem (屡巡屡犯).
    as_carol = actions.Actor.of(carol)
    overdue = factories.make_task(
        inspection, owner=finance, deadline=timezone.localdate() - datetime.timedelta(days=9)
    )
    actions.issue_ladder_document([overdue], "notice", as_carol)
    closed = factories.make_task(inspection, owner=finance)
    actions.admin_set_status(closed, "closed", factories.SYSTEM, reason="测试")
    actions.draw_recheck_sample(inspection, as_carol, seed=1, count=1, name="抽查")
    later_inspection = factories.make_inspection(
        inspection.organization, feedback=inspection.feedback_date + datetime.timedelta(days=400)
    )
    factories.make_task(later_inspection, owner=finance, title=finance_task.problem.title)
    from tracker.models import RepeatLink

    actions.recompute_repeats([later_inspection], factories.SYSTEM)
    assert RepeatLink.objects.exists()
    from tracker.api import tokens

    tokens.issue(carol)  # carol's OA system reads with an API token
    return {"task": finance_task, "notice": notice}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_render(admin_client, admin_user, rf, world, model):
    """Every admin page opens for a superuser; read-only models (history, reviews, reminder
    log) refuse their add page, since only tracker.actions and the sweep write them."""
    info = (model._meta.app_label, model._meta.model_name)
    response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert response.status_code == 200
    request = rf.get("/")
    request.user = admin_user
    can_add = admin.site._registry[model].has_add_permission(request)
    response = admin_client.get(reverse("admin:{}_{}_add".format(*info)))
    assert response.status_code == (200 if can_add else 403)
    obj = model.objects.first()
    assert obj is not None, f"no {model.__name__} in the fixture world"
    response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    assert response.status_code == 200


def test_the_admin_speaks_chinese(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert "整改任务" in response.content.decode()


def test_history_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, finance_task):
    event = finance_task.events.get()
    assert admin_client.get(reverse("admin:tracker_taskevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:tracker_taskevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TaskEvent.objects.filter(pk=event.pk).exists()


def _task_form(task, **changes):
    """The change form's POST for ``task`` as loaded (its version), plus ``changes``; with no
    measure or history rows posted (the admin leaves rows it is not sent alone)."""
    data = {
        "problem": task.problem_id,
        "inspection": task.inspection_id,
        "loaded_version": getattr(task, "version", ""),
        "owner_unit": task.owner_unit_id,
        "lead_unit": "",
        "lead_leader_name": "",
        "lead_leader": "",
        "task_type": task.task_type,
        "status": task.status,
        "deadline": task.deadline.isoformat() if task.deadline else "",
        "report_due_on": "",
        "progress": "",
        "change_reason": "",
        "measures-TOTAL_FORMS": "0",
        "measures-INITIAL_FORMS": "0",
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_a_status_and_deadline_change_in_the_admin_writes_history_naming_the_admin(
    admin_client, admin_user, finance_task
):
    url = reverse("admin:tracker_task_change", args=[finance_task.pk])
    response = admin_client.post(
        url,
        _task_form(
            finance_task,
            status=TaskStatus.COMPLETED,
            deadline="2026-12-31",
            change_reason="核实后更正",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.COMPLETED
    assert finance_task.deadline == datetime.date(2026, 12, 31)
    assert finance_task.original_deadline == datetime.date(2026, 11, 1)
    events = finance_task.events.exclude(kind=EventKind.CREATED)
    assert {e.kind for e in events} == {EventKind.STATUS, EventKind.DEADLINE}
    assert all(e.actor == admin_user and e.source == EventSource.ADMIN for e in events)
    assert all(e.reason == "核实后更正" for e in events)


def test_saving_the_admin_form_without_changes_writes_no_history(admin_client, finance_task):
    url = reverse("admin:tracker_task_change", args=[finance_task.pk])
    assert admin_client.post(url, _task_form(finance_task)).status_code == 302
    assert finance_task.events.count() == 1


def test_adding_a_task_in_the_admin_starts_its_history(
    admin_client, admin_user, inspection, finance
):
    from tracker.models import Problem, Task

    problem = Problem.objects.create(inspection=inspection, title="新发现的问题")
    response = admin_client.post(
        reverse("admin:tracker_task_add"),
        {
            **_task_form(
                type(
                    "T",
                    (),
                    {
                        "problem_id": problem.pk,
                        "inspection_id": inspection.pk,
                        "owner_unit_id": finance.pk,
                        "task_type": "deadline",
                        "status": "not_started",
                        "deadline": None,
                    },
                )()
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Task.objects.get(problem=problem)
    (event,) = task.events.all()
    assert (event.kind, event.actor, event.source) == (
        EventKind.CREATED,
        admin_user,
        EventSource.ADMIN,
    )


def test_task_changelist_queries_are_bounded_and_never_count_every_row(
    admin_client, inspection, finance
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:tracker_task_changelist")

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    for _ in range(3):
        factories.make_task(inspection, owner=finance)
    few = queries()
    for _ in range(30):
        factories.make_task(inspection, owner=finance)
    many = queries()
    assert len(few) == len(many)
    assert any("LIMIT 10001" in sql for sql in many)  # the capped count
    assert not any(
        sql.startswith('SELECT COUNT(*) AS "__count" FROM "tracker_task"') for sql in many
    )


def test_a_superusers_app_list_is_djangos_and_each_page_gets_its_own(rf, admin_user):
    from django.contrib import admin as django_admin

    from tracker.admin_site import RectifyAdminSite

    # Given the project's admin site, and Django's own answer for the same request
    assert isinstance(django_admin.site, RectifyAdminSite)
    request = rf.get("/admin/")
    request.user = admin_user
    expected = django_admin.AdminSite.get_app_list(django_admin.site, request)

    # When two pages ask, the first changing its copy
    first = django_admin.site.get_app_list(request)
    first[0]["models"].clear()
    second = django_admin.site.get_app_list(request)

    # Then each got Django's list
    assert second == expected and second[0]["models"]
