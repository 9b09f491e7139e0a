"""The ledger decides nothing itself: who may change which column is the rule of the action
behind it (tracker.permissions.ACTION_RULES), the status moves are the task page's, and a task
changed since the export is never silently undone.

alice (clerk of 财政局) may report status and progress but not move deadlines or hand tasks
away; bob (lead of 财政局) neither; carol (supervisor) may change everything; dave (observer)
may not upload; eve (clerk of 规划局) does not reach 财政局's tasks.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tests.test_ledger import edit, export, sheet_rows, upload
from tracker import actions, ledger
from tracker.choices import EventKind, EventSource, TaskStatus, TaskType, UnitRole
from tracker.models import Membership, Task, TaskEvent
from tracker.permissions import access_for

pytestmark = pytest.mark.django_db
D = datetime.date
FIVE_YEARS_OUT = "2031-11-01"


@pytest.fixture
def fresh_task(inspection, finance):
    """A 未启动 task of 财政局, due 2026-11-01."""
    return factories.make_task(
        inspection, owner=finance, title="财政资金监管不到位", status=TaskStatus.NOT_STARTED
    )


def snapshot(*tasks: Task) -> list[tuple]:
    """Every field the ledger could touch, for the tasks given."""
    result = []
    for task in Task.objects.filter(pk__in=[t.pk for t in tasks]).order_by("pk"):
        result.append(
            (
                task.owner_unit_id,
                task.lead_unit_id,
                task.lead_leader_name,
                sorted(task.responsible_units.values_list("pk", flat=True)),
                task.deadline,
                task.task_type,
                task.status,
                task.progress,
                task.version,
            )
        )
    return result


def row_of(data: bytes, task: Task) -> int:
    """The sheet row (1-based, header = 1) of ``task`` in an export."""
    rows = sheet_rows(data)
    column = rows[0].index("任务编号")
    return next(i for i, r in enumerate(rows, start=1) if r[column] == task.pk)


def confirm(client, response):
    return client.post(
        reverse("tracker:ledger_confirm"), {"token": response.context["token"]}, follow=True
    )


def handover_upload(client, user, task: Task) -> bytes:
    """The upload of the issue: the deadline five years out, 已完成, and the task handed to
    规划局."""
    data = export(client, user)
    row = row_of(data, task)
    return edit(
        data,
        {
            (row, "整改时限"): FIVE_YEARS_OUT,
            (row, "整改状态"): "已完成",
            (row, "责任单位"): "规划局",
        },
    )


# --- a clerk's upload: only what the clerk may do ----------------------------------------------


def test_a_clerks_upload_applies_her_status_and_refuses_the_deadline_and_the_handover(
    client, alice, fresh_task, finance, planning
):
    data = handover_upload(client, alice, fresh_task)
    response = upload(client, alice, data, "财政局台账.xlsx")
    preview = response.context["preview"]
    [row] = preview.notable
    assert [(c.column, c.old, c.new) for c in row.changes] == [("整改状态", "未启动", "已完成")]
    assert {c.column: c.reason for c in row.refused} == {
        "责任单位": "责任主体(责任单位中的第一个单位)只能由整改办修改",
        "整改时限": "整改时限只能由整改办修改;如需延期,请在任务页面申请延期",
    }
    assert row.errors == [] and row.conflict == ""
    body = response.content.decode()
    assert "不允许" in body and "整改时限只能由整改办修改" in body
    assert "确认导入 1 项修改" in body

    response = confirm(client, response)
    assert "已导入 1 项修改" in response.content.decode()
    task = Task.objects.get(pk=fresh_task.pk)
    assert (task.status, task.deadline, task.owner_unit) == (
        TaskStatus.COMPLETED,
        D(2026, 11, 1),
        finance,
    )
    events = TaskEvent.objects.filter(task=task, source=EventSource.LEDGER)
    assert [(e.kind, e.actor_id, e.source_ref) for e in events] == [
        (EventKind.STATUS, alice.pk, "ledger:财政局台账.xlsx")
    ]
    assert not TaskEvent.objects.filter(
        task=task, kind__in=[EventKind.DEADLINE, EventKind.OWNER]
    ).exists()


def test_a_unit_lead_may_not_change_the_supervisors_columns_either(
    client, bob, fresh_task, planning
):
    factories.make_unit(fresh_task.inspection.organization, "审计局")
    data = export(client, bob)
    row = row_of(data, fresh_task)
    data = edit(
        data,
        {
            (row, "牵头单位"): "规划局",
            (row, "牵头领导"): "张副局长",
            (row, "整改类型"): "长期坚持",
            (row, "责任单位"): "财政局、审计局",
            (row, "进展情况"): "已完成专项检查",
        },
    )
    before = snapshot(fresh_task)
    last_event = TaskEvent.objects.order_by("-id").values_list("id", flat=True).first()
    preview = upload(client, bob, data).context["preview"]
    [row] = preview.notable
    assert [(c.column, c.new) for c in row.changes] == [("进展情况", "已完成专项检查")]
    assert {c.label: c.reason for c in row.refused} == {
        "责任单位": "责任单位只能由整改办修改",
        "牵头单位": "牵头单位只能由整改办修改",
        "牵头领导": "牵头领导只能由整改办修改",
        "整改类型": "整改类型只能由整改办修改",
    }
    # Only the note is applied; nothing the lead may not do happens.
    assert ledger.apply(access_for(bob), ledger.read_ledger(data), "x.xlsx") == 1
    after = Task.objects.get(pk=fresh_task.pk)
    assert after.progress == "已完成专项检查"
    assert snapshot(fresh_task)[0][:6] == before[0][:6]
    new_events = TaskEvent.objects.filter(pk__gt=last_event)
    assert list(new_events.values_list("kind", "actor", "source")) == [
        (EventKind.NOTE, bob.pk, EventSource.LEDGER)
    ]


def test_closing_out_through_the_ledger_is_never_allowed(client, alice, carol, fresh_task):
    for user in (alice, carol):
        data = export(client, user)
        data = edit(data, {(row_of(data, fresh_task), "整改状态"): "已销号"})
        before, events = snapshot(fresh_task), TaskEvent.objects.count()
        response = upload(client, user, data)
        [row] = response.context["preview"].notable
        assert row.changes == []
        assert [c.reason for c in row.refused] == [
            "“已销号”不能通过台账设置:请在任务页面申请销号,经牵头单位和整改办审核后销号"
        ]
        assert "没有可导入的修改" in response.content.decode()
        assert ledger.apply(access_for(user), ledger.read_ledger(data), "x.xlsx") == 0
        assert snapshot(fresh_task) == before and TaskEvent.objects.count() == events


def test_a_status_move_the_task_page_refuses_is_refused_in_the_ledger(
    client, alice, inspection, finance
):
    task = factories.make_task(inspection, owner=finance, status=TaskStatus.IN_PROGRESS)
    assert TaskStatus.NOT_STARTED not in actions.allowed_statuses(task)
    data = export(client, alice)
    data = edit(data, {(row_of(data, task), "整改状态"): "未启动"})
    [row] = upload(client, alice, data).context["preview"].notable
    assert [c.reason for c in row.refused] == ["不允许从“整改中”变更为“未启动”"]


def test_rows_of_closed_tasks_are_refused_with_the_reason(client, carol, inspection, finance):
    closed = factories.make_task(inspection, owner=finance, status=TaskStatus.CLOSED)
    data = export(client, carol)
    row = row_of(data, closed)
    data = edit(data, {(row, "整改时限"): "2027-01-01", (row, "进展情况"): "补充说明"})
    before, events = snapshot(closed), TaskEvent.objects.count()
    [preview_row] = upload(client, carol, data).context["preview"].notable
    assert preview_row.changes == []
    assert {c.reason for c in preview_row.refused} == {
        "该任务已销号,不能再修改;如需继续整改,请整改办重新打开。"
    }
    assert ledger.apply(access_for(carol), ledger.read_ledger(data), "x.xlsx") == 0
    assert snapshot(closed) == before and TaskEvent.objects.count() == events


# --- a supervisor's upload: everything, one event per change -----------------------------------


def test_the_supervisors_same_upload_applies_everything_with_one_event_per_change(
    client, carol, fresh_task, finance, planning
):
    audit = factories.make_unit(fresh_task.inspection.organization, "审计局")
    data = handover_upload(client, carol, fresh_task)
    row = row_of(data, fresh_task)
    data = edit(
        data,
        {
            (row, "责任单位"): "规划局、审计局",
            (row, "牵头单位"): "财政局",
            (row, "牵头领导"): "张副局长",
            (row, "整改类型"): "立行立改",
            (row, "进展情况"): "已移交规划局",
        },
    )
    response = upload(client, carol, data, "整改办台账.xlsx")
    [preview_row] = response.context["preview"].notable
    assert preview_row.refused == [] and preview_row.errors == []
    assert [(c.label, c.old, c.new) for c in preview_row.changes] == [
        ("责任主体", "财政局", "规划局"),
        ("责任单位", "", "审计局"),
        ("牵头单位", "", "财政局"),
        ("牵头领导", "", "张副局长"),
        ("整改时限", "2026-11-01", FIVE_YEARS_OUT),
        ("整改类型", "限期整改", "立行立改"),
        ("整改状态", "未启动", "已完成"),
        ("进展情况", "", "已移交规划局"),
    ]
    assert "已导入 8 项修改" in confirm(client, response).content.decode()
    task = Task.objects.get(pk=fresh_task.pk)
    assert (task.owner_unit, task.lead_unit, task.lead_leader_name) == (
        planning,
        finance,
        "张副局长",
    )
    assert list(task.responsible_units.all()) == [audit]
    assert (task.deadline, task.task_type, task.status, task.progress) == (
        D(2031, 11, 1),
        TaskType.IMMEDIATE,
        TaskStatus.COMPLETED,
        "已移交规划局",
    )
    events = TaskEvent.objects.filter(task=task).exclude(kind=EventKind.CREATED).order_by("id")
    assert [e.kind for e in events] == [
        EventKind.OWNER,
        EventKind.RESPONSIBLE_UNITS,
        EventKind.LEAD_UNIT,
        EventKind.LEAD_LEADER,
        EventKind.DEADLINE,
        EventKind.TYPE,
        EventKind.STATUS,
        EventKind.NOTE,
    ]
    assert {(e.source, e.actor_id, e.source_ref) for e in events} == {
        (EventSource.LEDGER, carol.pk, "ledger:整改办台账.xlsx")
    }
    # The version moved once per change, from the version in the file.
    assert task.version == fresh_task.version + 8


def test_clearing_the_lead_unit_sets_none(client, carol, fresh_task, planning):
    actions.change_lead_unit(fresh_task, planning, factories.SYSTEM)
    data = export(client, carol)
    data = edit(data, {(row_of(data, fresh_task), "牵头单位"): ""})
    assert ledger.apply(access_for(carol), ledger.read_ledger(data), "x.xlsx") == 1
    assert Task.objects.get(pk=fresh_task.pk).lead_unit is None


@pytest.mark.parametrize(
    ("column", "cell", "error"),
    [
        ("责任单位", "不存在的局", "未知单位:不存在的局"),
        ("责任单位", "财政局、外单位审计局", "单位“外单位审计局”不属于该任务所在的党组织。"),
        ("牵头单位", "旧规划局", "单位“旧规划局”已撤并,不能再分派任务。"),
        ("牵头单位", "财政局、规划局", "牵头单位只能填写一个单位:财政局、规划局"),
    ],
)
def test_unknown_foreign_and_retired_units_are_row_errors_naming_the_unit(
    client, carol, fresh_task, planning, column, cell, error
):
    other = factories.make_org("中共另一开发区工作委员会")
    factories.make_unit(other, "外单位审计局")
    retired = factories.make_unit(fresh_task.inspection.organization, "旧规划局")
    retired.retired = True
    retired.save()
    data = export(client, carol)
    row = row_of(data, fresh_task)
    data = edit(data, {(row, column): cell, (row, "整改状态"): "整改中"})
    before, events = snapshot(fresh_task), TaskEvent.objects.count()
    [preview_row] = upload(client, carol, data).context["preview"].notable
    assert preview_row.errors == [error]
    assert not preview_row.applicable  # the row's other change waits for the row to be fixed
    assert ledger.apply(access_for(carol), ledger.read_ledger(data), "x.xlsx") == 0
    assert snapshot(fresh_task) == before and TaskEvent.objects.count() == events


def test_emptying_the_progress_text_is_ignored_with_a_warning(client, alice, fresh_task):
    actions.record_note(fresh_task, "已召开专题会", factories.SYSTEM)
    data = export(client, alice)
    data = edit(data, {(row_of(data, fresh_task), "进展情况"): ""})
    [row] = upload(client, alice, data).context["preview"].notable
    assert row.changes == [] and row.refused == []
    assert row.warnings == ["“进展情况”被清空,已忽略:台账导入不会清空已有的进展情况。"]
    assert ledger.apply(access_for(alice), ledger.read_ledger(data), "x.xlsx") == 0
    assert Task.objects.get(pk=fresh_task.pk).progress == "已召开专题会"


# --- nothing silently undone -------------------------------------------------------------------


def test_export_round_trips_the_version(client, carol, fresh_task):
    data = export(client, carol)
    headers = sheet_rows(data)[0]
    assert headers[-2:] == ["任务编号", "版本"]
    [row] = ledger.read_ledger(data)
    assert (row.values["任务编号"], row.values["版本"]) == (fresh_task.pk, fresh_task.version)
    actions.record_note(fresh_task, "新进展", factories.SYSTEM)
    [row] = ledger.read_ledger(export(client, carol))
    assert row.values["版本"] == fresh_task.version == Task.objects.get(pk=fresh_task.pk).version


def test_a_row_changed_by_someone_else_since_the_export_is_flagged_and_not_applied(
    client, alice, carol, fresh_task, inspection, finance
):
    other = factories.make_task(inspection, owner=finance, title="专项资金拨付滞后")
    data = export(client, alice)
    data = edit(
        data,
        {
            (row_of(data, fresh_task), "整改状态"): "整改中",
            (row_of(data, other), "整改状态"): "基本完成",
        },
    )
    # Meanwhile, carol moves the deadline of the first task on its page.
    actions.change_deadline(fresh_task, D(2026, 12, 31), actions.Actor.of(carol))
    before = snapshot(fresh_task)

    response = upload(client, alice, data)
    preview = response.context["preview"]
    [conflict] = preview.conflicts
    assert conflict.task_id == fresh_task.pk and not conflict.applicable
    assert conflict.conflict.startswith("已被他人修改:carol 于 ")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", conflict.conflict)
    assert "请重新导出台账" in conflict.conflict
    assert [r.task_id for r in preview.changed] == [other.pk]
    assert "已被他人修改" in response.content.decode()

    assert "已导入 1 项修改" in confirm(client, response).content.decode()
    assert snapshot(fresh_task) == before  # carol's deadline stands; the status did not move
    assert not TaskEvent.objects.filter(task=fresh_task, source=EventSource.LEDGER).exists()
    assert Task.objects.get(pk=other.pk).status == TaskStatus.BASICALLY_COMPLETED

    # Re-exported, the same edit goes through.
    data = export(client, alice)
    data = edit(data, {(row_of(data, fresh_task), "整改状态"): "整改中"})
    assert ledger.apply(access_for(alice), ledger.read_ledger(data), "x.xlsx") == 1
    assert Task.objects.get(pk=fresh_task.pk).deadline == D(2026, 12, 31)


def test_an_old_export_without_the_version_column_is_refused_asking_to_re_export(
    client, carol, fresh_task
):
    workbook = load_workbook(io.BytesIO(export(client, carol)))
    sheet = workbook.active
    sheet.delete_cols(sheet.max_column)  # the 版本 column: an export from before it existed
    sheet.cell(row=2, column=10, value="整改中")  # 整改状态
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    before, events = snapshot(fresh_task), TaskEvent.objects.count()
    response = upload(client, carol, data)
    preview = response.context["preview"]
    assert preview.missing_version
    [row] = preview.errors
    assert row.errors == [
        "该台账没有“版本”列(旧版导出),无法确认任务是否已被他人修改;请重新导出台账后再修改上传。"
    ]
    assert "没有可导入的修改" in response.content.decode()
    assert ledger.apply(access_for(carol), ledger.read_ledger(data), "x.xlsx") == 0
    assert snapshot(fresh_task) == before and TaskEvent.objects.count() == events


def test_an_edited_version_cell_is_a_row_error(client, carol, fresh_task):
    data = export(client, carol)
    row = row_of(data, fresh_task)
    data = edit(data, {(row, "版本"): "abc", (row, "整改状态"): "整改中"})
    [preview_row] = upload(client, carol, data).context["preview"].errors
    assert preview_row.errors == ["“版本”无法识别:abc,请重新导出台账。"]


def test_an_action_that_still_refuses_at_apply_time_keeps_nothing(
    client, alice, fresh_task, inspection, finance, monkeypatch
):
    """The preview is advice: the actions authorize again, and one refusal undoes the upload."""
    other = factories.make_task(inspection, owner=finance)
    data = export(client, alice)
    data = edit(
        data,
        {
            (row_of(data, fresh_task), "整改状态"): "已完成",  # applied first...
            (row_of(data, other), "整改时限"): FIVE_YEARS_OUT,  # ...then refused by the action
        },
    )
    assert row_of(data, fresh_task) < row_of(data, other)
    before, events = snapshot(fresh_task, other), TaskEvent.objects.count()
    # A ledger that wrongly believed alice may move deadlines...
    monkeypatch.setattr(ledger._Permits, "may", lambda self, action, task: True)
    with pytest.raises(actions.NotAllowed):
        ledger.apply(access_for(alice), ledger.read_ledger(data), "x.xlsx")
    # ...still changes nothing: the action refused, and the transaction took the status back.
    assert snapshot(fresh_task, other) == before and TaskEvent.objects.count() == events


def test_a_right_lost_between_preview_and_confirm_keeps_nothing(
    client, alice, fresh_task, planning
):
    data = export(client, alice)
    data = edit(data, {(row_of(data, fresh_task), "整改状态"): "整改中"})
    response = upload(client, alice, data)
    assert response.context["preview"].change_count == 1
    # alice moves from 财政局 to 规划局 before she confirms: 财政局's task is no longer hers.
    Membership.objects.create(user=alice, unit=planning, role=UnitRole.CLERK)
    Membership.objects.filter(user=alice, unit=fresh_task.owner_unit).delete()
    before, events = snapshot(fresh_task), TaskEvent.objects.count()
    body = confirm(client, response).content.decode()
    assert "未导入任何修改" in body
    assert snapshot(fresh_task) == before and TaskEvent.objects.count() == events


# --- who may upload at all ---------------------------------------------------------------------


def test_an_observer_cannot_upload_or_confirm(client, dave, fresh_task):
    data = edit(export(client, dave), {(2, "整改状态"): "已完成"})
    before, events = snapshot(fresh_task), TaskEvent.objects.count()
    assert upload(client, dave, data).status_code == 404
    assert client.post(reverse("tracker:ledger_confirm"), {"token": "x"}).status_code == 404
    assert snapshot(fresh_task) == before and TaskEvent.objects.count() == events


def test_another_units_clerk_reaches_none_of_financess_rows(
    client, carol, eve, fresh_task, planning_task
):
    data = export(client, carol)
    data = edit(
        data,
        {
            (row_of(data, fresh_task), "整改状态"): "已完成",
            (row_of(data, planning_task), "整改状态"): "基本完成",
        },
    )
    before, events = snapshot(fresh_task), TaskEvent.objects.count()
    response = upload(client, eve, data)
    by_task = {r.task_id: r for r in response.context["preview"].rows}
    assert by_task[fresh_task.pk].errors == [f"任务编号“{fresh_task.pk}”不存在或不在您的权限范围内"]
    assert by_task[fresh_task.pk].changes == [] and by_task[fresh_task.pk].title == ""
    assert by_task[planning_task.pk].applicable  # her own row
    assert "已导入 1 项修改" in confirm(client, response).content.decode()
    assert snapshot(fresh_task) == before
    assert TaskEvent.objects.count() == events + 1
    assert Task.objects.get(pk=planning_task.pk).status == TaskStatus.BASICALLY_COMPLETED


# --- the ledger in English ---------------------------------------------------------------------


def test_an_english_export_has_english_headers_and_reads_back_in_either_language(
    client, carol, fresh_task
):
    # Given carol works in English and exports the ledger
    client.cookies["django_language"] = "en"
    data = export(client, carol)
    headers = sheet_rows(data)[0]
    assert {"Problem", "Deadline", "Status", "Task ID", "Version"} <= set(headers)
    assert not any("\u4e00" <= ch <= "\u9fff" for h in headers for ch in str(h))
    # When she edits the status in English and uploads it with the UI back in Chinese
    rows = sheet_rows(data)
    row = next(i for i, r in enumerate(rows, 1) if r[headers.index("Task ID")] == fresh_task.pk)
    edited = edit(data, {(row, "Status"): "In progress"})  # by its English header
    client.cookies["django_language"] = "zh-hans"
    preview = upload(client, carol, edited)
    assert preview.status_code == 200
    confirm(client, preview)
    # Then the change is read from the English file
    fresh_task.refresh_from_db()
    assert fresh_task.status == TaskStatus.IN_PROGRESS
    # and an unedited English export changes nothing
    before = snapshot(fresh_task)
    client.cookies["django_language"] = "en"
    again = upload(client, carol, export(client, carol))
    confirm(client, again)
    assert snapshot(fresh_task) == before
