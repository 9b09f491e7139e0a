"""One small hand-written notice per reading rule, and the errors."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

# The repository root, for `bench` and `tracker` (pytest-django adds it too; plain pytest may not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.importer.numerals import cn_to_int
from tracker.importer.parser import (
    MAX_NOTICE_BYTES,
    NoticeParseError,
    core_org_name,
    decode_notice,
    normalize_title,
    org_names_match,
    parse_notice,
    read_notice,
)

ROOT = Path(__file__).resolve().parent.parent

INTRO = (
    "根据市委统一部署,2021年9月1日至11月12日,市委第二巡察组对市财政局党组进行了常规巡察。"
    "2022年1月24日,市委巡察组向市财政局党组反馈了巡察意见。现将整改情况予以公布。"
)
SIGNATURE = "中共海州市财政局党组\n2022年7月6日\n"


def tree(notice, inspection: int = 0):
    """(label, title, status, children) tuples, for compact assertions."""

    def node(p):
        return (p.label, p.title, p.status, [node(c) for c in p.children])

    return [node(p) for p in notice.inspections[inspection].problems]


def titles(notice) -> list[str]:
    return [leaf.title for i in notice.inspections for leaf in i.iter_leaves()]


# -- layouts -----------------------------------------------------------------------------


def test_fullwidth_punctuation_reads_like_halfwidth() -> None:
    half = (
        INTRO + "\n(一)关于财务管理方面\n1.财务报销审核不严。(已完成)\n一是修订制度。\n" + SIGNATURE
    )
    full = half.replace("(", "（").replace(")", "）").replace(",", "，").replace(":", "：")
    full = full.replace("1.", "１．")
    assert tree(parse_notice(half)) == tree(parse_notice(full))
    assert tree(parse_notice(full)) == [
        ("(一)", "关于财务管理方面", None, [("1.", "财务报销审核不严", "completed", [])])
    ]


def test_windows_line_ends_tabs_and_stray_spaces() -> None:
    text = (
        INTRO + "\r\n\r\n  一、关于“财务报销审核不严”问题的整改情况\t\r\n"
        "\t一是修订《财务管理办法》。二是开展专项检查。 \r\n\r\n"
        "二 、 关于“公车管理不规范”问题的整改情况\r\n一是建立台账。\r\n" + SIGNATURE
    )
    notice = parse_notice(text)
    assert titles(notice) == ["财务报销审核不严", "公车管理不规范"]
    first = notice.inspections[0].problems[0]
    assert first.measures == ["修订《财务管理办法》", "开展专项检查"]
    assert first.line == 3


def test_wenti_colon_headings_with_status_lines() -> None:
    text = (
        INTRO + "\n问题一:落实意识形态工作责任制不到位。\n整改措施:一是召开专题会议。\n"
        "整改情况:已完成\n问题二:干部队伍建设存在短板。\n整改情况:正在整改\n" + SIGNATURE
    )
    assert tree(parse_notice(text)) == [
        ("问题一", "落实意识形态工作责任制不到位", "completed", []),
        ("问题二", "干部队伍建设存在短板", "not_completed", []),
    ]


def test_bracketed_wenti_headings_and_ordinal_problems() -> None:
    text = (
        INTRO
        + "\n【问题一】公车管理不规范\n【整改情况】已完成。\n【问题二】档案管理混乱\n"
        + SIGNATURE
    )
    assert titles(parse_notice(text)) == ["公车管理不规范", "档案管理混乱"]
    text = (
        INTRO
        + "\n第一个问题:公车管理不规范。一是清理车辆。\n第二个问题:档案管理混乱。\n"
        + SIGNATURE
    )
    notice = parse_notice(text)
    assert titles(notice) == ["公车管理不规范", "档案管理混乱"]
    assert notice.inspections[0].problems[0].label == "第一个问题"


def test_wenti_zhenggai_pairs_without_numbers() -> None:
    text = (
        INTRO + "\n问题:履行核心职能不到位\n整改:局党组提高认识。\n问题:重视不够\n整改:加强学习。\n"
    )
    notice = parse_notice(text + SIGNATURE)
    assert tree(notice) == [
        (None, "履行核心职能不到位", None, []),
        (None, "重视不够", None, []),
    ]
    assert notice.inspections[0].problems[0].detail == "局党组提高认识。"


def test_zhendui_and_guanyu_wrappers_are_removed() -> None:
    text = (
        INTRO + "\n(一)关于党的建设方面\n1.党建工作责任制落实不到位。\n"
        "(1)针对市委巡察组指出的“‘三会一课’制度落实不严格”问题。(基本完成)\n"
        "(2)针对“党费收缴不规范”的问题。(已整改到位)\n"
        "2.关于“选人用人把关不严”问题的整改情况\n3.财务管理不规范的整改落实情况。\n" + SIGNATURE
    )
    assert tree(parse_notice(text)) == [
        (
            "(一)",
            "关于党的建设方面",
            None,
            [
                (
                    "1.",
                    "党建工作责任制落实不到位",
                    None,
                    [
                        ("(1)", "‘三会一课’制度落实不严格", "basically_completed", []),
                        ("(2)", "党费收缴不规范", "completed", []),
                    ],
                ),
                ("2.", "选人用人把关不严", None, []),
                ("3.", "财务管理不规范", None, []),
            ],
        )
    ]
    assert parse_notice(text).inspections[0].problems[0].kind == "category"


def test_status_words_fold() -> None:
    words = {
        "已完成": "completed",
        "已整改到位": "completed",
        "整改完成": "completed",
        "基本完成": "basically_completed",
        "阶段性完成": "basically_completed",
        "未完成": "not_completed",
        "正在整改": "not_completed",
        "持续推进": "not_completed",
        "整改中": "not_completed",
        "长期坚持": "long_term",
    }
    lines = [f"({i})针对“问题{i}落实不到位”问题。({w})" for i, w in enumerate(words, start=1)]
    text = INTRO + "\n一、整改落实情况\n1.党建工作不到位。\n" + "\n".join(lines) + "\n" + SIGNATURE
    leaves = list(parse_notice(text).inspections[0].iter_leaves())
    assert [leaf.status for leaf in leaves] == list(words.values())
    assert [leaf.status_text for leaf in leaves] == list(words)
    assert leaves[-1].task_type == "long_term"


def test_task_types_from_brackets_and_fields() -> None:
    text = (
        INTRO + "\n1.针对“公车私用”问题。(已完成,立行立改)\n"
        "2.针对“制度不健全”问题。\n整改时限:限期整改\n完成情况:基本完成\n"
        "3.针对“作风建设不到位”问题。(长期坚持)\n" + SIGNATURE
    )
    leaves = list(parse_notice(text).inspections[0].iter_leaves())
    assert [(x.status, x.task_type) for x in leaves] == [
        ("completed", "immediate"),
        ("basically_completed", "deadline"),
        ("long_term", "long_term"),
    ]


def test_pipe_table_with_header_row() -> None:
    text = (
        INTRO + "\n序号 | 反馈问题 | 整改措施 | 完成情况\n"
        "1 | 公车管理不规范 | 一是清理车辆;二是建立台账 | 已完成\n"
        "2 | 档案管理混乱 | 开展档案整理 | 正在整改\n" + SIGNATURE
    )
    notice = parse_notice(text)
    assert tree(notice) == [
        ("1", "公车管理不规范", "completed", []),
        ("2", "档案管理混乱", "not_completed", []),
    ]
    assert notice.inspections[0].problems[0].measures == ["清理车辆", "建立台账"]


def test_tab_separated_table_with_category_column() -> None:
    text = (
        INTRO + "\n序号\t问题类别\t问题\t整改措施\t完成情况\n"
        "1\t党的建设方面\t党费收缴不规范\t补缴党费\t已完成\n"
        "2\t党的建设方面\t三会一课不严格\t建立台账\t基本完成\n"
        "3\t财务方面\t报销审核不严\t修订办法\t长期坚持\n" + SIGNATURE
    )
    notice = parse_notice(text)
    cats = notice.inspections[0].problems
    assert [(c.kind, c.title, len(c.children)) for c in cats] == [
        ("category", "党的建设方面", 2),
        ("category", "财务方面", 1),
    ]
    assert notice.inspections[0].leaf_problems == 3


def test_several_organizations_in_one_notice() -> None:
    text = (
        "根据省委巡视工作部署,2021年9月至11月,七届省委对省高院等11个党组织开展第十轮常规巡视。"
        "近日,省财政厅党组、省交通运输厅党组向社会公开巡视整改进展情况。\n"
        "省财政厅党组:以整改促发展\n问题:预算管理不规范\n整改:修订办法。\n"
        "问题:资金监管不严\n整改:开展检查。\n"
        "省交通运输厅党组:聚焦问题抓整改\n问题:项目审批滞后\n整改:优化流程。\n"
    )
    notice = parse_notice(text)
    assert [i.organization for i in notice.inspections] == ["省财政厅党组", "省交通运输厅党组"]
    assert [i.leaf_problems for i in notice.inspections] == [2, 1]
    for insp in notice.inspections:
        assert (insp.round, insp.start, insp.end, insp.kind) == (
            "七届省委第十轮",
            "2021-09",
            "2021-11",
            "常规",
        )


def test_preamble_wrapper_and_closing_sections_are_not_problems() -> None:
    text = (
        "来源:市委巡察办 发布时间:2021-07-28 09:13:53 阅读量:2965\n" + INTRO + "\n"
        "一、提高政治站位,扛起整改主体责任\n(一)加强组织领导。成立领导小组。\n"
        "(二)压实整改责任,主动认领问题。建立台账。\n"
        "二、巡察反馈问题整改落实情况\n(一)关于党的建设方面\n1.党费收缴不规范。\n"
        "(二)关于财务管理方面\n2.报销审核不严。\n"
        "三、下一步工作打算\n(一)巩固整改成果。\n"
        "欢迎广大干部群众对巡察整改落实情况进行监督。联系电话:0335-3926091;电子邮箱:a@b.cn。\n"
        + SIGNATURE
        + "原文链接:http://example.gov.cn/1.shtml\n[免责声明] 本文来源于网络转载。\n分享到:\n"
    )
    notice = parse_notice(text)
    assert titles(notice) == ["党费收缴不规范", "报销审核不严"]
    assert notice.published == datetime.date(2021, 7, 28)
    assert notice.issuer == "市委巡察办"


def test_unlabelled_closing_paragraph_is_not_problem_detail() -> None:
    text = (
        INTRO + "\n一、关于“公车管理不规范”问题的整改情况\n一是清理车辆。\n"
        "下一步,局党组将持续巩固整改成果。\n欢迎广大干部群众监督。\n" + SIGNATURE
    )
    notice = parse_notice(text)
    assert notice.inspections[0].problems[0].detail == "一是清理车辆。"
    assert notice.published == datetime.date(2022, 7, 6)


def test_bare_problem_sentences_without_any_marker() -> None:
    text = (
        INTRO + "\n(一)公车管理不规范,存在私用现象。\n针对上述问题,一是清理车辆。\n"
        "(二)档案管理混乱。\n针对上述问题,开展整理。\n(三)干部教育培训落实不到位。\n" + SIGNATURE
    )
    assert titles(parse_notice(text)) == [
        "公车管理不规范,存在私用现象",
        "档案管理混乱",
        "干部教育培训落实不到位",
    ]


def test_circled_number_headings() -> None:
    text = INTRO + "\n1.党建工作不到位。\n①针对“党费收缴不规范”问题。\n②针对“会议记录不全”问题。\n"
    notice = parse_notice(text + SIGNATURE)
    assert tree(notice)[0][3] == [
        ("①", "党费收缴不规范", None, []),
        ("②", "会议记录不全", None, []),
    ]


# -- facts -------------------------------------------------------------------------------


def test_period_at_month_precision_and_feedback_year_carried_over() -> None:
    text = (
        "根据市委统一部署,2021年11月至12月,市委第五巡察组对中共海州区教育局委员会"
        "(以下简称“区教育局党委”)进行了巡察,1月5日,市委巡察组向区教育局党委反馈了巡察意见。\n"
        "一、关于“招生管理不规范”问题的整改情况\n一是规范招生。\n"
    )
    insp = parse_notice(text).inspections[0]
    assert (insp.start, insp.end) == ("2021-11", "2021-12")
    assert insp.feedback == datetime.date(2022, 1, 5)
    assert insp.organization == "中共海州区教育局委员会"
    assert "区教育局党委" in insp.aliases
    assert insp.group == "市委第五巡察组"
    assert insp.level == "市委"


def test_day_precision_period_with_year_carried_over() -> None:
    text = INTRO.replace("2021年9月1日至11月12日", "2020年10月22日至12月15日")
    insp = parse_notice(text + "\n1.针对“公车私用”问题。\n").inspections[0]
    assert (insp.start, insp.end) == ("2020-10-22", "2020-12-15")
    assert insp.feedback == datetime.date(2022, 1, 24)


def test_round_term_level_and_kind_from_title() -> None:
    text = (
        "中共海州市财政局党组关于十五届省委第二轮巡视整改进展情况的通报\n"
        + INTRO
        + "\n1.针对“公车私用”问题。\n"
    )
    notice = parse_notice(text)
    insp = notice.inspections[0]
    assert notice.title.startswith("中共海州市财政局党组关于")
    assert (insp.term, insp.level, insp.round_no, insp.round) == (
        "十五届",
        "省委",
        "第二轮",
        "十五届省委第二轮",
    )
    assert insp.kind == "常规"


def test_declared_totals_in_arabic_and_chinese_numerals() -> None:
    text = INTRO + (
        "\n巡察组反馈的三十一个具体问题,目前已完成二十二个、基本完成7个、未完成两个。"
        "细化分解反馈的四方面10个问题,明确15个整改牵头单位、115项整改措施。\n"
        "1.针对“公车私用”问题。\n"
    )
    declared = parse_notice(text).inspections[0].declared
    assert declared["problems"] == 31
    assert declared["completed"] == 22
    assert declared["basically_completed"] == 7
    assert declared["not_completed"] == 2
    assert declared["lead_units"] == 15
    assert declared["measures"] == 115


def test_outcomes_and_completion_rate() -> None:
    text = INTRO + (
        "\n在巡察整改工作中,给予党纪处分2人(党内警告1人);政务处分1人;组织处理2人;诫勉3人,"
        "教育提醒19人;建立完善制度43项;清退款项12.6万元,挽回其他经济损失280万元,"
        "追缴资金5000元。截至目前,整改完成率98.71%。\n1.针对“公车私用”问题。\n"
    )
    declared = parse_notice(text).inspections[0].declared
    assert {k: v for k, v in declared.items() if k != "problems"} == {
        "party_discipline": 2,
        "government_discipline": 1,
        "organizational_handling": 2,
        "admonishment": 3,
        "education_reminder": 19,
        "institutions": 43,
        "funds_returned_wan_yuan": 12.6,  # the first 清退/追缴 figure stated
        "losses_recovered_wan_yuan": 280,
        "completion_rate": 98.71,
    }


def test_warns_when_fewer_problems_are_published_than_declared() -> None:
    text = INTRO + "\n反馈的3个问题已全部完成整改。\n1.针对“公车私用”问题。\n"
    assert parse_notice(text).warnings == ["通报声明问题 3 个,公布了 1 个"]


def test_chinese_numerals() -> None:
    assert [cn_to_int(x) for x in ("一", "十", "十一", "二十", "九十九", "一百零五")] == [
        1,
        10,
        11,
        20,
        99,
        105,
    ]
    assert [cn_to_int(x) for x in ("两千", "三千零二", "二〇二一", "〇", "两", "115")] == [
        2000,
        3002,
        2021,
        0,
        2,
        115,
    ]
    with pytest.raises(ValueError):
        cn_to_int("问题")


def test_org_name_helpers() -> None:
    assert core_org_name("中共秦皇岛经济技术开发区工作委员会") == "秦皇岛经济技术开发区"
    assert core_org_name("松山湖党工委") == "松山湖"
    assert core_org_name("中国共产党海州市财政局党组") == "海州市财政局"
    assert org_names_match("省大数据管理局党委", "海南省大数据管理局党委")
    assert org_names_match("省大数据管理局党委", "中共海南省大数据管理局委员会")
    assert not org_names_match("省大数据管理局党委", "省财政厅党组")
    assert normalize_title("“一岗双责”落实不到位。") == normalize_title("一岗双责 落实不到位")


# -- errors ------------------------------------------------------------------------------


def test_empty_file() -> None:
    for data in (b"", b"  \r\n\t\n", "\u3000\n".encode()):
        with pytest.raises(NoticeParseError, match="文件为空") as err:
            decode_notice(data, name="seeds/x.txt")
        assert str(err.value).startswith("seeds/x.txt:")


def test_binary_content() -> None:
    with pytest.raises(NoticeParseError, match="NUL"):
        decode_notice(b"abc\x00\x01\x02" * 10, name="x.bin")
    with pytest.raises(NoticeParseError, match="控制字符"):
        decode_notice(bytes(range(1, 9)) * 50, name="x.bin")
    with pytest.raises(NoticeParseError, match="PDF"):
        decode_notice(b"%PDF-1.7\n...", name="x.pdf")


def test_undecodable_bytes_say_where() -> None:
    data = "第一行\n第二行\n".encode() + b"\xff\xfe\xfd\x80 tail"
    with pytest.raises(NoticeParseError, match=r"第 \d+ 字节") as err:
        decode_notice(data, name="seeds/bad.txt")
    assert "seeds/bad.txt,第 3 行:" in str(err.value)


def test_oversize_is_refused_before_parsing(tmp_path: Path) -> None:
    with pytest.raises(NoticeParseError, match="超过通报的上限"):
        decode_notice(b"a" * (MAX_NOTICE_BYTES + 1), name="big.txt")
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # a sparse 50 MB file: read_notice must not read it
        fh.seek(50 * 1024 * 1024)
        fh.write(b"\n")
    with pytest.raises(NoticeParseError, match="超过通报的上限"):
        read_notice(big)


def test_truncated_utf8() -> None:
    data = "巡察整改进展情况".encode()[:-1]
    with pytest.raises(NoticeParseError, match="不完整"):
        decode_notice(data, name="cut.txt")


def test_utf8_bom_and_gb18030_decode() -> None:
    text = INTRO + "\n1.针对“公车私用”问题。(已完成)\n"
    assert decode_notice(b"\xef\xbb\xbf" + text.encode(), name="bom.txt") == text
    assert decode_notice(text.encode("gb18030"), name="gbk.txt") == text
    assert decode_notice(text.encode("gbk"), name="gbk.txt") == text
    assert titles(parse_notice(decode_notice(text.encode("gb18030"), name="g"))) == ["公车私用"]


def test_no_problems_names_the_file() -> None:
    with pytest.raises(NoticeParseError, match="未能识别出任何问题") as err:
        parse_notice(INTRO + "\n我们将继续努力。\n", name="seeds/none.txt")
    assert str(err.value).startswith("seeds/none.txt")


def test_no_organization_names_the_file() -> None:
    with pytest.raises(NoticeParseError, match="未能识别被巡视巡察的党组织") as err:
        parse_notice("现将整改情况公布如下。\n1.针对“公车私用”问题。\n", name="seeds/anon.txt")
    assert str(err.value).startswith("seeds/anon.txt:")


def test_error_message_format() -> None:
    assert str(NoticeParseError("bad", name="seeds/x.txt", line=12)) == "seeds/x.txt,第 12 行:bad"
    assert str(NoticeParseError("bad", line=3)) == "第 3 行:bad"
    assert str(NoticeParseError("bad")) == "bad"
