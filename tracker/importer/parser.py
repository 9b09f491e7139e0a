"""Read a published rectification-progress notice (巡视/巡察整改进展情况的通报) into plain data.

A pure function from text to dataclasses: no ORM, no I/O (except `read_notice`, which reads at
most MAX_NOTICE_BYTES + 1 bytes of one file). The loader turns the result into rows.

How a notice is read, in linear passes over its lines:

1. fold widths (NFKC, so （一） = (一) and ： = :), split lines, drop page chrome (来源, 阅读量,
   打印, 原文链接, 免责声明 …), find the title line and the signature (an organization line and a
   date line near the end; everything after that date is page footer).
   A title set on two lines (the organization, then "关于…的通报") is one title, and a line
   holding several bracketed fields ("【问题】…【整改情况】…【完成情况】已完成") is split into one
   line per field;
2. if several lines name party organizations as section headings ("X党委:…"), split the notice
   into one section per inspected organization;
3. per section, build a heading tree from the numbering styles 一、 > (一) > 1. > (1) > ①
   (plus 问题: / 问题一: / 问题1、 / 【问题】 / 第一个问题 headings, nested where they first
   appear), with tables as blocks of rows: pipe- or tab-separated, or flattened to text (cells
   split by spaces, or one cell per line), with category rows ("(一)…方面") grouping them;
4. decide which parts of the tree are problems. Headings that say so ("针对…“…”问题",
   "关于“…”问题的整改情况", "…的整改落实情况", a printed status, 问题: labels) and category
   headings ("关于…方面") are evidence; a top-level section holding evidence is a wrapper whose
   children are all problems (categories or problems); sections without evidence are preamble,
   sections about 下一步 are closing. Under a problem, only headings that say they are problems
   become sub-problems; other sub-headings are measures. Without any evidence at all, sections
   whose children read as shortcomings (不到位, 不足, 缺乏 …) are taken as the problem list.
   A problem's status is the word printed in its heading, in a status field (整改进度:…,
   【完成情况】…), or, failing those, in a bracket or short sentence closing its text
   ("目前,该问题已整改完成。");
5. read the facts from the introduction and the non-problem text: organization, round, group,
   period, feedback and publication dates, declared totals and outcomes.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .numerals import CN_NUMERAL_CHARS, cn_to_int, parse_number
from .text import (
    STATUS_WORDS_RE,
    core_org_name,
    fold_status,
    fold_task_type,
    fold_width,
    normalize_title,
    org_names_match,
    strip_trailing_punct,
)

__all__ = [
    "MAX_NOTICE_BYTES",
    "NoticeParseError",
    "ParsedInspection",
    "ParsedNotice",
    "ParsedProblem",
    "core_org_name",
    "decode_notice",
    "fold_status",
    "normalize_title",
    "org_names_match",
    "parse_notice",
    "read_notice",
]

MAX_NOTICE_BYTES = 5 * 1024 * 1024


def _(message: str) -> str:
    """gettext for the messages users read (errors, warnings): Chinese source text, English in
    the catalogue. The parser stays usable without Django settings (the benchmarks, a REPL):
    then the source text is returned as it is."""
    if not settings.configured:
        return message
    from django.utils.translation import gettext

    return gettext(message)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (makemessages reads this name); translated by ``_``
    where it is used."""
    return message


class NoticeParseError(ValueError):
    """A notice that cannot be read; str() reads "name,第 N 行:message" (translated), naming
    the file and, where that helps, the line."""

    def __init__(self, message: str, *, name: str | None = None, line: int | None = None):
        self.message = message
        self.name = name
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        values = {"name": self.name, "line": self.line, "message": self.message}
        if self.name and self.line:
            return _("%(name)s,第 %(line)s 行:%(message)s") % values
        if self.name:
            return _("%(name)s:%(message)s") % values
        if self.line:
            return _("第 %(line)s 行:%(message)s") % values
        return self.message


