"""Lines and heading nodes: the label styles a line opens with (一、 (一) 1. (1) ① 问题一: …) and
the status a node's heading, fields or closing text print."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..text import strip_trailing_punct
from .data import ParsedProblem
from .patterns import (
    _CLAUSE_MARKS,
    _H_CIRC,
    _H_CN,
    _H_DIGE,
    _H_NUM,
    _H_PCN,
    _H_PNUM,
    _H_WENTI,
    _H_WENTI_BRACKET,
    _H_WENTI_FIELD,
    _MID_HINTS,
    _MID_STATUS_SCAN_RE,
    _STATUS_BRACKET_END_RE,
    _STATUS_BRACKET_RE,
    _STATUS_FIELD_RE,
    _STATUS_ONLY_RE,
    _TAIL_STATUS_RE,
    _TYPE_FIELD_RE,
    CN,
)
from .titles import _is_explicit_title, _split_sentence

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
        elif rest and rest.rstrip("。. ")[-1:] in ")]】":
            # "1.“…”问题。建立跟踪机制,推动落地项目11个。(已完成)": the status closes the line.
            m = _STATUS_BRACKET_END_RE.search(rest)
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
    if c in "存反发巡" and "问题" in text[:6]:
        m = _H_WENTI_FIELD.match(text)
        if m:
            return "wenti", None, m.group(1)
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
