"""Every write path × every persona × every field: the same allowed / refused outcome.

One table (``ALLOWED``) says who may make each change; the README's roles table says the same in
words. Each change is then made through every way into the record that offers it: the actions
themselves, the task page's forms, the ledger upload, the admin change form (with its measure
inline) and the notice import. When refused, no row of the task changed and no event was
written; when allowed, the change happened with its event naming the persona.

Personas (tests/conftest.py): alice clerk of 财政局, bob lead of 财政局, carol supervisor of the
organization, dave observer, eve clerk of 规划局, mallory no role, root a superuser.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict

from tests import factories
from tests.conftest import PASSWORD
from tracker import actions
from tracker.choices import EventSource, TaskStatus, TaskType
from tracker.models import (
    CloseoutRequest,
    Evidence,
    ExtensionRequest,
    Measure,
    Task,
    TaskEvent,
    local_today,
)
from tracker.permissions import ACTION_RULES

pytestmark = pytest.mark.django_db

PERSONAS = ["alice", "bob", "carol", "dave", "eve", "mallory", "root"]

EDITORS = {"alice", "bob", "carol", "root"}
LEAD_REVIEWERS = {"bob", "carol", "root"}
SUPERVISORS = {"carol", "root"}
ADMINS = {"root"}

# Who may make each change (the rule each action names in tracker.permissions.ACTION_RULES).
ALLOWED = {
    "edit": EDITORS,
    "lead_review": LEAD_REVIEWERS,
    "supervise": SUPERVISORS,
    "admin": ADMINS,
}


def allowed(action: str) -> set[str]:
    return ALLOWED[ACTION_RULES[action]]


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def people(alice, bob, carol, dave, eve, mallory, root):
    return {u.username: u for u in (alice, bob, carol, dave, eve, mallory, root)}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def snapshot(task: Task) -> tuple:
    """Everything a refused change must leave as it was."""
    task = Task.objects.get(pk=task.pk)
    row = model_to_dict(task)
    row["responsible_units"] = sorted(u.pk for u in row["responsible_units"])
    return (
        row,
        task.version,
        TaskEvent.objects.filter(task=task).count(),
        list(Measure.objects.filter(task=task).order_by("pk").values()),
        CloseoutRequest.objects.filter(task=task).count(),
        list(CloseoutRequest.objects.filter(task=task).values_list("status", flat=True)),
        list(ExtensionRequest.objects.filter(task=task).values_list("status", flat=True)),
        Evidence.objects.filter(task=task).count(),
    )


# --- the states a change needs ------------------------------------------------------------------


def _done(task):
    return factories.ready_for_closeout(task)


def _at_lead_review(task):
    _done(task)
    actions.request_closeout(task, factories.SYSTEM, summary="完成", no_evidence_reason="线下")
    return task


def _at_supervisor_review(task):
    _at_lead_review(task)
    actions.lead_review_closeout(task, factories.SYSTEM)
    return task


def _with_extension(task):
    actions.request_extension(
        task,
        factories.SYSTEM,
        new_deadline=local_today() + datetime.timedelta(days=40),
        reason="跨年度",
    )
    return task


def _closed(task):
    _at_supervisor_review(task)
    actions.approve_closeout(task, factories.SYSTEM)
    return task


def _same(task):
    return task


def _assigned(task):
    """Given to its unit by a person and not signed for yet (签收)."""
    from django.utils import timezone

    Task.objects.filter(pk=task.pk).update(assigned_at=timezone.now())
    return task


def _overdue(task):
    actions.change_deadline(task, local_today() - datetime.timedelta(days=10), factories.SYSTEM)
    return task


def _with_ladder_document(task):
    _overdue(task)
    actions.issue_ladder_document([task], "notice", factories.SYSTEM)
    return task


def _in_a_recheck_round(task):
    """Closed, and drawn into a re-check round (反向核查) of its inspection."""
    _closed(task)
    actions.draw_recheck_sample(task.inspection, factories.SYSTEM, seed=1, count=1, name="抽查")
    return task


def _recheck_item(task):
    return task.recheck_items.get()


@dataclass
class Change:
    """One change: the action it is, the state it needs, and the call that makes it."""

    action: str
    setup: Callable
    call: Callable  # (task, actor, ctx) -> None


def _png():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_workspace_evidence import PNG_BYTES

    return SimpleUploadedFile("现场.png", PNG_BYTES, content_type="image/png")


def _first_measure(task):
    return task.measures.order_by("order").first()


CHANGES = {
    "status": Change(
        "change_status",
        _same,
        lambda t, a, c: actions.change_status(t, TaskStatus.BASICALLY_COMPLETED, a),
    ),
    "note": Change("record_note", _same, lambda t, a, c: actions.record_note(t, "新进展", a)),
    "tick": Change(
        "tick_measure", _same, lambda t, a, c: actions.tick_measure(t, _first_measure(t), True, a)
    ),
    "not_applicable": Change(
        "mark_measure_not_applicable",
        _same,
        lambda t, a, c: actions.mark_measure_not_applicable(t, _first_measure(t), "不适用", a),
    ),
    "evidence": Change("add_evidence", _same, lambda t, a, c: actions.add_evidence(t, _png(), a)),
    "progress": Change(
        "update_progress",
        _same,
        lambda t, a, c: actions.update_progress(t, a, expected_version=t.version, note="推进"),
    ),
    "closeout_request": Change(
        "request_closeout",
        _done,
        lambda t, a, c: actions.request_closeout(t, a, summary="完成", no_evidence_reason="线下"),
    ),
    "extension_request": Change(
        "request_extension",
        _same,
        lambda t, a, c: actions.request_extension(
            t, a, new_deadline=local_today() + datetime.timedelta(days=50), reason="原因"
        ),
    ),
    "lead_review": Change(
        "lead_review_closeout", _at_lead_review, lambda t, a, c: actions.lead_review_closeout(t, a)
    ),
    "lead_return": Change(
        "lead_review_closeout",
        _at_lead_review,
        lambda t, a, c: actions.return_closeout(t, a, reason="材料不足"),
    ),
    "approve_closeout": Change(
        "approve_closeout", _at_supervisor_review, lambda t, a, c: actions.approve_closeout(t, a)
    ),
    "supervisor_return": Change(
        "approve_closeout",
        _at_supervisor_review,
        lambda t, a, c: actions.return_closeout(t, a, reason="材料不足"),
    ),
    "approve_extension": Change(
        "approve_extension", _with_extension, lambda t, a, c: actions.approve_extension(t, a)
    ),
    "refuse_extension": Change(
        "refuse_extension",
        _with_extension,
        lambda t, a, c: actions.refuse_extension(t, a, reason="理由不足"),
    ),
    "reopen": Change("reopen", _closed, lambda t, a, c: actions.reopen(t, a, reason="反弹")),
    "deadline": Change(
        "change_deadline",
        _same,
        lambda t, a, c: actions.change_deadline(t, datetime.date(2031, 12, 31), a),
    ),
    "owner": Change(
        "change_owner", _same, lambda t, a, c: actions.change_owner(t, c["planning"], a)
    ),
    "lead_unit": Change(
        "change_lead_unit", _same, lambda t, a, c: actions.change_lead_unit(t, c["planning"], a)
    ),
    "responsible_units": Change(
        "change_responsible_units",
        _same,
        lambda t, a, c: actions.change_responsible_units(t, [c["planning"]], a),
    ),
    "lead_leader": Change(
        "change_lead_leader", _same, lambda t, a, c: actions.change_lead_leader(t, "王某某", a)
    ),
    "type": Change(
        "change_type", _same, lambda t, a, c: actions.change_type(t, TaskType.IMMEDIATE, a)
    ),
    "report_due": Change(
        "change_report_due",
        _same,
        lambda t, a, c: actions.change_report_due(t, datetime.date(2027, 3, 31), a),
    ),
    "add_measure": Change(
        "add_measure", _same, lambda t, a, c: actions.add_measure(t, "三是加强督查", a)
    ),
    "edit_measure": Change(
        "edit_measure",
        _same,
        lambda t, a, c: actions.edit_measure(t, _first_measure(t), "一是建立完善台账", a),
    ),
    "remove_measure": Change(
        "remove_measure", _same, lambda t, a, c: actions.remove_measure(t, _first_measure(t), a)
    ),
    "problem_title": Change(
        "edit_problem",
        _same,
        lambda t, a, c: actions.edit_problem(t.problem, a, title="财政资金监管不严的问题"),
    ),
    "withheld": Change(
        "edit_problem", _same, lambda t, a, c: actions.edit_problem(t.problem, a, withheld="case")
    ),
    "acknowledge": Change("acknowledge", _assigned, lambda t, a, c: actions.acknowledge(t, a)),
    "ladder_issue": Change(
        "issue_ladder_document",
        _overdue,
        lambda t, a, c: actions.issue_ladder_document([t], "notice", a),
    ),
    "ladder_reply": Change(
        "reply_ladder_document",
        _with_ladder_document,
        lambda t, a, c: actions.reply_ladder_document(
            t.supervision_documents.get(), a, text="已整改到位"
        ),
    ),
    "recheck_failed": Change(
        "record_recheck",
        _in_a_recheck_round,
        lambda t, a, c: actions.record_recheck(_recheck_item(t), a, "failed", "群众反映未整改"),
    ),
    "admin_status": Change(
        "admin_set_status",
        _same,
        lambda t, a, c: actions.admin_set_status(t, TaskStatus.COMPLETED, a, reason="更正"),
    ),
}


def test_every_action_is_in_the_matrix():
    """A new action without a row here (and a rule in ACTION_RULES) fails this test."""
    public = {
        name
        for name in dir(actions)
        if not name.startswith("_")
        and callable(getattr(actions, name))
        and getattr(getattr(actions, name), "__module__", "").startswith("tracker.actions")
        and name
        not in {
            "Actor",
            "ActionError",
            "NewTask",
            "NotAllowed",
            "StaleTask",
            "allowed_statuses",
            "closeout_blockers",
            "record_event",
            "record_reminder",
            "record_reminders",
            "create_tasks",  # create_task's bulk form, judged by the same rule
            # judged by create_task's rule on the inspection (tests/test_assign.py)
            "create_inspection",
            "edit_inspection",
            "create_problem",
            "record_outcome",
            "change_outcome",
            "remove_outcome",
            # each task's own changes, judged one by one (tests/test_assign.py)
            "assign_tasks",
            "Assignment",
            "TaskFields",
            "return_closeout",  # judged by the stage it returns from (lead_return, ...)
            # 反向核查: judged by record_recheck's rule, on the round's scope (drawing) or the
            # item's task (assigning); they change no task (tests/test_recheck.py)
            "draw_recheck_sample",
            "assign_checker",
            # a consequence of creating problems, made with the creator's actor
            # (tests/test_repeats.py)
            "link_repeats",
            "recompute_repeats",
        }
    }
    covered = {c.action for c in CHANGES.values()} | {"create_task"}
    assert public == covered == set(ACTION_RULES)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("change", list(CHANGES))
def test_through_the_actions(people, inspection, finance, planning, change, persona):
    spec = CHANGES[change]
    task = spec.setup(factories.make_task(inspection, owner=finance))
    task.refresh_from_db()
    before = snapshot(task)
    actor = actions.Actor.of(people[persona], EventSource.USER)
    ok = persona in allowed(spec.action)
    if ok:
        spec.call(task, actor, {"planning": planning})
        assert snapshot(task) != before
        event = TaskEvent.objects.filter(task=task).latest("id")
        assert event.actor == people[persona]
    else:
        with pytest.raises(actions.NotAllowed):
            spec.call(task, actor, {"planning": planning})
        assert snapshot(task) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_creating_a_task(people, inspection, finance, persona):
    from tracker.choices import ProblemKind
    from tracker.models import Problem

    problem = Problem.objects.create(
        inspection=inspection, kind=ProblemKind.PROBLEM, title="新发现的问题"
    )
    actor = actions.Actor.of(people[persona])
    if persona in allowed("create_task"):
        task = actions.create_task(problem, actor, owner_unit=finance, deadline=None)
        assert task.events.get().actor == people[persona]
    else:
        with pytest.raises(actions.NotAllowed):
            actions.create_task(problem, actor, owner_unit=finance, deadline=None)
        assert not Task.objects.filter(problem=problem).exists()


# --- system actors -------------------------------------------------------------------------------

SYSTEM_ALLOWED = {
    EventSource.IMPORT: {"status", "deadline"},
    EventSource.SWEEP: set(),
}


@pytest.mark.parametrize("source", list(SYSTEM_ALLOWED))
@pytest.mark.parametrize("change", list(CHANGES))
def test_system_actors_make_only_what_they_are_granted(
    inspection, finance, planning, change, source
):
    spec = CHANGES[change]
    task = spec.setup(factories.make_task(inspection, owner=finance))
    task.refresh_from_db()
    before = snapshot(task)
    actor = actions.Actor.system(source, "matrix")
    if change in SYSTEM_ALLOWED[source]:
        spec.call(task, actor, {"planning": planning})
        assert snapshot(task) != before
    else:
        with pytest.raises(actions.NotAllowed):
            spec.call(task, actor, {"planning": planning})
        assert snapshot(task) == before


@pytest.mark.parametrize("change", ["status", "deadline", "owner", "note"])
def test_no_actor_is_refusal(inspection, finance, planning, change):
    spec = CHANGES[change]
    task = factories.make_task(inspection, owner=finance)
    before = snapshot(task)
    with pytest.raises(actions.NotAllowed):
        spec.call(task, actions.Actor(), {"planning": planning})
    assert snapshot(task) == before


# --- the notice import -------------------------------------------------------------------------
#
# A notice's changes are made by its system actor (source 通报导入); a person may only start an
# import when the rule allows it: administrators and supervisors over all organizations. Giving
# someone the admin's "add notice" permission does not make them one.

IMPORTERS = {"root", "chief"}


@pytest.fixture
def chief(db):
    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment

    user = get_user_model().objects.create_user("chief", password=PASSWORD)
    ScopeAssignment.objects.create(user=user, role=ScopeRole.SUPERVISOR, all_organizations=True)
    return user


@pytest.mark.parametrize("persona", [*PERSONAS, "chief"])
def test_who_may_start_a_notice_import(people, chief, persona):
    from pathlib import Path

    from tracker.importer.loader import import_file

    seed = Path(__file__).resolve().parent.parent / "seeds" / "002_e510119d14028505.txt"
    user = chief if persona == "chief" else people[persona]
    if persona in IMPORTERS:
        result = import_file(seed, user=user)
        assert result.tasks_created > 0
        event = TaskEvent.objects.filter(task__inspection__reports__notice=result.notice_id)[0]
        assert (event.source, event.actor) == (EventSource.IMPORT, None)
    else:
        with pytest.raises(actions.NotAllowed):
            import_file(seed, user=user)
        assert not Task.objects.exists()


def test_the_admin_upload_page_follows_the_same_rule(client, carol):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    # carol supervises one organization; given the admin's add-notice permission and staff
    carol.is_staff = True
    carol.save()
    carol.user_permissions.add(Permission.objects.get(codename="add_sourcenotice"))
    client.force_login(carol)
    assert client.get(reverse("admin:tracker_sourcenotice_import")).status_code == 403


# --- the ledger upload -------------------------------------------------------------------------
#
# Each column is one change; an uploaded row is applied exactly where the table allows it. dave
# (observer) and mallory (no role) cannot upload at all (404), eve does not reach the task.

LEDGER_COLUMNS = {
    # column: (action, new value, read back)
    "整改状态": ("change_status", "基本完成", lambda t: t.status == TaskStatus.BASICALLY_COMPLETED),
    "进展情况": ("record_note", "台账里写的进展", lambda t: t.progress == "台账里写的进展"),
    "整改时限": (
        "change_deadline",
        "2031-12-31",
        lambda t: t.deadline == datetime.date(2031, 12, 31),
    ),
    "整改类型": ("change_type", "立行立改", lambda t: t.task_type == TaskType.IMMEDIATE),
    "责任单位": ("change_owner", "规划局", lambda t: t.owner_unit.name == "规划局"),
    "牵头单位": (
        "change_lead_unit",
        "规划局",
        lambda t: t.lead_unit and t.lead_unit.name == "规划局",
    ),
    "牵头领导": ("change_lead_leader", "王某某", lambda t: t.lead_leader_name == "王某某"),
}


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "eve", "root"])
@pytest.mark.parametrize("column", list(LEDGER_COLUMNS))
def test_through_the_ledger(client, people, inspection, finance, planning, column, persona):
    from django.urls import reverse

    from tests.test_ledger import edit, export, sheet_rows, upload

    action, value, changed = LEDGER_COLUMNS[column]
    task = factories.make_task(inspection, owner=finance)
    user = people[persona]
    # eve exports her own (empty) scope: she edits a copy of carol's export instead
    data = export(client, people["carol"] if persona == "eve" else user)
    rows = sheet_rows(data)
    row = next(i for i, r in enumerate(rows, 1) if r[rows[0].index("任务编号")] == task.pk)
    before = snapshot(task)
    preview = upload(client, user, edit(data, {(row, column): value}))
    assert preview.status_code == 200
    client.post(reverse("tracker:ledger_confirm"), {"token": preview.context["token"]})
    task = Task.objects.select_related("owner_unit", "lead_unit").get(pk=task.pk)
    if persona in allowed(action):
        assert changed(task)
        assert TaskEvent.objects.filter(task=task).latest("id").actor == user
    else:
        assert not changed(task)
        assert snapshot(task) == before


@pytest.mark.parametrize("persona", ["dave", "mallory"])
def test_those_who_change_nothing_cannot_upload_a_ledger(client, people, persona):
    from django.urls import reverse

    client.force_login(people[persona])
    assert client.get(reverse("tracker:ledger_upload")).status_code == 404


# --- the admin change form and its measure inline ----------------------------------------------
#
# Every editable field of a task's change form and every kind of measure row, posted by every
# persona given staff status and the admin's task and measure permissions (so that only
# tracker.permissions decides): allowed → saved (302) with one event naming the persona, source
# 管理后台; refused → the form again with the refusal (200), or "does not exist" for those who
# cannot see the task (302 to the admin index), and in both cases nothing changed.


def _admin_field(name: str, value):
    def change(data, ctx):
        data[name] = [str(v(ctx) if callable(v) else v) for v in value]

    return change


def _admin_measure(**values):
    def change(data, ctx):
        from tests.test_admin_history import _measure_rows

        row = _measure_rows(data)[str(_first_measure(ctx["task"]).pk)]
        for key, value in values.items():
            data[f"{row}-{key}"] = [value]

    return change


def _admin_new_measure(data, ctx):
    n = int(data["measures-TOTAL_FORMS"][0])
    data["measures-TOTAL_FORMS"] = [str(n + 1)]
    data.update(
        {
            f"measures-{n}-task": [str(ctx["task"].pk)],
            f"measures-{n}-id": [""],
            f"measures-{n}-order": ["0"],
            f"measures-{n}-text": ["三是加强督查"],
            f"measures-{n}-na_reason": [""],
        }
    )


def _admin_status(data, ctx):
    data["status"] = [TaskStatus.COMPLETED]
    data["change_reason"] = ["核实后更正"]


# form change: (the action it is, how the form data changes)
ADMIN_CHANGES = {
    "owner_unit": ("change_owner", _admin_field("owner_unit", [lambda c: c["planning"].pk])),
    "lead_unit": ("change_lead_unit", _admin_field("lead_unit", [lambda c: c["planning"].pk])),
    "responsible_units": (
        "change_responsible_units",
        _admin_field("responsible_units", [lambda c: c["planning"].pk]),
    ),
    "lead_leader_name": ("change_lead_leader", _admin_field("lead_leader_name", ["王某某"])),
    "lead_leader": ("change_lead_leader", _admin_field("lead_leader", [lambda c: c["bob"].pk])),
    "task_type": ("change_type", _admin_field("task_type", [TaskType.IMMEDIATE])),
    "status": ("admin_set_status", _admin_status),
    "deadline": ("change_deadline", _admin_field("deadline", ["2031-12-31"])),
    "report_due_on": ("change_report_due", _admin_field("report_due_on", ["2027-03-31"])),
    "progress": ("record_note", _admin_field("progress", ["后台填写的进展"])),
    "measure_added": ("add_measure", _admin_new_measure),
    "measure_reworded": ("edit_measure", _admin_measure(text="一是建立完善台账")),
    "measure_ticked": ("tick_measure", _admin_measure(done="on")),
    "measure_not_applicable": (
        "mark_measure_not_applicable",
        _admin_measure(not_applicable="on", na_reason="制度已由上级统一制定"),
    ),
    "measure_removed": ("remove_measure", _admin_measure(DELETE="on")),
}


def _staff(user):
    """``user`` with the admin's doors open: staff status and every task and measure permission."""
    from django.contrib.auth.models import Permission

    if not user.is_superuser:
        user.is_staff = True
        user.save()
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="tracker", content_type__model__in=["task", "measure"]
            )
        )
    return get_user_model().objects.get(pk=user.pk)  # without the permission cache


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("change", list(ADMIN_CHANGES))
def test_through_the_admin(client, people, inspection, finance, planning, change, persona):
    from django.test import Client
    from django.urls import reverse

    from tests.test_admin_history import _error_text, _form_data

    action, edit = ADMIN_CHANGES[change]
    task = factories.make_task(inspection, owner=finance)
    url = reverse("admin:tracker_task_change", args=[task.pk])
    # The form as it stands (read by the administrator: eve and mallory cannot open it).
    reader = Client()
    reader.force_login(people["root"])
    data = _form_data(reader, task)
    edit(data, {"task": task, "planning": planning, "bob": people["bob"]})
    before = snapshot(task)
    user = _staff(people[persona])
    client.force_login(user)
    response = client.post(url, data)
    if persona in allowed(action):
        assert response.status_code == 302, _error_text(response)
        assert snapshot(task) != before
        event = TaskEvent.objects.filter(task=task).latest("id")
        assert (event.actor, event.source) == (user, EventSource.ADMIN)
    else:
        if persona in {"eve", "mallory"}:  # not in their scope: "does not exist"
            assert response.status_code == 302
            assert response["Location"] == reverse("admin:index")
        else:
            assert response.status_code == 200
            assert "您没有权限进行此操作。" in _error_text(response)
        assert snapshot(task) == before
