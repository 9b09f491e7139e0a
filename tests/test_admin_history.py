"""The admin's task form writes the record people trust: every field it edits, and every measure
row, is changed through tracker.actions as the admin user (one event per change, codes and unit
ids stored); a stale form, a status correction without a reason, or a user the actions refuse
changes nothing; history is shown with labels; retired units are not offered; a unit with tasks
cannot be deleted.

The forms are posted the way a browser posts them: the change page is fetched and its inputs
read (``_form_data``), so the inline management forms and row ids are the real ones.
"""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests import factories
from tracker import actions
from tracker.choices import EventKind, EventSource, MeasureState, TaskStatus, TaskType
from tracker.models import Measure, Task, TaskEvent, Unit

pytestmark = pytest.mark.django_db


class _FormReader(HTMLParser):
    """The values a browser would submit from ``form#<form_id>`` (the empty inline row
    templates, ``__prefix__``, are not submitted: they are only templates)."""

    def __init__(self, form_id: str = "task_form"):
        super().__init__()
        self.form_id = form_id
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        if "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value") or "on")
                return
            self._add(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, []) if "__prefix__" not in name else None
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and "__prefix__" not in self._textarea:
            values = self.data[self._textarea]
            # The first newline after <textarea> is not part of the value (HTML rule).
            values[-1] += data[1:] if not values[-1] and data.startswith("\n") else data


def _change_url(task) -> str:
    return reverse("admin:tracker_task_change", args=[task.pk])


def _form_data(client, task) -> dict[str, list[str]]:
    response = client.get(_change_url(task))
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    data = reader.data
    assert data["loaded_version"] == [str(Task.objects.get(pk=task.pk).version)]
    return data


def _measure_rows(data) -> dict[str, str]:
    """Row prefix (``measures-0``) for each measure id on the page."""
    return {
        data[key][0]: key.rsplit("-", 1)[0]
        for key in data
        if re.fullmatch(r"measures-\d+-id", key) and data[key][0]
    }


def _post(client, task, data):
    return client.post(_change_url(task), data)


def _new_events(task, seen: int) -> list[TaskEvent]:
    return list(TaskEvent.objects.filter(task=task, pk__gt=seen).order_by("pk"))


def _last_id() -> int:
    last = TaskEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


def _error_text(response) -> str:
    """The page's error notes and error lists, as text."""
    html = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


# --- every editable field ---------------------------------------------------------------------