def _too_large(size: int, name: str) -> NoticeParseError:
    return NoticeParseError(
        _("文件有 %(size)s 字节,超过通报的上限 %(limit)s MB")
        % {"size": f"{size:,}", "limit": MAX_NOTICE_BYTES // (1024 * 1024)},
        name=name,
    )


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

_BINARY_MAGIC = (
    (b"%PDF", gettext_noop("PDF 文档")),
    (b"PK\x03\x04", gettext_noop("ZIP 压缩包(可能是 .docx 文档)")),
    (b"\xd0\xcf\x11\xe0", gettext_noop("旧版 Word/Excel 文档")),
    (b"\x89PNG", gettext_noop("PNG 图片")),
    (b"\xff\xd8\xff", gettext_noop("JPEG 图片")),
    (b"GIF8", gettext_noop("GIF 图片")),
    (b"\x1f\x8b", gettext_noop("gzip 压缩包")),
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode_notice(data: bytes, *, name: str) -> str:
    """Decode a notice file: UTF-8 (with or without BOM), else GB18030 (covers GBK/GB2312); a
    Word (.docx) or PDF notice is read for its text (``tracker.importer.documents``).

    Raises NoticeParseError for oversize, empty, binary, undecodable and truncated input.
    """
    size = len(data)
    if size > MAX_NOTICE_BYTES:
        raise _too_large(size, name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and size % 2 == 0:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NoticeParseError(
                _("UTF-16 文本在第 %(pos)s 字节处有无法解码的字节") % {"pos": exc.start},
                name=name,
            ) from None
        return _check_decoded(text, name)
    if not data.strip():
        raise NoticeParseError(_("文件为空"), name=name)
    from tracker.importer import documents  # Word and PDF notices: their text, same parser

    for looks_like, read in (
        (documents.is_docx, documents.docx_text),
        (documents.is_pdf, documents.pdf_text),
    ):
        if looks_like(data):
            try:
                return _check_decoded(read(data), name)
            except documents.DocumentError as exc:
                raise NoticeParseError(str(exc), name=name) from None
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise NoticeParseError(
                _("不是文本文件:看起来是%(what)s") % {"what": _(what)}, name=name
            )
    head = data[:65536]
    nul = head.find(b"\x00")
    if nul >= 0:
        raise NoticeParseError(
            _("不是文本文件:含有 NUL 字节(二进制内容)"),
            name=name,
            line=_line_of(data, nul),
        )
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(head) // 20):
        raise NoticeParseError(
            _("不是文本文件:前 %(size)s 字节中有 %(count)s 个控制字符")
            % {"size": len(head), "count": controls},
            name=name,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_err:
        if utf8_err.reason == "unexpected end of data" and utf8_err.end == len(data):
            raise NoticeParseError(
                _("文件似乎不完整:在一个 UTF-8 多字节字符中间结束(第 %(pos)s 字节)")
                % {"pos": utf8_err.start},
                name=name,
                line=_line_of(data, utf8_err.start),
            ) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as gb_err:
            # Report the position of the decoder that got further: that is where the file goes
            # wrong in the encoding it is most likely written in.
            pos = max(utf8_err.start, gb_err.start)
            raise NoticeParseError(
                _("无法按 UTF-8 或 GB18030 解码:第 %(pos)s 字节处有无效字节 %(bytes)s")
                % {"pos": pos, "bytes": data[pos : pos + 4].hex(" ")},
                name=name,
                line=_line_of(data, pos),
            ) from None
    return _check_decoded(text, name)


def _check_decoded(text: str, name: str) -> str:
    text = text.lstrip("\ufeff")
    if not text.strip() or not fold_width(text).strip():
        raise NoticeParseError(_("文件为空"), name=name)
    if "\x00" in text:
        raise NoticeParseError(_("不是文本文件:含有 NUL 字符"), name=name)
    return text


def read_notice(path: str | os.PathLike[str], *, name: str | None = None) -> str:
    """Read and decode one notice file; an oversize file fails before it is read."""
    label = name or os.fspath(path)
    size = os.stat(path).st_size
    if size > MAX_NOTICE_BYTES:
        raise _too_large(size, label)
    with open(path, "rb") as fh:
        data = fh.read(MAX_NOTICE_BYTES + 1)
    return decode_notice(data, name=label)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass
class ParsedProblem:
    label: str | None
    title: str
    kind: str = "problem"
    status: str | None = None
    status_text: str | None = None
    task_type: str | None = None
    detail: str = ""
    measures: list[str] = field(default_factory=list)
    line: int = 0
    children: list[ParsedProblem] = field(default_factory=list)

    def iter_leaves(self):
        if self.kind != "category" and not self.children:
            yield self
        for child in self.children:
            yield from child.iter_leaves()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "title": self.title}
        if self.kind == "category":
            out["kind"] = "category"
        out["status"] = self.status
        out["children"] = [c.to_json() for c in self.children]
        return out


@dataclass
class ParsedInspection:
    organization: str
    aliases: list[str] = field(default_factory=list)
    level: str | None = None
    term: str | None = None
    round_no: str | None = None
    round: str | None = None
    group: str | None = None
    kind: str | None = None
    start: str | None = None
    end: str | None = None
    feedback: datetime.date | None = None
    declared: dict[str, int | float] = field(default_factory=dict)
    problems: list[ParsedProblem] = field(default_factory=list)

    @property
    def leaf_problems(self) -> int:
        return sum(1 for p in self.problems for _ in p.iter_leaves())

    def iter_leaves(self):
        for p in self.problems:
            yield from p.iter_leaves()

    def to_json(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "round": self.round,
            "group": self.group,
            "start": self.start,
            "end": self.end,
            "feedback": self.feedback.isoformat() if self.feedback else None,
            "declared": dict(self.declared),
            "problems": [p.to_json() for p in self.problems],
            "leaf_problems": self.leaf_problems,
        }


@dataclass
class ParsedNotice:
    name: str
    title: str | None = None
    issuer: str | None = None
    published: datetime.date | None = None
    inspections: list[ParsedInspection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "published": self.published.isoformat() if self.published else None,
            "inspections": [i.to_json() for i in self.inspections],
        }


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

CN = "一二三四五六七八九十百零〇两"
NUMCH = CN_NUMERAL_CHARS
NUM = rf"(\d+(?:\.\d+)?|[{NUMCH}]+)"

# Heading label styles, tried in order. (style, regex); the regex yields label parts and text.
_H_WENTI_BRACKET = re.compile(rf"^【\s*问题\s*([{CN}\d]{{0,4}})\s*】\s*[:]?\s*(.*)$")
_H_WENTI = re.compile(rf"^问题\s*(?:([{CN}\d]{{1,4}})\s*[:、.](?!\d)|()[:])\s*(.*)$")
_H_DIGE = re.compile(rf"^第\s*([{CN}\d]{{1,4}})\s*(?:个|项|条|类)?问题\s*[:,]?\s*(?:是)?(.*)$")
_H_PCN = re.compile(rf"^\(\s*([{CN}]{{1,4}})\s*\)\s*(.*)$")
_H_PNUM = re.compile(r"^\(\s*(\d{1,3})\s*\)\s*(.*)$")
_H_CIRC = re.compile(r"^([\u2460-\u2473])\s*(.*)$")
_H_CN = re.compile(rf"^([{CN}]{{1,4}})\s*([、.])(?!\d)\s*(.*)$")
_H_NUM = re.compile(r"^(\d{1,3})\s*([、.)])(?!\d)\s*(.*)$")

_FIXED_RANK = {"cn": 10, "pcn": 20, "num": 30, "pnum": 40, "circ": 50}

# Lines that are page furniture, never content.
_CHROME_PREFIXES = (
    "来源", "发布时间", "发布日期", "发布机构", "发文机关", "作者", "责任编辑", "编辑", "审核",
    "阅读量", "阅读次数", "浏览次数", "点击数", "访问量", "字号", "字体", "打印", "关闭", "分享到",
    "分享", "【打印", "【关闭", "原文链接", "[免责声明", "免责声明", "【字体", "扫一扫",
    "扫描二维码", "相关链接", "上一篇", "下一篇", "网站地图", "首页", "当前位置", "您当前的位置",
)  # fmt: skip
_CHROME_WORDS = ("版权所有", "ICP备", "公网安备", "技术支持", "主办单位")
_SOURCE_RE = re.compile(r"来源\s*[:]\s*([^\s:]{2,40}?)(?=\s|发布|时间|日期|阅读|$)")
_PUBLISHED_RE = re.compile(
    r"(?:发布时间|发布日期|发布于|发文日期|成文日期|时间|日期)\s*[:]?\s*(\d{4})\s*[-./年]\s*(\d{1,2})"
    r"\s*[-./月]\s*(\d{1,2})"
)
_CONTACT_RE = re.compile(
    r"^(?:欢迎|热忱欢迎|如有意见|如对.{0,20}有.{0,6}意见|联系(?:电话|方式|人|地址)\s*[:]|电话\s*[:]|"
    r"邮政信箱|电子邮箱|电子信箱|邮箱\s*[:]|邮寄地址|通信地址|通讯地址|举报电话|意见建议请)"
)
_CLOSING_LINE_RE = re.compile(r"^(?:下一步|下步|今后|接下来|下阶段|下一阶段)")
_CLOSING_HEADING_RE = re.compile(
    r"下一步|下步工作|下一阶段|今后(?:工作|打算|努力|一个时期)|努力方向|工作打算|工作计划|后续工作"
)
_ORG_SUFFIX = r"(?:党工委|工作委员会|委员会|党委|党组|党总支|党支部|机关党委)"
# A local party committee named by its place: 中共临江省委, 中共青溪县委.
_PLACE_COMMITTEE = r"(?:省|自治区|市|自治州|州|县|区|旗|盟)委"
_SIG_COMMITTEE_RE = re.compile(rf"^(?:中共|中国共产党)[^\s,。;:、“”()]{{2,20}}?{_PLACE_COMMITTEE}$")
_ORG_LINE_RE = re.compile(rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX})$")
_ORG_HEADING_RE = re.compile(rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX})\s*(?:[:]\s*(.*))?$")
# A section about one organization's rectification: "一、市教育局党组巡察整改情况",
# "(二)中共临川市委政法委员会巡察整改进展情况", "(三)白石乡整改情况" (a place named alone).
_SECTION_TAIL = r"(?:巡视|巡察)?(?:反馈问题|反馈意见)?整改(?:工作)?(?:落实)?(?:进展)?(?:情况)"
_ORG_SECTION_RE = re.compile(
    rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX}){_SECTION_TAIL}$"
    rf"|^([^\s,。;:、“”()]{{1,20}}?(?:省|自治区|自治州|市|县|区|旗|镇|乡|街道|局|公司)){_SECTION_TAIL}$"
)
_TITLE_ORG_RE = re.compile(
    rf"^([^\s,。;:、“”]{{2,40}}?{_ORG_SUFFIX}|(?:中共|中国共产党)[^\s,。;:、“”]{{2,20}}?{_PLACE_COMMITTEE})关于"
)

_YEAR = r"(\d{4}|[〇零○一二三四五六七八九]{4})\s*年"
_MON = r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
_DAY = r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]"
_DATE_ONLY_RE = re.compile(rf"^{_YEAR}\s*{_MON}\s*{_DAY}$")
_ISO_DATE_ONLY_RE = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$")
_RANGE_RE = re.compile(
    rf"(?:{_YEAR})?\s*{_MON}\s*(?:{_DAY})?\s*(?:至|到|—|–|-|~|－|一)\s*"
    rf"(?:(?:{_YEAR})?\s*{_MON}\s*(?:{_DAY})?|{_DAY})"
)
_SINGLE_DATE_RE = re.compile(rf"(?:{_YEAR})?\s*{_MON}\s*{_DAY}")
_YEAR_ONLY_RE = re.compile(_YEAR)

