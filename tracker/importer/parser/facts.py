"""Pass 5: the facts of a notice's introduction and non-problem text: round, group, period,
feedback date, the inspected organization, declared totals and outcomes."""

from __future__ import annotations

import datetime
import re

from ..numerals import cn_to_int, parse_number
from ..text import core_org_name, org_names_match
from .data import ParsedInspection
from .patterns import (
    _ALIAS_RE,
    _ENTRY_EXIT_RE,
    _GROUP_RE,
    _KIND_RE,
    _LEVEL_RE,
    _ORG_FEEDBACK_RE,
    _ORG_OBJECT_RE,
    _RANGE_RE,
    _ROUND_RES,
    _SIG_COMMITTEE_RE,
    _SINGLE_DATE_RE,
    _TITLE_ORG_RE,
    _YEAR_ONLY_RE,
    CN,
    NUM,
)

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _to_int(s: str) -> int:
    return cn_to_int(s)


def _make_date(y: int, m: int, d: int | None) -> datetime.date | None:
    try:
        return datetime.date(y, m, d or 1)
    except ValueError:
        return None


def _iso(y: int, m: int, d: int | None) -> str | None:
    if _make_date(y, m, d) is None:
        return None
    return f"{y:04d}-{m:02d}-{d:02d}" if d else f"{y:04d}-{m:02d}"


# -- pass 5: facts ------------------------------------------------------------------------
def _facts(insp: ParsedInspection, intro: str, title: str) -> None:
    for rx in _ROUND_RES:
        for src in (title, intro):
            m = rx.search(src) if src else None
            if m:
                insp.term = m.group(1) or None
                insp.level = m.group(2) or None
                insp.round_no = m.group(3)
                if insp.term or insp.level:
                    insp.round = "".join(x for x in m.groups() if x)
                break
        if insp.round_no:
            break
    m = _GROUP_RE.search(intro) or _GROUP_RE.search(title)
    if m:
        insp.group = m.group(1)
        if insp.group.startswith("第"):
            lv = insp.level or (
                _LEVEL_RE.search(intro).group(1) if _LEVEL_RE.search(intro) else None
            )
            if lv:
                insp.group = lv + insp.group
    if insp.level is None:
        m = _LEVEL_RE.search(insp.group or "") or _LEVEL_RE.search(intro)
        if m:
            insp.level = m.group(1)
    for sentence in intro.split("。"):
        if "巡视" in sentence or "巡察" in sentence:
            m = _KIND_RE.search(sentence)
            if m:
                insp.kind = m.group(1)
                break
    _dates(insp, intro)


