"""Parser throughput: the five seeds repeatedly, then a generated corpus of 1,000 notices.

    .venv/bin/python bench/bench_parse.py [--repeat 100] [--corpus 1000] [--seed 0]

Prints notices/s and MB/s for each set (best of --runs timed runs, after a warm-up), and how
many generated notices read exactly as their generator says. Target: >= 500 notices/s.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

# The repository root, for `tests` and `tracker` (pytest-django adds it too; plain pytest may not).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.notice_corpus import compare_reading, generate_corpus
from tracker.importer.parser import parse_notice, read_notice

ROOT = Path(__file__).resolve().parent.parent


def _time(texts: list[str], runs: int) -> list[float]:
    for text in texts[: min(len(texts), 50)]:  # warm-up (regex caches, imports)
        parse_notice(text)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for text in texts:
            parse_notice(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    return rates


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=100, help="passes over the five seeds")
    ap.add_argument("--corpus", type=int, default=1000, help="generated notices")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    seeds = [read_notice(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    seed_texts = seeds * args.repeat
    t0 = time.perf_counter()
    corpus = generate_corpus(args.corpus, seed=args.seed)
    gen_s = time.perf_counter() - t0
    corpus_texts = [n.text for n in corpus]

    correct = sum(
        compare_reading(parse_notice(n.text, name=n.name), n.expected) is None for n in corpus
    )

    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    for label, texts in (
        (f"seeds ({len(seeds)} x {args.repeat})", seed_texts),
        (f"generated corpus ({len(corpus_texts)})", corpus_texts),
    ):
        rates = _time(texts, args.runs)
        size = sum(len(t.encode()) for t in texts) / len(texts)
        best, median = max(rates), statistics.median(rates)
        print(
            f"{label:28s} best {best:7.0f} notices/s  median {median:7.0f} notices/s  "
            f"({best * size / 1e6:5.1f} MB/s, mean {size / 1024:.1f} KiB/notice)"
        )
    print(f"generated corpus read exactly as generated: {correct}/{len(corpus)}")
    print(f"corpus generation: {len(corpus) / gen_s:.0f} notices/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
