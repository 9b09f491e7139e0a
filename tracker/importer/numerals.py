"""Chinese numerals to integers, in one place.

Handles the forms notices use: 一 … 九, 十, 百, 千, 万, 两, 〇/零, digit-by-digit years
(二〇二一), mixed forms (3千) and plain Arabic digits (full-width digits are folded by NFKC
before they get here, but are accepted as well).
"""

from __future__ import annotations

DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "O": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}

#: Characters that may appear in a Chinese numeral (for building regexes).
CN_NUMERAL_CHARS = "〇零○一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟"


def cn_to_int(text: str) -> int:
    """Convert a Chinese (or Arabic, or mixed) numeral to an int.

    >>> cn_to_int("二十一"), cn_to_int("十"), cn_to_int("一百零五"), cn_to_int("两千")
    (21, 10, 105, 2000)
    >>> cn_to_int("二〇二一"), cn_to_int("115"), cn_to_int("3万")
    (2021, 115, 30000)

    Raises ValueError for text that is not a numeral.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty numeral")
    if s.isascii() and s.isdigit():
        return int(s)
    # Digit-by-digit form without units (years such as 二〇二一, or 一一五).
    if len(s) > 1 and all(c in DIGITS or c.isdigit() for c in s):
        return int("".join(str(DIGITS[c]) if c in DIGITS else c for c in s))
    total = 0  # completed 万/亿 groups
    section = 0  # current group below 万
    number = 0  # pending digit(s)
    digits_run = ""
    for ch in s:
        if ch.isdigit():
            digits_run += ch
            continue
        if digits_run:
            number = int(digits_run)
            digits_run = ""
        if ch in DIGITS:
            number = DIGITS[ch]
        elif ch in UNITS:
            section += (number or 1) * UNITS[ch]
            number = 0
        elif ch in BIG_UNITS:
            section += number
            total = (total + section) * BIG_UNITS[ch] if ch == "亿" else total + section * 10_000
            section = 0
            number = 0
        else:
            raise ValueError(f"not a numeral: {text!r}")
    if digits_run:
        number = int(digits_run)
    return total + section + number


def parse_number(text: str) -> int | float:
    """An Arabic decimal ("12.6") or a Chinese numeral ("二十") as int or float."""
    s = text.strip()
    if "." in s:
        return float(s)
    return cn_to_int(s)
