"""Importer throughput into PostgreSQL: the five seeds, then a generated corpus of 1,000 notices.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench .venv/bin/python \
        bench/bench_import.py [--runs 5] [--corpus 1000] [--seed 0]

Builds a scratch database "<name>_bench_import" next to DATABASE_URL's (tables straight from
the models, like the test suite), and drops it at the end. Each timed run starts from empty
tables and imports every notice end to end: decode → parse → match → write, one transaction
per notice, tasks and their history through tracker.actions. Prints notices/s (median and best
over --runs) and the rows written. Target: >= 50 notices/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rectify")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

# Measure what the import command and the admin upload run in production: DEBUG off, i.e. no
# CursorDebugWrapper formatting and keeping every SQL string (DEBUG=true above only lets the
# settings load without a SECRET_KEY).
settings.DEBUG = False

from tests.notice_corpus import generate_corpus  # noqa: E402
from tracker.importer.loader import import_text  # noqa: E402
from tracker.importer.parser import read_notice  # noqa: E402
from tracker.models import Inspection, Problem, SourceNotice, Task, TaskEvent  # noqa: E402

TABLES = (
    "tracker_taskevent",
    "tracker_measure",
    "tracker_task_responsible_units",
    "tracker_task",
    "tracker_problem_sources",
    "tracker_problem",
    "tracker_noticereport",
    "tracker_sourcenotice",
    "tracker_inspection",
    "tracker_unit",
    "tracker_organization",
)


def _empty() -> None:
    with connection.cursor() as cursor:
        # TRUNCATE, not DELETE: history is append-only (a trigger refuses row deletes).
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def _import_all(notices: list[tuple[str, str]]) -> float:
    start = time.perf_counter()
    for name, text in notices:
        import_text(text, file_name=name)
    return time.perf_counter() - start


def _rows() -> str:
    return (
        f"{Inspection.objects.count()} inspections, {Problem.objects.count()} problems, "
        f"{Task.objects.count()} tasks, {TaskEvent.objects.count()} events, "
        f"{SourceNotice.objects.count()} notices"
    )


def _bench(label: str, notices: list[tuple[str, str]], runs: int) -> None:
    rates, task_rates = [], []
    for _ in range(runs):
        _empty()
        elapsed = _import_all(notices)
        rates.append(len(notices) / elapsed)
        # Notices differ a lot in length (a seed has 29 tasks on average, a generated notice 8):
        # tasks/s is the figure that compares across inputs.
        task_rates.append(Task.objects.count() / elapsed)
    rows = _rows()
    again = _import_all(notices)  # everything already there: all skipped (sha256)
    print(
        f"{label:30s} median {statistics.median(rates):6.0f} notices/s  "
        f"best {max(rates):6.0f} notices/s  "
        f"(median {statistics.median(task_rates):5.0f} tasks/s)   ({rows})"
    )
    print(f"{'':30s} re-import, all skipped: {len(notices) / again:6.0f} notices/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if connection.vendor != "postgresql":
        print("DATABASE_URL must point at PostgreSQL", file=sys.stderr)
        return 2

    db = settings.DATABASES["default"]
    db["TEST"].update({"NAME": f"{db['NAME']}_bench_import", "MIGRATE": False})
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            pg = cursor.fetchone()[0].split(" on ")[0]
        print(f"python {platform.python_version()}, {pg}, {os.cpu_count()} CPUs")
        seeds = [(p.name, read_notice(p)) for p in sorted((ROOT / "seeds").glob("*.txt"))]
        _bench(f"seeds ({len(seeds)} notices)", seeds, args.runs)
        corpus = [(n.name, n.text) for n in generate_corpus(args.corpus, seed=args.seed)]
        _bench(f"generated corpus ({len(corpus)})", corpus, max(1, args.runs // 2))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
