"""Realistic synthetic rectification-progress notices, deterministic by seed.

Each generated notice comes with the reading a correct parser gives (the per-file object of
tests/seeds_expected.json), so benchmarks and tests can use the same corpus:

    from tests.notice_corpus import generate_notice, generate_corpus
    notice = generate_notice(7)                 # GeneratedNotice(name, text, expected)
    corpus = generate_corpus(1000, seed=0)

Layouts follow the seed notices and the variants the issue lists: categories with 针对…问题
sub-problems and printed statuses (like seed 001), "…的整改落实情况" headings (002), "关于“…”
问题的整改情况" sections with measures (003), bare problem sentences inside a wrapper section with
optional sub-problems (004), several organizations with 问题:/整改: pairs (000), 问题一: /
【问题一】 / 第一个问题 headings with 整改情况: lines, and flattened tables.

`Style` controls the surface (width, line ends, blank lines, numbering punctuation) without
changing the content, for property tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

CN_DIGITS = "零一二三四五六七八九"


def cn_numeral(n: int) -> str:
    """1..99 as a Chinese numeral (一, 十, 十一, 二十, 二十一)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Style:
    fullwidth: bool = False  # （一） ： ， instead of (一) : ,
    crlf: bool = False
    blank_lines: bool = False  # a blank line between paragraphs
    num_sep: str = "."  # "." | "、" | "．"
    indent: str = ""  # leading spaces / tabs / full-width spaces before paragraphs
    trailing_space: bool = False


@dataclass
class GeneratedNotice:
    name: str
    text: str
    expected: dict[str, Any]
    layout: str = ""
    style: Style = field(default_factory=Style)