_LEVEL = r"(?:中央|省委|自治区党委|市委|州委|盟委|地委|县委|区委|旗委)"
_ROUND_RES = (
    re.compile(rf"([{NUMCH}\d]{{1,3}}届)({_LEVEL})(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"([{NUMCH}\d]{{1,3}}届)({_LEVEL})[^。]{{0,40}}?(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"()({_LEVEL})(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"()()(第[{NUMCH}\d]{{1,4}}轮)(?:常规|专项|机动|提级)?(?:巡视|巡察)"),
)
_GROUP_RE = re.compile(rf"({_LEVEL}?第[{NUMCH}\d]{{1,3}}(?:巡视|巡察)组)")
_LEVEL_RE = re.compile(rf"({_LEVEL})")
_KIND_RE = re.compile(r"(回头看|常规|专项|机动|提级|交叉)(?:巡视|巡察)?")

_ORG_OBJECT_RE = re.compile(
    r"对([^,。;对]{2,80}?)(?:开展|进行|实施)了?(?:为期[^,。]{1,8}的?)?(?:第[^,。]{1,4}轮)?"
    r"(?:常规|专项|机动|提级|交叉)?(?:巡视|巡察)"
)
_ORG_FEEDBACK_RE = re.compile(r"向([^,。;向]{2,60}?)(?:党组织)?(?:集中)?反馈")
_ALIAS_RE = re.compile(r"\(\s*(?:以下)?简称\s*[“\"']?([^”\"')]{1,20})[”\"']?\s*\)")
_ALIAS_INLINE_RE = re.compile(r"(?:以下)?简称\s*[“\"]([^”\"]{1,20})[”\"]")

# Heading text features.
_STATUS_BRACKET_RE = re.compile(
    rf"[(\[【]\s*((?:{STATUS_WORDS_RE}|立行立改|限期整改)(?:\s*[,、;/]\s*(?:{STATUS_WORDS_RE}|"
    r"立行立改|限期整改))*)\s*[)\]】]"
)
_STATUS_BRACKET_END_RE = re.compile(_STATUS_BRACKET_RE.pattern + r"\s*[。.]?\s*$")
_STATUS_FIELD_RE = re.compile(
    r"(?:【\s*)?(?:整改|完成|办理|落实)?(?:情况|状态|进展|进度|结果)\s*(?:】\s*[:]?|[:])\s*"
    rf"({STATUS_WORDS_RE})"
)
_TYPE_FIELD_RE = re.compile(
    r"(?:【\s*)?(?:整改)?(?:类型|时限|方式|性质|期限)\s*(?:】\s*[:]?|[:])\s*(立行立改|限期整改|长期坚持)"
)
# A numbered heading that says it is a problem before its words: "1.问题:…", "(一)【问题】…".
_SAYS_PROBLEM_RE = re.compile(r"(?:【\s*(?:存在|反馈)?问题\s*】|(?:存在|反馈)?问题\s*[:])\s*(?=\S)")
_STATUS_ONLY_RE = re.compile(rf"^\s*({STATUS_WORDS_RE})\s*[。.]?\s*$")
# A problem's text closing on its status: "目前,该问题已整改完成。" / "该项整改正在推进中。"
_TAIL_STATUS_RE = re.compile(
    r"^(?:目前|截至目前|当前|现|至此)?\s*,?\s*(?:该问题|此问题|本问题|该项问题|该项整改|此项整改|该项|此项|"
    rf"上述问题)?\s*(?:已经|已全部|已)??\s*({STATUS_WORDS_RE})(?:整改)?(?:中)?$"
)
# A clause inside a problem's text stating its status, with a time or a subject so that a
# measure ("已完成12个党支部换届") is not taken for one: "目前,该项整改已基本完成,下一步将…",
# "…,目前已整改到位,并建立…", "截至10月底,该问题正在整改中".
_MID_LEAD = r"目前|截至目前|截止目前|当前|现(?=已)|至此|截至[^,。;]{0,12}?(?:底|末|日|止)"
_MID_SUBJECT = (
    r"该问题|此问题|本问题|该项问题|上述问题|该项整改(?:任务)?|此项整改(?:任务)?|该整改任务|该项任务|"
    r"此项任务|该项工作|此项工作|该项"
)
# Found by a scan that starts on a time or subject word (fast) and checked to begin a clause.
_MID_STATUS_SCAN_RE = re.compile(
    rf"(?:(?:{_MID_LEAD})\s*,?\s*(?:{_MID_SUBJECT})?|(?:{_MID_SUBJECT}))\s*(?:整改工作|整改)?\s*"
    rf"(?:已经|已全部|已)?\s*({STATUS_WORDS_RE})(?:整改)?(?:工作)?(?:中)?(?=\s*(?:[。;!?,]|$))"
)
_CLAUSE_MARKS = frozenset("。;!?, ")
# Words one of which such a clause holds (checked with `in` before any regex runs).
_MID_HINTS = (
    "该",
    "此项",
    "此问题",
    "本问题",
    "上述问题",
    "目前",
    "截至",
    "截止",
    "当前",
    "现已",
    "至此",
)
_WRAP_ZHENDUI_Q = re.compile(r"^针对[^“”]{0,40}?“(.+)”\s*的?问题$")
_WRAP_ZHENDUI = re.compile(r"^针对(?:[^“”]{0,20}?(?:指出|反馈|提出|发现)的)?([^“”]{2,}?)的?问题$")
_WRAP_GUANYU_Q = re.compile(r"^关于[^“”]{0,30}?“(.+)”\s*的?问题\s*的?(?:整改|落实|进展)*(?:情况)?$")
_WRAP_GUANYU = re.compile(r"^关于(.{2,}?)的?问题$")
_WRAP_SUFFIX = re.compile(
    r"^(?:关于)?(.{2,}?)(?:问题)?的?(?:整改落实情况|整改情况|整改进展情况|落实整改情况|整改落实进展情况|"
    r"整改落实进展|整改完成情况)$"
)
_WRAPPERISH = re.compile(r"巡视|巡察|反馈意见|反馈问题|反馈的问题|整改工作|总体|集中整改|具体问题")
# What is left of "二、具体问题整改情况" / "主要问题的整改落实情况" once 问题 and the suffix are off:
# words about problems in general, not one problem's own words.
_GENERIC_PROBLEMS = re.compile(
    rf"(?:[{CN}\d]+\s*(?:个|项|条|类))?(?:具体|主要|突出|有关|相关|各项|各类|反馈|指出|交办|移交|存在|"
    r"发现|上述|以下|问题|的)*"
)
_CATEGORY_RE = re.compile(
    r"方面(?:的?(?:主要|突出|具体)?问题)?(?:的?(?:整改|落实)+(?:进展)?情况)?$"
)
_NEG_RE = re.compile(
    r"不(?!断|仅|忘|折不扣|懈)|未|缺|差距|短板|薄弱|弱化|淡化|虚化|偏差|偏离|隐患|滞后|迟缓|松弛|松懈|"
    r"松散|乏力|漏洞|流失|空置|空缺|较多|较高|较低|较大|单一|有待|亟需|亟待|欠缺|违规|违反|违纪|"
    r"违法|存在.{0,8}问题|问题(?:突出|较多|依然|仍然|时有)|风险|失职|失责|失范|失察|失控|走样|"
    r"打折扣|形式主义|官僚主义|低效|无序|混乱|随意|过多|过高|过低|过大|严重|错位|缺位|困难"
)
_MEASURE_NUMERALS = frozenset("一二三四五六七八九十")
_MEASURE_BEFORE = frozenset("。;,:!? ")
_BODY_MARKERS = (
    "整改措施及成效|整改落实情况|整改进展情况|整改情况|整改措施|整改成效|整改进展|整改举措|落实情况|"
    "完成情况|整改"
)
_BODY_MARKER_RE = re.compile(rf"^(?:【\s*)?(?:{_BODY_MARKERS})(?:\s*】\s*[:]?|\s*[:])\s*")
_TABLE_SPLIT_PIPE = re.compile(r"\s*[|│┃]\s*")
# A bracketed field name inside a line (not at its start): where one field of a block ends.
_INLINE_FIELD_RE = re.compile(
    r"(?<=\S)\s*(?=【\s*(?:问题|整改|完成|责任|牵头|办理|落实|存在问题|反馈问题)[^】]{0,8}】)"
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


_OPEN = "“‘《(「『【"
_CLOSE = "”’》)」』】"
_SENTENCE_END = "。!?;"


_SPLIT_CHARS_RE = re.compile("[" + re.escape(_OPEN + _CLOSE + _SENTENCE_END) + "]")


def _split_sentence(text: str) -> tuple[str, str]:
    """First sentence (ending at 。!?; outside quotes and brackets) and the rest."""
    depth = 0
    for m in _SPLIT_CHARS_RE.finditer(text):
        ch = m.group()
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth:
                depth -= 1
        elif depth == 0:
            i = m.start()
            return text[:i], text[i + 1 :].strip()
    return text, ""


def _strip_outer_quotes(s: str) -> str:
    while len(s) >= 2 and s[0] in "“\"'‘" and s[-1] in "”\"'’":
        inner = s[1:-1]
        # Only when the opening quote closes at the very end ("“a”和“b”" keeps its quotes).
        if "“" in inner or "”" in inner:
            depth, ok = 0, True
            for ch in inner:
                if ch == "“":
                    depth += 1
                elif ch == "”":
                    depth -= 1
                    if depth < 0:
                        ok = False
                        break
            if not ok:
                break
        s = inner.strip()
    return s


def _clean_title(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return strip_trailing_punct(_strip_outer_quotes(strip_trailing_punct(s)))


def _unwrap_title(raw: str) -> str:
    """The problem's own words, without 针对/关于 wrappers, quotes and trailing punctuation."""
    s = strip_trailing_punct(raw)
    for rx in (_WRAP_ZHENDUI_Q, _WRAP_GUANYU_Q):
        m = rx.match(s)
        if m:
            return _clean_title(m.group(1))
    m = _wrap_suffix(s)
    if m and not _CATEGORY_RE.search(s):
        return _clean_title(m.group(1))
    m = _WRAP_ZHENDUI.match(s)
    if m:
        return _clean_title(m.group(1))
    m = _WRAP_GUANYU.match(s)
    if m and not _CATEGORY_RE.search(s) and not _generic(m.group(1)):
        return _clean_title(m.group(1))
    if s.endswith("的问题") and len(s) >= 7 and not _generic(s[:-3]):
        return _clean_title(s[:-3])  # "1.农村公路养护管理不到位的问题。"
    return _clean_title(s)


def _wrap_suffix(s: str) -> re.Match[str] | None:
    if not s.endswith(("情况", "进展")):
        return None
    return _WRAP_SUFFIX.match(s)


def _generic(words: str) -> bool:
    """Words that speak of the problems in general (巡察反馈, 具体, 主要 …), not of one problem."""
    return bool(_WRAPPERISH.search(words) or _GENERIC_PROBLEMS.fullmatch(words))


def _is_explicit_title(s: str) -> bool:
    s = strip_trailing_punct(s)
    if s.startswith("针对"):
        if _WRAP_ZHENDUI_Q.match(s) or _WRAP_ZHENDUI.match(s):
            return True
    elif s.startswith("关于"):
        if _WRAP_GUANYU_Q.match(s):
            return True
        # "关于学习贯彻…不够深入的问题": unquoted, but still one problem's own words.
        m = _WRAP_GUANYU.match(s)
        if m and not _CATEGORY_RE.search(s) and not _generic(m.group(1)):
            return True
    m = _wrap_suffix(s)
    return bool(m) and not _CATEGORY_RE.search(s) and not _generic(m.group(1))


def _is_wrapper_title(s: str) -> bool:
    s = strip_trailing_punct(s)
    if s.startswith(("针对", "关于")) and (_WRAP_ZHENDUI_Q.match(s) or _WRAP_GUANYU_Q.match(s)):
        return False
    m = _wrap_suffix(s)
    return bool(m) and _generic(m.group(1))


def _extract_measures(text: str) -> list[str]:
    """一是…二是… items in a paragraph, in order (each list restarts at 一)."""
    if "是" not in text:
        return []
    items: list[str] = []
    expected = 1
    starts: list[tuple[int, int]] = []
    # Walk the 是 characters (str.find is much faster than a regex scan here) and look back
    # for a numeral that follows punctuation or the start of the paragraph.
    pos = text.find("是")
    while pos >= 0:
        k = pos
        while k > 0 and pos - k < 3 and text[k - 1] in _MEASURE_NUMERALS:
            k -= 1
        if k < pos and (k == 0 or text[k - 1] in _MEASURE_BEFORE):
            try:
                n = cn_to_int(text[k:pos])
            except ValueError:
                n = 0
            if n == expected or (n == 1 and expected > 1):
                starts.append((k, pos + 1))
                expected = n + 1
        pos = text.find("是", pos + 1)
    for i, (_s, e) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        item = strip_trailing_punct(text[e:end].strip(" ,:"))
        if item:
            items.append(item)
    return items


# --------------------------------------------------------------------------------------------
# Lines and the heading tree
# --------------------------------------------------------------------------------------------


class _Line:
    __slots__ = ("_heading", "no", "raw", "text")

    def __init__(self, no: int, text: str, raw: str):
        self.no = no
        self.text = text
        self.raw = raw  # folded, tabs kept (for tables)
        self._heading: Any = False

    @property
    def heading(self) -> tuple[str, str | None, str] | None:
        if self._heading is False:
            self._heading = _parse_heading(self.text) if self.text else None
        return self._heading


@dataclass
class _Table:
    line: int
    rows: list[ParsedProblem]
    categories: list[ParsedProblem] | None

    def items(self) -> list[ParsedProblem]:
        """Rows before the first category row, then the categories (holding the other rows)."""
        return [*self.rows, *(self.categories or [])]


@dataclass
class _Node:
    style: str
    rank: int
    label: str | None
    text: str
    line: int
    body: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)
    _head: tuple[str, str, list[str]] | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def head(self) -> tuple[str, str, list[str]]:
        """(first sentence without status brackets, rest of the line, bracket contents)."""
        if self._head is None:
            first, rest = _split_sentence(self.text.strip())
            # Status brackets sit in the title or right after it: "…问题(已完成)。" or
            # "…问题。(已完成)"; looking only there keeps long inline bodies out of it.
            brackets = [m.group(1) for m in _STATUS_BRACKET_RE.finditer(first)]
            if brackets:
                first = _STATUS_BRACKET_RE.sub("", first)
            m = _STATUS_BRACKET_RE.match(rest) if rest[:1] in "([【" else None
            while m:
                brackets.append(m.group(1))
                rest = rest[m.end() :].lstrip(" 。.,;")
                m = _STATUS_BRACKET_RE.match(rest) if rest[:1] in "([【" else None
            self._head = (first.strip(), rest, brackets)
        return self._head

    @property
    def sentence(self) -> str:
        s = self.memo.get("sentence")
        if s is None:
            s = self.memo["sentence"] = strip_trailing_punct(self.head[0])
        return s

    def status_words(self) -> list[str]:
        words = list(self.head[2])
        rest = self.head[1]
        m = _STATUS_ONLY_RE.match(rest) if rest else None
        if m:
            words.append(m.group(1))
        # "…问题。整改情况:已完成" on the heading line, right after the title.
        near = self.text[: len(self.head[0]) + 40]
        if "情况" in near or "状态" in near or "进" in near or "结果" in near:
            m = _STATUS_FIELD_RE.search(near)
            if m:
                words.append(m.group(1))
        for line in self.body[:6]:
            m = _STATUS_FIELD_RE.match(line) or _TYPE_FIELD_RE.match(line)
            if m:
                words.append(m.group(1))
        return words


def _tail_status(node: _Node) -> str | None:
    """The status a problem's text closes on ("目前,该问题已整改完成。"), if it does.

    The closing line is the problem's own last body line, or the last line under its last
    sub-heading when that is a measure (a sub-problem's text speaks for the sub-problem).
    """
    last = node
    while last.children:
        child = last.children[-1]
        if child.style in ("wenti", "dige") or child.head[2] or _is_explicit_title(child.sentence):
            return None
        last = child
    if not last.body:
        return None
    m = _STATUS_BRACKET_END_RE.search(last.body[-1])
    if m:  # "整改情况:修订办法。(已完成)"
        return m.group(1)
    sentences = [x for x in re.split(r"[。!;]", last.body[-1]) if x.strip()]
    if not sentences:
        return None
    tail = sentences[-1].strip()
    if len(tail) > 30:
        return None
    m = _TAIL_STATUS_RE.match(tail)
    return m.group(1) if m else None


def _body_status(node: _Node) -> str | None:
    """The status a clause inside a problem's own text states, if one does (the last one).

    Read from the rest of its heading line, its body and its measure sub-headings; never from
    a sub-problem's text, which speaks for the sub-problem.
    """
    texts = [node.head[1], *node.body]
    for c in node.children:
        if c.style in ("wenti", "dige") or c.head[2] or _is_explicit_title(c.sentence):
            return None
        texts.append(c.text)
        texts.extend(c.body)
    found = None
    text = "。".join(t for t in texts if t)
    # Every such clause opens on one of _MID_HINTS at a clause start: try the regex only there.
    at = -1
    for word in _MID_HINTS:
        pos = text.find(word)
        while pos >= 0:
            if (pos == 0 or text[pos - 1] in _CLAUSE_MARKS) and pos > at:
                m = _MID_STATUS_SCAN_RE.match(text, pos)
                if m:
                    found, at = m.group(1), pos
            pos = text.find(word, pos + 1)
    return found


def _parse_heading(text: str) -> tuple[str, str | None, str] | None:
    """(style, label as printed, text after the label) for a heading line, else None."""
    c = text[0]
    if c == "【":
        m = _H_WENTI_BRACKET.match(text)
        if m:
            return "wenti", (f"【问题{m.group(1)}】" if m.group(1) else None), m.group(2)
        return None
    if c == "问":
        m = _H_WENTI.match(text)
        if m:
            return "wenti", (f"问题{m.group(1)}" if m.group(1) else None), m.group(3)
        return None
    if c == "第":
        m = _H_DIGE.match(text)
        if m and m.group(2):
            return "dige", text[: m.start(2)].rstrip(" :,是"), m.group(2)
        return None
    if c == "(":
        m = _H_PCN.match(text)
        if m:
            return "pcn", f"({m.group(1)})", m.group(2)
        m = _H_PNUM.match(text)
        if m:
            return "pnum", f"({m.group(1)})", m.group(2)
        return None
    if "\u2460" <= c <= "\u2473":
        m = _H_CIRC.match(text)
        return ("circ", m.group(1), m.group(2)) if m else None
    if c.isdigit():
        m = _H_NUM.match(text)
        if m and m.group(3):
            return "num", m.group(1) + m.group(2), m.group(3)
        return None
    if c in CN:
        m = _H_CN.match(text)
        if m and m.group(3) and not m.group(3).startswith(("是", "方面")):
            return "cn", m.group(1) + m.group(2), m.group(3)
    return None


def _is_title_line(t: str) -> bool:
    return (
        len(t) <= 120
        and "。" not in t
        and bool(re.search(r"(?:通报|情况|公告|公示|报告|公开)$", t))
    )


def _is_chrome(text: str) -> bool:
    if len(text) >= 200:
        return False
    return text.startswith(_CHROME_PREFIXES) or any(w in text for w in _CHROME_WORDS)


def _table_cells(raw: str) -> list[str] | None:
    if "|" in raw or "│" in raw or "┃" in raw:
        cells = _TABLE_SPLIT_PIPE.split(raw.strip().strip("|│┃").strip())
    elif "\t" in raw:
        cells = [c.strip() for c in raw.strip().split("\t")]
    else:
        return None
    if len(cells) < 2:
        return None
    return cells


_T_PROBLEM = re.compile(r"问题|事项|反馈意见")
_T_STATUS = re.compile(r"完成情况|完成状态|整改状态|状态|整改进度|进度|进展|整改结果|是否完成")
_T_STATUS_WEAK = re.compile(r"整改情况")
_T_SERIAL = re.compile(r"^(?:序号|编号|No\.?|#)$", re.IGNORECASE)
_T_MEASURE = re.compile(r"措施|举措|整改情况|整改内容|整改成效")
_T_TYPE = re.compile(r"整改类型|类型|整改时限|时限|期限|整改方式")
_T_CATEGORY = re.compile(r"方面|类别|分类|领域")


_T_OTHER = re.compile(r"单位|部门|领导|责任人|备注|时间|日期|依据|标准")
_T_SERIAL_CELL = re.compile(rf"[\d{CN}]{{1,4}}[.、]?")
_HEADER_CELL_BAD = re.compile(r"[,。;:!?、“”()《》【】\d]")


def _header_columns(header: list[str]) -> dict[str, int | None] | None:
    """Which header cell is the problem, status, serial, measures, type and category column."""
    cols: dict[str, int | None] = dict.fromkeys(("prob", "stat", "serial", "meas", "typ", "cat"))
    for j, h in enumerate(header):
        h2 = h.replace(" ", "")
        if cols["serial"] is None and _T_SERIAL.match(h2):
            cols["serial"] = j
        elif cols["stat"] is None and _T_STATUS.search(h2) and not _T_PROBLEM.search(h2):
            cols["stat"] = j
        elif cols["cat"] is None and _T_CATEGORY.search(h2):
            cols["cat"] = j
        elif cols["prob"] is None and _T_PROBLEM.search(h2) and not _T_MEASURE.search(h2):
            cols["prob"] = j
        elif cols["typ"] is None and _T_TYPE.search(h2):
            cols["typ"] = j
        elif cols["meas"] is None and _T_MEASURE.search(h2):
            cols["meas"] = j
    if cols["stat"] is None:
        for j, h in enumerate(header):
            if j not in (cols["prob"], cols["serial"], cols["cat"], cols["typ"]) and (
                _T_STATUS_WEAK.search(h)
            ):
                cols["stat"] = j
                if cols["meas"] == j:
                    cols["meas"] = None
                break
    if cols["prob"] is None or cols["stat"] is None:
        return None
    return cols


def _is_header_cell(c: str) -> bool:
    """A column name: short, no punctuation or digits, and a word tables use for columns."""
    if not c or len(c) > 8 or _HEADER_CELL_BAD.search(c):
        return False
    return any(
        rx.search(c)
        for rx in (
            _T_PROBLEM,
            _T_STATUS,
            _T_STATUS_WEAK,
            _T_MEASURE,
            _T_TYPE,
            _T_CATEGORY,
            _T_OTHER,
        )
    ) or bool(_T_SERIAL.match(c))


def _category_row(text: str) -> tuple[str | None, str] | None:
    """A row naming a group of problems ("(一)党的建设方面"): (label, title), else None."""
    if not text or len(text) > 60 or "。" in text:
        return None
    h = _parse_heading(text)
    label, rest = (h[1], h[2]) if h else (None, text)
    rest = strip_trailing_punct(rest)
    if "方面" not in rest or not _CATEGORY_RE.search(rest):
        return None
    return label, _clean_title(rest)


def _join_cells(parts: list[str]) -> str:
    """Cells a stray space split apart, joined again (no space between two Chinese characters)."""
    out = parts[0]
    for part in parts[1:]:
        cjk = out and part and "\u4e00" <= out[-1] <= "\u9fff" and "\u4e00" <= part[0] <= "\u9fff"
        out += part if cjk else " " + part
    return out


def _align_cells(cells: list[str], ncols: int, cols: dict[str, int | None]) -> list[str]:
    """A flattened row's cells fitted to the header: text split apart by a stray space goes back
    into the free-text column (measures, else the problem); with cells missing, the ones up to
    the problem column are read from the left and the others from the right."""
    if len(cells) == ncols:
        return cells
    if len(cells) > ncols:
        p = cols["prob"]
        assert p is not None
        extra = len(cells) - ncols
        free = cols["meas"] if cols["meas"] is not None else p
        # Unless the problem cell only reads as a shortcoming with the next pieces joined to it
        # ("公务接待 管理不规范"), the stray space was in the (longer) measures text.
        joined = "".join(cells[p : p + extra + 1])
        if free != p and not _NEG_RE.search(cells[p]) and _NEG_RE.search(joined):
            free = p
        return [
            *cells[:free],
            _join_cells(cells[free : free + extra + 1]),
            *cells[free + extra + 1 :],
        ]
    p = cols["prob"]
    assert p is not None
    missing = ncols - len(cells)
    return [*cells[: p + 1], *([""] * missing), *cells[p + 1 :]]


class _TableBuilder:
    """Rows and category rows of one table, in order."""

    def __init__(self, header: list[str], cols: dict[str, int | None]):
        self.header = header
        self.cols = cols
        self.rows: list[ParsedProblem] = []
        self.categories: list[ParsedProblem] = []

    def category(self, label: str | None, title: str, line: int) -> None:
        if not self.categories or self.categories[-1].title != title:
            self.categories.append(
                ParsedProblem(label=label, title=title, kind="category", line=line)
            )

    def row(self, cells: list[str], line: int) -> None:
        cols = self.cols
        cells = cells + [""] * (len(self.header) - len(cells))

        def cell(key: str) -> str:
            j = cols[key]
            return cells[j].strip() if j is not None and j < len(cells) else ""

        title_raw = cell("prob")
        if not title_raw:
            return
        status_text = cell("stat") or None
        status = fold_status(status_text)
        label = cell("serial") or None
        if label and not _T_SERIAL_CELL.fullmatch(label):
            label = None
        measures_text = cell("meas")
        task_type = fold_task_type(cell("typ")) or fold_task_type(status_text)
        problem = ParsedProblem(
            label=label,
            title=_unwrap_title(title_raw),
            status=status,
            status_text=status_text if status else None,
            task_type=task_type,
            detail=measures_text,
            measures=_extract_measures(measures_text)
            or [
                strip_trailing_punct(x)
                for x in re.split(r"[;；]", measures_text)
                if strip_trailing_punct(x)
            ],
            line=line,
        )
        group = cell("cat")
        if cols["cat"] is not None and group:
            self.category(None, _clean_title(group), line)
        if self.categories:
            self.categories[-1].children.append(problem)
        else:
            self.rows.append(problem)

    def table(self, line: int) -> _Table | None:
        if not self.rows and not any(c.children for c in self.categories):
            return None
        categories = [c for c in self.categories if c.children]
        return _Table(line=line, rows=self.rows, categories=categories or None)


def _read_table(lines: list[_Line], i: int, name: str) -> tuple[_Table, int] | None:
    """A table whose header row is lines[i]; returns it and the index after its last row."""
    header = _table_cells(lines[i].raw)
    if not header or len(header) < 2:
        return None
    cols = _header_columns(header)
    if cols is None:
        return None
    sep_pipe = "\t" not in lines[i].raw or "|" in lines[i].raw
    builder = _TableBuilder(header, cols)

    def is_row(x: _Line) -> bool:
        return _table_cells(x.raw) is not None and (("|" in x.raw) == sep_pipe or "\t" in x.raw)

    k = i + 1
    while k < len(lines):
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        cells = _table_cells(ln.raw)
        if cells is None or not is_row(ln):
            if not _category_between_rows(lines, k, is_row, builder):
                break
            k += 1
            continue
        k += 1
        if all(re.fullmatch(r"[-:=+\s]*", c) for c in cells):
            continue
        filled = [c for c in cells if c.strip()]
        if len(filled) == 1 and cols["cat"] is None:
            cat = _category_row(filled[0].strip())
            if cat is not None:  # "| (一)党的建设方面 | | |": a row spanning the table
                builder.category(cat[0], cat[1], ln.no)
                continue
        builder.row(cells, ln.no)
    table = builder.table(lines[i].no)
    return (table, k) if table else None


def _maybe_flat_header(t: str) -> bool:
    """Cheap test: could this line start a table flattened to text (see _read_flat_table)?"""
    if len(t) > 80:
        return False
    parts = t.split(" ", 2)
    return _is_header_cell(parts[0]) or (
        len(parts) > 1 and len(parts[0]) <= 3 and _is_header_cell(parts[0] + parts[1])
    )


def _header_words(words: list[str]) -> list[str]:
    """Header cells with a stray space inside a name joined again ("序 号", "完成 情况")."""
    out: list[str] = []
    k = 0
    while k < len(words):
        w = words[k]
        if not _is_header_cell(w):
            for j in range(k + 1, min(k + 3, len(words))):
                joined = "".join(words[k : j + 1])
                if _is_header_cell(joined):
                    w, k = joined, j
                    break
        out.append(w)
        k += 1
    return out


def _read_flat_table(lines: list[_Line], i: int) -> tuple[_Table, int] | None:
    """A table copied out of a web page as plain text, its header at lines[i]. Either each row
    on one line with cells split by spaces ("序号 问题 整改措施 责任单位 完成情况", then "1 … 已完成"),
    or one cell per line (the header cells, then for each row its serial number and cells)."""
    t = lines[i].text
    if " " in t:
        header = _header_words(t.split())
        if len(header) < 3 or not all(_is_header_cell(c) for c in header):
            return None
        cols = _header_columns(header)
        if cols is None:
            return None
        return _read_space_rows(lines, i + 1, header, cols, lines[i].no)
    header = []
    k = i
    while k < len(lines) and len(header) < 12:
        x = lines[k].text
        if x:
            if " " in x and len(x) <= 10:
                x = x.replace(" ", "")
            if not _is_header_cell(x):
                break
            header.append(x)
        k += 1
    if len(header) < 3:
        return None
    cols = _header_columns(header)
    if cols is None or cols["serial"] is None:
        return None
    return _read_cell_lines(lines, k, header, cols, lines[i].no)


def _category_between_rows(lines, k: int, is_row, builder) -> bool:
    """Line ``k`` is a category row (一、…方面) inside a table, taken only when table rows
    follow it; records it with ``builder`` and says whether it did."""
    ln = lines[k]
    cat = _category_row(ln.text)
    if cat is None or not _next_is(lines, k + 1, is_row):
        return False
    builder.category(cat[0], cat[1], ln.no)
    return True


def _next_is(lines: list[_Line], k: int, test: Callable[[_Line], bool]) -> bool:
    """Is the next non-empty line from lines[k] on one that passes `test`? (A category row only
    belongs to a table when table rows follow it.)"""
    while k < len(lines) and not lines[k].text:
        k += 1
    return k < len(lines) and bool(test(lines[k]))


def _serial_cell(text: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}[.、]?", text))


def _read_space_rows(
    lines: list[_Line], k: int, header: list[str], cols: dict[str, int | None], line: int
) -> tuple[_Table, int] | None:
    builder = _TableBuilder(header, cols)
    ncols = len(header)

    def is_row(x: _Line) -> bool:
        cells = x.raw.split()
        if cols["serial"] is not None:
            return len(cells) >= min(3, ncols) and _serial_cell(cells[0])
        return len(cells) >= max(2, ncols - 1) and _parse_heading(x.text) is None

    while k < len(lines):
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        cells = ln.raw.split()
        if not is_row(ln):
            if not _category_between_rows(lines, k, is_row, builder):
                break
            k += 1
            continue
        builder.row(_align_cells(cells, ncols, cols), ln.no)
        k += 1
    table = builder.table(line)
    return (table, k) if table else None


def _read_cell_lines(
    lines: list[_Line], k: int, header: list[str], cols: dict[str, int | None], line: int
) -> tuple[_Table, int] | None:
    builder = _TableBuilder(header, cols)
    ncols = len(header)
    serial = cols["serial"]
    assert serial is not None
    n = len(lines)
    while k < n:
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        if not _serial_cell(ln.text):
            cat = _category_row(ln.text)
            if cat is None or not _next_is(lines, k + 1, lambda x: _serial_cell(x.text)):
                break
            builder.category(cat[0], cat[1], ln.no)
            k += 1
            continue
        row_line = ln.no
        cells = [ln.text]
        k += 1
        stop = k
        while stop < n:
            x = lines[stop].text
            if x and (_serial_cell(x) or _category_row(x) or _parse_heading(x)):
                break
            stop += 1
        texts = [x.text for x in lines[k:stop] if x.text]
        last_row = (
            stop >= n or not _serial_cell(lines[stop].text) and not _category_row(lines[stop].text)
        )
        if last_row and len(texts) > ncols - 1:
            # The last row ends where its cells do: what follows is the notice's own text.
            taken = 0
            while k < stop and taken < ncols - 1:
                if lines[k].text:
                    taken += 1
                k += 1
            texts = texts[: ncols - 1]
        else:
            k = stop
        cells.extend(texts)
        # The serial number is column `serial`; cells before it (rare) come after it here.
        cells = [*cells[1 : serial + 1], cells[0], *cells[serial + 1 :]]
        builder.row(_align_cells(cells, ncols, cols), row_line)
        if last_row:
            break
    table = builder.table(line)
    return (table, k) if table else None


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------


@dataclass
class _Segment:
    org: str | None
    org_line: int | None
    lines: list[_Line]


class _NoticeReader:
    def __init__(self, text: str, name: str):
        self.name = name
        self.notice = ParsedNotice(name=name)
        folded = fold_width(text)
        self.lines: list[_Line] = []
        for no, raw in enumerate(folded.splitlines(), start=1):
            t = raw.replace("\t", " ").strip()
            if "  " in t:
                t = re.sub(r"\s{2,}", " ", t)
            if "【" in t[1:] and _INLINE_FIELD_RE.search(t, 1):
                # "【问题】…。【整改情况】…。【完成情况】已完成" on one line: one line per field.
                for piece in _INLINE_FIELD_RE.split(t):
                    if piece.strip():
                        self.lines.append(_Line(no, piece.strip(), piece))
                continue
            self.lines.append(_Line(no, t, raw))
        self.signature: str | None = None
        self.source: str | None = None
        self.nonproblem: list[str] = []

    # -- pass 1: chrome, title, signature --------------------------------------------------
    def _frame(self) -> list[_Line]:
        lines = self.lines
        notice = self.notice
        content: list[_Line] = []
        # The signature: the last date-only line, with the organization line above it.
        sig_idx = None
        for idx in range(len(lines) - 1, max(-1, len(lines) - 40), -1):
            t = lines[idx].text
            if t and (_DATE_ONLY_RE.match(t) or _ISO_DATE_ONLY_RE.match(t)):
                sig_idx = idx
                break
        end = len(lines)
        if sig_idx is not None:
            end = sig_idx
            date = self._date_from_line(lines[sig_idx].text)
            j = sig_idx - 1
            while j >= 0 and not lines[j].text:
                j -= 1
            sig = lines[j].text.replace(" ", "") if j >= 0 else ""
            if sig and (_ORG_LINE_RE.match(sig) or _SIG_COMMITTEE_RE.match(sig)):
                self.signature = lines[j].text.replace(" ", "")
                end = j
            self._sig_date = date
        else:
            self._sig_date = None
            # No date: an organization line among the last lines is still a signature.
            for j in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
                t = lines[j].text.replace(" ", "")
                if t and _ORG_LINE_RE.match(t) and not _is_chrome(t):
                    self.signature = t
                    end = j
                    break
        title_done = False
        title_line: int | None = None
        for ln in lines[:end]:
            t = ln.text
            if not t:
                continue
            if _is_chrome(t):
                self._read_chrome(t)
                continue
            if not title_done:
                title_done = True
                if _is_title_line(t):
                    notice.title = t
                    continue
                if _ORG_LINE_RE.match(t.replace(" ", "")):
                    # The title set on two lines: the organization, then "关于…的通报".
                    nxt = next((x for x in lines[:end] if x.no > ln.no and x.text), None)
                    if nxt is not None and nxt.text.startswith("关于") and _is_title_line(nxt.text):
                        notice.title = t.replace(" ", "") + nxt.text
                        title_line = nxt.no
                        continue
            if title_line is not None and ln.no == title_line:
                continue
            content.append(ln)
        # Chrome after the signature (publication date in a footer is rare but possible).
        for ln in lines[end:]:
            if ln.text and _is_chrome(ln.text):
                self._read_chrome(ln.text)
        if notice.published is None:
            notice.published = self._sig_date
        notice.issuer = self.source or self.signature
        return content

    def _read_chrome(self, t: str) -> None:
        if self.source is None:
            m = _SOURCE_RE.search(t)
            if m:
                self.source = m.group(1)
        if self.notice.published is None:
            m = _PUBLISHED_RE.search(t)
            if m:
                self.notice.published = _make_date(
                    int(m.group(1)), int(m.group(2)), int(m.group(3))
                )

    @staticmethod
    def _date_from_line(t: str) -> datetime.date | None:
        m = _DATE_ONLY_RE.match(t)
        if m:
            try:
                return _make_date(_to_int(m.group(1)), _to_int(m.group(2)), _to_int(m.group(3)))
            except ValueError:
                return None
        m = _ISO_DATE_ONLY_RE.match(t)
        if m:
            return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return None

    # -- pass 2: organization sections ------------------------------------------------------
    def _segments(self, content: list[_Line]) -> list[_Segment]:
        found: list[tuple[int, str]] = []
        for idx, ln in enumerate(content):
            t = ln.text
            if len(t) > 100:
                continue
            h = ln.heading
            candidate = h[2] if h and h[0] in ("cn", "pcn", "num") else t
            m = _ORG_HEADING_RE.match(candidate)
            org = m.group(1) if m else None
            if org is None and candidate.endswith("情况"):
                m = _ORG_SECTION_RE.match(candidate)
                org = (m.group(1) or m.group(2)) if m else None
            if org and len(core_org_name(org)) >= 3 and not org.startswith("问题"):
                found.append((idx, org))
        cores = {core_org_name(o) for _, o in found}
        if len(found) < 2 or len(cores) < 2:
            return [_Segment(None, None, content)]
        segments = [_Segment(None, None, content[: found[0][0]])]
        for n, (idx, org) in enumerate(found):
            stop = found[n + 1][0] if n + 1 < len(found) else len(content)
            segments.append(_Segment(org, content[idx].no, content[idx + 1 : stop]))
        return segments

    # -- pass 3: heading tree ---------------------------------------------------------------
    def _tree(self, lines: list[_Line]) -> tuple[list[str], _Node, list[str]]:
        """Intro lines, the root of the heading tree, and closing lines."""
        root = _Node("root", -1, None, "", 0)
        stack = [root]
        intro: list[str] = []
        closing: list[str] = []
        dyn_rank: dict[str, int] = {}
        in_closing = False
        closing_rank = 10**6
        i = 0
        n = len(lines)
        while i < n:
            ln = lines[i]
            t = ln.text
            i += 1
            if not t:
                continue
            if not in_closing:
                if "|" in ln.raw or "\t" in ln.raw:
                    table = _read_table(lines, i - 1, self.name)
                elif _maybe_flat_header(t):
                    table = _read_flat_table(lines, i - 1)
                else:
                    table = None
                if table is not None:
                    tbl, i = table
                    stack[-1].tables.append(tbl)
                    continue
            h = ln.heading
            if h is not None:
                style, label, rest = h
                if not rest.strip() and i < n:
                    # A label alone on its line: the title is on the next line.
                    while i < n and not lines[i].text:
                        i += 1
                    if i < n:
                        rest = lines[i].text
                        i += 1
                if style in _FIXED_RANK:
                    rank = _FIXED_RANK[style]
                else:
                    if style not in dyn_rank:
                        dyn_rank[style] = stack[-1].rank + 5 if len(stack) > 1 else 5
                    rank = dyn_rank[style]
                if in_closing:
                    # Closing text ("下一步,…", contact lines) ends at a heading at the level of
                    # the one it followed, or higher; its own sub-points stay closing text.
                    if rank <= closing_rank:
                        in_closing = False
                    else:
                        closing.append(t)
                        continue
                rest = rest.strip()
                said = _SAYS_PROBLEM_RE.match(rest) if style in _FIXED_RANK else None
                if said:
                    rest = rest[said.end() :]  # "1.问题:预算编制不科学。" is problem 1.
                node = _Node(style, rank, label, rest, ln.no)
                if said:
                    node.memo["explicit"] = True
                while len(stack) > 1 and stack[-1].rank >= rank:
                    stack.pop()
                stack[-1].children.append(node)
                stack.append(node)
                continue
            if in_closing or _CONTACT_RE.match(t) or _CLOSING_LINE_RE.match(t):
                if not in_closing:
                    in_closing = True
                    closing_rank = stack[-1].rank if len(stack) > 1 else 10**6
                closing.append(t)
                continue
            if len(stack) == 1:
                intro.append(t)
            else:
                stack[-1].body.append(t)
        return intro, root, closing

    # -- pass 4: which nodes are problems ---------------------------------------------------
    def _is_closing(self, node: _Node) -> bool:
        v = node.memo.get("closing")
        if v is None:
            v = node.memo["closing"] = self._closing_test(node)
        return v

    def _closing_test(self, node: _Node) -> bool:
        s = node.sentence
        m = _CLOSING_HEADING_RE.search(s[:30])
        if not m or node.style in ("wenti", "dige") or _is_explicit_title(s):
            return False
        # A heading that opens with the word ("下一步工作打算", "下一步,我们将…不松劲") is
        # closing; further in, a shortcoming after it ("社区换届后续工作落实不到位") is not.
        if m.start() == 0 or s[: m.start()] in ("关于", "对于"):
            return True
        return not _NEG_RE.search(s[m.end() :])

    def _is_category(self, node: _Node) -> bool:
        v = node.memo.get("category")
        if v is None:
            v = node.memo["category"] = self._category_test(node)
        return v

    def _category_test(self, node: _Node) -> bool:
        s = node.sentence
        if "方面" not in s:
            return False
        if not (_CATEGORY_RE.search(s) or (s.startswith("关于") and "方面" in s)):
            return False
        return any(not self._is_closing(c) for c in node.children) or any(
            t.items() for t in node.tables
        )

    def _is_explicit(self, node: _Node) -> bool:
        v = node.memo.get("explicit")
        if v is None:
            v = node.memo["explicit"] = self._explicit_test(node)
        return v

    def _explicit_test(self, node: _Node) -> bool:
        if node.style in ("wenti", "dige"):
            return True
        if node.head[2]:
            return True
        return _is_explicit_title(node.sentence)

    def _evidence(self, node: _Node) -> bool:
        """Does this node's subtree say it holds problems?"""
        v = node.memo.get("evidence")
        if v is None:
            v = node.memo["evidence"] = self._evidence_test(node)
        return v

    def _evidence_test(self, node: _Node) -> bool:
        if node.tables:
            return True
        for c in node.children:
            if self._is_closing(c):
                continue
            if self._is_explicit(c) or self._is_category(c) or self._evidence(c):
                return True
        return False

    def _problems(self, root: _Node) -> list[ParsedProblem]:
        out: list[ParsedProblem] = []
        for t in root.tables:
            out.extend(t.items())
        if self._evidence(root):
            out.extend(self._unknown_level(root.children))
        else:
            out.extend(self._fallback(root.children))
        return out

    def _unknown_level(self, nodes: list[_Node]) -> list[ParsedProblem]:
        """Siblings of which some are preamble, wrappers, closing, categories or problems."""
        out: list[ParsedProblem] = []
        kinds: list[str] = []
        for node in nodes:
            if self._is_closing(node):
                kinds.append("closing")
            elif self._is_category(node):
                kinds.append("category")
            elif _is_wrapper_title(node.sentence) and node.children:
                kinds.append("wrapper")
            elif self._is_explicit(node):
                kinds.append("problem")
            elif self._evidence(node):
                # A shortcoming whose sub-headings are problems is a problem with sub-problems
                # ("1.党建工作不到位。" over "(1)针对…问题"); anything else holding problems is a
                # wrapper section ("二、整改落实情况").
                if _NEG_RE.search(node.sentence) and any(
                    self._is_explicit(c) for c in node.children
                ):
                    kinds.append("problem")
                else:
                    kinds.append("wrapper")
            else:
                kinds.append("other")
        # A heading between problems is a problem too, even without a wrapper of its own.
        marked = [k for k, kind in enumerate(kinds) if kind in ("problem", "category")]
        if len(marked) >= 2:
            for k in range(marked[0], marked[-1]):
                if kinds[k] == "other":
                    kinds[k] = "problem"
        for node, kind in zip(nodes, kinds, strict=True):
            if kind == "category":
                out.append(self._category(node))
            elif kind == "problem":
                out.append(self._problem(node))
            elif kind == "wrapper":
                self._collect_text(node, own_only=True)
                for t in node.tables:
                    out.extend(t.items())
                out.extend(self._wrapper_children(node.children))
            else:
                self._collect_text(node)
        return out

    def _wrapper_children(self, nodes: list[_Node]) -> list[ParsedProblem]:
        out: list[ParsedProblem] = []
        for node in nodes:
            if self._is_closing(node):
                self._collect_text(node)
            elif self._is_category(node):
                out.append(self._category(node))
            elif _is_wrapper_title(node.sentence) and node.children:
                self._collect_text(node, own_only=True)
                out.extend(self._wrapper_children(node.children))
            else:
                out.append(self._problem(node))
        return out

    def _fallback(self, nodes: list[_Node]) -> list[ParsedProblem]:
        """No heading says it is a problem: read shortcomings (不到位, 缺乏 …) as problems."""

        def negative(node: _Node) -> bool:
            return bool(_NEG_RE.search(node.sentence))

        live = [n for n in nodes if not self._is_closing(n)]
        out: list[ParsedProblem] = []
        wrappers = []
        for node in live:
            kids = [c for c in node.children if not self._is_closing(c)]
            if kids and sum(map(negative, kids)) * 2 >= len(kids):
                wrappers.append(node)
        if wrappers:
            for node in nodes:
                if node in wrappers:
                    self._collect_text(node, own_only=True)
                    out.extend(self._wrapper_children(node.children))
                else:
                    self._collect_text(node)
            return out
        negatives = [k for k, n in enumerate(nodes) if n in live and negative(n)]
        if negatives and len(negatives) * 2 >= len(live):
            first, last = negatives[0], negatives[-1]
            for k, node in enumerate(nodes):
                if first <= k <= last and node in live:
                    out.append(self._problem(node))
                else:
                    self._collect_text(node)
            return out
        for node in nodes:
            self._collect_text(node)
        return out

    def _collect_text(self, node: _Node, own_only: bool = False) -> None:
        self.nonproblem.append(node.text)
        self.nonproblem.extend(node.body)
        if not own_only:
            for c in node.children:
                self._collect_text(c)

    # -- converting nodes ---------------------------------------------------------------------
    def _category(self, node: _Node) -> ParsedProblem:
        children: list[ParsedProblem] = []
        for t in node.tables:
            children.extend(t.items())
        children.extend(self._wrapper_children(node.children))
        return ParsedProblem(
            label=node.label,
            title=_clean_title(node.sentence),
            kind="category",
            detail="\n".join(x for x in [node.head[1], *node.body] if x),
            line=node.line,
            children=children,
        )

    def _problem(self, node: _Node) -> ParsedProblem:
        first, rest, _brackets = node.head
        words = node.status_words()
        if not any(fold_status(w) for w in words):
            tail = _tail_status(node) or _body_status(node)
            if tail:
                words.append(tail)
        status = status_text = task_type = None
        for w in words:
            st = fold_status(w)
            if st and status is None:
                status, status_text = st, _STATUS_FIELD_RE.sub(r"\1", w).split(",")[0]
                # A bracket may hold "已完成,立行立改": keep the status word only.
                for part in re.split(r"[,、;/]", w):
                    if fold_status(part):
                        status_text = part.strip()
                        break
            tt = fold_task_type(w)
            if tt and task_type is None:
                task_type = tt
        if task_type is None and status == "long_term":
            task_type = "long_term"
        detail_parts: list[str] = []
        if rest and not _STATUS_ONLY_RE.match(rest):
            detail_parts.append(rest)
        for line in node.body:
            detail_parts.append(_BODY_MARKER_RE.sub("", line, count=1) or line)
        measures: list[str] = []
        for part in detail_parts:
            measures.extend(_extract_measures(part))
        children: list[ParsedProblem] = []
        for t in node.tables:
            children.extend(t.items())
        for c in node.children:
            if self._is_closing(c):
                self._collect_text(c)
            elif self._is_explicit(c):
                children.append(self._problem(c))
            else:
                # A sub-heading that does not say it is a problem is a measure.
                title = _clean_title(c.sentence)
                if title:
                    measures.append(title)
                detail_parts.append(c.text)
                detail_parts.extend(c.body)
                for g in c.children:
                    detail_parts.append(g.text)
                    detail_parts.extend(g.body)
        title = _unwrap_title(first)
        return ParsedProblem(
            label=node.label,
            title=title,
            kind="problem",
            status=status,
            status_text=status_text,
            task_type=task_type,
            detail="\n".join(detail_parts),
            measures=measures,
            line=node.line,
            children=children,
        )

    # -- pass 5: facts ------------------------------------------------------------------------
    def _facts(self, insp: ParsedInspection, intro: str, title: str) -> None:
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
            if not _LEVEL_RE.match(insp.group):
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
        self._dates(insp, intro)

    def _dates(self, insp: ParsedInspection, intro: str) -> None:
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
                y1 = _to_int(g[0]) if g[0] else self._year_before(intro, m.start())
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
                    y = self._year_before(intro, pos) or last_year
                if y is None:
                    continue
                date = _make_date(y, mo, d)
                if date and not m.group(1) and end_date and date < end_date:
                    date = _make_date(y + 1, mo, d)
                if date:
                    insp.feedback = date
                    return

    @staticmethod
    def _year_before(text: str, pos: int) -> int | None:
        years = _YEAR_ONLY_RE.findall(text, 0, pos)
        if not years:
            return None
        try:
            return _to_int(years[-1])
        except ValueError:
            return None

    def _organization(self, intro: str, title: str | None) -> tuple[str | None, list[str]]:
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
        if self.signature:
            fuller.append(self.signature)
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

    def _declared(self, text: str) -> dict[str, int | float]:
        out: dict[str, int | float] = {}
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
        # "对反馈的3个问题……已全部完成整改": every problem declared is completed.
        if (
            "problems" in out
            and "completed" not in out
            and "全部" in text
            and any(_ALL_DONE_RE.search(x) for x in problem_sentences)
        ):
            out["completed"] = out["problems"]
        return out

    # -- main -----------------------------------------------------------------------------------
    def read(self) -> ParsedNotice:
        notice = self.notice
        content = self._frame()
        segments = self._segments(content)
        title = notice.title or ""
        if segments[0].org is None and len(segments) == 1:
            intro_lines, root, closing = self._tree(segments[0].lines)
            intro = "".join(intro_lines)
            self.nonproblem = list(intro_lines)
            problems = self._problems(root)
            self.nonproblem.extend(closing)
            org, aliases = self._organization(intro, notice.title)
            if not org:
                raise NoticeParseError(
                    _(
                        "未能识别被巡视巡察的党组织(已查找“对…进行了巡视/巡察”、"
                        "标题中的党组织名称和落款)"
                    ),
                    name=self.name,
                )
            insp = ParsedInspection(organization=org, aliases=aliases)
            self._facts(insp, intro, title)
            insp.declared = self._declared("\n".join(self.nonproblem))
            insp.problems = problems
            notice.inspections.append(insp)
        else:
            shared_intro = "".join(ln.text for ln in segments[0].lines)
            for seg in segments[1:]:
                intro_lines, root, closing = self._tree(seg.lines)
                self.nonproblem = list(intro_lines)
                problems = self._problems(root)
                self.nonproblem.extend(closing)
                insp = ParsedInspection(organization=seg.org or "")
                own_intro = "".join(intro_lines)
                self._facts(insp, shared_intro + "。" + own_intro, title)
                for m in _ALIAS_RE.finditer(own_intro):
                    insp.aliases.append(m.group(1))
                insp.declared = self._declared("\n".join(self.nonproblem))
                insp.problems = problems
                notice.inspections.append(insp)
        total = sum(i.leaf_problems for i in notice.inspections)
        if total == 0:
            first_line = content[0].no if content else None
            raise NoticeParseError(
                _(
                    "未能识别出任何问题(应有 一、/(一)/1. 等编号标题、“问题:”行、“针对…问题”、"
                    "“关于“…”问题的整改情况”,或带“问题”列的表格)"
                ),
                name=self.name,
                line=first_line,
            )
        self._warn()
        return notice

    def _warn(self) -> None:
        notice = self.notice
        for insp in notice.inspections:
            who = insp.organization if len(notice.inspections) > 1 else ""
            prefix = f"{who}:" if who else ""
            leaves = insp.leaf_problems
            declared = insp.declared.get("problems")
            if isinstance(declared, int) and declared != leaves:
                notice.warnings.append(
                    prefix
                    + _("通报声明问题 %(declared)s 个,公布了 %(published)s 个")
                    % {"declared": declared, "published": leaves}
                )
            counted = [
                insp.declared.get(k) for k in ("completed", "basically_completed", "not_completed")
            ]
            numbers = [c for c in counted if isinstance(c, int)]
            if isinstance(declared, int) and len(numbers) == 3 and sum(numbers) != declared:
                notice.warnings.append(
                    prefix
                    + _("各完成情况合计 %(sum)s 个,与声明的问题数 %(declared)s 个不符")
                    % {"sum": sum(numbers), "declared": declared}
                )
            for leaf in insp.iter_leaves():
                if not leaf.title:
                    notice.warnings.append(
                        prefix + _("第 %(line)s 行:问题没有标题") % {"line": leaf.line}
                    )


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
                rf"(?:整改)?\s*{NUM}\s*(?:个|项|条)"
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
            rf"{NUM}\s*(?:个|项|条)(?:问题)?(?:正在整改|持续推进|正在推进|尚未完成|未完成|整改中)",
            False,
        ),
        ("long_term", rf"(?:需)?长期(?:坚持|推进|整改)(?:的)?\s*{NUM}\s*(?:个|项|条)", False),
        ("lead_units", rf"{NUM}\s*个(?:整改)?牵头(?:单位|部门|科室)", False),
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


def parse_notice(text: str, *, name: str = "<text>") -> ParsedNotice:
    """Read a notice's text into a ParsedNotice.

    Raises NoticeParseError (naming the file) when no inspected organization or no problems
    can be recognised.
    """
    if not text or not text.strip():
        raise NoticeParseError(_("通报内容为空"), name=name)
    return _NoticeReader(text, name).read()