def _dates(insp: ParsedInspection, intro: str) -> None:
    last_year: int | None = None
    span: tuple[int, int] | None = None
    end_date: datetime.date | None = None
    for m in _RANGE_RE.finditer(intro):
        sent_start = intro.rfind("。", 0, m.start()) + 1
        sent_end = intro.find("。", m.end())
        sentence = intro[sent_start : sent_end if sent_end >= 0 else len(intro)]
        if not re.search(r"巡视|巡察|进驻|开展", sentence) or "征求" in sentence:
            continue
        g = m.groups()
        try:
            y1 = _to_int(g[0]) if g[0] else _year_before(intro, m.start())
            mo1 = _to_int(g[1])
            d1 = _to_int(g[2]) if g[2] else None
            if g[6] is not None:  # end given as a day only
                y2, mo2, d2 = y1, mo1, _to_int(g[6])
            else:
                y2 = _to_int(g[3]) if g[3] else y1
                mo2 = _to_int(g[4])
                d2 = _to_int(g[5]) if g[5] else None
        except (ValueError, TypeError):
            continue
        if y1 is None:
            continue
        if y2 == y1 and not g[3] and mo2 < mo1:
            y2 += 1
        start, end = _iso(y1, mo1, d1), _iso(y2, mo2, d2)
        if start and end:
            insp.start, insp.end = start, end
            span = (m.start(), m.end())
            last_year = y2
            end_date = _make_date(y2, mo2, d2)
            break
    m = _ENTRY_EXIT_RE.search(intro) if insp.start is None and "进驻" in intro else None
    if m:
        g = m.groups()
        try:
            y1 = _to_int(g[0]) if g[0] else _year_before(intro, m.start())
            y2 = _to_int(g[3]) if g[3] else y1
            mo1, d1, mo2, d2 = (_to_int(x) for x in (g[1], g[2], g[4], g[5]))
        except (ValueError, TypeError):
            y1 = None
        if y1 is not None and y2 is not None:
            if not g[3] and (mo2, d2) < (mo1, d1):
                y2 += 1
            start, end = _iso(y1, mo1, d1), _iso(y2, mo2, d2)
            if start and end:
                insp.start, insp.end = start, end
                span = (m.start(), m.end())
                last_year = y2
                end_date = _make_date(y2, mo2, d2)
    for sentence_match in re.finditer(r"[^。]*反馈[^。]*", intro):
        sentence = sentence_match.group(0)
        if "征求" in sentence:
            continue
        base = sentence_match.start()
        for m in _SINGLE_DATE_RE.finditer(sentence):
            pos = base + m.start()
            if span and span[0] <= pos < span[1]:
                continue
            try:
                y = _to_int(m.group(1)) if m.group(1) else None
                mo, d = _to_int(m.group(2)), _to_int(m.group(3))
            except ValueError:
                continue
            if y is None:
                y = _year_before(intro, pos) or last_year
            if y is None:
                continue
            date = _make_date(y, mo, d)
            if date and not m.group(1) and end_date and date < end_date:
                date = _make_date(y + 1, mo, d)
            if date:
                insp.feedback = date
                return


def _year_before(text: str, pos: int) -> int | None:
    years = _YEAR_ONLY_RE.findall(text, 0, pos)
    if not years:
        return None
    try:
        return _to_int(years[-1])
    except ValueError:
        return None


def _organization(
    intro: str, title: str | None, signature: str | None
) -> tuple[str | None, list[str]]:
    aliases: list[str] = []
    for m in _ALIAS_RE.finditer(intro):
        aliases.append(m.group(1).strip())
    primary = None
    for rx in (_ORG_OBJECT_RE, _ORG_FEEDBACK_RE):
        for m in rx.finditer(intro):
            cand = _ALIAS_RE.sub("", m.group(1))
            cand = re.sub(r"[“”\"\s]", "", cand)
            if re.search(rf"等\s*[\d{CN}]+\s*个", cand) or len(core_org_name(cand)) < 2:
                continue
            if "巡视组" in cand or "巡察组" in cand:
                continue
            primary = cand
            break
        if primary:
            break
    fuller = []
    if title:
        m = _TITLE_ORG_RE.match(title)
        if m:
            fuller.append(m.group(1))
    if signature:
        fuller.append(signature)
    organization = primary
    if primary:
        for cand in fuller:
            core_cand, core_org = core_org_name(cand), core_org_name(organization or "")
            if org_names_match(cand, primary) and (
                len(core_cand) > len(core_org)
                or (core_cand == core_org == organization and _SIG_COMMITTEE_RE.match(cand))
            ):
                organization = cand
    elif fuller:
        organization = fuller[0]
    names = [primary, *fuller, *aliases]
    out_aliases: list[str] = []
    for a in names:
        if (
            a
            and a != organization
            and a not in out_aliases
            and (a in aliases or (organization and org_names_match(a, organization)))
        ):
            out_aliases.append(a)
    return organization, out_aliases


