"""Page latency under load: gunicorn + PostgreSQL, 20 concurrent users (locust), p50/p95.

Reproduce (about ten minutes, most of it generating data):

    createdb -h 127.0.0.1 -U postgres rectify_bench
    export DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_demo --tasks 1000000 --units 2000 --inspections 1000
    psql -h 127.0.0.1 -U postgres -d rectify_bench -c 'VACUUM ANALYZE'
    .venv/bin/python bench/bench_pages.py --users 20 --duration 60

What it does: makes a superuser ``bench`` (sees everything, like a supervisor over all; the
admin needs a staff user), samples unit, inspection and task ids, starts gunicorn on the
benchmark database (DEBUG off, as in production), measures the cold dashboard once (empty
cache, right after start), then runs locust headless and prints a Markdown table of p50/p95
per page, the app's pages beside Django's stock admin changelist as the reference.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-password-only"

SETUP = """
from django.contrib.auth import get_user_model
from django.db.models import Max, Min
from tracker.models import Inspection, Task, Unit
user, _ = get_user_model().objects.get_or_create(username="bench")
user.is_staff = user.is_superuser = True
user.set_password({password!r})
user.save()
span = Task.objects.aggregate(lo=Min("id"), hi=Max("id"))
units = list(Unit.objects.order_by("?").values_list("id", flat=True)[:50])
inspections = list(Inspection.objects.order_by("?").values_list("id", flat=True)[:200])
print("BENCH", span["lo"], span["hi"], ",".join(map(str, units)), ",".join(map(str, inspections)))
print("BENCH-COUNT", Task.objects.count())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rectify_bench"),
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--warmup", type=int, default=15, help="seconds of unmeasured load before each group"
    )
    parser.add_argument("--csv-prefix", default="/tmp/rectify-bench")
    parser.add_argument(
        "--groups",
        default="dashboard,admin-dashboard,list,admin-list,page,admin-page",
        help="locust tags to run, one group after the other",
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # One cache shared by the workers (as in production), empty at start so that the cold
        # figure is cold even right after another run.
        "CACHE_URL": os.environ.get("CACHE_URL")
        or "file://" + tempfile.mkdtemp(prefix="rectify-bench-cache-"),
    }
    out = subprocess.run(
        [str(PYTHON), "manage.py", "shell", "-c", SETUP.format(password=PASSWORD)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    # The shell prints a banner first; our two lines are tagged.
    _tag, task_min, task_max, units, inspections = next(
        line for line in out if line.startswith("BENCH ")
    ).split(" ")
    n_tasks = int(next(line for line in out if line.startswith("BENCH-COUNT")).split()[1])
    print(f"{n_tasks:,} tasks; task ids {task_min}..{task_max}", file=sys.stderr)

    _prewarm(args.database_url)
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "rectify.wsgi",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    host = f"http://127.0.0.1:{args.port}"
    try:
        _wait_for(host + "/accounts/login/")
        cold, session = _cold_dashboard(host, args.users)
        locust_env = {
            **env,
            "BENCH_USER": "bench",
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_TASK_MIN": task_min,
            "BENCH_TASK_MAX": task_max,
            "BENCH_UNIT_IDS": units,
            "BENCH_INSPECTION_IDS": inspections,
            "BENCH_SESSION": session,
        }
        load_before = os.getloadavg()
        # One run per page group, so a slow page does not queue the others' requests; each
        # group has its admin reference in the same run.
        for group in args.groups.split(","):
            # First an unmeasured run of the same group: every gunicorn thread opens its
            # database connection and prepares its statements, the pages' rows come into
            # memory; then the measured run. A production server is warm the same way.
            _locust(host, group, args.users, args.warmup, None, locust_env)
            _locust(
                host, group, args.users, args.duration, f"{args.csv_prefix}-{group}", locust_env
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    _report(args, n_tasks, cold, load_before, os.getloadavg())


def _locust(host: str, group: str, users: int, seconds: int, csv_prefix, env: dict) -> None:
    if seconds <= 0:
        return
    extra = ["--csv", csv_prefix] if csv_prefix else []
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            host,
            "--tags",
            group,
            *extra,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _prewarm(database_url: str) -> None:
    """Read the benchmark database's tables and indexes into the OS cache (pg_prewarm, 'read'
    mode), as they are on a server that has been running: otherwise the first minutes measure
    the disk. Skipped with a note when the extension is not available."""
    sql = (
        "CREATE EXTENSION IF NOT EXISTS pg_prewarm; "
        "SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
    )
    done = subprocess.run(["psql", database_url, "-qAt", "-c", sql], capture_output=True, text=True)
    if done.returncode:
        print(f"pg_prewarm skipped: {done.stderr.strip()}", file=sys.stderr)


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310  (our own local server)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _login(host: str) -> str:
    """A fresh session id for the bench user (one per simulated user: a shared session row
    would serialise every request on its per-request session save)."""
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(host + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        host + "/accounts/login/", data=data, headers={"Referer": host + "/accounts/login/"}
    )
    opener.open(request).read()
    return next(c.value for c in jar if c.name == "sessionid")


def _cold_dashboard(host: str, users: int) -> tuple[float, str]:
    """One dashboard request on an empty cache (what the first visitor after a change waits),
    then warm-up, then one logged-in session per simulated user."""
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(host + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        host + "/accounts/login/", data=data, headers={"Referer": host + "/accounts/login/"}
    )
    opener.open(request).read()
    started = time.perf_counter()
    opener.open(host + "/dashboard/").read()
    cold = (time.perf_counter() - started) * 1000
    # Warm-up (the cache is shared, but a worker may still be computing): fetch the all-scope
    # page a few times before the measured run (its cold cost is reported on its own line).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: opener.open(host + "/dashboard/").read(), range(16)))
    return cold, ",".join(_login(host) for _ in range(users))


def _report(args, n_tasks: int, cold_ms: float, load_before, load_after) -> None:
    print()
    print(
        f"{n_tasks:,} tasks · {args.users} users · {args.duration}s per group · gunicorn "
        f"{args.workers} workers × {args.threads} threads · {os.cpu_count()} cores"
    )
    print()
    print("| group | page | requests | failures | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for group in args.groups.split(","):
        path = f"{args.csv_prefix}-{group}_stats.csv"
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["Name"] in ("login", "Aggregated"):
                continue
            print(
                f"| {group} | {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
                f"{row['50%']} | {row['95%']} | {row['99%']} | "
                f"{float(row['Max Response Time']):.0f} |"
            )
    print()
    print(f"Cold dashboard (empty cache, first request after a change): {cold_ms:.0f} ms")
    # Other work on the machine shows here: the figures are only as quiet as the host was.
    print(
        "Load average before / after: "
        + " ".join(f"{x:.2f}" for x in load_before)
        + " / "
        + " ".join(f"{x:.2f}" for x in load_after)
    )


if __name__ == "__main__":
    main()
