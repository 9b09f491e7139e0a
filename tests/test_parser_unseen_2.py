"""More real-world notice layouts (tests/notices/11–15), read as a person would.

A central-inspection notice of a provincial committee (preamble 一、提高政治站位…, then 二、 with
(一)…方面 categories and 1.关于“…”的问题 items, 三、下一步, contacts, signature 中共X省委); a
company notice stating its outcomes in many phrasings (立案审查调查, 党纪政务处分, 追缴(追回)
资金1.2亿元, 挽回经济损失3500余万元, 其余2个正在整改中); statuses given inside a problem's text
("…,该项工作已基本完成,下一步将…"); and notices covering several organizations under section
headings "一、市教育局党组巡察整改情况" / "(三)白石乡整改情况", one with a flattened table whose
header has stray spaces in its names ("序 号", "责任 单位").
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.importer.parser import parse_notice, read_notice
from tracker.importer.text import core_org_name

NOTICES = Path(__file__).resolve().parent / "notices"


def read(file_name: str):
    return parse_notice(read_notice(NOTICES / file_name), name=f"tests/notices/{file_name}")


def leaves(insp) -> list[tuple]:
    return [(leaf.label, leaf.title, leaf.status) for leaf in insp.iter_leaves()]


# -- 11. a central inspection notice of a provincial committee -------------------------------


def test_central_inspection_notice() -> None:
    # Given 中共临江省委's notice on the 十九届中央第七轮 inspection: a preamble section whose
    # (一)(二)(三) points are work methods, a 二、 section of (一)…方面 categories holding
    # 1.关于“…”的问题 items, 三、下一步工作打算, a contact line and the signature 中共临江省委;
    # When it is read;
    notice = read("11_central_inspection.txt")
    [insp] = notice.inspections

    # Then the inspected committee is the signature's full name (the introduction only says
    # 对临江省进行了常规巡视), with the round, the central group and the dates;
    assert insp.organization == "中共临江省委"
    assert core_org_name(insp.organization) == "临江省"
    assert insp.round == "十九届中央第七轮"
    assert insp.group == "中央第十一巡视组"
    assert (insp.start, insp.end) == ("2021-05-10", "2021-07-10")
    assert insp.feedback == datetime.date(2021, 8, 28)
    assert notice.published == datetime.date(2021, 12, 28)
    # the four categories hold the six problems; the preamble's points are not problems;
    assert [(p.label, p.title, p.kind, len(p.children)) for p in insp.problems] == [
        ("(一)", "贯彻落实党中央重大决策部署方面", "category", 2),
        ("(二)", "落实全面从严治党战略部署方面", "category", 2),
        ("(三)", "落实新时代党的组织路线方面", "category", 1),
        ("(四)", "落实巡视、审计等监督发现问题整改方面", "category", 1),
    ]
    # each status is the one the problem's text states, wherever in the text it is
    # ("该问题已完成整改,将长期坚持" is completed: 将长期坚持 is a plan, not a status);
    assert leaves(insp) == [
        ("1.", "贯彻新发展理念不够到位,推动高质量发展办法不多", "completed"),
        ("2.", "生态环境保护责任落实有差距,部分流域污染治理滞后", "basically_completed"),
        ("1.", "落实管党治党政治责任不够有力,‘两个责任’贯通协同不够", "completed"),
        ("2.", "一些领域腐败问题易发多发,违规吃喝等问题禁而未绝", "not_completed"),
        ("1.", "领导班子建设有短板,干部队伍年龄结构不够合理", None),
        ("1.", "以往巡视发现问题整改不到位", None),
    ]
    # and the totals: "4个方面6个问题", "整改任务清单56项" (tasks) apart from "整改措施168条",
    # and the preamble's outcomes (清退…津补贴86.5万元, 建立健全制度机制43项).
    assert insp.declared == {
        "problems": 6,
        "categories": 4,
        "completed": 4,
        "basically_completed": 2,
        "measures": 168,
        "tasks": 56,
        "institutions": 43,
        "funds_returned_wan_yuan": 86.5,
        "completion_rate": 66.7,
    }
    assert notice.warnings == []


# -- 12. outcomes stated in many phrasings ---------------------------------------------------


def test_outcome_figures_in_many_phrasings() -> None:
    # Given a state-owned company's notice whose 总体情况 says "已完成整改10个,其余2个正在整改中"
    # and lists its outcomes as 立案审查调查12件, 给予党纪政务处分15人, 诫勉谈话23人, 组织处理8人,
    # 批评教育31人次, 追缴(追回)资金1.2亿元, 挽回经济损失3500余万元, 制定修订制度86项;
    # When it is read;
    notice = read("12_outcome_figures.txt")
    [insp] = notice.inspections

    # Then every figure lands on its key, amounts in 万元 (1.2亿元 = 12000, 3500余万元 = 3500),
    # and the problems' own figures (追回超付工程款1.2亿元) are not the notice's totals;
    assert insp.declared == {
        "problems": 12,
        "categories": 3,
        "completed": 10,
        "not_completed": 2,
        "measures": 64,
        "cases_filed": 12,
        "party_discipline": 15,
        "organizational_handling": 8,
        "admonishment": 23,
        "education_reminder": 31,
        "institutions": 86,
        "funds_returned_wan_yuan": 12000,
        "losses_recovered_wan_yuan": 3500,
        "completion_rate": 83.3,
    }
    # "党纪政务处分" is one figure, read as the party-discipline one (not a second 政务处分);
    assert "government_discipline" not in insp.declared
    # and the statuses closing each problem, or stated inside it, are read.
    statuses = [s for _l, _t, s in leaves(insp)]
    assert statuses.count("completed") == 10
    assert statuses.count("not_completed") == 2
    assert insp.group == "市委第二巡察组"
    assert notice.published == datetime.date(2024, 1, 15)


# -- 13. statuses in the middle of a problem's text ------------------------------------------


def test_status_stated_inside_the_problem_text() -> None:
    # Given problems "1.…的整改落实情况。" whose status is a clause inside their text:
    # "该问题已完成整改,同时建立了…", "截至目前,该项工作已基本完成,下一步将…" (its first line),
    # "目前已整改到位,并建立了…", "截至2023年10月底,该问题正在整改中,将于年底前全部完成";
    # and two whose text only reports work done ("已完成问题线索核查7条", "已完成3名科级干部
    # 轮岗交流") or what is planned ("确保问题整改到位");
    # When it is read;
    notice = read("13_midbody_status.txt")
    [insp] = notice.inspections

    # Then the stated statuses are read and the reports of work done are not statuses.
    assert leaves(insp) == [
        ("1.", "学习贯彻习近平总书记重要讲话精神不够深入", "completed"),
        ("2.", "落实医保领域重大决策部署存在差距", "basically_completed"),
        ("1.", "医保基金监管存在漏洞", "completed"),
        ("2.", "违规报销问题时有发生", None),
        ("3.", "廉政风险防控不到位", "not_completed"),
        ("1.", "干部队伍结构不够合理", None),
        ("2.", "干部教育培训针对性不强", "completed"),
    ]
    assert insp.round == "十四届市委第四轮"
    assert "局党组" in insp.aliases


# -- 14. several organizations under 一、X党组巡察整改情况 headings ------------------------------


def test_several_organizations_under_numbered_section_headings() -> None:
    # Given a 巡察办 notice on three bodies, each under "一、市教育局党组巡察整改情况",
    # "二、中共临川市委政法委员会巡察整改进展情况", "三、市交通运输局党组巡察整改情况", each with
    # its own feedback date, group, totals and problems in its own layout;
    # When it is read;
    notice = read("14_multi_org_cn_headings.txt")

    # Then there is one inspection per section, with the shared round and period,
    assert [i.organization for i in notice.inspections] == [
        "市教育局党组",
        "中共临川市委政法委员会",
        "市交通运输局党组",
    ]
    for insp in notice.inspections:
        assert insp.round == "十四届市委第五轮"
        assert (insp.start, insp.end) == ("2023-09-04", "2023-11-03")
    edu, law, transport = notice.inspections
    # its own group, feedback date and totals,
    assert [i.group for i in notice.inspections] == [
        "市委第一巡察组",
        "市委第二巡察组",
        "市委第三巡察组",
    ]
    assert transport.feedback == datetime.date(2023, 11, 30)
    assert edu.declared == {
        "problems": 4,
        "categories": 2,
        "completed": 3,
        "basically_completed": 1,
        "measures": 26,
    }
    assert transport.declared == {"problems": 3, "completed": 2, "not_completed": 1}
    # and its own problems ("1.…不到位的问题。" without the 的问题 wrapper).
    assert [len(list(i.iter_leaves())) for i in notice.inspections] == [4, 3, 3]
    assert [(p.kind, len(p.children)) for p in edu.problems] == [("category", 2)] * 2
    assert leaves(law)[0] == ("(一)", "统筹协调政法工作不够有力", "completed")
    assert leaves(transport) == [
        ("1.", "农村公路养护管理不到位", "not_completed"),
        ("2.", "工程建设项目招投标监管存在漏洞", "completed"),
        ("3.", "执法队伍作风建设有差距", "completed"),
    ]
    assert notice.warnings == []


# -- 15. several organizations under (一)X整改情况 headings, one with a flattened table ----------


def test_several_organizations_under_bracketed_headings_with_a_spaced_table_header() -> None:
    # Given a county notice whose 二、各被巡察党组织整改情况 holds "(一)青山镇党委整改情况",
    # "(二)县水利局党组整改情况" (its problems a table flattened to text, the header
    # "序 号 反馈问题 整改措施 责任 单位 完成情况") and "(三)白石乡整改情况" (a place alone);
    # When it is read;
    notice = read("15_multi_org_pcn_headings.txt")

    # Then the three sections are three inspections, the round read with its term from the
    # introduction although the title names it without one,
    assert [i.organization for i in notice.inspections] == ["青山镇党委", "县水利局党组", "白石乡"]
    town, water, village = notice.inspections
    assert {i.round for i in notice.inspections} == {"十五届县委第三轮"}
    assert (town.start, town.end) == ("2023-04", "2023-06")
    assert [i.feedback for i in notice.inspections] == [
        datetime.date(2023, 7, 18),
        datetime.date(2023, 7, 19),
        datetime.date(2023, 7, 20),
    ]
    # "已全部完成整改" declares every problem completed,
    assert town.declared == {"problems": 3, "completed": 3}
    assert [s for _l, _t, s in leaves(town)] == ["completed"] * 3
    # the table's header names are joined again, so its rows are the problems,
    assert leaves(water) == [
        ("1", "水利工程质量监管不到位", "completed"),
        ("2", "河湖长制落实不够有力", "completed"),
        ("3", "防汛物资储备管理不规范", "not_completed"),
    ]
    # and a status stated on the heading line's second sentence is read.
    assert leaves(village) == [
        ("1.", "产业发展带动能力不强", "not_completed"),
        ("2.", "人居环境整治不彻底", "completed"),
    ]
    assert notice.warnings == []


# -- rules behind the readings, on small texts -----------------------------------------------

INTRO = (
    "关于巡察整改进展情况的通报\n"
    "2023年3月6日至4月28日,市委第一巡察组对市统计局党组开展了常规巡察。\n"
)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("一是修订制度。该问题已完成整改,同时建立长效机制。", "completed"),
        ("截至目前,该项整改已基本完成,下一步将持续巩固。", "basically_completed"),
        ("开展专项检查。目前已整改到位,并建立台账。", "completed"),
        ("截至10月底,该问题正在整改中,年底前完成。", "not_completed"),
        ("此项工作已完成,形成长效机制。", "completed"),
        # work done, not a status
        ("已完成12个党支部换届,选优配强支部书记。", None),
        ("完成问题线索核查7条,下一步将确保问题整改到位。", None),
    ],
)
def test_status_clause_inside_the_text(body: str, status: str | None) -> None:
    # Given one problem whose text holds (or does not hold) a status clause;
    text = INTRO + "1.统计数据质量管理不到位。\n" + body + "\n"
    # When it is read, Then its status is the clause's.
    [leaf] = parse_notice(text).inspections[0].iter_leaves()
    assert leaf.status == status


def test_status_clause_of_a_sub_problem_is_not_its_parents() -> None:
    # Given a problem whose sub-problem states its status;
    text = INTRO + (
        "1.统计数据质量管理不到位。\n(1)针对“统计台账不规范”问题\n目前,该问题已完成整改,并建立台账。\n"
    )
    [parent] = parse_notice(text).inspections[0].problems
    # Then the sub-problem has it and the parent does not.
    assert parent.status is None
    assert parent.children[0].status == "completed"


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        ("追缴违规资金1.2亿元。", "funds_returned_wan_yuan", 12000),
        ("挽回经济损失3500余万元。", "losses_recovered_wan_yuan", 3500),
        ("清退违规发放津补贴86.5万元。", "funds_returned_wan_yuan", 86.5),
        ("追回资金8650元。", "funds_returned_wan_yuan", 0.865),
        ("立案审查调查12件。", "cases_filed", 12),
        ("制定整改任务56项。", "tasks", 56),
        ("建立健全制度机制43项。", "institutions", 43),
        ("反馈的5个问题已完成整改3个,1个基本完成,其余1个正在整改中。", "basically_completed", 1),
        ("反馈的5个问题已完成整改3个,1个基本完成,其余1个正在整改中。", "not_completed", 1),
    ],
)
def test_declared_figures(sentence: str, key: str, value: int | float) -> None:
    # Given an introduction stating one figure; When it is read; Then it is declared as such.
    text = INTRO + sentence + "\n1.针对“统计台账不规范”问题。\n"
    assert parse_notice(text).inspections[0].declared[key] == value


def test_org_section_headings_need_two_organizations() -> None:
    # Given a single-organization notice with one heading naming it ("一、市统计局党组整改情况");
    text = INTRO + "一、市统计局党组整改情况\n1.针对“统计台账不规范”问题。\n"
    # When it is read, Then it stays one inspection of the organization the introduction names.
    notice = parse_notice(text)
    assert [core_org_name(i.organization) for i in notice.inspections] == ["市统计局"]