def _declared(text: str) -> tuple[dict[str, int | float], dict[str, str]]:
    """The totals stated in ``text``, and for each the words it was read from."""
    out: dict[str, int | float] = {}
    found: dict[str, str] = {}
    # Status totals belong to the sentence that states the number of problems
    # ("反馈的31个具体问题,目前已完成22个、基本完成7个…"); look there first.
    # Status totals belong to a sentence about the problems fed back ("反馈的31个具体问题,
    # 目前已完成22个、基本完成7个…"); prefer the one that also states the total, and never
    # read them from sentences that do not mention 问题 ("完成一项、销号一项").
    problems_rx = next(rx for key, rx, _u in _DECLARED if key == "problems")
    sentences = re.split(r"[。\n]", text)
    # ... or the sentence right after the one stating the total ("对反馈的5个问题逐项制定
    # 整改措施。截至11月底,已完成4个,基本完成1个。").
    problem_sentences = [
        x
        for k, x in enumerate(sentences)
        if "问题" in x or (k and problems_rx.search(sentences[k - 1]))
    ]
    problem_sentences.sort(key=lambda x: problems_rx.search(x) is None)
    for key, rx, unit in _DECLARED:
        if key in out:
            continue
        keyword = _DECLARED_KEYWORDS.get(key)
        if keyword:
            words = (keyword,) if isinstance(keyword, str) else keyword
            if not any(w in text for w in words):
                continue
        m = None
        if key in _TOTALS_KEYS:
            for sentence in problem_sentences:
                m = rx.search(sentence)
                if m:
                    break
        else:
            m = rx.search(text)
        if not m:
            continue
        try:
            value: int | float = parse_number(m.group(1))
        except ValueError:
            continue
        if unit:
            scale = m.group(2)
            if scale == "亿":
                value = value * 10000
            elif not scale:
                value = value / 10000
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, float):
                value = round(value, 4)
        out[key] = value
        found[key] = m.group(0)
    # "对反馈的3个问题……已全部完成整改": every problem declared is completed.
    if (
        "problems" in out
        and "completed" not in out
        and "全部" in text
        and any(_ALL_DONE_RE.search(x) for x in problem_sentences)
    ):
        out["completed"] = out["problems"]
    return out, found