def test_every_admin_field_and_measure_row_changes_through_its_action_with_one_event_each(
    admin_client, admin_user, finance_task, finance, planning, bob
):
    task = finance_task
    measures = list(task.measures.order_by("order"))
    first, second = measures
    f, p = str(finance.pk), str(planning.pk)

    def field(name, value):
        def change(data):
            data[name] = value if isinstance(value, list) else [value]

        return change

    def measure(measure_obj, **values):
        def change(data):
            row = _measure_rows(data)[str(measure_obj.pk)]
            for key, value in values.items():
                if value is None:
                    data.pop(f"{row}-{key}", None)  # an unticked box is not submitted
                else:
                    data[f"{row}-{key}"] = [value]

        return change

    def add_measure(text):
        def change(data):
            n = int(data["measures-TOTAL_FORMS"][0])
            data["measures-TOTAL_FORMS"] = [str(n + 1)]
            data[f"measures-{n}-task"] = [str(task.pk)]
            data[f"measures-{n}-id"] = [""]
            data[f"measures-{n}-order"] = ["0"]
            data[f"measures-{n}-text"] = [text]
            data[f"measures-{n}-na_reason"] = [""]

        return change

    def with_reason(change, reason):
        def both(data):
            change(data)
            data["change_reason"] = [reason]

        return both

    # (what the administrator does, the one event it must write: kind, old, new)
    steps = [
        (field("owner_unit", p), (EventKind.OWNER, f, p)),
        (field("lead_unit", f), (EventKind.LEAD_UNIT, "", f)),
        (
            field("responsible_units", [p, f]),
            (EventKind.RESPONSIBLE_UNITS, "", ",".join(sorted([f, p], key=int))),
        ),
        (field("lead_leader_name", "张副局长"), (EventKind.LEAD_LEADER, "", "张副局长")),
        (field("lead_leader", str(bob.pk)), (EventKind.LEAD_LEADER, "张副局长", "张副局长〔bob〕")),
        (field("report_due_on", "2027-01-15"), (EventKind.REPORT_DUE, "", "2027-01-15")),
        (field("task_type", TaskType.IMMEDIATE), (EventKind.TYPE, "deadline", "immediate")),
        (field("deadline", "2026-12-31"), (EventKind.DEADLINE, "2026-11-01", "2026-12-31")),
        (
            field("progress", "台账已建立\r\n制度在修订"),
            (EventKind.NOTE, "", "台账已建立\n制度在修订"),
        ),
        (add_measure("三是加强督查"), (EventKind.MEASURE_ADDED, "", "三是加强督查")),
        (
            measure(first, text="一是建立工作台账"),
            (EventKind.MEASURE_EDITED, "一是建立台账", "一是建立工作台账"),
        ),
        (measure(first, done="on"), (EventKind.MEASURE, MeasureState.OPEN, MeasureState.DONE)),
        (
            measure(second, not_applicable="on", na_reason="制度已由上级统一制定"),
            (EventKind.MEASURE, MeasureState.OPEN, MeasureState.NOT_APPLICABLE),
        ),
        (measure(second, DELETE="on"), (EventKind.MEASURE_REMOVED, "二是完善制度", "")),
        (
            with_reason(field("status", TaskStatus.COMPLETED), "核实后更正"),
            (EventKind.STATUS, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED),
        ),
    ]
    for change, (kind, old, new) in steps:
        data = _form_data(admin_client, task)
        version = int(data["loaded_version"][0])
        change(data)
        seen = _last_id()
        response = _post(admin_client, task, data)
        assert response.status_code == 302, (kind, _error_text(response))
        events = _new_events(task, seen)
        assert [(e.kind, e.old_value, e.new_value) for e in events] == [(kind, old, new)]
        (event,) = events
        assert (event.actor, event.source, event.source_ref) == (
            admin_user,
            EventSource.ADMIN,
            "admin",
        )
        assert Task.objects.get(pk=task.pk).version == version + 1

    task.refresh_from_db()
    assert task.owner_unit == planning and task.lead_unit == finance
    assert set(task.responsible_units.all()) == {finance, planning}
    assert (task.lead_leader_name, task.lead_leader) == ("张副局长", bob)
    assert task.task_type == TaskType.IMMEDIATE
    assert task.report_due_on == datetime.date(2027, 1, 15)
    assert (task.deadline, task.original_deadline) == (
        datetime.date(2026, 12, 31),
        datetime.date(2026, 11, 1),
    )
    assert task.progress == "台账已建立\n制度在修订"
    assert task.status == TaskStatus.COMPLETED
    assert task.events.get(kind=EventKind.STATUS).reason == "核实后更正"
    assert [(m.text, m.state) for m in task.measures.order_by("order")] == [
        ("一是建立工作台账", MeasureState.DONE),
        ("三是加强督查", MeasureState.OPEN),
    ]
    assert not Measure.objects.filter(pk=second.pk).exists()
    # Saving the form again unchanged writes nothing.
    seen = _last_id()
    assert _post(admin_client, task, _form_data(admin_client, task)).status_code == 302
    assert _new_events(task, seen) == []


def test_problem_and_inspection_are_read_only_on_an_existing_task(
    admin_client, finance_task, inspection
):
    data = _form_data(admin_client, finance_task)
    assert "problem" not in data and "inspection" not in data
    other = factories.make_task(inspection, title="另一个问题")
    data["problem"] = [str(other.problem_id)]
    assert _post(admin_client, finance_task, data).status_code == 302
    finance_task.refresh_from_db()
    assert finance_task.problem_id != other.problem_id


def test_several_changes_in_one_save_are_all_or_nothing(admin_client, finance_task, planning):
    """A refusal half-way (the second action refuses a unit of another organization) rolls back
    the change already made (the owner) and shows the form again with the message."""
    elsewhere = factories.make_unit(factories.make_org("中共另一开发区工作委员会"), "外区财政局")
    before = Task.objects.get(pk=finance_task.pk)
    seen = _last_id()
    data = _form_data(admin_client, finance_task)
    data["owner_unit"] = [str(planning.pk)]
    data["lead_unit"] = [str(elsewhere.pk)]
    data["deadline"] = ["2027-03-01"]
    response = _post(admin_client, finance_task, data)
    assert response.status_code == 200
    assert "不属于该任务所在的党组织" in _error_text(response)
    assert "已成功" not in response.content.decode()  # no success message
    after = Task.objects.get(pk=finance_task.pk)
    assert (after.owner_unit_id, after.lead_unit_id, after.deadline, after.version) == (
        before.owner_unit_id,
        before.lead_unit_id,
        before.deadline,
        before.version,
    )
    assert _new_events(finance_task, seen) == []
    # The form comes back with what the administrator typed.
    assert 'value="2027-03-01"' in response.content.decode()


