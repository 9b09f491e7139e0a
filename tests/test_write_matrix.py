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
