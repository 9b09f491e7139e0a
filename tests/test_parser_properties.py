"""Surface variations of a notice (width, whitespace, line ends, numbering punctuation) parse to
the same tree; generated notices of every layout read as their generator says."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The repository root, for `tests` and `tracker` (pytest-django adds it too; plain pytest may not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.notice_corpus import Style, compare_reading, generate_corpus, generate_notice
from tracker.importer.parser import parse_notice
from tracker.importer.text import normalize_title

ROOT = Path(__file__).resolve().parent.parent

LAYOUTS = ["category_zhendui", "category_suffix", "guanyu", "bare", "wenti", "table", "multi_org"]

styles = st.builds(
    Style,
    fullwidth=st.booleans(),
    crlf=st.booleans(),
    blank_lines=st.booleans(),
    num_sep=st.sampled_from([".", "、", "．"]),
    indent=st.sampled_from(["", " ", "  ", "\t", "\u3000\u3000"]),
    trailing_space=st.booleans(),
)
BOUNDED = settings(
    max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def shape(notice) -> list:
    """The tree with labels canonicalised (1、 = 1. = 1．) and titles normalised."""

    def canon_label(label: str | None) -> str | None:
        return label.replace("、", ".") if label and label[0].isdigit() else label

    def node(p) -> tuple:
        return (
            canon_label(p.label),
            normalize_title(p.title),
            p.kind,
            p.status,
            tuple(node(c) for c in p.children),
        )

    return [(core, tuple(node(p) for p in i.problems)) for core, i in _orgs(notice)]


def _orgs(notice):
    from tracker.importer.text import core_org_name

    return [(core_org_name(i.organization), i) for i in notice.inspections]


@BOUNDED
@given(seed=st.integers(0, 10_000), layout=st.sampled_from(LAYOUTS), style=styles)
def test_surface_variations_parse_to_the_same_tree(seed: int, layout: str, style: Style) -> None:
    plain = generate_notice(seed, Style(), layout)
    varied = generate_notice(seed, style, layout)
    a = parse_notice(plain.text, name=plain.name)
    b = parse_notice(varied.text, name=varied.name)
    assert shape(a) == shape(b), f"{varied.name} {style}"
    assert [i.to_json()["declared"] for i in a.inspections] == [
        i.to_json()["declared"] for i in b.inspections
    ]
    assert a.published == b.published


@BOUNDED
@given(seed=st.integers(0, 100_000), layout=st.sampled_from(LAYOUTS), style=styles)
def test_generated_notices_read_as_generated(seed: int, layout: str, style: Style) -> None:
    notice = generate_notice(seed, style, layout)
    diff = compare_reading(parse_notice(notice.text, name=notice.name), notice.expected)
    assert diff is None, f"{notice.name} {style}: {diff}"


@BOUNDED
@given(
    seed=st.integers(0, 10_000),
    layout=st.sampled_from(LAYOUTS),
    blank_every=st.integers(1, 4),
    spaces=st.sampled_from([" ", "  ", "\t", "\u3000"]),
)
def test_blank_lines_and_stray_spaces_between_paragraphs(
    seed: int, layout: str, blank_every: int, spaces: str
) -> None:
    plain = generate_notice(seed, Style(), layout)
    lines = plain.text.split("\n")
    noisy = []
    for k, line in enumerate(lines):
        noisy.append(spaces + line + spaces if line else line)
        if k % blank_every == 0:
            noisy.append(spaces if k % 2 else "")
    a = parse_notice(plain.text)
    b = parse_notice("\n".join(noisy))
    assert shape(a) == shape(b)


def test_a_corpus_of_200_reads_as_generated() -> None:
    failures = []
    for notice in generate_corpus(200, seed=1):
        diff = compare_reading(parse_notice(notice.text, name=notice.name), notice.expected)
        if diff:
            failures.append(f"{notice.name}: {diff}")
    assert not failures, "\n".join(failures[:5])