_ALL_DONE_RE = re.compile(r"(?:已|均已)全部(?:完成整改|整改完成|整改到位|完成|办结|销号)")
_TOTALS_KEYS = frozenset(
    {"categories", "completed", "basically_completed", "not_completed", "long_term"}
)
_MONEY = r"\s*(?:余|多)?\s*(万|亿)?\s*(?:余|多)?元"
_DECLARED_KEYWORDS: dict[str, str | tuple[str, ...]] = {
    "problems": "问题",
    "categories": "方面",
    "completed": "",
    "basically_completed": "完成",
    "not_completed": ("未完成", "正在", "持续推进", "整改中"),
    "long_term": "长期",
    "lead_units": ("牵头单位", "牵头部门", "牵头科室"),
    "responsible_units": ("责任单位", "责任部门"),
    "measures": ("整改措施", "整改举措"),
    "tasks": "整改任务",
    "cases_filed": "立案",
    "party_discipline": "党纪",
    "government_discipline": "政务处分",
    "organizational_handling": "组织处理",
    "admonishment": "诫勉",
    "education_reminder": "",
    "accountability": "问责",
    "institutions": "",
    "funds_returned_wan_yuan": "元",
    "losses_recovered_wan_yuan": "挽回",
    "completion_rate": "%",
}
_DECLARED: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (key, re.compile(rx), money)
    for key, rx, money in (
        (
            "problems",
            (
                rf"(?:反馈|指出|交办|移交|发现|提出|涉及|梳理出?|共有?)[^。;,]{{0,20}}?{NUM}\s*(?:个|项|条)"
                r"(?:具体|主要)?问题"
            ),
            False,
        ),
        (
            "problems",
            (
                r"(?:反馈|指出|交办|移交|发现|提出)的?(?:具体|主要)?问题\s*(?:共计|共有|总计|合计|共)?"
                rf"\s*{NUM}\s*(?:个|项|条)(?!方面)"
            ),
            False,
        ),
        ("categories", rf"{NUM}\s*(?:个|大)?方面(?:的)?{NUM}\s*(?:个|项|条)(?:具体)?问题", False),
        (
            "completed",
            (
                rf"(?<!基本)(?<!未)(?<!阶段性)(?:已经?|已全部|目前已)?(?:整改)?(?:完成|整改到位|办结|销号)"
                rf"(?:整改)?(?:的)?(?:问题)?\s*{NUM}\s*(?:个|项|条)"
            ),
            False,
        ),
        ("completed", rf"{NUM}\s*(?:个|项|条)(?:问题)?已(?:经)?(?:完成|整改到位)", False),
        (
            "basically_completed",
            rf"(?:基本完成|阶段性完成|基本整改到位)(?:整改)?\s*{NUM}\s*(?:个|项|条)",
            False,
        ),
        (
            "not_completed",
            rf"(?:未完成|尚未完成|正在整改|持续推进|整改中|正在推进)(?:整改)?(?:的)?\s*{NUM}\s*(?:个|项|条)",
            False,
        ),
        (
            "basically_completed",
            rf"{NUM}\s*(?:个|项|条)(?:问题)?(?:已)?(?:基本完成|阶段性完成|基本整改到位)",
            False,
        ),
        (
            "not_completed",
            rf"{NUM}\s*(?:个|项|条)(?:问题)?(?:正在持续推进|正在整改|持续推进|正在推进|尚未完成|未完成|整改中)",
            False,
        ),
        (
            "long_term",
            rf"(?:需)?长期(?:坚持|推进|整改)(?:的)?(?:问题)?\s*{NUM}\s*(?:个|项|条)",
            False,
        ),
        ("lead_units", rf"{NUM}\s*个(?:整改)?牵头(?:单位|部门|科室)", False),
        ("lead_units", rf"牵头(?:单位|部门|科室)\s*{NUM}\s*个", False),
        ("responsible_units", rf"{NUM}\s*个(?:整改)?责任(?:单位|部门)", False),
        ("measures", rf"{NUM}\s*(?:项|条|个)(?:具体)?整改(?:措施|举措)", False),
        ("measures", rf"整改(?:措施|举措)\s*{NUM}\s*(?:项|条)", False),
        ("tasks", rf"{NUM}\s*(?:项|条|个)(?:具体)?整改任务", False),
        ("tasks", rf"整改任务(?:清单|台账)?\s*(?:共计|共)?\s*{NUM}\s*(?:项|条|个)", False),
        (
            "cases_filed",
            rf"立案(?:审查调查|审查|调查)?(?:案件)?\s*{NUM}\s*(?:件|起|宗)",
            False,
        ),
        ("party_discipline", rf"党纪(?:政务)?处分\s*{NUM}\s*(?:人|名)", False),
        ("government_discipline", rf"(?<!党纪)政务处分\s*{NUM}\s*(?:人|名)", False),
        ("organizational_handling", rf"组织处理\s*{NUM}\s*(?:人|名)", False),
        ("admonishment", rf"诫勉(?:谈话)?\s*{NUM}\s*(?:人|名)", False),
        ("education_reminder", rf"(?:教育提醒|提醒谈话|批评教育)\s*{NUM}\s*(?:人|名)", False),
        ("accountability", rf"问责\s*{NUM}\s*(?:人|名)", False),
        (
            "institutions",
            (
                rf"(?:建立|制定|出台|修订|完善|健全|新建|修改)[^。;]{{0,40}}?(?:制度|规章|办法)"
                rf"(?:机制|文件|办法|规定)?\s*{NUM}\s*(?:项|份|个|部|件|条)"
            ),
            False,
        ),
        ("institutions", rf"建章立制\s*{NUM}\s*(?:项|份|个|部|件|条)", False),
        (
            "funds_returned_wan_yuan",
            (
                rf"(?:清退|退还|退缴|追缴|追回|收缴|退回)(?:违规|违纪)?(?:款项|资金|款物|金额|费用)?"
                rf"[^。;,]{{0,10}}?{NUM}{_MONEY}"
            ),
            True,
        ),
        ("losses_recovered_wan_yuan", rf"挽回[^。;,]{{0,10}}?(?:经济)?损失\s*{NUM}{_MONEY}", True),
        (
            "completion_rate",
            r"(?:整改)?(?:完成率|整改率|销号率)(?:为|达到?|是)?\s*(\d+(?:\.\d+)?)\s*%",
            False,
        ),
    )
)
