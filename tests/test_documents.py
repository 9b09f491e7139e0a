"""Stories of the documents an office produces: the progress notice (整改进展情况通报) and the
rectification report (整改报告) of an inspection (tracker/documents/).

- carol (supervisor) downloads the notice of an imported seed inspection, as DOCX and text;
- the DOCX opens with python-docx, in the GB/T 9704 layout (fonts, sizes, margins, page numbers);
- the text reads back through the project's own importer to the same problem tree, statuses
  and totals, for every seed;
- eve (another unit's clerk), dave (observer) and alice (a clerk of the inspection) get 404;
- the report lists the unfinished items with their new deadline.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from docx import Document as open_docx
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tests import factories
from tracker import actions
from tracker.choices import ScopeRole, TaskStatus, TaskType
from tracker.documents.docx import render_docx
from tracker.documents.notice import build_notice, status_word
from tracker.documents.report import build_report
from tracker.documents.text import render_text
from tracker.importer.loader import import_file
from tracker.importer.parser import parse_notice
from tracker.importer.text import normalize_title
from tracker.models import Inspection, InspectionOutcome, ScopeAssignment, Task

SEEDS = sorted((Path(settings.BASE_DIR) / "seeds").glob("*.txt"))
FOLDED = {
    "已完成": "completed",
    "基本完成": "basically_completed",
    "未完成": "not_completed",
    "长期坚持": "long_term",
}
SYSTEM = factories.SYSTEM


def seed(name_prefix: str) -> Path:
    return next(p for p in SEEDS if p.name.startswith(name_prefix))


def tree(problems) -> list:
    """The parsed tree's shape: (category?, normalized title, status, children)."""
    return [
        (p.kind == "category", normalize_title(p.title), p.status, tree(p.children))
        for p in problems
    ]


def db_tree(inspection: Inspection) -> list:
    """The same shape from the database: what the notice must read back as."""
    problems = list(inspection.problems.order_by("order", "pk"))
    tasks = {t.problem_id: t for t in Task.objects.filter(inspection=inspection)}
    children: dict[int | None, list] = {}
    for p in problems:
        children.setdefault(p.parent_id, []).append(p)

    def shape(parent_id):
        out = []
        for p in children.get(parent_id, []):
            task = tasks.get(p.pk)
            status = FOLDED[status_word(task)] if task is not None else None
            out.append((p.kind == "category", normalize_title(p.title), status, shape(p.pk)))
        return out

    return shape(None)


def supervise(user, inspection: Inspection) -> None:
    ScopeAssignment.objects.create(
        user=user, role=ScopeRole.SUPERVISOR, organization=inspection.organization
    )


# --------------------------------------------------------------------------------------------
# Round trip through the importer, on every seed
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_notice_text_round_trips_through_the_importer(path):
    import_file(path)
    inspections = list(Inspection.objects.all())
    assert inspections
    for inspection in inspections:
        original = {normalize_title(p.title) for p in inspection.problems.all()}
        text = render_text(build_notice(inspection))
        parsed = parse_notice(text, name=f"published-{inspection.pk}.txt")
        assert len(parsed.inspections) == 1
        back = parsed.inspections[0]
        tasks = list(
            Task.objects.filter(inspection=inspection)
            .select_related("problem")
            .order_by("problem__order", "pk")
        )
        # Leaf problems: the same titles, in the same order, with the same statuses.
        assert [(normalize_title(leaf.title), leaf.status) for leaf in back.iter_leaves()] == [
            (normalize_title(t.problem.title), FOLDED[status_word(t)]) for t in tasks
        ]
        # The whole tree: categories, problems and sub-problems as stored.
        assert tree(back.problems) == db_tree(inspection)
        assert {normalize_title(leaf.title) for leaf in back.iter_leaves()} <= original
        done = sum(t.status in (TaskStatus.COMPLETED, TaskStatus.CLOSED) for t in tasks)
        basic = sum(t.status == TaskStatus.BASICALLY_COMPLETED for t in tasks)
        assert {
            k: back.declared.get(k)
            for k in ("problems", "completed", "basically_completed", "not_completed")
        } == {
            "problems": len(tasks),
            "completed": done,
            "basically_completed": basic,
            "not_completed": len(tasks) - done - basic,
        }
        # The opening's facts read back too.
        assert back.feedback == inspection.feedback_date
        assert back.start == inspection.start and back.end == inspection.end
        if inspection.group:
            assert back.group == inspection.group
        assert not [w for w in parsed.warnings if "不符" in w]