# --- refusals ---------------------------------------------------------------------------------


def test_a_stale_admin_save_is_refused_naming_who_changed_the_task_and_changes_nothing(
    admin_client, finance_task, carol
):
    data = _form_data(admin_client, finance_task)  # opened at version N
    # Meanwhile carol, the supervisor, moves the deadline (version N+1).
    actions.change_deadline(finance_task, datetime.date(2026, 12, 15), actions.Actor.of(carol))
    stored = Task.objects.get(pk=finance_task.pk)
    seen = _last_id()
    measures = list(Measure.objects.filter(task=finance_task).values_list("pk", "text", "done"))
    # The administrator, still on the old form, changes the deadline, the owner's progress and
    # ticks a measure.
    data["deadline"] = ["2027-01-31"]
    data["progress"] = ["管理员补录"]
    row = next(iter(_measure_rows(data).values()))
    data[f"{row}-done"] = ["on"]
    response = _post(admin_client, finance_task, data)

    assert response.status_code == 200
    errors = _error_text(response)
    assert "该任务已被 carol 于" in errors and "修改,请刷新后重试。" in errors
    after = Task.objects.get(pk=finance_task.pk)
    assert after.deadline == datetime.date(2026, 12, 15)
    assert (after.version, after.progress) == (stored.version, stored.progress)
    assert _new_events(finance_task, seen) == []
    assert list(Measure.objects.filter(task=finance_task).values_list("pk", "text", "done")) == (
        measures
    )


def test_a_change_between_the_forms_check_and_the_save_is_still_refused(
    admin_client, finance_task, carol, monkeypatch
):
    """The actions get the loaded version too: a change that lands after the form's clean()
    (simulated here by changing the task inside clean) is refused by the action itself."""
    from tracker.admin import TaskAdminForm

    clean = TaskAdminForm.clean
    raced = []

    def clean_then_race(form):
        cleaned = clean(form)
        if not raced and form.instance.pk:
            raced.append(True)
            actions.change_deadline(
                Task.objects.get(pk=form.instance.pk),
                datetime.date(2026, 12, 20),
                actions.Actor.of(carol),
            )
        return cleaned

    monkeypatch.setattr(TaskAdminForm, "clean", clean_then_race)
    data = _form_data(admin_client, finance_task)
    data["deadline"] = ["2027-01-31"]
    seen = _last_id()
    response = _post(admin_client, finance_task, data)
    assert response.status_code == 200
    assert "该任务已被 carol 于" in _error_text(response)
    # Only carol's change (made inside the refused request's transaction, so rolled back
    # with it) - the administrator's is not stored either.
    assert Task.objects.get(pk=finance_task.pk).deadline != datetime.date(2027, 1, 31)
    assert not TaskEvent.objects.filter(pk__gt=seen, source=EventSource.ADMIN).exists()


def test_a_status_correction_without_a_reason_is_refused(admin_client, finance_task):
    data = _form_data(admin_client, finance_task)
    data["status"] = [TaskStatus.COMPLETED]
    data["deadline"] = ["2027-01-31"]
    data["change_reason"] = ["   "]
    seen = _last_id()
    response = _post(admin_client, finance_task, data)
    assert response.status_code == 200
    assert "更正整改状态须填写变更说明。" in _error_text(response)
    after = Task.objects.get(pk=finance_task.pk)
    assert (after.status, after.deadline) == (TaskStatus.IN_PROGRESS, finance_task.deadline)
    assert _new_events(finance_task, seen) == []


def test_a_staff_user_without_a_role_cannot_reach_a_task_through_the_admin(client, finance_task):
    """Django's model permission opens the admin; tracker.permissions still decides what a user
    reaches: a task outside their scope is not there, as everywhere else."""
    clerk = get_user_model().objects.create_user("staff-only", password="x", is_staff=True)
    clerk.user_permissions.add(
        Permission.objects.get(codename="change_task", content_type__app_label="tracker")
    )
    client.force_login(clerk)
    assert client.get(_change_url(finance_task)).status_code == 302  # "does not exist"
    seen = _last_id()
    response = _post(client, finance_task, {"deadline": "2027-01-31", "progress": "越权填写"})
    assert response.status_code == 302
    assert _new_events(finance_task, seen) == []
    changelist = client.get(reverse("admin:tracker_task_changelist"))
    assert finance_task.problem.title not in changelist.content.decode()


