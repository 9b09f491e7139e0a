"""The five seed notices read exactly as tests/seeds_expected.json says (seeds/README.md rules)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# The repository root, for `tests` and `tracker` (pytest-django adds it too; plain pytest may not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.notice_corpus import compare_reading
from tracker.importer.parser import (
    decode_notice,
    org_names_match,
    parse_notice,
    read_notice,
)

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = json.loads((ROOT / "tests" / "seeds_expected.json").read_text(encoding="utf-8"))
SEED_FILES = sorted(name for name in EXPECTED if not name.startswith("_"))


@pytest.mark.parametrize("file_name", SEED_FILES)
def test_seed_reads_as_expected(file_name: str) -> None:
    path = ROOT / "seeds" / file_name
    notice = parse_notice(read_notice(path), name=f"seeds/{file_name}")
    diff = compare_reading(notice, EXPECTED[file_name])
    assert diff is None, f"seeds/{file_name}: {diff}"


def test_seed_totals_after_importing_all_five() -> None:
    """146 leaves in all; the big-data bureau of 000 and of 002 is one organization."""
    notices = {
        f: parse_notice(decode_notice((ROOT / "seeds" / f).read_bytes(), name=f), name=f)
        for f in SEED_FILES
    }
    leaves = sum(i.leaf_problems for n in notices.values() for i in n.inspections)
    assert leaves == 146
    bureau_000 = notices["000_a8da41f290e21ab7.txt"].inspections[1].organization
    bureau_002 = notices["002_e510119d14028505.txt"].inspections[0].organization
    assert org_names_match(bureau_000, bureau_002)


def test_seed_001_warns_about_unpublished_problems() -> None:
    notice = parse_notice(read_notice(ROOT / "seeds" / "001_5c2e2c6e6d9d9ed6.txt"))
    assert "通报声明问题 31 个,公布了 27 个" in notice.warnings


def test_seed_details_and_measures_are_kept() -> None:
    notice = parse_notice(read_notice(ROOT / "seeds" / "001_5c2e2c6e6d9d9ed6.txt"))
    first = next(notice.inspections[0].iter_leaves())
    assert first.status_text == "已完成"
    assert first.measures[0].startswith("加强顶层设计")
    assert first.detail.startswith("一是加强顶层设计")
    assert first.line == 14
    assert notice.issuer == "市委巡察办"


def test_seed_003_measures_come_from_sub_headings() -> None:
    notice = parse_notice(read_notice(ROOT / "seeds" / "003_a1a0bbdb8131536f.txt"))
    first = notice.inspections[0].problems[0]
    assert first.measures == [
        "提高政治站位,推动高质量发展",
        "优化开放合作,打造开放平台",
        "强化平台牵引,提升园区建设",
    ]
    assert notice.title and notice.title.endswith("的通报")


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；"}))


VARIANTS = {
    "fullwidth": lambda data: _fullwidth(data.decode()).encode(),
    "crlf_blank_lines": lambda data: data.replace(b"\n", b"\r\n\r\n"),
    "gb18030": lambda data: data.decode().encode("gb18030"),
    "bom_indent": lambda data: b"\xef\xbb\xbf" + data.replace(b"\n", "\n\u3000\u3000".encode()),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("file_name", SEED_FILES)
def test_seed_variants_read_the_same(file_name: str, variant: str) -> None:
    """Real notices come full-width, GBK-encoded, with Windows line ends and indents."""
    data = VARIANTS[variant]((ROOT / "seeds" / file_name).read_bytes())
    notice = parse_notice(decode_notice(data, name=file_name), name=file_name)
    diff = compare_reading(notice, EXPECTED[file_name])
    assert diff is None, f"seeds/{file_name} ({variant}): {diff}"