_PLACES = [
    "海州",
    "江宁",
    "临川",
    "青山",
    "云岭",
    "东江",
    "南湖",
    "北塘",
    "西陵",
    "白沙",
    "金水",
    "安平",
]
_PROVINCES = ["浙江省", "河北省", "广东省", "海南省", "江西省", "湖南省"]
_UNITS = [
    ("{p}经济技术开发区", "党工委", "工作委员会"),
    ("{p}高新技术产业开发区", "党工委", "工作委员会"),
    ("{p}市财政局", "党组", "党组"),
    ("{p}市自然资源局", "党组", "党组"),
    ("{p}区卫生健康局", "党委", "委员会"),
    ("{p}县交通运输局", "党组", "党组"),
    ("{p}市水务集团有限公司", "党委", "委员会"),
    ("{p}市城市管理局", "党委", "委员会"),
    ("{p}区教育局", "党委", "委员会"),
]
_SUBJECTS = [
    "学习贯彻习近平新时代中国特色社会主义思想",
    "落实意识形态工作责任制",
    "履行全面从严治党主体责任",
    "落实中央八项规定精神",
    "基层党组织建设",
    "干部队伍建设",
    "财务管理",
    "政府投资项目管理",
    "国有资产监管",
    "招商引资工作",
    "营商环境建设",
    "审计发现问题整改",
    "选人用人工作",
    "民主集中制执行",
    "专项资金使用",
    "工程建设项目监管",
    "公车管理",
    "党费收缴管理",
    "档案管理",
    "信访工作",
    "防范化解重大风险",
    "生态环境保护",
    "安全生产监管",
    "人才引进培养",
    "重大决策部署落实",
]
_SHORTCOMINGS = [
    "不到位",
    "不够有力",
    "存在差距",
    "重视不够",
    "有待加强",
    "不够规范",
    "存在短板",
    "落实不力",
    "把关不严",
    "缺乏有效监管",
    "推进迟缓",
    "成效不明显",
    "存在薄弱环节",
    "责任压得不实",
    "机制不够健全",
]
_CATEGORIES = [
    "关于贯彻落实党的路线方针政策和重大决策部署方面",
    "关于群众身边不正之风和腐败问题方面",
    "关于基层党组织建设方面",
    "关于落实全面从严治党战略部署方面",
    "落实新时代党的组织路线方面",
    "关于巡察整改和审计整改方面",
]
_MEASURE_VERBS = [
    "加强",
    "完善",
    "建立",
    "健全",
    "制定",
    "推进",
    "强化",
    "规范",
    "深化",
    "严格落实",
]
_MEASURE_OBJECTS = [
    "学习教育机制",
    "督查督办制度",
    "项目管理办法",
    "廉政风险防控体系",
    "财务报销审核流程",
    "干部考核评价办法",
    "党建工作责任清单",
    "问题整改台账",
    "专项检查工作方案",
    "内部控制制度",
]
_PREAMBLE = [
    ("提高政治站位,扛起整改主体责任", "党委高度重视巡视整改工作,召开专题会议研究部署。"),
    ("加强组织领导,压实整改责任", "成立整改工作领导小组,由党委书记任组长,明确责任分工。"),
    ("严格台账管理,推进整改落实", "建立整改台账,实行清单化管理,逐项对账销号。"),
    ("坚持开门纳谏,完善工作机制", "召开巡视整改专题民主生活会,深入查摆问题原因。"),
]
_STATUS_WORDS = {
    "completed": ["已完成", "已整改到位", "整改完成"],
    "basically_completed": ["基本完成", "阶段性完成"],
    "not_completed": ["未完成", "正在整改", "持续推进"],
    "long_term": ["长期坚持"],
}
_CHROME_TOP = [
    "来源:{src} 发布时间:{pub} 09:13:53 阅读量:{n}",
    "来源:{src} 发布日期: {pub} 16:27 【字体大小:",
]
_CHROME_BOTTOM = [
    "分享到:",
    "【打印】 【关闭】",
    "原文链接:http://www.example.gov.cn/xsxc/{n}.shtml",
]


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.used_titles: set[str] = set()

    # -- pieces -----------------------------------------------------------------------------
    def problem_title(self) -> str:
        rng = self.rng
        for _ in range(50):
            title = rng.choice(_SUBJECTS) + rng.choice(_SHORTCOMINGS)
            if rng.random() < 0.25:
                title += "," + rng.choice(_SUBJECTS) + rng.choice(_SHORTCOMINGS)
            if title not in self.used_titles:
                self.used_titles.add(title)
                return title
        title = f"{rng.choice(_SUBJECTS)}第{len(self.used_titles)}项工作{rng.choice(_SHORTCOMINGS)}"
        self.used_titles.add(title)
        return title

    def measure(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(_MEASURE_VERBS)}{rng.choice(_MEASURE_OBJECTS)}。"
            f"印发《关于进一步{rng.choice(_MEASURE_VERBS)}{rng.choice(_MEASURE_OBJECTS)}的通知》,"
            f"组织开展专项检查{rng.randint(2, 30)}次"
        )

    def measures_paragraph(self, k: int | None = None) -> str:
        k = k or self.rng.randint(1, 4)
        return "".join(f"{cn_numeral(i + 1)}是{self.measure()}。" for i in range(k))

    def status(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.15:
            return None
        return rng.choices(list(_STATUS_WORDS), weights=[6, 2, 1, 1])[0]

    def organization(self) -> dict[str, str]:
        rng = self.rng
        unit, party_short, party_full = rng.choice(_UNITS)
        place = rng.choice(_PLACES)
        core = unit.format(p=place)
        short_core = core.replace("经济技术开发区", "开发区").replace(
            "高新技术产业开发区", "高新区"
        )
        return {
            "core": core,
            "full": f"中共{core}{party_full}",
            "name": f"{core}{party_short}",
            "short": f"{short_core}{party_short}",
        }

    def dates(self) -> dict[str, Any]:
        rng = self.rng
        year = rng.randint(2018, 2024)
        m1 = rng.randint(2, 9)
        d1 = rng.randint(1, 28)
        m2 = m1 + rng.randint(1, 2)
        d2 = rng.randint(1, 28)
        month_only = rng.random() < 0.2
        fm = m2 + rng.randint(1, 2)
        fy = year
        if fm > 12:
            fm -= 12
            fy += 1
        fd = rng.randint(1, 28)
        py, pm = fy, fm + rng.randint(2, 5)
        if pm > 12:
            pm -= 12
            py += 1
        pd = rng.randint(1, 28)
        return {
            "year": year,
            "m1": m1,
            "d1": d1,
            "m2": m2,
            "d2": d2,
            "month_only": month_only,
            "fy": fy,
            "fm": fm,
            "fd": fd,
            "published": f"{py:04d}-{pm:02d}-{pd:02d}",
            "pub_cn": f"{py}年{pm}月{pd}日",
            "start": f"{year:04d}-{m1:02d}" + ("" if month_only else f"-{d1:02d}"),
            "end": f"{year:04d}-{m2:02d}" + ("" if month_only else f"-{d2:02d}"),
            "feedback": f"{fy:04d}-{fm:02d}-{fd:02d}",
        }

    def period_text(self, d: dict[str, Any]) -> str:
        if d["month_only"]:
            return f"{d['year']}年{d['m1']}月至{d['m2']}月"
        return f"{d['year']}年{d['m1']}月{d['d1']}日至{d['m2']}月{d['d2']}日"

    def feedback_text(self, d: dict[str, Any]) -> str:
        if d["fy"] == d["year"] and self.rng.random() < 0.5:
            return f"{d['fm']}月{d['fd']}日"
        return f"{d['fy']}年{d['fm']}月{d['fd']}日"

    def round_info(self) -> dict[str, str | None]:
        rng = self.rng
        level = rng.choice(["省委", "市委"])
        kind = "巡视" if level == "省委" else "巡察"
        term = rng.choice(["十一届", "十二届", "十四届", "十五届", "七届"])
        rnd = f"第{cn_numeral(rng.randint(1, 12))}轮"
        group = f"{level}第{cn_numeral(rng.randint(1, 12))}{kind}组"
        has_round = rng.random() < 0.7
        return {
            "level": level,
            "kind": kind,
            "term": term,
            "round_no": rnd,
            "round": f"{term}{level}{rnd}" if has_round else None,
            "group": group,
        }


def _leaves(nodes: list[dict[str, Any]]) -> int:
    total = 0
    for n in nodes:
        if n.get("kind") == "category" or n["children"]:
            total += _leaves(n["children"])
        else:
            total += 1
    return total


def _node(label: str | None, title: str, status: str | None = None, children=None, kind=None):
    out: dict[str, Any] = {"label": label, "title": title}
    if kind:
        out["kind"] = kind
    out["status"] = status
    out["children"] = children or []
    return out


def _status_counts(nodes: list[dict[str, Any]], counts: dict[str, int]) -> None:
    for n in nodes:
        if n["children"]:
            _status_counts(n["children"], counts)
        elif n.get("kind") != "category":
            counts[n["status"] or "none"] = counts.get(n["status"] or "none", 0) + 1


# ------------------------------------------------------------------------------------------
# Layouts. Each returns (body lines, problems tree, declared) for one organization.
# ------------------------------------------------------------------------------------------


def _num(i: int, style: Style) -> str:
    return f"{i}{style.num_sep}"


def _num_label(i: int, style: Style) -> str:
    return f"{i}{'.' if style.num_sep == '．' else style.num_sep}"


def _layout_category_zhendui(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    lines: list[str] = ["一、把整改落实作为一项重要政治任务来抓"]
    for i, (head, body) in enumerate(rng.sample(_PREAMBLE, 3), start=1):
        lines.append(f"({cn_numeral(i)}){head}。{body}")
    tree: list[dict] = []
    body_lines: list[str] = []
    top = 0
    sub = 0
    for c, cat in enumerate(rng.sample(_CATEGORIES, rng.randint(2, 3)), start=1):
        body_lines.append(f"({cn_numeral(c)}){cat}")
        cat_children = []
        for _ in range(rng.randint(1, 3)):
            top += 1
            title = g.problem_title()
            body_lines.append(f"{_num(top, style)}{title}。")
            kids = []
            for _ in range(rng.randint(1, 3)):
                sub += 1
                st = g.status()
                t = g.problem_title()
                word = f"({rng.choice(_STATUS_WORDS[st])})" if st else ""
                body_lines.append(f"({sub})针对{rinfo['group'][:2]}巡察组指出的“{t}”问题。{word}")
                body_lines.append(f"整改措施及成效:{g.measures_paragraph()}")
                kids.append(_node(f"({sub})", t, st))
            cat_children.append(_node(_num_label(top, style), title, None, kids))
        tree.append(_node(f"({cn_numeral(c)})", cat, None, cat_children, kind="category"))
    counts: dict[str, int] = {}
    _status_counts(tree, counts)
    declared_problems = _leaves(tree) + rng.choice([0, 0, 2])
    completed = counts.get("completed", 0)
    basic = counts.get("basically_completed", 0)
    rest = declared_problems - completed - basic
    lines.append("二、整改落实的成效")
    lines.append(
        f"根据巡察组要求,{rinfo['group']}反馈的{declared_problems}个具体问题,目前已完成{completed}个、"
        f"基本完成{basic}个、未完成{rest}个。现对整改情况予以公开。"
    )
    lines += body_lines
    lines += ["三、下一步打算", "下一步将继续保持政治定力,持续巩固整改成果。"]
    lines.append("(一)坚持目标不变、标准不变、力度不变,继续抓好后续整改工作。")
    declared = {
        "problems": declared_problems,
        "completed": completed,
        "basically_completed": basic,
        "not_completed": rest,
    }
    return lines, tree, declared


def _layout_category_suffix(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    lines = ["一、提高政治站位,扛起巡视整改主体责任"]
    for i, (head, body) in enumerate(rng.sample(_PREAMBLE, 2), start=1):
        lines.append(f"({cn_numeral(i)}){head}。{body}")
    lines.append("二、坚持严改实改,确保巡视整改取得实效")
    lines.append("在巡视组的指导下,从严从实抓好巡视整改工作,取得阶段性成效。")
    tree = []
    n = 0
    for c, cat in enumerate(rng.sample(_CATEGORIES, rng.randint(1, 4)), start=1):
        lines.append(f"({cn_numeral(c)}){cat}")
        kids = []
        for _ in range(rng.randint(1, 5)):
            n += 1
            title = g.problem_title()
            lines.append(f"{_num(n, style)}{title}的整改落实情况。")
            if rng.random() < 0.4:
                lines.append(f"{rng.choice(_SUBJECTS)}方面:{g.measures_paragraph()}")
            lines.append(g.measures_paragraph())
            kids.append(_node(_num_label(n, style), title))
        tree.append(_node(f"({cn_numeral(c)})", cat, None, kids, kind="category"))
    lines += ["三、下一步努力方向", "(一)着力加强理论武装,在学习贯彻上下功夫。持续巩固整改成果。"]
    inst = rng.randint(5, 60)
    lines.insert(2, f"(三)严格台账管理,推进整改落实。整改期间,建立完善制度{inst}项。")
    return lines, tree, {"institutions": inst}


def _layout_guanyu(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    k = rng.randint(3, 10)
    lead, measures = rng.randint(5, 20), rng.randint(30, 120)
    party, gov, adm = rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 9)
    inst = rng.randint(5, 60)
    funds = rng.choice([12.6, 3.5, 40, 8.25])
    losses = rng.choice([280, 15, 66.5])
    rate_done = rng.randint(1, k)
    rate = round(rate_done * 100 / k, 2)
    lines = [
        (
            f"{org['name']}把巡视整改作为重大政治任务来抓,细化分解巡视组反馈的"
            f"{cn_numeral(rng.randint(2, 4))}方面{k}个问题,明确{lead}个整改牵头单位、{measures}项"
            "整改措施和整改完成时限。"
        ),
        (
            f"在巡视整改工作中,给予党纪处分{party}人;政务处分{gov}人;诫勉{adm}人;建立完善制度"
            f"{inst}项;清退款项{funds}万元,挽回经济损失{losses}万元,整改完成率{rate}%。"
        ),
    ]
    tree = []
    for i in range(1, k + 1):
        title = g.problem_title()
        form = rng.choice(["关于“{t}”问题的整改情况", "关于“{t}”的问题整改情况"])
        lines.append(f"{cn_numeral(i)}、{form.format(t=title)}")
        if rng.random() < 0.5:
            for j in range(1, rng.randint(2, 4)):
                lines.append(f"({cn_numeral(j)}){rng.choice(_PREAMBLE)[0]}。{g.measure()}。")
        else:
            lines.append(g.measures_paragraph())
        tree.append(_node(f"{cn_numeral(i)}、", title))
    lines.append(
        f"下一步,{org['name']}将深化整改落实,进一步巩固整改成果。一是提高站位。二是压实责任。"
    )
    declared = {
        "problems": k,
        "lead_units": lead,
        "measures": measures,
        "party_discipline": party,
        "government_discipline": gov,
        "admonishment": adm,
        "institutions": inst,
        "funds_returned_wan_yuan": funds,
        "losses_recovered_wan_yuan": losses,
        "completion_rate": rate,
    }
    return lines, tree, declared


def _layout_bare(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    lines = ["一、以政治建设为统领,把巡察整改作为重大政治任务抓紧抓实"]
    for i, (head, body) in enumerate(rng.sample(_PREAMBLE, 3), start=1):
        lines.append(f"({cn_numeral(i)}){head}。")
        lines.append(body)
    lines.append("二、盯住巡察反馈指出的问题,逐条逐项真改实改,巡察整改工作取得阶段性成效")
    tree = []
    any_sub = False
    for i in range(1, rng.randint(3, 15) + 1):
        title = g.problem_title()
        lines.append(f"({cn_numeral(i)}){title}。")
        kids = []
        if rng.random() < 0.3:
            any_sub = True
            if rng.random() < 0.5:
                lines.append(f"针对上述问题,{g.measures_paragraph(2)}")
            for j in range(1, rng.randint(2, 4)):
                t = g.problem_title()
                lines.append(f"{_num(j, style)}针对“{t}”的问题。{g.measures_paragraph()}")
                kids.append(_node(_num_label(j, style), t))
        else:
            lines.append(f"针对上述问题,{g.measures_paragraph()}")
        tree.append(_node(f"({cn_numeral(i)})", title, None, kids))
    del any_sub
    lines += ["三、下一步工作计划", "(一)强化思想武装,不断增强政治判断力。严格落实“第一议题”制度。"]
    return lines, tree, {}


def _layout_wenti(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    form = rng.choice(["问题{n}:{t}", "【问题{n}】{t}", "第{n}个问题:{t}"])
    label_form = {
        "问题{n}:{t}": "问题{n}",
        "【问题{n}】{t}": "【问题{n}】",
        "第{n}个问题:{t}": "第{n}个问题",
    }[form]
    lines = ["现将整改情况公布如下。"]
    tree = []
    for i in range(1, rng.randint(2, 8) + 1):
        title = g.problem_title()
        n = cn_numeral(i)
        lines.append(form.format(n=n, t=title + "。"))
        st = g.status()
        lines.append(f"整改措施:{g.measures_paragraph()}")
        if st:
            lines.append(f"整改情况:{rng.choice(_STATUS_WORDS[st])}")
        tree.append(_node(label_form.format(n=n), title, st))
    return lines, tree, {}


def _layout_table(g: _Gen, style: Style, org: dict, rinfo: dict):
    rng = g.rng
    sep = rng.choice([" | ", "\t"])
    lines = ["现将巡察反馈问题整改情况列表公布如下。"]
    lines.append(sep.join(["序号", "反馈问题", "整改措施", "完成情况"]))
    tree = []
    for i in range(1, rng.randint(2, 10) + 1):
        title = g.problem_title()
        st = g.status() or "completed"
        word = rng.choice(_STATUS_WORDS[st])
        lines.append(sep.join([str(i), title, g.measure(), word]))
        tree.append(_node(str(i), title, st))
    lines.append("欢迎广大干部群众对巡察整改落实情况进行监督。")
    return lines, tree, {}


_LAYOUTS = {
    "category_zhendui": _layout_category_zhendui,
    "category_suffix": _layout_category_suffix,
    "guanyu": _layout_guanyu,
    "bare": _layout_bare,
    "wenti": _layout_wenti,
    "table": _layout_table,
}


def _multi_org(g: _Gen, style: Style, rinfo: dict, d: dict):
    rng = g.rng
    orgs = []
    seen = set()
    while len(orgs) < rng.randint(2, 5):
        o = g.organization()
        if o["core"] not in seen:
            seen.add(o["core"])
            orgs.append(o)
    names = "、".join(o["name"] for o in orgs)
    lines = [
        (
            f"根据{rinfo['level']}巡视工作部署,{g.period_text(d)},{rinfo['term']}{rinfo['level']}对"
            f"{len(orgs) + 3}个党组织开展{rinfo['round_no']}常规巡视。"
            f"近日,{names}向社会公开巡视整改进展情况。"
        )
    ]
    inspections = []
    for o in orgs:
        lines.append(f"{o['name']}:聚焦问题抓整改 推动{rng.choice(_SUBJECTS)}再上新台阶")
        tree = []
        for _ in range(rng.randint(1, 4)):
            t = g.problem_title()
            lines.append(f"问题:{t}")
            lines.append(f"整改:{o['name']}提高认识,扎实推进整改。{g.measure()}。")
            tree.append(_node(None, t))
        inspections.append(
            {
                "organization": o["name"],
                "round": f"{rinfo['term']}{rinfo['level']}{rinfo['round_no']}",
                "group": None,
                "start": d["start"],
                "end": d["end"],
                "feedback": None,
                "declared": {},
                "problems": tree,
                "leaf_problems": _leaves(tree),
            }
        )
    return lines, inspections


def _fullwidth(text: str) -> str:
    table = {"(": "（", ")": "）", ":": "：", ",": "，", ";": "；", "!": "！", "?": "？", "%": "％"}
    out = []
    for ch in text:
        if ch in table:
            out.append(table[ch])
        elif ch.isascii() and ch.isdigit():
            out.append(chr(ord(ch) - 0x30 + 0xFF10))
        else:
            out.append(ch)
    return "".join(out)


def generate_notice(
    seed: int, style: Style | None = None, layout: str | None = None
) -> GeneratedNotice:
    """One notice and its expected reading. Same seed (and style/layout) -> same notice."""
    g = _Gen(seed)
    rng = g.rng
    style = style or Style()
    layout = layout or rng.choice([*_LAYOUTS, "multi_org"])
    d = g.dates()
    rinfo = g.round_info()
    src = rng.choice(["市委巡察办", "省委巡视办", "莞巡宣"])
    head: list[str] = []
    if rng.random() < 0.6:
        head.append(
            rng.choice(_CHROME_TOP).format(src=src, pub=d["published"], n=rng.randint(100, 9000))
        )
        published = d["published"]
    else:
        published = None
    if layout == "multi_org":
        lines, inspections = _multi_org(g, style, rinfo, d)
        tail = []
        published = d["published"] if published else None
    else:
        org = g.organization()
        use_alias = rng.random() < 0.5
        named = f"{org['full']}(以下简称“{org['short']}”)" if use_alias else org["name"]
        ref = org["short"] if use_alias else org["name"]
        if rinfo["round"] and rng.random() < 0.6:
            head.append(f"{org['full']}关于{rinfo['round']}{rinfo['kind']}整改进展情况的通报")
            round_sentence = ""
        elif rinfo["round"]:
            round_sentence = f"按照{rinfo['round']}{rinfo['kind']}工作安排,"
        else:
            round_sentence = ""
        intro = (
            f"根据{rinfo['level']}统一部署,{round_sentence}{g.period_text(d)},{rinfo['group']}对{named}"
            f"进行了常规{rinfo['kind']}。{g.feedback_text(d)},{rinfo['level']}{rinfo['kind']}组向{ref}"
            f"反馈了{rinfo['kind']}意见。现将{rinfo['kind']}整改进展情况予以公布。"
        )
        body, tree, declared = _LAYOUTS[layout](g, style, org, rinfo)
        lines = [intro, *body]
        lines.append(
            f"欢迎广大干部群众对{rinfo['kind']}整改落实情况进行监督。"
            f"联系电话:0335-{rng.randint(1000000, 9999999)};电子邮箱:zgb@example.gov.cn。"
        )
        signer = org["full"]
        tail = [signer, d["pub_cn"]]
        if published is None:
            published = d["published"]
        inspections = [
            {
                "organization": org["full"],
                "aliases": [org["short"]] if use_alias else [],
                "round": rinfo["round"],
                "group": rinfo["group"],
                "start": d["start"],
                "end": d["end"],
                "feedback": d["feedback"],
                "declared": declared,
                "problems": tree,
                "leaf_problems": _leaves(tree),
            }
        ]
    tail += rng.sample(_CHROME_BOTTOM, rng.randint(0, 2))
    all_lines = head + lines + tail
    if style.fullwidth:
        all_lines = [_fullwidth(x) for x in all_lines]
    if style.indent:
        all_lines = [style.indent + x for x in all_lines]
    if style.trailing_space:
        all_lines = [x + "  " for x in all_lines]
    joiner = "\n\n" if style.blank_lines else "\n"
    text = joiner.join(all_lines) + "\n"
    if style.crlf:
        text = text.replace("\n", "\r\n")
    name = f"gen_{seed:06d}_{layout}.txt"
    expected = {"published": published, "inspections": inspections}
    return GeneratedNotice(name=name, text=text, expected=expected, layout=layout, style=style)


def generate_corpus(n: int, seed: int = 0) -> list[GeneratedNotice]:
    """n notices with mixed layouts and surface styles, deterministic for (n, seed)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        style = Style(
            fullwidth=rng.random() < 0.5,
            crlf=rng.random() < 0.3,
            blank_lines=rng.random() < 0.4,
            num_sep=rng.choice([".", "、", "．"]),
            indent=rng.choice(["", "", "  ", "\u3000\u3000", "\t"]),
            trailing_space=rng.random() < 0.2,
        )
        out.append(generate_notice(seed * 1_000_003 + i, style))
    return out


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys

    n = generate_notice(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(n.name)
    print(n.text)


# ------------------------------------------------------------------------------------------
# Comparing a reading with the expected one (the rules of seeds/README.md)
# ------------------------------------------------------------------------------------------


def _fold(value: Any) -> Any:
    from tracker.importer.text import fold_width, strip_trailing_punct

    if isinstance(value, str):
        return strip_trailing_punct(fold_width(value))
    return value


def compare_reading(notice: Any, expected: dict[str, Any]) -> str | None:
    """None when `notice` (a ParsedNotice) reads as `expected`, else where it first differs.

    organization by core name (the full name, or any alias the notice defines); titles and
    labels NFKC-folded without trailing punctuation; dates, statuses and tree shape exactly;
    declared on the keys that expected has.
    """
    from tracker.importer.text import core_org_name

    got = notice.to_json()
    if got["published"] != expected["published"]:
        return f"published: got {got['published']!r}, expected {expected['published']!r}"
    if len(got["inspections"]) != len(expected["inspections"]):
        return (
            f"inspections: got {len(got['inspections'])} "
            f"({[i['organization'] for i in got['inspections']]}), "
            f"expected {len(expected['inspections'])}"
        )
    for n, (gi, ei, pi) in enumerate(
        zip(got["inspections"], expected["inspections"], notice.inspections, strict=True)
    ):
        where = f"inspections[{n}]"
        names = {core_org_name(gi["organization"]), *(core_org_name(a) for a in pi.aliases)}
        if core_org_name(ei["organization"]) not in names:
            return (
                f"{where}.organization: got {gi['organization']!r} (aliases {pi.aliases}), "
                f"expected {ei['organization']!r}"
            )
        for key in ("round", "group", "start", "end", "feedback", "leaf_problems"):
            if gi[key] != ei[key]:
                return f"{where}.{key}: got {gi[key]!r}, expected {ei[key]!r}"
        for key, value in ei["declared"].items():
            if gi["declared"].get(key) != value:
                return (
                    f"{where}.declared[{key!r}]: got {gi['declared'].get(key)!r}, "
                    f"expected {value!r}"
                )
        diff = _compare_nodes(gi["problems"], ei["problems"], f"{where}.problems")
        if diff:
            return diff
    return None


def _compare_nodes(got: list[dict], exp: list[dict], path: str) -> str | None:
    for i, (g, e) in enumerate(zip(got, exp, strict=False)):
        here = f"{path}[{i}] ({e.get('label')} {e['title'][:30]})"
        for key in ("label", "title"):
            if _fold(g.get(key)) != _fold(e.get(key)):
                return f"{here}.{key}: got {g.get(key)!r}, expected {e.get(key)!r}"
        for key in ("kind", "status"):
            if g.get(key) != e.get(key):
                return f"{here}.{key}: got {g.get(key)!r}, expected {e.get(key)!r}"
        diff = _compare_nodes(g["children"], e["children"], f"{here}.children")
        if diff:
            return diff
    if len(got) != len(exp):
        extra = got[len(exp) :] or exp[len(got) :]
        return (
            f"{path}: got {len(got)} nodes, expected {len(exp)}; first unmatched: "
            f"{extra[0].get('label')} {extra[0]['title'][:40]!r}"
        )
    return None
