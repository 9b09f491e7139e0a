"""The rectification plan (整改方案) from Excel: carol the supervisor imports the office's sheet
(a title row, merged categories and problems, several units per cell, a titled leader,
2024年6月底前 deadlines); a re-import changes nothing; an edited plan updates through the
actions; bad input is named by row and column and writes nothing; alice the clerk gets 404.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests import factories
from tracker.choices import EventSource, TaskStatus, TaskType
from tracker.importer import plan, plan_loader
from tracker.models import Problem, SourceNotice, Task, TaskEvent, Unit

pytestmark = pytest.mark.django_db
D = datetime.date

HEADER = [
    "序号",
    "问题类别",
    "具体问题",
    "整改措施",
    "责任领导",
    "牵头单位",
    "责任单位",
    "完成时限",
    "备注",
]


def office_plan(rows=None, *, title=True, merges=True) -> bytes:
    """A plan as an office keeps it: merged title, header, one row per measure."""
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append(
            ["关于省委第七巡视组反馈意见的整改方案——问题清单、任务清单、责任清单、时限清单"]
        )
        sheet.merge_cells("A1:I1")
    sheet.append(HEADER)
    rows = rows or [
        [
            "1",
            "一、落实主体责任方面",
            "财政资金监管不到位",
            "一是建立资金台账",
            "王某某（副书记）",
            "财政局",
            "财政局、规划局\n教育局",
            "2024年6月底前",
            "",
        ],
        [None, None, None, "二是开展专项检查", None, None, None, None, None],
        [
            "2",
            None,
            "专项资金拨付滞后",
            "一是限时拨付",
            "李某某(副区长)",
            "财政局",
            "财政局",
            "2024.5.30",
            "",
        ],
        [
            "3",
            "二、作风建设方面",
            "规划审批把关不严",
            "一是修订审批规程",
            "王某某（副书记）",
            "规划局",
            "规划局，教育局",
            "立行立改",
            "",
        ],
        [
            "4",
            None,
            "学习教育不深入",
            "一是建立学习制度",
            "",
            "",
            "教育局",
            "长期坚持，每季度报告",
            "",
        ],
    ]
    for row in rows:
        sheet.append(row)
    if merges:
        first = 3 if title else 2
        sheet.merge_cells(f"B{first}:B{first + 2}")  # 落实主体责任方面 over three rows
        for col in "ACEFGH":
            sheet.merge_cells(f"{col}{first}:{col}{first + 1}")  # problem 1 over its measures
        sheet.merge_cells(f"B{first + 3}:B{first + 4}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def plan_inspection(org):
    return factories.make_inspection(org, feedback=D(2024, 4, 10))


@pytest.fixture
def units(org, finance, planning):
    return {"财政局": finance, "规划局": planning, "教育局": factories.make_unit(org, "教育局")}


@pytest.fixture
def wang(db):
    return get_user_model().objects.create_user(username="wang", first_name="王某某")


def import_file(tmp_path, data, inspection, *args, name="整改方案.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    call_command("import_plan", str(path), "--inspection", str(inspection.pk), *args, stdout=out)
    return out.getvalue()


def written():
    return (
        Problem.objects.count(),
        Task.objects.count(),
        TaskEvent.objects.count(),
        Unit.objects.count(),
    )


# --- the story ---------------------------------------------------------------------------------


def test_carol_imports_an_office_plan_through_the_upload_page(
    client, carol, plan_inspection, units, wang
):
    client.force_login(carol)
    page = client.get(reverse("tracker:plan_upload"))
    assert page.status_code == 200
    file = io.BytesIO(office_plan())
    file.name = "整改方案.xlsx"
    response = client.post(
        reverse("tracker:plan_upload"), {"inspection": plan_inspection.pk, "file": file}
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.errors
    assert [r.action for r in preview.rows] == ["create"] * 4
    assert "财政资金监管不到位" in response.content.decode()
    assert Task.objects.count() == 0  # nothing before the confirm

    token = response.context["token"]
    done = client.post(reverse("tracker:plan_confirm"), {"token": token})
    assert done.status_code == 302

    task = Task.objects.get(problem__title="财政资金监管不到位")
    assert task.problem.parent.title == "一、落实主体责任方面"
    assert list(task.measures.values_list("text", flat=True)) == [
        "一是建立资金台账",
        "二是开展专项检查",
    ]
    assert task.owner_unit == units["财政局"]
    assert set(task.responsible_units.all()) == {units["规划局"], units["教育局"]}
    assert task.lead_unit == units["财政局"]
    assert task.lead_leader_name == "王某某" and task.lead_leader == wang
    assert task.deadline == D(2024, 6, 30)
    assert task.task_type == TaskType.DEADLINE
    second = Task.objects.get(problem__title="专项资金拨付滞后")
    assert second.problem.parent == task.problem.parent  # the merged category
    assert second.deadline == D(2024, 5, 30) and second.lead_leader_name == "李某某"
    assert second.lead_leader is None
    immediate = Task.objects.get(problem__title="规划审批把关不严")
    assert immediate.task_type == TaskType.IMMEDIATE
    assert immediate.deadline == plan_inspection.deadline
    assert immediate.problem.parent.title == "二、作风建设方面"
    long_term = Task.objects.get(problem__title="学习教育不深入")
    assert long_term.task_type == TaskType.LONG_TERM and long_term.deadline is None
    assert long_term.report_due_on is not None
    events = TaskEvent.objects.filter(task=task)
    assert {e.source for e in events} == {EventSource.PLAN}
    assert {e.source_ref for e in events} == {"plan:整改方案.xlsx"}
    assert all(e.actor == carol for e in events)


def test_a_reimport_changes_nothing_and_an_edited_plan_updates(
    tmp_path, carol, plan_inspection, units
):
    import_file(tmp_path, office_plan(), plan_inspection, "--user", "carol")
    task = Task.objects.get(problem__title="财政资金监管不到位")
    factories.ready_for_closeout(Task.objects.get(problem__title="专项资金拨付滞后"))
    before = written()
    import_file(tmp_path, office_plan(), plan_inspection, "--user", "carol")
    assert written() == before

    edited = office_plan(
        [
            [
                "1",
                "一、落实主体责任方面",
                "财政资金监管不到位",
                "一是建立资金台账",
                "王某某",
                "规划局",
                "规划局、教育局",
                "2024年7月底前",
                "",
            ],
            [None, None, None, "三是约谈相关责任人", None, None, None, None, None],
            [
                "2",
                None,
                "专项资金拨付滞后",
                "一是限时拨付",
                "李某某",
                "财政局",
                "财政局",
                "2024.8.30",
                "",
            ],
        ],
        merges=False,
    )
    import_file(tmp_path, edited, plan_inspection, "--user", "carol", name="整改方案v2.xlsx")
    task.refresh_from_db()
    assert task.deadline == D(2024, 7, 31)
    assert task.owner_unit == units["规划局"] and task.lead_unit == units["规划局"]
    assert set(task.responsible_units.all()) == {units["教育局"]}
    texts = list(task.measures.values_list("text", flat=True))
    assert texts == [
        "一是建立资金台账",
        "二是开展专项检查",
        "三是约谈相关责任人",
    ]  # added, none removed
    assert task.status == TaskStatus.NOT_STARTED
    assert task.events.filter(source_ref="plan:整改方案v2.xlsx").exists()
    completed = Task.objects.get(problem__title="专项资金拨付滞后")
    assert completed.status == TaskStatus.COMPLETED  # status never overwritten
    assert completed.deadline == D(2024, 8, 30)


def test_alice_the_clerk_cannot_open_the_upload_page(client, alice, plan_inspection):
    client.force_login(alice)
    assert client.get(reverse("tracker:plan_upload")).status_code == 404
    assert client.post(reverse("tracker:plan_confirm"), {"token": "x"}).status_code == 404
    url = reverse("tracker:plan_template") + f"?inspection={plan_inspection.pk}"
    assert client.get(url).status_code == 404


def test_unknown_units_are_mapped_or_created_in_the_preview(client, carol, plan_inspection, units):
    rows = [
        [
            "1",
            "一、作风方面",
            "会风会纪不严",
            "一是通报",
            "",
            "办公室",
            "办公室、财政局",
            "2024年6月底前",
            "",
        ]
    ]
    file = io.BytesIO(office_plan(rows, merges=False))
    file.name = "p.xlsx"
    client.force_login(carol)
    response = client.post(
        reverse("tracker:plan_upload"), {"inspection": plan_inspection.pk, "file": file}
    )
    assert response.context["preview"].new_units == ["办公室"]
    assert "新建单位" in response.content.decode()
    client.post(
        reverse("tracker:plan_confirm"),
        {"token": response.context["token"], "unit_0": str(units["规划局"].pk)},
    )
    task = Task.objects.get(problem__title="会风会纪不严")
    assert task.owner_unit == units["规划局"]
    assert not Unit.objects.filter(name="办公室").exists()


def test_the_command_refuses_unknown_units_unless_asked_to_create_them(
    tmp_path, carol, plan_inspection, units
):
    rows = [["1", "", "会风会纪不严", "一是通报", "", "", "办公室", "2024年6月底前", ""]]
    data = office_plan(rows, merges=False)
    with pytest.raises(CommandError, match="办公室"):
        import_file(tmp_path, data, plan_inspection, "--user", "carol")
    assert Task.objects.count() == 0
    import_file(tmp_path, data, plan_inspection, "--user", "carol", "--create-units")
    assert Task.objects.get().owner_unit.name == "办公室"


def test_dry_run_json_shape(tmp_path, plan_inspection, units):
    out = import_file(tmp_path, office_plan(), plan_inspection, "--dry-run", "--json")
    data = json.loads(out)
    assert set(data) == {"inspection", "tasks", "new_units", "errors"}
    assert data["inspection"] == plan_inspection.pk
    first = data["tasks"][0]
    assert first == {
        "row": 3,
        "category": "一、落实主体责任方面",
        "label": "1",
        "problem": "财政资金监管不到位",
        "measures": ["一是建立资金台账", "二是开展专项检查"],
        "lead_leader": "王某某",
        "lead_unit": "财政局",
        "responsible_units": ["财政局", "规划局", "教育局"],
        "deadline": "2024-06-30",
        "type": "deadline",
    }
    assert [t["type"] for t in data["tasks"]] == ["deadline", "deadline", "immediate", "long_term"]
    assert data["tasks"][3]["deadline"] is None
    assert data["new_units"] == [] and data["errors"] == []
    assert Task.objects.count() == 0


def test_the_template_is_prefilled_from_the_notice(client, carol, plan_inspection, finance):
    category = factories.make_category(plan_inspection, "关于落实主体责任方面")
    task = factories.make_task(plan_inspection, title="财政资金监管不到位", category=category)
    notice = SourceNotice.objects.create(file_name="n.txt", sha256="0" * 64, raw_text="x")
    task.problem.sources.add(notice)
    client.force_login(carol)
    response = client.get(reverse("tracker:plan_template") + f"?inspection={plan_inspection.pk}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for c in sheet[2]]
    assert values[:4] == ["序号", "问题类别", "具体问题", "整改措施"]
    assert sheet["C3"].value == "财政资金监管不到位"
    assert sheet["B3"].value == "关于落实主体责任方面"
    assert sheet["D4"].value == "二是完善制度"
    # The template reads back as a plan naming the same problem.
    parsed = plan.read_plan(response.content, "t.xlsx", plan_inspection.feedback_date)
    assert [r.problem for r in parsed.rows] == ["财政资金监管不到位"]


# --- bad input: a Chinese message naming the row and column, nothing written --------------------


def _errors(data: bytes, inspection) -> list:
    parsed = plan.read_plan(data, "bad.xlsx", inspection.feedback_date)
    return plan_loader.preview_plan(inspection, parsed).errors


def _bad(kind: str, org) -> bytes:
    good = ["1", "一、方面", "问题甲", "一是整改", "", "财政局", "财政局", "2024年6月底前", ""]
    if kind == "no_unit":
        return office_plan([good[:5] + ["", "", "2024年6月底前", ""]], merges=False)
    if kind == "bad_date":
        return office_plan([good[:7] + ["下个月吧", ""]], merges=False)
    if kind == "foreign_unit":
        other = factories.make_org("中共别的区委员会")
        factories.make_unit(other, "外区财政局")
        return office_plan([good[:6] + ["外区财政局", "2024年6月底前", ""]], merges=False)
    if kind == "merged_header":
        book = load_workbook(io.BytesIO(office_plan([good], merges=False)))
        book.active.merge_cells("F2:G2")
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    if kind == "formula":
        book = load_workbook(io.BytesIO(office_plan([good], merges=False)))
        book.active["H3"] = "=TODAY()+30"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "row", "column", "words"),
    [
        ("no_unit", 3, "G", "没有填写责任单位"),
        ("bad_date", 3, "H", "无法识别的完成时限“下个月吧”"),
        ("foreign_unit", 3, "G", "属于其他党组织"),
        ("merged_header", 2, "F", "表头单元格不能合并"),
        ("formula", 3, "H", "是公式但没有保存计算结果"),
    ],
)
def test_bad_cells_are_named_by_row_and_column_and_nothing_is_written(
    tmp_path, carol, org, plan_inspection, units, kind, row, column, words
):
    data = _bad(kind, org)
    errors = _errors(data, plan_inspection)
    assert errors, kind
    assert (errors[0].row, errors[0].column) == (row, column)
    assert words in errors[0].message
    assert f"第{row}行第{column}列" in errors[0].message
    before = written()
    with pytest.raises(CommandError):
        import_file(tmp_path, data, plan_inspection, "--user", "carol", "--create-units")
    out = import_file_json_errors(tmp_path, data, plan_inspection)
    assert out["errors"][0]["row"] == row and out["errors"][0]["column"] == column
    assert written() == before


def import_file_json_errors(tmp_path, data, inspection) -> dict:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_plan",
            str(path),
            "--inspection",
            str(inspection.pk),
            "--dry-run",
            "--json",
            stdout=out,
        )
    return json.loads(out.getvalue())


def test_a_formula_with_a_cached_value_is_read_not_evaluated(plan_inspection, units):
    data = _bad("formula", None)
    # Put a cached value next to the formula, as Excel saves it.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                body = re.sub(
                    rb"(<c r=\"H3\"[^>]*>)<f>([^<]*)</f><v\s*/?>(</v>)?",
                    rb"\1<f>\2</f><v>2024-07-31</v>",
                    body,
                )
                body = body.replace(b'<c r="H3"', b'<c r="H3" t="str"', 1)
            target.writestr(item, body)
    parsed = plan.read_plan(out.getvalue(), "f.xlsx", plan_inspection.feedback_date)
    assert not parsed.errors
    assert parsed.rows[0].deadline == D(2024, 7, 31)


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "方案.xls", "另存为 .xlsx"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + "EncryptedPackage".encode("utf-16-le")
            + b"\0" * 600,
            "方案.xlsx",
            "设置了打开密码",
        ),
        (b"not a spreadsheet", "方案.xlsx", "无法读取文件"),
    ],
)
def test_old_encrypted_and_broken_files_get_a_clear_message(data, name, words):
    with pytest.raises(plan.PlanError, match=words):
        plan.read_plan(data, name)


def test_a_sheet_without_a_plan_header_is_refused(client, carol, plan_inspection):
    book = Workbook()
    book.active.append(["姓名", "电话"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(plan.PlanError, match="没有可识别的表头"):
        plan.read_plan(out.getvalue(), "x.xlsx")
    client.force_login(carol)
    file = io.BytesIO(out.getvalue())
    file.name = "x.xlsx"
    response = client.post(
        reverse("tracker:plan_upload"), {"inspection": plan_inspection.pk, "file": file}
    )
    assert "没有可识别的表头" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024.5.30", (D(2024, 5, 30), None)),
        ("2024年6月底前", (D(2024, 6, 30), None)),
        ("6月30日前", (D(2024, 6, 30), None)),
        ("3月底前", (D(2025, 3, 31), None)),
        ("立行立改", (None, TaskType.IMMEDIATE)),
        ("长期坚持", (None, TaskType.LONG_TERM)),
        ("每季度", (None, TaskType.LONG_TERM)),
        (D(2024, 9, 1), (D(2024, 9, 1), None)),
    ],
)
def test_deadline_words(text, expected):
    read = plan.parse_deadline(text, D(2024, 4, 10))
    assert (read.day, read.task_type) == expected


def test_leaders_and_units_as_offices_write_them():
    assert plan.clean_leader("王某某（副书记）") == "王某某"
    assert plan.clean_leader("王某某(党组书记)、李某某") == "王某某、李某某"
    assert plan.split_units("财政局、规划局\n教育局；审计局,财政局") == [
        "财政局",
        "规划局",
        "教育局",
        "审计局",
    ]


def test_the_top_bar_links_the_plan_upload_to_supervisors_only(client, carol, alice):
    from django.urls import reverse

    url = reverse("tracker:plan_upload")
    client.force_login(carol)
    assert f'href="{url}"' in client.get(reverse("tracker:task_list")).content.decode()
    client.force_login(alice)
    assert f'href="{url}"' not in client.get(reverse("tracker:task_list")).content.decode()