@pytest.mark.django_db
def test_statuses_totals_outcomes_and_withheld_problems_read_back(inspection, finance):
    category = factories.make_category(inspection)
    done = factories.make_task(inspection, owner=finance, category=category, title="台账管理不规范")
    closed = factories.make_task(inspection, owner=finance, category=category, title="资金拨付滞后")
    basic = factories.make_task(inspection, owner=finance, category=category, title="制度执行不严")
    factories.make_task(
        inspection, owner=finance, title="长效机制不健全", task_type=TaskType.LONG_TERM
    )
    secret = factories.make_task(inspection, owner=finance, title="某案件线索处置不力")
    factories.make_task(inspection, owner=finance, title="监督检查不到位")
    actions.change_status(done, TaskStatus.COMPLETED, SYSTEM)
    Task.objects.filter(pk=closed.pk).update(status=TaskStatus.CLOSED)
    actions.change_status(basic, TaskStatus.BASICALLY_COMPLETED, SYSTEM)
    actions.record_note(done, "已建立统一台账并每月更新。", SYSTEM)
    for kind, value in (
        ("party_discipline", "2"),
        ("party_discipline", "1"),
        ("government_discipline", "1"),
        ("education_reminder", "19"),
        ("institutions", "43"),
        ("funds_returned_wan_yuan", "12.6"),
        ("losses_recovered_wan_yuan", "280"),
    ):
        InspectionOutcome.objects.create(inspection=inspection, kind=kind, value=Decimal(value))

    doc = build_notice(
        inspection,
        withheld={secret.problem_id},
        contact="0571-12345678",
        date=datetime.date(2026, 11, 2),
    )
    text = render_text(doc)
    assert "某案件线索处置不力" not in text
    assert "1.台账管理不规范。（已完成）" in text
    assert "（已完成）" in text.split("资金拨付滞后")[1].splitlines()[0]  # 已销号 prints 已完成
    assert "长效机制不健全。（长期坚持）" in text
    assert "已建立统一台账并每月更新" in text
    assert "一是建立台账;二是完善制度" in text
    assert "联系电话：0571-12345678。" in text
    assert text.rstrip().endswith("中共测试开发区工作委员会\n2026年11月2日")

    back = parse_notice(text, name="notice.txt").inspections[0]
    assert back.declared["problems"] == 6  # the withheld one is counted
    assert back.declared["completed"] == 2  # 已完成 and 已销号
    assert back.declared["basically_completed"] == 1
    assert back.declared["not_completed"] == 3  # 长期坚持 and open ones
    assert back.declared["completion_rate"] == pytest.approx(33.33)
    assert back.declared["party_discipline"] == 3  # rows of one kind add up
    assert back.declared["government_discipline"] == 1
    assert back.declared["education_reminder"] == 19
    assert back.declared["institutions"] == 43
    assert back.declared["funds_returned_wan_yuan"] == pytest.approx(12.6)
    assert back.declared["losses_recovered_wan_yuan"] == 280
    leaves = [(leaf.title, leaf.status) for leaf in back.iter_leaves()]
    assert leaves == [
        ("台账管理不规范", "completed"),
        ("资金拨付滞后", "completed"),
        ("制度执行不严", "basically_completed"),
        ("长效机制不健全", "long_term"),
        ("监督检查不到位", "not_completed"),
    ]
    assert back.group == "省委第七巡视组" and back.round == "十五届省委第二轮"
    assert back.feedback == datetime.date(2026, 9, 1)


@pytest.mark.django_db
def test_a_category_whose_problems_are_all_withheld_is_not_printed(inspection, finance):
    category = factories.make_category(inspection, "关于选人用人方面")
    hidden = factories.make_task(inspection, owner=finance, category=category, title="干部档案造假")
    factories.make_task(inspection, owner=finance, title="财务审批不严")
    text = render_text(build_notice(inspection, withheld={hidden.problem_id}))
    assert "选人用人" not in text and "干部档案造假" not in text
    assert "另有1项问题" in text
    back = parse_notice(text, name="n.txt").inspections[0]
    assert [leaf.title for leaf in back.iter_leaves()] == ["财务审批不严"]
    assert back.declared["problems"] == 2


