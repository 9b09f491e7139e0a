"""Pass 1 and 2: the lines, the page chrome, title and signature around the content, and the
split into one section per inspected organization."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from ..text import core_org_name, fold_width
from .data import ParsedNotice
from .facts import _make_date, _to_int
from .headings import _Line
from .patterns import (
    _BRACKETED_LINE_RE,
    _CHROME_PREFIXES,
    _CHROME_WORDS,
    _DATE_ONLY_RE,
    _INLINE_FIELD_RE,
    _ISO_DATE_ONLY_RE,
    _ISSUER_SOURCE_RE,
    _MEDIA_SOURCE_RE,
    _ORG_HEADING_RE,
    _ORG_LINE_RE,
    _ORG_SECTION_RE,
    _PUBLISHED_RE,
    _SIG_COMMITTEE_RE,
    _SIG_OFFICE_RE,
    _SOURCE_RE,
)


@dataclass
class _Segment:
    org: str | None
    org_line: int | None
    lines: list[_Line]


def _is_title_line(t: str) -> bool:
    return (
        len(t) <= 120
        and "。" not in t
        # "…的通报", also with a note after it: "…的通报(截至2023年11月底)", "…(第二批)".
        and bool(re.search(r"(?:通报|情况|公告|公示|报告|公开)(?:\s*\([^()]{1,20}\))?$", t))
    )


def _is_chrome(text: str) -> bool:
    if len(text) >= 200:
        return False
    if text[0] in "([【":  # "(发布日期:2023年12月20日)"
        m = _BRACKETED_LINE_RE.match(text)
        if m and m.group(1).startswith(_CHROME_PREFIXES):
            return True
    return text.startswith(_CHROME_PREFIXES) or any(w in text for w in _CHROME_WORDS)


def _issuer_source(source: str | None) -> str | None:
    """A source tag that names the issuing body, else None (a medium, a byline tag)."""
    if source and _ISSUER_SOURCE_RE.search(source) and not _MEDIA_SOURCE_RE.search(source):
        return source
    return None


def split_lines(text: str) -> list[_Line]:
    """The notice's lines, widths folded; a line holding several bracketed fields is split."""
    folded = fold_width(text)
    lines: list[_Line] = []
    for no, raw in enumerate(folded.splitlines(), start=1):
        t = raw.replace("\t", " ").strip()
        if "  " in t:
            t = re.sub(r"\s{2,}", " ", t)
        if "【" in t[1:] and _INLINE_FIELD_RE.search(t, 1):
            # "【问题】…。【整改情况】…。【完成情况】已完成" on one line: one line per field.
            for piece in _INLINE_FIELD_RE.split(t):
                if piece.strip():
                    lines.append(_Line(no, piece.strip(), piece))
            continue
        lines.append(_Line(no, t, raw))
    return lines


class _Frame:
    """Pass 1: page chrome, title and signature around the notice's content."""

    def __init__(self, lines: list[_Line], notice: ParsedNotice):
        self.lines = lines
        self.notice = notice
        self.signature: str | None = None
        self.source: str | None = None
        self._sig_date: datetime.date | None = None

    def content(self) -> list[_Line]:
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
            date = _date_from_line(lines[sig_idx].text)
            j = sig_idx - 1
            while j >= 0 and not lines[j].text:
                j -= 1
            sig = lines[j].text.replace(" ", "") if j >= 0 else ""
            if sig and (
                _ORG_LINE_RE.match(sig) or _SIG_COMMITTEE_RE.match(sig) or _SIG_OFFICE_RE.match(sig)
            ):
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
                    notice.title_line = ln.no
                    continue
                if _ORG_LINE_RE.match(t.replace(" ", "")):
                    # The title set on two lines: the organization, then "关于…的通报".
                    nxt = next((x for x in lines[:end] if x.no > ln.no and x.text), None)
                    if nxt is not None and nxt.text.startswith("关于") and _is_title_line(nxt.text):
                        notice.title = t.replace(" ", "") + nxt.text
                        notice.title_line = ln.no
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
        notice.issuer = _issuer_source(self.source) or self.signature
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


def _segments(content: list[_Line]) -> list[_Segment]:
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
