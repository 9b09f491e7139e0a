"""How alike two problem titles read, for 屡巡屡犯 (recurring problems). Plain functions, no ORM.

The choice: rapidfuzz's normalized Indel similarity (``fuzz.ratio``) over the characters of
titles folded by ``comparable_title``, not jieba tokens. A Chinese character is already a unit of
meaning, and the titles offices write are short sentences that come back with the same wording
slightly moved or extended ("落实全面从严治党主体责任不到位" → "全面从严治党主体责任落实仍不到位":
0.87); the share of characters the two titles have in common, in order, says that directly.
Word segmentation adds a 5 MB dictionary loaded at first use in every worker, splits the terms
of this field (主体责任, 三重一大, 选人用人) differently with their context, and scored no better
on such pairs. ``partial_ratio`` was rejected because a short title inside a long one scores 1.0
("资金监管不严" in any sentence about funds). rapidfuzz is a maintained C++ library; ``process.extract`` scores one new problem against all
earlier ones in one call (no numpy needed).

What is removed before comparing is only what every title carries whatever its subject: the
wrapper of a quoted problem (关于/针对 "…" 问题 的整改情况), punctuation and spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from tracker.importer.text import normalize_title

_LEAD_RE = re.compile(r"^(?:关于|针对)+")
_TAIL_RE = re.compile(r"(?:的整改情况|整改情况|的问题|问题)+$")


def comparable_title(title: str) -> str:
    """``title`` folded for comparison: NFKC, no punctuation or spaces, without the 关于/针对 …
    问题 (的整改情况) wrapper."""
    text = normalize_title(title or "")
    stripped = _TAIL_RE.sub("", _LEAD_RE.sub("", text))
    return stripped or text


def similarity(a: str, b: str) -> float:
    """0 (nothing in common) to 1 (the same once folded), of two titles."""
    return fuzz.ratio(comparable_title(a), comparable_title(b)) / 100


def matches(new: str, earlier: Sequence[str], threshold: float) -> list[tuple[int, float]]:
    """(index, score) of the ``earlier`` titles at least ``threshold`` similar to ``new``, best
    first. ``earlier`` is best given already folded (``comparable_title``) when it is reused."""
    found = process.extract(
        comparable_title(new),
        list(earlier),
        scorer=fuzz.ratio,
        processor=None,
        score_cutoff=threshold * 100,
        limit=None,
    )
    return sorted(((index, score / 100) for _c, score, index in found), key=lambda m: -m[1])
