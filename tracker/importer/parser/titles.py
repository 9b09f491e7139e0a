"""A heading's words: its first sentence, the problem's own words without wrappers and quotes,
and the 一是…二是… measures of a paragraph."""

from __future__ import annotations

import re

from ..numerals import cn_to_int
from ..text import strip_trailing_punct
from .patterns import (
    _CATEGORY_RE,
    _GENERIC_PROBLEMS,
    _MEASURE_BEFORE,
    _MEASURE_NUMERALS,
    _WRAP_DUIYU,
    _WRAP_DUIYU_Q,
    _WRAP_GUANYU,
    _WRAP_GUANYU_Q,
    _WRAP_QUOTED,
    _WRAP_SUFFIX,
    _WRAP_ZHENDUI,
    _WRAP_ZHENDUI_Q,
    _WRAPPERISH,
)

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
    for rx in (_WRAP_ZHENDUI_Q, _WRAP_GUANYU_Q, _WRAP_DUIYU_Q, _WRAP_QUOTED):
        m = rx.match(s)
        if m:
            return _clean_title(m.group(1))
    m = _wrap_suffix(s)
    if m and not _CATEGORY_RE.search(s):
        return _clean_title(m.group(1))
    m = _WRAP_ZHENDUI.match(s) or _WRAP_DUIYU.match(s)
    if m:
        return _clean_title(m.group(1))
    if s.startswith("针对") and len(s) >= 6:
        return _clean_title(s[2:])  # "1、针对村级集体经济发展不平衡(已完成)"
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
    elif s.startswith("对于"):
        if _WRAP_DUIYU_Q.match(s) or _WRAP_DUIYU.match(s):
            return True
    elif s.startswith("“") and _WRAP_QUOTED.match(s):
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
    if s.startswith(("针对", "关于", "对于")) and (
        _WRAP_ZHENDUI_Q.match(s) or _WRAP_GUANYU_Q.match(s) or _WRAP_DUIYU_Q.match(s)
    ):
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
