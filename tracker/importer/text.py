"""Text helpers shared by the notice parser and the loader (pure functions, no I/O)."""

from __future__ import annotations

import re
import unicodedata

# Circled numbers (①…⑳) are heading labels in some notices; NFKC would turn them into plain
# digits ("①" -> "1") and so lose the label style, so they are protected from it.
_CIRCLED = "".join(chr(c) for c in range(0x2460, 0x2474))
_CIRCLED_RE = re.compile(f"[{_CIRCLED}]")
_EXTRA_FOLD = {
    "〔": "(",
    "〕": ")",
    "［": "[",
    "］": "]",
    "\u00a0": " ",
    "\u200b": "",
    "\ufeff": "",
    "\u2002": " ",
    "\u2003": " ",
    "\u3000": " ",
    "﹒": ".",
}
_EXTRA_FOLD_RE = re.compile("[" + "".join(_EXTRA_FOLD) + "]")
# One scan finds out whether either special case occurs at all (usually neither does).
_SPECIAL_RE = re.compile("[" + _CIRCLED + "".join(_EXTRA_FOLD) + "]")


def _extra_fold(m: re.Match[str]) -> str:
    return _EXTRA_FOLD[m.group(0)]


def fold_width(text: str) -> str:
    """NFKC-fold full-width forms (（一） -> (一), ：-> :, １ -> 1) but keep ①…⑳ as they are."""
    if _SPECIAL_RE.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    # str.translate with a dict is slow on long texts; a regex substitution is not.
    if _EXTRA_FOLD_RE.search(text) is not None:
        text = _EXTRA_FOLD_RE.sub(_extra_fold, text)
    if _CIRCLED_RE.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    parts = _CIRCLED_RE.split(text)
    marks = _CIRCLED_RE.findall(text)
    out = [unicodedata.normalize("NFKC", parts[0])]
    for mark, part in zip(marks, parts[1:], strict=True):
        out.append(mark)
        out.append(unicodedata.normalize("NFKC", part))
    return "".join(out)


# Trailing punctuation that never belongs to a title or label.
TRAILING_PUNCT = "。.,，;；:：!！?？、 \t"
_TITLE_DROP_RE = re.compile(
    r"[\s\"'“”‘’「」『』《》〈〉()\[\]【】{}<>,.;:!?、。·…\-—–~_/\\|*#@&%+=^`]+"
)


def strip_trailing_punct(text: str) -> str:
    return text.strip().rstrip(TRAILING_PUNCT).strip()


def normalize_title(title: str) -> str:
    """Fold a title for "same problem" matching: NFKC, no punctuation, quotes or spaces."""
    return _TITLE_DROP_RE.sub("", fold_width(title))


# --- organization names -------------------------------------------------------------------

_ORG_PREFIX_RE = re.compile(r"^(?:中国共产党|中共)")
_ORG_SUFFIX_RE = re.compile(
    r"(?:机关党委|党工委|工作委员会|党委员会|委员会|党委|党组|党总支|党支部|总支部|支部|"
    r"纪工委|党组织)$"
)
_ORG_PAREN_RE = re.compile(r"\((?:以下)?简称[^)]*\)")


def core_org_name(name: str) -> str:
    """The organization's own name without the party-organization wrapper.

    >>> core_org_name("中共秦皇岛经济技术开发区工作委员会")
    '秦皇岛经济技术开发区'
    >>> core_org_name("海南省大数据管理局党委")
    '海南省大数据管理局'
    """
    s = fold_width(name).strip()
    s = _ORG_PAREN_RE.sub("", s)
    s = re.sub(r"[\s“”\"']", "", s)
    s = _ORG_PREFIX_RE.sub("", s)
    for _ in range(2):  # e.g. "…管理局机关党委", "…委员会党组"
        stripped = _ORG_SUFFIX_RE.sub("", s)
        if stripped == s or len(stripped) < 2:
            break
        s = stripped
    # "东莞市委" -> "东莞市"
    if len(s) > 2 and s.endswith("委") and s[-2] in "省市县区州旗盟":
        s = s[:-1]
    return s


_PLACE_PREFIX_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,4}?(?:省|自治区|自治州|市|县|区)|省|市|县|区)"
)


def _place_variants(core: str) -> set[str]:
    out = {core}
    m = _PLACE_PREFIX_RE.match(core)
    if m and len(core) - m.end() >= 3:
        out.add(core[m.end() :])
    return out


def org_names_match(a: str, b: str) -> bool:
    """True when two names denote the same organization.

    Compares core names (without 中共 / 党委 / 委员会 …); a leading place prefix such as 海南省,
    海州县 or 省 / 市 / 县 / 区 is optional, so "省大数据管理局党委" matches "中共海南省大数据管理局委员会".
    """
    ca, cb = core_org_name(a), core_org_name(b)
    if not ca or not cb:
        return False
    if ca == cb:
        return True
    return bool(_place_variants(ca) & _place_variants(cb))


# --- status words ---------------------------------------------------------------------------

STATUS_COMPLETED = "completed"
STATUS_BASIC = "basically_completed"
STATUS_OPEN = "not_completed"
STATUS_LONG_TERM = "long_term"

# Order matters: "未完成" and "基本完成" contain "完成".
_STATUS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"基本完成|阶段性完成|基本整改到位|基本办结"), STATUS_BASIC),
    (
        re.compile(r"未完成|尚未完成|正在整改|持续推进|整改中|推进中|未整改|正在推进|未办结"),
        STATUS_OPEN,
    ),
    (re.compile(r"长期坚持|长期整改|持续整改"), STATUS_LONG_TERM),
    (
        re.compile(r"已完成|已整改到位|整改完成|完成整改|整改到位|已整改|已办结|已销号|^完成$"),
        STATUS_COMPLETED,
    ),
)
STATUS_WORDS_RE = (
    r"(?:已?基本完成(?:整改)?|阶段性完成|已?基本整改到位|未完成(?:整改)?|尚未完成|正在整改|正在推进|"
    r"持续推进|整改中|推进中|未整改|长期坚持|已完成(?:整改)?|已整改到位|已整改完成|整改完成|完成整改|"
    r"已整改|已办结|已销号|完成)"
)


def fold_status(word: str | None) -> str | None:
    """Fold a printed status word to completed / basically_completed / not_completed /
    long_term, or None when it is not a status word."""
    if not word:
        return None
    w = re.sub(r"\s", "", fold_width(word))
    for rx, status in _STATUS_RULES:
        if rx.search(w):
            return status
    return None


TASK_TYPES = {"立行立改": "immediate", "限期整改": "deadline", "长期坚持": "long_term"}


def fold_task_type(word: str | None) -> str | None:
    if not word:
        return None
    for key, value in TASK_TYPES.items():
        if key in word:
            return value
    return None
