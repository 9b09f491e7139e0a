"""Real-world notice layouts the seeds do not show (tests/notices/*.txt), read as a person would.

Each notice under tests/notices/ is written in the style of a published 整改进展情况的通报 in a
layout none of the five seeds uses: 问题一: headings, 【问题】/【整改情况】 blocks, tables flattened
to text, mixed status words and completion rates, (1)/① sub-problems, a GB18030 file with
full-width punctuation and Windows line ends, 问题1: pairs, unquoted 关于…的问题 headings under a
title set on two lines, one cell per line tables and 问题一、 labels alone on their line.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

# The repository root, for `tracker` (pytest-django adds it too; plain pytest may not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.importer.parser import decode_notice, parse_notice, read_notice
from tracker.importer.text import core_org_name, normalize_title

NOTICES = Path(__file__).resolve().parent / "notices"
NOTICE_FILES = sorted(p.name for p in NOTICES.glob("*.txt"))


def read(file_name: str):
    return parse_notice(read_notice(NOTICES / file_name), name=f"tests/notices/{file_name}")


def tree(problems) -> list[tuple]:
    """(label, title, kind, status, children) tuples, for whole-tree assertions."""
    return [(p.label, p.title, p.kind, p.status, tree(p.children)) for p in problems]


def leaves(notice, inspection: int = 0):
    return list(notice.inspections[inspection].iter_leaves())


def all_titles(problems) -> list[str]:
    out = []
    for p in problems:
        out.append(p.title)
        out.extend(all_titles(p.children))
    return out


# -- 1. a county notice with 问题一: headings under 方面 categories ---------------------------


def test_county_notice_with_wenti_headings() -> None:
    # Given a 县委巡察 notice whose problems are "问题一:…" headings with 整改措施:/整改情况:
    # lines, grouped under (一)…方面 categories inside "二、巡察反馈问题整改落实情况";
    # When it is read;
    notice = read("01_county_wenti_headings.txt")
    insp = notice.inspections[0]

    # Then the inspected organization, its short name and the inspection facts are found,
    assert core_org_name(insp.organization) == "安平县农业农村局"
    assert "局党组" in insp.aliases
    assert notice.published == datetime.date(2023, 6, 15)
    assert insp.group == "县委第二巡察组"
    assert (insp.start, insp.end) == ("2022-09-06", "2022-11-10")
    assert insp.feedback == datetime.date(2022, 12, 28)
    # the three categories hold the six problems, each with its printed status,
    assert [(c.label, c.kind, len(c.children)) for c in insp.problems] == [
        ("(一)", "category", 2),
        ("(二)", "category", 2),
        ("(三)", "category", 2),
    ]
    assert insp.leaf_problems == 6
    first = leaves(notice)[0]
    assert first.label == "问题一"
    assert first.title == (
        "学习贯彻习近平总书记关于“三农”工作重要论述不深入,理论学习中心组学习流于形式"
    )
    assert first.measures[0].startswith("制定《党组理论学习中心组2023年度学习计划》")
    assert [leaf.status for leaf in leaves(notice)] == [
        "completed",
        "not_completed",
        "completed",
        "completed",
        "completed",
        "not_completed",
    ]
    # the totals the notice states about itself are read from its introduction,
    assert insp.declared == {
        "problems": 6,
        "categories": 3,
        "completed": 4,
        "not_completed": 2,
        "measures": 28,
        "completion_rate": 66.7,
    }
    # and neither the preamble (一、提高政治站位…) nor the closing (三、下一步工作打算, contacts)
    # becomes a problem.
    titles = all_titles(insp.problems)
    assert not any("政治站位" in t or "下一步" in t or "巩固整改成果" in t for t in titles)
    assert notice.warnings == []


# -- 2. 【问题】/【整改情况】/【完成情况】 blocks -----------------------------------------------


def test_bracket_blocks_with_status_fields() -> None:
    # Given a state-owned company's notice listing 【问题】 blocks, each followed by
    # 【整改情况】 and 【完成情况】 lines (one block written on a single line), under a section
    # headed "二、具体问题整改情况";
    # When it is read;
    notice = read("02_bracket_blocks.txt")
    insp = notice.inspections[0]

    # Then the section heading is a wrapper, not a problem called "具体": the five blocks are
    # the problems, unlabelled, each with the status of its 【完成情况】 line;
    assert tree(insp.problems) == [
        (
            None,
            "党委把方向、管大局、保落实作用发挥不充分,研究企业改革发展重大问题不够",
            "problem",
            "completed",
            [],
        ),
        (None, "安全生产责任落实不到位,部分水厂应急预案演练流于形式", "problem", "completed", []),
        (None, "供水管网改造工程推进缓慢,老旧小区漏损率偏高", "problem", "basically_completed", []),
        (None, "工程项目招投标管理不规范,存在化整为零规避招标问题", "problem", "completed", []),
        (None, "选人用人程序不够严格,干部档案审核不细致", "problem", "not_completed", []),
    ]
    # the block written on one line reads like the others (its 整改情况 is its detail),
    one_line = insp.problems[3]
    assert one_line.detail.startswith("修订《工程建设项目招标管理办法》")
    assert one_line.status_text == "已完成"
    # and the totals and outcomes of "一、整改工作总体情况" are declared.
    assert insp.declared == {
        "problems": 5,
        "categories": 3,
        "completed": 3,
        "basically_completed": 1,
        "not_completed": 1,
        "measures": 37,
        "party_discipline": 1,
        "government_discipline": 2,
        "admonishment": 3,
        "institutions": 18,
        "funds_returned_wan_yuan": 6.8,
    }
    assert notice.published == datetime.date(2023, 12, 8)
    assert core_org_name(insp.organization) == "金水市水务集团有限公司"


# -- 3. a table flattened to space-separated text --------------------------------------------


def test_table_flattened_to_space_separated_rows() -> None:
    # Given a notice whose problems are a table copied out of a web page as text: a header row
    # "序号 问题 整改措施 责任单位 完成情况", category rows "(一)…方面" and rows "1 … 已完成",
    # one of them with a stray space inside the problem and one inside the measures;
    # When it is read;
    notice = read("03_flat_table.txt")
    insp = notice.inspections[0]

    # Then the rows are problems grouped under the category rows, with their serial numbers as
    # labels and the 完成情况 column as status;
    assert tree(insp.problems) == [
        (
            "(一)",
            "落实党中央决策部署和区委工作要求方面",
            "category",
            None,
            [
                ("1", "党委理论学习中心组学习制度执行不严格", "problem", "completed", []),
                ("2", "医疗卫生服务体系建设推进缓慢", "problem", "basically_completed", []),
                ("3", "疫情防控物资管理不规范", "problem", "completed", []),
            ],
        ),
        (
            "(二)",
            "全面从严治党方面",
            "category",
            None,
            [
                ("4", "医药购销领域廉政风险防控不到位", "problem", "completed", []),
                # the stray space split the problem's words: they are joined again
                ("5", "公务接待管理不规范", "problem", "completed", []),
            ],
        ),
    ]
    # the measures cell split by a stray space stays one cell (the 责任单位 column stays apart),
    third = insp.problems[0].children[2]
    assert third.detail == "开展物资清查, 建立出入库台账和定期盘点制度"
    # and the totals, stated in the sentence after the one giving the number of problems,
    # are declared.
    assert insp.declared["problems"] == 5
    assert insp.declared["completed"] == 4
    assert insp.declared["basically_completed"] == 1
    assert insp.declared["lead_units"] == 5
    assert "下一步打算" not in all_titles(insp.problems)


# -- 4. mixed status words and completion rates ----------------------------------------------


def test_mixed_status_words_and_completion_rate() -> None:
    # Given a notice of 一、关于“…”问题的整改情况 sections whose statuses are printed in every
    # way: 整改进度:已整改到位 / 持续推进, a bracket (已销号) or (立行立改,已完成) after the
    # heading, 整改状态:长期坚持; its introduction states "四方面8个问题", "115项整改措施",
    # "整改完成率为95%" and the discipline and money figures;
    # When it is read;
    notice = read("04_status_mix.txt")
    insp = notice.inspections[0]

    # Then every problem has its status, as printed and as folded,
    found = [(leaf.status_text, leaf.status) for leaf in leaves(notice)]
    assert found == [
        ("已整改到位", "completed"),
        ("持续推进", "not_completed"),
        ("已销号", "completed"),
        ("长期坚持", "long_term"),
        ("已整改到位", "completed"),
        ("持续推进", "not_completed"),
        ("已完成", "completed"),
        ("已整改到位", "completed"),
    ]
    # 立行立改 is a task type, not a status, and 长期坚持 is both;
    assert [leaf.task_type for leaf in leaves(notice)][3] == "long_term"
    assert [leaf.task_type for leaf in leaves(notice)][6] == "immediate"
    # the titles are the quoted words without their 关于…问题的整改情况 wrapper;
    assert insp.problems[1].title == "占道经营、违章搭建等城市顽疾治理不彻底"
    # "九、下一步工作打算", numbered like the problems, is closing text;
    assert [p.label for p in insp.problems] == [
        "一、",
        "二、",
        "三、",
        "四、",
        "五、",
        "六、",
        "七、",
        "八、",
    ]
    # and everything the notice declares is read.
    assert insp.declared == {
        "problems": 8,
        "categories": 4,
        "completed": 5,
        "not_completed": 2,
        "long_term": 1,
        "measures": 115,
        "party_discipline": 2,
        "organizational_handling": 3,
        "education_reminder": 11,
        "institutions": 9,
        "losses_recovered_wan_yuan": 42.5,
        "completion_rate": 95,
    }
    assert insp.round == "十四届市委第六轮"
    assert notice.published == datetime.date(2024, 1, 19)


# -- 5. (1) and ① sub-problems ---------------------------------------------------------------


def test_sub_problems_at_the_parenthesised_and_circled_levels() -> None:
    # Given a notice whose problems "1.…不到位。" hold sub-problems "(1)针对“…”问题(已完成)"
    # or "①针对“…”问题(持续推进)", while ① lines under a sub-problem and (1) lines under a
    # problem that does not say they are problems are measures;
    # When it is read;
    notice = read("05_sub_problems.txt")
    insp = notice.inspections[0]

    # Then the tree is categories > problems > sub-problems, and only the sub-problems and the
    # problems without any are tasks;
    assert tree(insp.problems) == [
        (
            "(一)",
            "关于落实立德树人根本任务方面",
            "category",
            None,
            [
                (
                    "1.",
                    "思政课教师队伍建设不到位",
                    "problem",
                    None,
                    [
                        ("(1)", "思政课专职教师配备不足", "problem", "completed", []),
                        ("(2)", "思政课集体备课流于形式", "problem", "basically_completed", []),
                    ],
                ),
                (
                    "2.",
                    "校园安全管理存在漏洞",
                    "problem",
                    None,
                    [
                        ("①", "校园周边交通安全隐患排查不彻底", "problem", "completed", []),
                        ("②", "食堂食品安全抽检覆盖面不广", "problem", "not_completed", []),
                    ],
                ),
            ],
        ),
        (
            "(二)",
            "关于全面从严治党方面",
            "category",
            None,
            [
                # numbered 1、 here, as printed
                ("1、", "教育收费监管不严", "problem", "completed", []),
                ("2、", "校外培训机构治理存在盲区", "problem", "long_term", []),
            ],
        ),
    ]
    assert insp.leaf_problems == 6
    # the ① lines under (1) are its measures, and so are the (1)(2) lines under (二)2、;
    assert insp.problems[0].children[0].children[0].measures == [
        "通过公开招聘补充思政课专职教师18名",
        "建立兼职思政课教师资格审核制度",
    ]
    assert insp.problems[1].children[1].measures == [
        "建立校外培训机构日常巡查机制",
        "会同市场监管部门开展联合执法12次",
    ]
    # and the signature's short name is the same organization.
    assert core_org_name(insp.organization) == "东江区教育局"
    assert notice.published == datetime.date(2023, 6, 30)


# -- 6. GB18030, full-width punctuation and digits, CRLF, ideographic indents ---------------


def test_gb18030_file_with_fullwidth_punctuation_and_windows_line_ends() -> None:
    # Given a notice saved in GB18030 with （一）：，；１．２０２１ full-width forms, Windows line
    # ends, ideographic-space indents and trailing spaces;
    data = (NOTICES / "06_gbk_fullwidth_crlf.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\r\n" in data

    # When it is read;
    notice = read("06_gbk_fullwidth_crlf.txt")
    insp = notice.inspections[0]

    # Then it reads like a half-width UTF-8 notice: the facts,
    assert notice.title == "中共白沙市自然资源局党组关于十三届省委第八轮巡视整改进展情况的通报"
    assert core_org_name(insp.organization) == "白沙市自然资源局"
    assert (insp.round, insp.group) == ("十三届省委第八轮", "省委第十一巡视组")
    assert (insp.start, insp.end) == ("2021-04-06", "2021-06-05")
    assert insp.feedback == datetime.date(2021, 7, 28)
    assert notice.published == datetime.date(2021, 10, 26)
    # the tree with folded labels (１． -> 1.), unwrapped titles and bracketed statuses,
    assert [(c.label, c.title, len(c.children)) for c in insp.problems] == [
        ("(一)", "关于贯彻落实党中央和省委重大决策部署方面", 3),
        ("(二)", "关于落实全面从严治党主体责任方面", 2),
        ("(三)", "关于落实新时代党的组织路线方面", 2),
    ]
    assert [(leaf.label, leaf.title, leaf.status) for leaf in leaves(notice)[:3]] == [
        ("1.", "耕地保护责任落实不到位", "completed"),
        ("2.", "国土空间规划编制滞后", "basically_completed"),
        # a bare "…的整改落实情况" heading among 针对…问题 ones
        ("3.", "矿产资源开发监管存在薄弱环节", "completed"),
    ]
    assert [leaf.status for leaf in leaves(notice)].count("not_completed") == 1
    # and the declared totals.
    assert insp.declared == {
        "problems": 7,
        "categories": 3,
        "completed": 5,
        "basically_completed": 1,
        "not_completed": 1,
        "measures": 41,
        "institutions": 12,
    }


# -- 7. 问题1: headings with 整改: pairs, a date in Chinese numerals --------------------------


def test_arabic_wenti_headings_with_zhenggai_pairs() -> None:
    # Given a township notice with "一、…方面" categories holding "问题1:…(已完成)" headings,
    # each followed by an "整改:" paragraph, and signed "二〇二三年九月五日";
    # When it is read;
    notice = read("07_arabic_wenti_pairs.txt")
    insp = notice.inspections[0]

    # Then the categories and problems come with their labels and statuses,
    assert [(c.label, c.kind, [p.label for p in c.children]) for c in insp.problems] == [
        ("一、", "category", ["问题1", "问题2", "问题3"]),
        ("二、", "category", ["问题4", "问题5"]),
    ]
    assert [leaf.status for leaf in leaves(notice)] == [
        "completed",
        "completed",
        "basically_completed",
        "completed",
        "completed",
    ]
    assert leaves(notice)[3].title == "村级财务管理不规范,存在白条入账现象"
    assert leaves(notice)[3].detail.startswith("开展村级财务专项清理")
    # the date under the signature is the publication date,
    assert notice.published == datetime.date(2023, 9, 5)
    # and the totals are declared.
    assert insp.declared["problems"] == 5
    assert (insp.declared["completed"], insp.declared["basically_completed"]) == (4, 1)


# -- 8. a title on two lines, unquoted 关于…的问题 headings, statuses closing the text ------


def test_two_line_title_unquoted_guanyu_headings_and_closing_status_sentences() -> None:
    # Given a notice whose title is set on two lines (the organization, then 关于…的通报),
    # whose problems are "(一)关于…的问题" headings without quotes, each closing on a sentence
    # such as "目前,该问题已整改完成。", and one of which speaks of 后续工作 (a word that
    # usually opens the closing section);
    # When it is read;
    notice = read("08_guanyu_bare_two_line_title.txt")
    insp = notice.inspections[0]

    # Then the title is whole and the round is read from it,
    assert notice.title == "中共南湖街道工作委员会关于区委第二轮巡察整改进展情况的通报"
    assert insp.round == "区委第二轮"
    # the titles lose their 关于…的问题 wrapper, and the closing sentences give the statuses,
    assert [(leaf.label, leaf.title, leaf.status) for leaf in leaves(notice)] == [
        ("(一)", "学习贯彻习近平新时代中国特色社会主义思想不够深入", "completed"),
        ("(二)", "老旧小区改造群众参与不足", "not_completed"),
        ("(三)", "社区工作者队伍建设滞后", "completed"),
        ("(四)", "辖区安全生产隐患排查不彻底", "completed"),
        # a shortcoming about 后续工作 is a problem; "三、下一步工作计划" is not
        ("(五)", "社区“两委”换届后续工作落实不到位", "not_completed"),
    ]
    assert leaves(notice)[0].measures == [
        "将理论学习纳入党工委会议“第一议题”,全年开展集中学习24次",
        "组织开展“书记讲党课”活动,覆盖全部社区党组织",
    ]
    # and "反馈问题共计5个" declares the number of problems.
    assert insp.declared == {"problems": 5, "completed": 3, "not_completed": 2, "institutions": 7}
    assert notice.published == datetime.date(2022, 11, 3)


# -- 9. a table flattened to one cell per line -----------------------------------------------


def test_table_flattened_to_one_cell_per_line() -> None:
    # Given a table copied from a web page with each cell on its own line: the header cells
    # 序号/反馈问题/整改措施/完成时限/整改进展, then per row a serial number and four cells;
    # When it is read;
    notice = read("09_table_cell_per_line.txt")
    insp = notice.inspections[0]

    # Then each row is one problem with its status from the 整改进展 column (the 完成时限
    # column, "2024年1月" or "长期", is not a status),
    assert tree(insp.problems) == [
        ("1", "农村公路养护资金使用效益不高", "problem", "completed", []),
        ("2", "交通工程项目质量监管存在薄弱环节", "problem", "completed", []),
        ("3", "治超工作长效机制不健全", "problem", "not_completed", []),
        ("4", "公务用车使用登记不规范", "problem", "completed", []),
    ]
    assert insp.problems[1].measures == ["引入第三方检测机构,对在建项目开展质量抽检"]
    # the section heading "二、具体问题整改情况" above the table is not a problem, and the
    # text after the last row is not swallowed into it.
    assert insp.problems[-1].detail == "修订公务用车管理制度,安装车辆定位系统"
    assert insp.declared == {"problems": 4, "completed": 3, "not_completed": 1}
    assert notice.warnings == []


# -- 10. 问题一、 labels alone on their line ---------------------------------------------------


def test_wenti_labels_alone_on_their_line() -> None:
    # Given a notice without numbered sections whose problems are "问题一、" labels alone on
    # a line, the problem's words on the next, then 整改情况:/整改进度: lines, and which closes
    # with an unnumbered "下一步,…" paragraph;
    # When it is read;
    notice = read("10_wenti_label_alone.txt")
    insp = notice.inspections[0]

    # Then the four problems carry their label, title and status,
    assert [(leaf.label, leaf.title, leaf.status) for leaf in leaves(notice)] == [
        ("问题一", "审计发现问题整改跟踪不到位,部分问题整改流于形式", "completed"),
        ("问题二", "审计项目质量控制不严,审计报告复核把关不够", "completed"),
        ("问题三", "党组会议议事决策程序不规范", "completed"),
        ("问题四", "年轻干部培养锻炼力度不够", "basically_completed"),
    ]
    # the closing paragraph is not the last problem's detail,
    assert "下一步" not in leaves(notice)[-1].detail
    # and "共反馈问题4个" with the status totals is declared; the period is month-precise.
    assert insp.declared == {
        "problems": 4,
        "completed": 3,
        "basically_completed": 1,
        "institutions": 5,
    }
    assert (insp.start, insp.end, insp.feedback) == (
        "2023-04",
        "2023-05",
        datetime.date(2023, 6, 20),
    )


# -- every notice: surface variants and what is never a problem ------------------------------


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；"}))


VARIANTS = {
    "fullwidth": lambda text: _fullwidth(text),
    "crlf_blank_lines": lambda text: text.replace("\n", "\r\n\r\n"),
    "indent_trailing_spaces": lambda text: "\n".join(
        "\u3000\u3000" + line + "  " if line else line for line in text.split("\n")
    ),
}


def _shape(notice) -> list:
    def node(p) -> tuple:
        return (p.label, normalize_title(p.title), p.kind, p.status, tuple(map(node, p.children)))

    return [
        (core_org_name(i.organization), i.declared, tuple(map(node, i.problems)))
        for i in notice.inspections
    ]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("file_name", NOTICE_FILES)
def test_surface_variants_read_the_same(file_name: str, variant: str) -> None:
    # Given one of the notices, and the same text with full-width punctuation, Windows line
    # ends with blank lines between paragraphs, or indents and trailing spaces;
    text = read_notice(NOTICES / file_name).replace("\r\n", "\n")
    varied = VARIANTS[variant](text)
    # When both are read, re-encoded in GB18030 for good measure;
    plain = parse_notice(text, name=file_name)
    other = parse_notice(decode_notice(varied.encode("gb18030"), name=file_name), name=file_name)
    # Then they read the same.
    assert _shape(other) == _shape(plain)
    assert other.published == plain.published


_NOT_PROBLEMS = ("下一步", "政治站位", "联系电话", "邮政信箱", "原文链接", "免责声明", "总体情况")


@pytest.mark.parametrize("file_name", NOTICE_FILES)
def test_preamble_closing_and_page_furniture_are_never_problems(file_name: str) -> None:
    # Given any of the notices, When it is read, Then no problem or category is made of the
    # preamble, the closing section, contact lines or page furniture, and every problem has a
    # title.
    notice = read(file_name)
    for insp in notice.inspections:
        titles = all_titles(insp.problems)
        if insp.rollup:  # one round over many organizations: its totals, no problems
            assert titles == [] and insp.declared["units"] >= 2
            continue
        assert titles and all(titles)
        for title in titles:
            assert not any(word in title for word in _NOT_PROBLEMS), title
        # as many problems as the notice declares, or a warning saying how many it published
        declared = insp.declared.get("problems", insp.leaf_problems)
        assert insp.leaf_problems == declared or any(
            f"通报声明问题 {declared} 个,公布了 {insp.leaf_problems} 个" in w
            for w in notice.warnings
        )


# -- small stories for the rules behind the layouts above -------------------------------------

INTRO = (
    "根据市委统一部署,2021年9月1日至11月12日,市委第二巡察组对市财政局党组进行了常规巡察。"
    "2022年1月24日,市委巡察组向市财政局党组反馈了巡察意见。现将整改情况予以公布。\n"
)
SIGNATURE = "中共海州市财政局党组\n2022年7月6日\n"


def test_numbered_headings_that_say_problem_before_their_words() -> None:
    # Given "1.问题:…" headings with 整改情况: and 整改进度: lines;
    text = (
        INTRO + "1.问题:预算编制不科学。\n整改情况:修订预算管理办法。\n整改进度:已完成\n"
        "2.问题:资金拨付不及时。\n整改情况:建立资金拨付台账。\n整改进度:持续推进\n" + SIGNATURE
    )
    # When read, Then the 问题: prefix is not part of the title.
    assert tree(parse_notice(text).inspections[0].problems) == [
        ("1.", "预算编制不科学", "problem", "completed", []),
        ("2.", "资金拨付不及时", "problem", "not_completed", []),
    ]


def test_status_bracket_closing_a_body_line() -> None:
    # Given a problem whose status bracket ends its 整改情况 paragraph rather than its heading;
    text = (
        INTRO + "问题一:预算管理不规范。\n整改情况:修订办法。(已完成,立行立改)\n"
        "问题二:资金监管不严。\n整改情况:开展检查。\n" + SIGNATURE
    )
    found = [(p.status, p.status_text, p.task_type) for p in leaves(parse_notice(text))]
    # Then that bracket is its status; a problem without one has none.
    assert found == [("completed", "已完成", "immediate"), (None, None, None)]


def test_table_with_a_category_row_spanning_the_columns() -> None:
    # Given a pipe table whose problems are grouped by rows holding only a category name;
    text = (
        INTRO + "| 序号 | 问题 | 整改措施 | 完成情况 |\n|---|---|---|---|\n"
        "| (一)党的建设方面 | | | |\n| 1 | 党费收缴不规范 | 补缴党费 | 已完成 |\n"
        "| (二)财务管理方面 | | | |\n| 2 | 报销审核不严 | 修订办法 | 正在整改 |\n" + SIGNATURE
    )
    # Then the category rows are categories holding the rows below them.
    assert tree(parse_notice(text).inspections[0].problems) == [
        (
            "(一)",
            "党的建设方面",
            "category",
            None,
            [("1", "党费收缴不规范", "problem", "completed", [])],
        ),
        (
            "(二)",
            "财务管理方面",
            "category",
            None,
            [("2", "报销审核不严", "problem", "not_completed", [])],
        ),
    ]


def test_wenti_zhenggai_pairs_under_categories() -> None:
    # Given unnumbered 问题:/整改: pairs under "一、关于…方面" categories, then a closing section;
    text = (
        INTRO + "一、关于党的建设方面\n问题:党组会议记录不规范\n整改:建立会议记录审核制度。\n"
        "问题:“三会一课”落实不严格\n整改:开展专项检查。\n二、关于财务管理方面\n"
        "问题:报销审核不严\n整改:修订报销办法。\n三、下一步打算\n持续巩固整改成果。\n" + SIGNATURE
    )
    notice = parse_notice(text)
    # Then each pair is an unlabelled problem in its category, the 整改: text its detail.
    assert tree(notice.inspections[0].problems) == [
        (
            "一、",
            "关于党的建设方面",
            "category",
            None,
            [
                (None, "党组会议记录不规范", "problem", None, []),
                (None, "“三会一课”落实不严格", "problem", None, []),
            ],
        ),
        (
            "二、",
            "关于财务管理方面",
            "category",
            None,
            [(None, "报销审核不严", "problem", None, [])],
        ),
    ]
    assert leaves(notice)[2].detail == "修订报销办法。"


def test_generic_section_headings_are_wrappers_not_problems() -> None:
    # Given sections headed "二、主要问题整改落实情况" and "三、具体问题的整改情况" over
    # numbered problems;
    text = (
        INTRO + "一、整改工作开展情况\n局党组高度重视。\n二、主要问题整改落实情况\n"
        "1.预算编制不科学。(已完成)\n三、具体问题的整改情况\n2.资金拨付不及时。(正在整改)\n"
        + SIGNATURE
    )
    # Then the headings only hold the problems.
    assert [(p.label, p.title) for p in parse_notice(text).inspections[0].problems] == [
        ("1.", "预算编制不科学"),
        ("2.", "资金拨付不及时"),
    ]
