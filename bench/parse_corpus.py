"""How well the parser reads the notices whose correct reading is written down.

    .venv/bin/python bench/parse_corpus.py [--per-file] [--markdown]

Reads every notice of tests/notices/ (expected readings in tests/notices/expected.json) and the
five seeds (tests/seeds_expected.json), and reports precision, recall and F1 of:

- leaves: the leaf problems (one task each), matched by inspection and folded title;
- statuses: (leaf, status) pairs for the leaves whose status is printed;
- metadata: published date, title and issuer of each notice where the expected reading states
  them, and organization (by core name), round, group, period and feedback date of each
  inspection;
- declared: the totals a notice states about itself, (key, value) pairs of each inspection
  (on the seeds, only the keys their expected reading lists, as seeds/README.md says: it does
  not list every figure the seeds state).

A notice the parser refuses counts as nothing found. Only the standard library and the parser.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository root, for `tracker` (the project is not installed).
sys.path.insert(0, str(ROOT))

from tracker.importer.parser import NoticeParseError, parse_notice, read_notice  # noqa: E402
from tracker.importer.text import core_org_name, strip_trailing_punct  # noqa: E402

# (label, folder, expected readings, title and issuer where kept apart from the readings)
SETS = (
    (
        "tests/notices",
        ROOT / "tests" / "notices",
        ROOT / "tests" / "notices" / "expected.json",
        None,
    ),
    (
        "seeds",
        ROOT / "seeds",
        ROOT / "tests" / "seeds_expected.json",
        ROOT / "tests" / "seeds_metadata.json",
    ),
)
KINDS = ("leaves", "statuses", "metadata", "declared")
INSPECTION_FIELDS = ("round", "group", "start", "end", "feedback")


def fold(text: str | None) -> str:
    return strip_trailing_punct(unicodedata.normalize("NFKC", text or "")).replace(" ", "")


@dataclass
class Score:
    """Counts of one kind: found by the parser, expected, and found correctly."""

    got: int = 0
    expected: int = 0
    correct: int = 0

    def add(self, got: Counter, expected: Counter) -> None:
        self.got += sum(got.values())
        self.expected += sum(expected.values())
        self.correct += sum((got & expected).values())

    @property
    def precision(self) -> float:
        return self.correct / self.got if self.got else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in KINDS})
    files: int = 0
    exact: int = 0

    def merge(self, other: Report) -> None:
        for k in KINDS:
            for attr in ("got", "expected", "correct"):
                setattr(
                    self.scores[k],
                    attr,
                    getattr(self.scores[k], attr) + getattr(other.scores[k], attr),
                )
        self.files += other.files
        self.exact += other.exact


def _leaves(problems: list[dict]) -> list[dict]:
    out = []
    for p in problems:
        if p.get("kind") != "category" and not p["children"]:
            out.append(p)
        out.extend(_leaves(p["children"]))
    return out


def _pair_inspections(got: list[dict], exp: list[dict]) -> list[tuple[dict | None, dict]]:
    """Each expected inspection with the parsed one of the same organization (else by order)."""
    pairs: list[tuple[dict | None, dict]] = []
    free = list(range(len(got)))
    for n, e in enumerate(exp):
        core = core_org_name(e["organization"])
        match = next((k for k in free if core in got[k]["_names"]), None)
        if match is None and n in free:
            match = n
        if match is not None:
            free.remove(match)
        pairs.append((got[match] if match is not None else None, e))
    return pairs


def score_notice(
    notice_json: dict | None, expected: dict, declared_keys_only: bool = False
) -> dict[str, tuple[Counter, Counter]]:
    """(found, expected) multisets of each kind for one notice."""
    out = {k: (Counter(), Counter()) for k in KINDS}

    def put(kind: str, got_items, exp_items) -> None:
        out[kind][0].update(got_items)
        out[kind][1].update(exp_items)

    got_notice = notice_json or {"inspections": []}
    for key in ("published", "title", "issuer"):
        if key in expected and expected[key] is not None:
            exp_v = fold(expected[key])
            got_v = fold(got_notice.get(key)) if got_notice.get(key) else None
            put("metadata", [(key, got_v)] if got_v else [], [(key, exp_v)])
    pairs = _pair_inspections(got_notice["inspections"], expected["inspections"])
    for n, (gi, ei) in enumerate(pairs):
        gi = gi or {"problems": [], "declared": {}, "_names": set(), "organization": None}
        exp_meta = [("organization", core_org_name(ei["organization"]))]
        got_meta = []
        if gi["organization"]:
            core = core_org_name(ei["organization"])
            got_meta.append(
                (
                    "organization",
                    core if core in gi["_names"] else core_org_name(gi["organization"]),
                )
            )
        for key in INSPECTION_FIELDS:
            if ei.get(key) is not None:
                exp_meta.append((key, ei[key]))
            if gi.get(key) is not None:
                got_meta.append((key, gi[key]))
        put("metadata", got_meta, exp_meta)
        put(
            "declared",
            [
                (k, v)
                for k, v in gi["declared"].items()
                if not declared_keys_only or k in ei["declared"]
            ],
            [(k, v) for k, v in ei["declared"].items()],
        )
        g_leaves, e_leaves = _leaves(gi["problems"]), _leaves(ei["problems"])
        put(
            "leaves",
            [(n, fold(x["title"])) for x in g_leaves],
            [(n, fold(x["title"])) for x in e_leaves],
        )
        put(
            "statuses",
            [(n, fold(x["title"]), x["status"]) for x in g_leaves if x["status"]],
            [(n, fold(x["title"]), x["status"]) for x in e_leaves if x["status"]],
        )
    # Inspections the parser found beyond the expected ones count against precision.
    paired = {id(g) for g, _e in pairs if g is not None}
    for gi in got_notice["inspections"]:
        if id(gi) not in paired:
            put("leaves", [(-1, fold(x["title"])) for x in _leaves(gi["problems"])], [])
            put("metadata", [("organization", core_org_name(gi["organization"]))], [])
    return out


def parse_to_json(path: Path) -> dict | None:
    try:
        notice = parse_notice(read_notice(path), name=path.name)
    except NoticeParseError:
        return None
    data = notice.to_json()
    data["title"] = notice.title
    data["issuer"] = notice.issuer
    for gi, pi in zip(data["inspections"], notice.inspections, strict=True):
        gi["_names"] = {core_org_name(pi.organization), *(core_org_name(a) for a in pi.aliases)}
    return data


def load_expected(expected_file: Path, metadata_file: Path | None = None) -> dict:
    """Expected readings by file name, with title and issuer merged in from ``metadata_file``."""
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    if metadata_file is not None:
        for name, meta in json.loads(metadata_file.read_text(encoding="utf-8")).items():
            if not name.startswith("_"):
                expected[name] = {**expected[name], **meta}
    return expected


def score_set(
    folder: Path, expected_file: Path, metadata_file: Path | None = None, per_file: bool = False
) -> Report:
    from tests.notice_corpus import compare_reading

    expected = load_expected(expected_file, metadata_file)
    report = Report()
    for name in sorted(k for k in expected if not k.startswith("_")):
        path = folder / name
        data = parse_to_json(path)
        counts = score_notice(data, expected[name], declared_keys_only=metadata_file is not None)
        one = Report()
        for kind, (got, exp) in counts.items():
            one.scores[kind].add(got, exp)
        one.files = 1
        if data is not None:
            notice = parse_notice(read_notice(path), name=name)
            diff = compare_reading(notice, expected[name])
            meta_ok = all(
                fold(expected[name][k]) == fold(data.get(k))
                for k in ("title", "issuer")
                if expected[name].get(k)
            )
            one.exact = int(diff is None and meta_ok)
        else:
            diff = "refused"
        if per_file:
            figures = "  ".join(f"{k} {one.scores[k].f1:.3f}" for k in KINDS)
            print(f"{name:42s} {figures}  {'exact' if one.exact else diff or 'title/issuer'}")
        report.merge(one)
    return report


def _table(rows: list[tuple[str, Report]]) -> str:
    lines = [
        "| notices | kind | found | expected | correct | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, report in rows:
        for kind in KINDS:
            s = report.scores[kind]
            lines.append(
                f"| {label} ({report.files}, {report.exact} exact) | {kind} | {s.got} | "
                f"{s.expected} | {s.correct} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-file", action="store_true", help="one line per notice")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    rows = []
    total = Report()
    for label, folder, expected_file, metadata_file in SETS:
        report = score_set(folder, expected_file, metadata_file, per_file=args.per_file)
        rows.append((label, report))
        total.merge(report)
    rows.append(("all", total))
    if args.markdown:
        print(_table(rows))
    else:
        for label, report in rows:
            print(f"{label}: {report.files} notices, {report.exact} read exactly")
            for kind in KINDS:
                s = report.scores[kind]
                print(
                    f"  {kind:9s} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
                    f"({s.correct} of {s.expected} expected, {s.got} found)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
