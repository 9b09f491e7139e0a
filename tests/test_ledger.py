"""The 整改台账 in Excel both ways: export for the current filter, upload with a row-by-row
preview and row-level errors, confirm through tracker.actions with the upload named in history.

alice (clerk of 财政局) and carol (supervisor) work on the ledger; eve (clerk of 规划局) must
not reach 财政局's rows; dave (observer) may read but never change.
"""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tracker import actions, ledger
from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models import Task, TaskEvent
from tracker.permissions import access_for

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def tasks(inspection, finance, planning):
    category = factories.make_category(inspection, "关于落实主体责任方面")
    return [
        factories.make_task(
            inspection, owner=finance, title="财政资金监管不到位", category=category
        ),
        factories.make_task(
            inspection, owner=finance, title="专项资金拨付滞后", status=TaskStatus.CLOSED
        ),
        factories.make_task(inspection, owner=planning, title="规划审批把关不严"),
    ]


def export(client, user, query: str = "") -> bytes:
    client.force_login(user)
    response = client.get(reverse("tracker:ledger_export") + "?fmt=xlsx" + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response.content


def sheet_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def edit(data: bytes, changes: dict[tuple[int, str], object]) -> bytes:
    """Edit cells like an office would: (row index, header) → new value."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    for (row, header), value in changes.items():
        sheet.cell(row=row, column=headers.index(header) + 1, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, user, data: bytes, name: str = "台账.xlsx"):
    client.force_login(user)
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("tracker:ledger_upload"), {"file": file})


def test_export_has_the_office_columns_and_a_hidden_task_number(client, carol, tasks, finance):
    data = export(client, carol)
    rows = sheet_rows(data)
    assert rows[0] == ledger.HEADERS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["序号"] == 1
    assert first["问题类别"] == "关于落实主体责任方面"
    assert first["问题"] == "财政资金监管不到位"
    assert first["整改措施"] == "一是建立台账\n二是完善制度"
    assert first["责任单位"] == "财政局"
    assert first["整改时限"].date() == D(2026, 11, 1)
    assert (first["整改类型"], first["整改状态"]) == ("限期整改", "整改中")
    assert first["任务编号"] == tasks[0].pk
    assert first["版本"] == Task.objects.get(pk=tasks[0].pk).version
    dimensions = load_workbook(io.BytesIO(data)).active.column_dimensions
    assert rows[0][13:] == ["任务编号", "版本"]
    assert dimensions["N"].hidden and dimensions["O"].hidden


def test_export_follows_the_filter_and_the_users_scope(client, alice, carol, tasks, finance):
    assert len(sheet_rows(export(client, carol))) == 4
    assert len(sheet_rows(export(client, carol, f"&owner_unit={finance.pk}"))) == 3
    assert len(sheet_rows(export(client, carol, "&status=closed"))) == 2
    assert [r[2] for r in sheet_rows(export(client, alice))[1:]] == [
        "财政资金监管不到位",
        "专项资金拨付滞后",
    ]


def test_csv_export_starts_with_a_bom_so_excel_reads_chinese(client, carol, tasks):
    client.force_login(carol)
    response = client.get(reverse("tracker:ledger_export") + "?fmt=csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ledger.HEADERS
    assert rows[1][2] == "财政资金监管不到位"
    assert rows[1][7] == "2026-11-01"


def test_export_then_import_unedited_changes_nothing(client, carol, tasks):
    data = export(client, carol)
    events_before = TaskEvent.objects.count()
    response = upload(client, carol, data)
    preview = response.context["preview"]
    assert preview.change_count == 0 and preview.errors == [] and preview.notable == []
    assert "没有可导入的修改" in response.content.decode()
    applied = ledger.apply(access_for(carol), ledger.read_ledger(data), "台账.xlsx")
    assert applied == 0
    assert TaskEvent.objects.count() == events_before


def test_edited_owner_deadline_and_status_are_previewed_then_applied_with_history(
    client, carol, tasks, planning
):
    data = edit(
        export(client, carol),
        {
            (2, "责任单位"): "规划局",
            (2, "整改时限"): "2026年12月31日",
            (2, "整改状态"): "基本完成",
            (4, "整改类型"): "长期坚持",
        },
    )
    response = upload(client, carol, data, "十一月台账.xlsx")
    preview = response.context["preview"]
    assert preview.errors == []
    assert [(c.column, c.old, c.new) for c in preview.changed[0].changes] == [
        ("责任单位", "财政局", "规划局"),
        ("整改时限", "2026-11-01", "2026-12-31"),
        ("整改状态", "整改中", "基本完成"),
    ]
    assert [(c.column, c.new) for c in preview.changed[1].changes] == [("整改类型", "长期坚持")]
    assert "确认导入 4 项修改" in response.content.decode()
    assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.IN_PROGRESS  # not yet

    response = client.post(
        reverse("tracker:ledger_confirm"), {"token": response.context["token"]}, follow=True
    )
    assert "已导入 4 项修改" in response.content.decode()
    first = Task.objects.get(pk=tasks[0].pk)
    assert (first.owner_unit, first.deadline, first.status) == (
        planning,
        D(2026, 12, 31),
        TaskStatus.BASICALLY_COMPLETED,
    )
    assert first.original_deadline == D(2026, 11, 1)
    assert Task.objects.get(pk=tasks[2].pk).task_type == TaskType.LONG_TERM
    events = TaskEvent.objects.filter(source=EventSource.LEDGER)
    # One event per change, and the first report date a 长期坚持 task gets with its new type.
    assert sorted(events.values_list("kind", flat=True)) == sorted(
        [
            EventKind.OWNER,
            EventKind.DEADLINE,
            EventKind.STATUS,
            EventKind.TYPE,
            EventKind.REPORT_DUE,
        ]
    )
    assert set(events.values_list("source_ref", flat=True)) == {"ledger:十一月台账.xlsx"}
    assert set(events.values_list("actor", flat=True)) == {carol.pk}


def test_row_level_errors_are_shown_and_those_rows_skipped(client, carol, tasks, eve):
    data = edit(
        export(client, carol),
        {
            (2, "责任单位"): "不存在的局",
            (2, "整改状态"): "已完成",  # allowed, but the row has an error: nothing of it applies
            (3, "整改状态"): "整改中",  # 已销号 → 整改中 is a reopening, not a ledger edit
            (4, "整改时限"): "下个月",
        },
    )
    preview = upload(client, carol, data).context["preview"]
    errors = {row.number: row.errors for row in preview.rows if row.errors}
    assert errors == {2: ["未知单位:不存在的局"], 4: ["日期无法识别:下个月"]}
    closed = preview.rows[1]
    assert [(c.column, c.reason) for c in closed.refused] == [
        ("整改状态", "该任务已销号,不能再修改;如需继续整改,请整改办重新打开。")
    ]
    assert preview.changed == [] and preview.change_count == 0


def test_a_row_out_of_the_users_scope_reads_like_a_missing_task(client, carol, eve, tasks):
    data = edit(export(client, carol), {(2, "整改状态"): "已完成", (3, "任务编号"): 999999})
    preview = upload(client, eve, data).context["preview"]
    by_row = {row.number: row for row in preview.rows}
    message = "不存在或不在您的权限范围内"
    assert message in by_row[2].errors[0]  # 财政局's task: eve is 规划局's clerk
    assert message in by_row[3].errors[0]  # no such task at all
    assert by_row[4].errors == [] and by_row[4].changes == []  # her own, unchanged


def test_an_observer_may_read_the_ledger_but_not_change_tasks(client, dave, tasks):
    data = edit(export(client, dave), {(2, "整改状态"): "已完成"})
    preview = ledger.preview(access_for(dave), ledger.read_ledger(data))
    assert [c.reason for c in preview.rows[0].refused] == ["您无权修改该任务"]
    assert preview.changed == []


def test_a_task_changed_after_the_preview_stops_the_whole_upload(client, carol, tasks):
    data = edit(export(client, carol), {(2, "整改状态"): "已完成", (4, "整改状态"): "基本完成"})
    response = upload(client, carol, data)
    actions.change_deadline(tasks[2], D(2027, 1, 1), factories.SYSTEM)  # someone else, meanwhile
    response = client.post(
        reverse("tracker:ledger_confirm"), {"token": response.context["token"]}, follow=True
    )
    body = response.content.decode()
    assert "未导入任何修改" in body and "已被他人修改" in body
    assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.IN_PROGRESS
    assert not TaskEvent.objects.filter(source=EventSource.LEDGER).exists()


def test_a_file_that_is_not_a_ledger_is_refused(client, carol):
    response = upload(client, carol, b"not a spreadsheet")
    assert response.status_code == 200
    assert "无法读取文件" in response.content.decode()


def test_outsiders_cannot_upload(client, mallory):
    client.force_login(mallory)
    assert client.get(reverse("tracker:ledger_upload")).status_code == 404


def test_export_and_preview_queries_do_not_grow_with_rows(client, carol, inspection, finance):
    factories.make_task(inspection, owner=finance)

    def measure() -> tuple[int, int]:
        client.force_login(carol)
        with CaptureQueriesContext(connection) as exported:
            data = export(client, carol)
        rows = ledger.read_ledger(edit(data, {(2, "整改状态"): "已完成"}))
        with CaptureQueriesContext(connection) as previewed:
            ledger.preview(access_for(carol), rows)
        return len(exported.captured_queries), len(previewed.captured_queries)

    small = measure()
    for _ in range(5):
        factories.make_task(inspection, owner=finance)
    assert measure() == small


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", D(2026, 11, 1)),
        ("2026/11/1", D(2026, 11, 1)),
        ("2026年11月1日", D(2026, 11, 1)),
        (datetime.datetime(2026, 11, 1), D(2026, 11, 1)),
        ("", None),
        (None, None),
    ],
)
def test_deadline_cells_accept_the_usual_spellings(text, expected):
    assert ledger.parse_date(text) == expected


@pytest.mark.parametrize("text", ["下个月", "2026-13-01", "11/01/2026"])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        ledger.parse_date(text)


def test_a_ledger_naming_more_tasks_than_one_query_takes_is_read_in_chunks(
    client, carol, tasks, monkeypatch
):
    # PostgreSQL takes at most 65,535 parameters in one statement; a 100,000-row ledger names
    # more tasks than that. With chunks of two, three tasks need two chunks of every query.
    data = edit(export(client, carol), {(2, "整改状态"): "已完成", (4, "进展情况"): "已整改"})
    monkeypatch.setattr(ledger, "QUERY_CHUNK", 2)
    preview = upload(client, carol, data).context["preview"]
    assert preview.errors == []
    assert [(r.number, [c.column for c in r.changes]) for r in preview.changed] == [
        (2, ["整改状态"]),
        (4, ["进展情况"]),
    ]
    assert ledger.apply(access_for(carol), ledger.read_ledger(data), "台账.xlsx") == 2
    assert Task.objects.get(pk=tasks[2].pk).progress == "已整改"