def test_a_staff_clerk_may_change_in_the_admin_only_what_the_rules_allow(
    client, finance_task, alice
):
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(
        Permission.objects.get(codename="change_task", content_type__app_label="tracker")
    )
    client.force_login(alice)
    data = _form_data(client, finance_task)
    data["deadline"] = ["2031-01-31"]
    seen = _last_id()
    before = Task.objects.get(pk=finance_task.pk)
    response = _post(client, finance_task, data)
    assert response.status_code == 200
    assert "您没有权限进行此操作。" in _error_text(response)
    after = Task.objects.get(pk=finance_task.pk)
    assert (after.deadline, after.version) == (before.deadline, before.version)
    assert _new_events(finance_task, seen) == []
    # a progress note is hers to write, in the admin as on the task page
    data = _form_data(client, finance_task)
    data["progress"] = ["后台填写的进展"]
    assert _post(client, finance_task, data).status_code == 302
    (event,) = _new_events(finance_task, seen)
    assert (event.kind, event.actor, event.source) == (EventKind.NOTE, alice, EventSource.ADMIN)


def test_a_closed_task_is_reopened_first_so_the_other_corrections_apply(admin_client, finance_task):
    factories.ready_for_closeout(finance_task)
    actions.admin_set_status(finance_task, TaskStatus.CLOSED, factories.SYSTEM)
    data = _form_data(admin_client, finance_task)
    data["status"] = [TaskStatus.IN_PROGRESS]
    data["deadline"] = ["2027-02-28"]
    data["change_reason"] = ["回头看发现问题反弹"]
    seen = _last_id()
    assert _post(admin_client, finance_task, data).status_code == 302
    kinds = [e.kind for e in _new_events(finance_task, seen)]
    assert kinds == [EventKind.STATUS, EventKind.DEADLINE]


# --- adding a task ----------------------------------------------------------------------------