# --------------------------------------------------------------------------------------------
# The DOCX layout
# --------------------------------------------------------------------------------------------


def _east_asia(run) -> str | None:
    fonts = run._r.rPr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


@pytest.mark.django_db
def test_carol_downloads_the_notice_of_the_seed_inspection(client, carol):
    import_file(seed("001"))
    inspection = Inspection.objects.get()
    supervise(carol, inspection)
    client.force_login(carol)

    response = client.get(f"/inspections/{inspection.pk}/notice.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in response["Content-Disposition"]
    docx = open_docx(io.BytesIO(response.content))

    title = docx.paragraphs[0]
    assert title.text == "中共秦皇岛经济技术开发区工作委员会关于巡察整改进展情况的通报"
    assert title.runs[0].font.size == Pt(22)
    assert title.runs[0].font.name == "方正小标宋简体"
    assert _east_asia(title.runs[0]) == "方正小标宋简体"
    body = next(p for p in docx.paragraphs if p.text.startswith("根据市委统一部署"))
    assert body.runs[0].font.size == Pt(16) and _east_asia(body.runs[0]) == "仿宋_GB2312"
    assert body.paragraph_format.line_spacing == Pt(28.95)
    assert docx.styles["Normal"].paragraph_format.line_spacing == Pt(28.95)
    grid = section_grid = docx.sections[0]._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579" and section_grid is grid
    heading = next(p for p in docx.paragraphs if p.text.startswith("一、"))
    assert _east_asia(heading.runs[0]) == "黑体"
    category = next(p for p in docx.paragraphs if p.text.startswith("（一）关于"))
    assert _east_asia(category.runs[0]) == "楷体_GB2312"
    assert any(p.text.endswith("（基本完成）") for p in docx.paragraphs)

    section = docx.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    assert abs(section.top_margin - Mm(37)) < Mm(0.1)
    assert abs(section.bottom_margin - Mm(35)) < Mm(0.1)
    assert abs(section.left_margin - Mm(28)) < Mm(0.1)
    assert abs(section.right_margin - Mm(26)) < Mm(0.1)
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in "".join(t.text for t in footer._element.iter(qn("w:instrText")))
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert footer.paragraphs[0].text == "— 1 —"
        assert _east_asia(footer.paragraphs[0].runs[0]) == "宋体"
        assert footer.paragraphs[0].runs[0].font.size == Pt(14)
    assert docx.settings.odd_and_even_pages_header_footer

    response = client.get(f"/inspections/{inspection.pk}/notice.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    back = parse_notice(response.content.decode(), name="n.txt").inspections[0]
    assert back.leaf_problems == 27 and back.declared["problems"] == 27

    response = client.get(f"/inspections/{inspection.pk}/report.docx")
    assert response.status_code == 200
    report = open_docx(io.BytesIO(response.content))
    assert report.paragraphs[0].text.endswith("关于巡察反馈意见整改情况的报告")


@pytest.mark.django_db
def test_outsiders_get_404(client, inspection, finance_task, planning_task, eve, dave, alice):
    import_file(seed("003"))
    seed_inspection = Inspection.objects.exclude(pk=inspection.pk).get()
    for user in (eve, dave, alice):
        client.force_login(user)
        for pk in (inspection.pk, seed_inspection.pk, 999999):
            for what in ("notice.docx", "notice.txt", "report.docx"):
                assert client.get(f"/inspections/{pk}/{what}").status_code == 404, (user, pk)
    client.logout()
    response = client.get(f"/inspections/{inspection.pk}/notice.docx")
    assert response.status_code == 302  # to the login page


@pytest.mark.django_db
def test_carol_sees_only_her_organizations_inspections(client, carol, inspection, finance_task):
    import_file(seed("003"))
    other = Inspection.objects.exclude(pk=inspection.pk).get()
    client.force_login(carol)
    assert client.get(f"/inspections/{inspection.pk}/notice.txt").status_code == 200
    assert client.get(f"/inspections/{other.pk}/notice.txt").status_code == 404


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_lists_unfinished_items_with_their_new_deadline(inspection, finance, planning):
    done = factories.make_task(inspection, owner=finance, title="台账管理不规范")
    late = factories.make_task(inspection, owner=finance, title="资金拨付滞后")
    basic = factories.make_task(inspection, owner=planning, title="规划审批把关不严")
    longterm = factories.make_task(
        inspection, owner=finance, title="长效机制不健全", task_type=TaskType.LONG_TERM
    )
    actions.change_status(done, TaskStatus.COMPLETED, SYSTEM)
    actions.change_status(basic, TaskStatus.BASICALLY_COMPLETED, SYSTEM)
    actions.change_lead_unit(late, finance, SYSTEM)
    actions.change_responsible_units(late, [finance, planning], SYSTEM)
    actions.change_lead_leader(late, "王某某（党组书记）", SYSTEM)
    actions.tick_measure(late, late.measures.order_by("order", "pk").first(), True, SYSTEM)
    actions.change_deadline(late, datetime.date(2027, 3, 31), SYSTEM, reason="资金来源调整")
    InspectionOutcome.objects.create(inspection=inspection, kind="institutions", value=5)

    doc = build_report(inspection, date=datetime.date(2026, 11, 1))
    assert doc.addressee == "省委第七巡视组："
    text = render_text(doc)
    assert "建立完善制度5项" in text
    duty = next(line for line in text.splitlines() if line.startswith("牵头领导：王某某"))
    assert duty.startswith("牵头领导：王某某（党组书记）;牵头单位：财政局;责任单位：")
    assert {"财政局", "规划局"} <= set(duty.split("责任单位：")[1].split(";")[0].split("、"))
    assert "一是建立台账(已完成);二是完善制度(推进中)" in text
    rest = text.split("三、尚未完成的整改事项及下一步安排")[1]
    assert "台账管理不规范" not in rest
    items = rest.split("\n")
    late_at = items.index("1.资金拨付滞后。（未完成）")
    assert items[late_at + 1] == "下一步措施：二是完善制度。"
    assert items[late_at + 2].startswith("完成时限：2027年3月31日前(原定2026年11月1日,经批准延期)")
    assert "2.规划审批把关不严。（基本完成）" in items
    assert "3.长效机制不健全。（长期坚持）" in items
    assert any(line.startswith("完成时限：长期坚持,每90天报告一次进展") for line in items)

    docx = open_docx(io.BytesIO(render_docx(doc)))
    texts = [p.text for p in docx.paragraphs]
    assert texts[0] == "中共测试开发区工作委员会关于十五届省委第二轮巡视反馈意见整改情况的报告"
    assert "省委第七巡视组：" in texts
    assert any(t.startswith("完成时限：2027年3月31日前") for t in texts)
    assert texts[-1] == "2026年11月1日"
    assert longterm.pk


# --------------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_commands_write_the_files(tmp_path):
    import_file(seed("003"))
    inspection = Inspection.objects.get()
    txt, docx_path, report = tmp_path / "n.txt", tmp_path / "n.docx", tmp_path / "r.docx"
    call_command("publish_notice", "--inspection", str(inspection.pk), "--out", str(txt))
    call_command(
        "publish_notice",
        "--inspection",
        str(inspection.pk),
        "--out",
        str(docx_path),
        "--contact",
        "0575-88888888",
    )
    call_command("publish_report", "--inspection", str(inspection.pk), "--out", str(report))
    back = parse_notice(txt.read_text(encoding="utf-8"), name="n.txt").inspections[0]
    assert back.leaf_problems == 10
    notice = open_docx(str(docx_path))
    assert any("联系电话：0575-88888888" in p.text for p in notice.paragraphs)
    assert open_docx(str(report)).paragraphs[0].text.endswith("整改情况的报告")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("publish_notice", "--inspection", "999999", "--out", str(txt))
    with pytest.raises(CommandError):
        call_command("publish_report", "--inspection", str(inspection.pk), "--out", str(txt))


def test_the_dashboard_links_the_notice_and_the_report_for_supervisors_only(client, carol, dave):
    from django.urls import reverse

    from tests import factories
    from tracker.models import Inspection

    org = factories.make_org()
    inspection = Inspection.objects.filter(organization=org).first() or factories.make_inspection(
        org
    )
    factories.make_task(inspection, owner=factories.make_unit(org, "财政局"))
    url = reverse("tracker:notice_docx", args=[inspection.pk])
    client.force_login(carol)
    page = client.get(reverse("tracker:dashboard")).content.decode()
    assert url in page
    assert client.get(url).status_code == 200
    client.force_login(dave)  # the observer sees the dashboard, not the downloads
    assert url not in client.get(reverse("tracker:dashboard")).content.decode()
