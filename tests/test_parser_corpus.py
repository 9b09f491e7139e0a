"""The whole corpus of notices with written-down readings (tests/notices/expected.json and the
seeds), and the layouts of tests/notices/16–30 told as small stories.

16–30 are written in layouts of published notices the earlier ones do not show: problems
numbered 1./1、/1． restarting in every category and wrapped as 对于“…”的问题 / 关于…的问题 /
针对… with the status in brackets after them or closing the line; sections on how the
organization led the work (with shortcoming words in their headings), on the inspectors'
suggestions and on keeping the gains, before or after the problems; round-level roll-ups over
many organizations; declared totals in many phrasings, with explicit zeros; an entry and an
exit date; page headers in brackets; source tags that are media or byline tags; community
blocks of 存在问题:/整改措施:/完成情况: lines.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest

# The repository root, for `bench`, `tests` and `tracker` (plain pytest may not add it).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.parse_corpus import SETS, fold, score_set
from tests.notice_corpus import compare_reading
from tracker.importer.parser import parse_notice, read_notice

ROOT = Path(__file__).resolve().parent.parent
NOTICES = ROOT / "tests" / "notices"
EXPECTED = json.loads((NOTICES / "expected.json").read_text(encoding="utf-8"))
SEEDS_META = json.loads((ROOT / "tests" / "seeds_metadata.json").read_text(encoding="utf-8"))

INTRO = (
    "根据市委统一部署,2021年9月1日至11月12日,市委第二巡察组对市财政局党组进行了常规巡察。"
    "2022年1月24日,市委巡察组向市财政局党组反馈了巡察意见。现将整改情况予以公布。\n"
)
SIGNATURE = "中共海州市财政局党组\n2022年7月6日\n"


def read(file_name: str):
    return parse_notice(read_notice(NOTICES / file_name), name=f"tests/notices/{file_name}")


def test_every_notice_has_an_expected_reading() -> None:
    assert sorted(p.name for p in NOTICES.glob("*.txt")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_notice_reads_as_expected(file_name: str) -> None:
    # Given a notice and its reading written down by hand; When it is read;
    notice = read(file_name)
    expected = EXPECTED[file_name]
    # Then tree, statuses, facts and declared totals are as written, and so are title and issuer.
    diff = compare_reading(notice, expected)
    assert diff is None, f"tests/notices/{file_name}: {diff}"
    assert fold(notice.title) == fold(expected["title"])
    assert fold(notice.issuer) == fold(expected["issuer"])


@pytest.mark.parametrize("file_name", sorted(k for k in SEEDS_META if not k.startswith("_")))
def test_seed_title_and_issuer(file_name: str) -> None:
    # Given a seed notice; When it is read; Then its title and issuer are the ones a reader
    # names: a source tag such as 莞巡宣 is no issuer, and a notice printing no title gets one
    # composed from its signature, round and what it says it publishes.
    notice = parse_notice(read_notice(ROOT / "seeds" / file_name), name=file_name)
    assert notice.title == SEEDS_META[file_name]["title"]
    assert notice.issuer == SEEDS_META[file_name]["issuer"]


def test_corpus_scores() -> None:
    # The figures bench/RESULTS-parse.md reports, kept: leaf F1 at least 0.97 over tests/notices.
    label, folder, expected_file, meta = SETS[0]
    report = score_set(folder, expected_file, meta)
    assert report.files == len(EXPECTED)
    assert report.scores["leaves"].f1 >= 0.97
    assert report.scores["statuses"].f1 >= 0.95
    assert report.scores["metadata"].f1 >= 0.95
    assert report.scores["declared"].f1 >= 0.95


# -- the layouts, as stories ------------------------------------------------------------------


def test_lead_sections_are_never_problems_even_with_shortcoming_words() -> None:
    # Given a notice whose first section tells how the organization led the work, its points
    # phrased with shortcoming words ("防止整改不深入不彻底"), and whose problems are bare
    # sentences stating their status in their text;
    notice = read("19_lead_section_negative_words.txt")
    # When it is read, Then only the four problems are problems.
    titles = [leaf.title for leaf in notice.inspections[0].iter_leaves()]
    assert len(titles) == 4 and titles[0] == "重大项目储备不足,项目谋划缺乏前瞻性"
    assert not any("督促检查" in t or "问题导向" in t for t in titles)


def test_lead_and_suggestion_sections_after_the_problems() -> None:
    text = (
        INTRO
        + (
            "一、关于财务管理方面\n(一)“报销审核不严”问题的整改情况。修订报销细则。(已完成)\n"
            "二、强化组织领导,确保整改落实落细\n(一)压实整改责任,避免整改不到位。班子成员分兵把守。\n"
            "三、关于巡察建议的采纳落实情况\n(一)针对巡察组提出的“加强预算约束”建议,出台办法。\n"
        )
        + SIGNATURE
    )
    [insp] = parse_notice(text).inspections
    assert [(p.title, [c.title for c in p.children]) for p in insp.problems] == [
        ("关于财务管理方面", ["报销审核不严"])
    ]
    assert insp.problems[0].children[0].status == "completed"


@pytest.mark.parametrize(
    ("heading", "title", "status"),
    [
        ("1.对于“公车管理不规范”的问题(已完成)", "公车管理不规范", "completed"),
        ("1、针对村级财务管理不规范(正在整改)", "村级财务管理不规范", "not_completed"),
        ("1.“招商项目落地率不高”问题。建立跟踪机制。(已完成)", "招商项目落地率不高", "completed"),
        (
            "1.针对“三重一大”事项决策程序不规范的问题。修订议事规则。(整改完成)",
            "“三重一大”事项决策程序不规范",
            "completed",
        ),
        ("1.关于审核把关不严的问题【整改中】", "审核把关不严", "not_completed"),
    ],
)
def test_wrapped_headings_with_their_status(heading: str, title: str, status: str) -> None:
    text = INTRO + "一、关于财务管理方面\n" + heading + "\n" + SIGNATURE
    [category] = parse_notice(text).inspections[0].problems
    [problem] = category.children
    assert (problem.title, problem.status) == (title, status)


def test_round_rollup_is_one_round_record_without_problems() -> None:
    # Given a notice on one round over twelve organizations, stating only totals;
    notice = read("21_round_rollup.txt")
    [insp] = notice.inspections
    # Then it is one round record with its totals and no invented problems, and no warning
    # that the problems were not published.
    assert insp.rollup and insp.problems == []
    assert insp.round == "十五届县委第四轮"
    assert insp.declared["units"] == 12 and insp.declared["problems"] == 286
    assert notice.warnings == []


def test_rollup_needs_many_organizations_and_no_problem_list() -> None:
    # A notice naming "等N个党组织" but listing its own problems is not a roll-up.
    text = (
        "根据省委统一部署,七届省委对省财政厅等11个党组织开展第十轮常规巡视,"
        "省委第二巡视组对省财政厅党组进行了巡视。现将整改情况予以公布。\n"
        "一、关于“预算编制不科学”问题的整改情况\n修订办法。\n"
    )
    [insp] = parse_notice(text).inspections
    assert not insp.rollup and insp.leaf_problems == 1


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        ("反馈的6个问题中已整改到位的4个、基本完成1个。", "completed", 4),
        ("反馈的6个问题,需长期坚持的问题0个。", "long_term", 0),
        ("反馈的4个问题全部整改到位,正在整改0个。", "not_completed", 0),
        ("共反馈问题153个,已完成整改141个,剩余12个正在持续推进。", "not_completed", 12),
        ("细化制定整改措施38条,明确牵头科室7个。", "lead_units", 7),
    ],
)
def test_declared_phrasings(sentence: str, key: str, value: int) -> None:
    text = INTRO + sentence + "\n1.针对“统计台账不规范”问题。\n"
    assert parse_notice(text).inspections[0].declared[key] == value


@pytest.mark.parametrize(
    "sentence",
    [
        "召开专题会议9次,受教育党员干部320人次。",
        "党员干部参学率达到98%,补贴发放及时率为100%。",
        "问题线索已办结17件。",
    ],
)
def test_figures_that_are_not_totals(sentence: str) -> None:
    text = INTRO + sentence + "\n1.针对“统计台账不规范”问题。\n"
    declared = parse_notice(text).inspections[0].declared
    assert not {"completion_rate", "education_reminder", "completed", "problems"} & set(declared)


def test_entry_and_exit_dates_and_yearless_feedback() -> None:
    text = (
        "根据县委统一部署,县委第四巡察组于2023年3月20日进驻县林业局党组开展常规巡察,5月19日结束"
        "进驻。6月27日,县委第四巡察组向县林业局党组反馈了巡察意见。\n"
        "1.针对“统计台账不规范”问题。\n"
    )
    [insp] = parse_notice(text).inspections
    assert (insp.start, insp.end) == ("2023-03-20", "2023-05-19")
    assert insp.feedback == datetime.date(2023, 6, 27)


def test_bracketed_page_header_dates_the_notice_over_its_signature() -> None:
    text = "(发布日期:2023年12月20日)\n" + INTRO + "1.针对“统计台账不规范”问题。\n" + SIGNATURE
    assert parse_notice(text).published == datetime.date(2023, 12, 20)


@pytest.mark.parametrize(
    ("source", "issuer"),
    [
        ("市委巡察办", "市委巡察办"),
        ("安平县纪委监委", "安平县纪委监委"),
        ("莞巡宣", "中共海州市财政局党组"),
        ("临江日报", "中共海州市财政局党组"),
        ("金水市纪委监委网站", "中共海州市财政局党组"),
    ],
)
def test_source_tags_that_are_not_issuers(source: str, issuer: str) -> None:
    text = f"来源:{source} 发布时间:2022-07-08\n" + INTRO + "1.针对“台账不规范”问题。\n" + SIGNATURE
    assert parse_notice(text).issuer == issuer


def test_title_with_a_note_after_it_and_title_composed_when_none_is_printed() -> None:
    titled = parse_notice(
        "中共海州市财政局党组关于巡察整改进展情况的通报(第二批)\n"
        + INTRO
        + "1.针对“台账不规范”问题。\n"
        + SIGNATURE
    )
    assert titled.title == "中共海州市财政局党组关于巡察整改进展情况的通报(第二批)"
    assert titled.title_line == 1
    untitled = parse_notice(INTRO + "1.针对“台账不规范”问题。\n" + SIGNATURE)
    assert untitled.title == "中共海州市财政局党组关于巡察整改情况的通报"
    assert untitled.title_line is None


def test_community_blocks_of_fields() -> None:
    notice = read("25_community_blocks.txt")
    [insp] = notice.inspections
    first = next(insp.iter_leaves())
    assert first.title.startswith("社区党委“三会一课”制度落实不严格")
    assert first.status == "completed"
    assert first.detail.startswith("制定年度组织生活计划")
    assert insp.group == "街道党工委第一巡察组"


def test_warnings_name_the_line_they_come_from() -> None:
    # Given a notice declaring more problems than it publishes;
    text = INTRO + "对反馈的3个问题逐项整改。\n1.针对“台账不规范”问题。\n" + SIGNATURE
    notice = parse_notice(text)
    # Then the warning says so, and on which line the total was stated.
    [warning] = notice.warnings
    assert warning == "通报声明问题 3 个,公布了 1 个"
    assert warning.line == 2  # the introduction is line 1