def test_adding_a_task_with_units_leader_progress_and_measures_goes_through_the_actions(
    admin_client, admin_user, inspection, finance, planning, bob
):
    from tracker.models import Problem

    problem = Problem.objects.create(inspection=inspection, title="新发现的问题")
    data = {
        "problem": problem.pk,
        "inspection": inspection.pk,
        "owner_unit": finance.pk,
        "lead_unit": planning.pk,
        "responsible_units": [finance.pk, planning.pk],
        "lead_leader_name": "李局长",
        "lead_leader": bob.pk,
        "task_type": TaskType.DEADLINE,
        "status": TaskStatus.NOT_STARTED,
        "deadline": "2026-12-01",
        "report_due_on": "",
        "progress": "已部署",
        "change_reason": "",
        "loaded_version": "",
        "measures-TOTAL_FORMS": "1",
        "measures-INITIAL_FORMS": "0",
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "1000",
        "measures-0-order": "0",
        "measures-0-text": "一是立即整改",
        "measures-0-na_reason": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:tracker_task_add"), data)
    assert response.status_code == 302, _error_text(response)
    task = Task.objects.get(problem=problem)
    assert (task.owner_unit, task.lead_unit, task.lead_leader) == (finance, planning, bob)
    assert set(task.responsible_units.all()) == {finance, planning}
    assert (task.progress, task.deadline) == ("已部署", datetime.date(2026, 12, 1))
    assert list(task.measures.values_list("text", flat=True)) == ["一是立即整改"]
    events = list(task.events.order_by("pk"))
    assert [e.kind for e in events] == [
        EventKind.CREATED,
        EventKind.RESPONSIBLE_UNITS,
        EventKind.LEAD_LEADER,
        EventKind.NOTE,
        EventKind.MEASURE_ADDED,
    ]
    assert all(e.actor == admin_user and e.source == EventSource.ADMIN for e in events)


# --- history shown with labels ----------------------------------------------------------------


def test_history_in_the_admin_shows_labels_and_unit_names_not_codes(
    admin_client, finance_task, finance, planning, carol
):
    as_carol = actions.Actor.of(carol)
    actions.change_owner(finance_task, planning, as_carol)
    actions.change_type(finance_task, TaskType.IMMEDIATE, as_carol)
    owner_event = finance_task.events.get(kind=EventKind.OWNER)

    def cells(html: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    page = cells(admin_client.get(_change_url(finance_task)).content.decode())
    assert "财政局 规划局" in page  # the owner event's old → new, as names
    assert "限期整改 立行立改" in page and "整改中" in page
    assert "in_progress" not in page and "immediate" not in page

    page = cells(admin_client.get(reverse("admin:tracker_taskevent_changelist")).content.decode())
    assert "财政局 规划局" in page and "限期整改 立行立改" in page
    assert "immediate" not in page
    page = cells(
        admin_client.get(
            reverse("admin:tracker_taskevent_change", args=[owner_event.pk])
        ).content.decode()
    )
    assert "财政局" in page and "规划局" in page


# --- units: retired ones not offered, a unit with tasks not deleted ----------------------------


def test_retired_units_are_not_offered_for_a_task_but_stay_listed(
    admin_client, finance_task, org, finance
):
    retired = factories.make_unit(org, "原财政分局")
    Unit.objects.filter(pk=retired.pk).update(retired=True)
    url = reverse("admin:autocomplete")
    for field_name in ("owner_unit", "lead_unit", "responsible_units"):
        response = admin_client.get(
            url,
            {
                "term": "财政",
                "app_label": "tracker",
                "model_name": "task",
                "field_name": field_name,
            },
        )
        assert response.status_code == 200
        names = {r["text"] for r in response.json()["results"]}
        assert names == {"财政局"}, field_name
    # The unit list still finds it, shows it as retired and filters on it.
    changelist = reverse("admin:tracker_unit_changelist")
    page = admin_client.get(changelist, {"q": "财政分局"}).content.decode()
    assert "原财政分局" in page
    page = admin_client.get(changelist, {"retired__exact": "1"}).content.decode()
    assert "原财政分局" in page and ">财政局<" not in page
    # And the task form does not accept it either.
    data = _form_data(admin_client, finance_task)
    data["owner_unit"] = [str(retired.pk)]
    seen = _last_id()
    response = _post(admin_client, finance_task, data)
    assert response.status_code == 200
    assert Task.objects.get(pk=finance_task.pk).owner_unit == finance
    assert _new_events(finance_task, seen) == []


def test_a_task_keeps_its_retired_owner_when_other_fields_are_saved(
    admin_client, finance_task, finance
):
    Unit.objects.filter(pk=finance.pk).update(retired=True)
    data = _form_data(admin_client, finance_task)
    data["deadline"] = ["2027-01-31"]
    assert _post(admin_client, finance_task, data).status_code == 302
    finance_task.refresh_from_db()
    assert (finance_task.owner_unit, finance_task.deadline) == (finance, datetime.date(2027, 1, 31))


def test_deleting_a_unit_with_tasks_shows_the_protected_page_and_deletes_nothing(
    admin_client, finance_task, finance
):
    url = reverse("admin:tracker_unit_delete", args=[finance.pk])
    for response in (admin_client.get(url), admin_client.post(url, {"post": "yes"})):
        assert response.status_code == 200
        html = response.content.decode()
        assert "受保护" in html or "protected" in html.lower()
        assert str(finance_task) in html
    response = admin_client.post(
        reverse("admin:tracker_unit_changelist"),
        {"action": "delete_selected", "_selected_action": [finance.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert Unit.objects.filter(pk=finance.pk).exists()
    assert Task.objects.filter(pk=finance_task.pk).exists()


@pytest.mark.parametrize("model", ["inspection", "problem"])
def test_deleting_an_inspection_or_problem_with_a_task_is_refused(
    admin_client, finance_task, model
):
    obj = finance_task.inspection if model == "inspection" else finance_task.problem
    url = reverse(f"admin:tracker_{model}_delete", args=[obj.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_removing_a_unit_with_tasks_from_its_organization_is_refused_on_the_form(
    admin_client, finance_task, org, finance
):
    url = reverse("admin:tracker_organization_change", args=[org.pk])
    reader = _FormReader("organization_form")
    reader.feed(admin_client.get(url).content.decode())
    data = reader.data
    row = next(
        key.rsplit("-", 1)[0]
        for key, value in data.items()
        if key.endswith("-id") and value == [str(finance.pk)]
    )
    data[f"{row}-DELETE"] = ["on"]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "受保护" in _error_text(response)
    assert Unit.objects.filter(pk=finance.pk).exists()


def test_a_new_task_refused_half_way_is_not_created(admin_client, inspection, finance):
    """create_task succeeds, then the progress note is refused (a task created 已销号 is
    read-only): the task is not kept, and the add form comes back with the message."""
    from tracker.models import Problem

    problem = Problem.objects.create(inspection=inspection, title="新发现的问题")
    response = admin_client.post(
        reverse("admin:tracker_task_add"),
        {
            "problem": problem.pk,
            "inspection": inspection.pk,
            "owner_unit": finance.pk,
            "task_type": TaskType.DEADLINE,
            "status": TaskStatus.CLOSED,
            "progress": "已整改",
            "measures-TOTAL_FORMS": "0",
            "measures-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "该任务已销号" in _error_text(response)
    assert not Task.objects.filter(problem=problem).exists()
    assert not TaskEvent.objects.filter(task__problem=problem).exists()
