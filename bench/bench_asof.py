"""The dashboard's figures for today against the same figures for a past as-of day (统计日期),
rebuilt from history, on the same rows, interleaved run by run (the machines are shared: the
ratio holds where absolute times do not), with the load average printed.

Reproduce:

    createdb -h 127.0.0.1 -U postgres rectify_asof
    export DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_asof
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_demo --tasks 100000 --units 200 --inspections 100
    psql -h 127.0.0.1 -U postgres -d rectify_asof -c 'VACUUM ANALYZE'
    .venv/bin/python bench/bench_asof.py --runs 5 --days-ago 30

Each run computes ``selectors.dashboard`` without the cache for the whole database (a
supervisor over all organizations), once for today and once for the past day.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from tracker import selectors  # noqa: E402
from tracker.models import Task, local_today  # noqa: E402


def once(day: datetime.date) -> float:
    start = time.perf_counter()
    selectors.dashboard(Task.objects.all(), day, use_cache=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days-ago", type=int, default=30)
    args = parser.parse_args()
    today = local_today()
    past = today - datetime.timedelta(days=args.days_ago)
    print(f"tasks: {Task.objects.count():,}; load average before: {os.getloadavg()}")
    once(today)  # warm the database's cache
    once(past)
    times: dict[str, list[float]] = {"today": [], "past": []}
    for _ in range(args.runs):
        times["today"].append(once(today))
        times["past"].append(once(past))
    print(f"load average after: {os.getloadavg()}")
    print("| as-of day | median s | min s | max s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        label = "today" if name == "today" else f"{args.days_ago} days ago ({past})"
        print(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )
    ratio = statistics.median(times["past"]) / statistics.median(times["today"])
    print(f"past / today (medians): {ratio:.1f}x")


if __name__ == "__main__":
    main()
