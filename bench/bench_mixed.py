"""Mixed load at a million tasks, and list throughput against Django's stock admin.

Two parts, one invocation, one code state (the report prints ``git diff --stat``):

1. Throughput, closed loop: 10 clients with no think time ask for one unit's 整改中 tasks of
   (A) rectify's task list ``/?owner_unit=<id>&status=in_progress``, (B) the stock admin
   changelist of the reference project in ``bench/stock_admin/``
   ``/admin/stock/task/?owner_unit__id__exact=<id>&status__exact=in_progress`` (the same rows,
   copied) and (C) rectify's own admin changelist with the same filter; run A/B/C/A/B/C (each
   after an unmeasured warm-up), requests per second and p50/p95 from locust, the load average
   before and after each run.
2. Mixed load: 20 readers (dashboard for everything and per inspection, filtered lists, task
   pages; 0.5–1.5 s think time) while 2 writers change task status and add notes through the
   task page (1 change per second each: 2 per second), and one probe that every 5 s makes a
   change and then times the first dashboard request after it, and a bare
   ``SELECT count(*) FROM tracker_task`` on the same database, at the same moment.

Reproduce (rectify's benchmark database as in bench_pages.py, then the reference copy):

    createdb -h 127.0.0.1 -U postgres rectify_stock
    cd bench/stock_admin
    STOCK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_stock ../../.venv/bin/python \\
        manage.py migrate
    STOCK_DATABASE_URL=… ../../.venv/bin/python manage.py copy_from_rectify \\
        --from postgres://postgres@127.0.0.1:5432/rectify_bench
    cd ../..
    .venv/bin/python bench/bench_mixed.py --database-url postgres://…/rectify_bench \\
        --stock-database-url postgres://…/rectify_stock

This file is also the locustfile of its runs (the user classes below are defined only when
locust imports it), so bench_pages.py's ``locustfile.py`` is unchanged for its own runs.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-password-only"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = """
from django.contrib.auth import get_user_model
from django.db.models import Max, Min
user, _ = get_user_model().objects.get_or_create(username="bench")
user.is_staff = user.is_superuser = True
user.set_password({password!r})
user.save()
{extra}
"""

RECTIFY_SAMPLE = """
from tracker import figures
from tracker.models import Inspection, Task, Unit, local_today
# As the nightly task leaves them (tracker.tasks.roll_figures): today's figures, tidied.
figures.ready(local_today())
figures.tidy()
span = Task.objects.aggregate(lo=Min("id"), hi=Max("id"))
# Units that own 整改中 work (the like-for-like filter), the same ids in the reference copy.
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
    parser.add_argument(
        "--stock-database-url",
        default=os.environ.get(
            "STOCK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rectify_stock"
        ),
    )
    # The README's production command: gunicorn's sync workers, four of them.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (both servers)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument(
        "--worker-tmp-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else "",
        help="gunicorn's heartbeat files (the README's production command: /dev/shm, memory; "
        "'' for gunicorn's default, the temporary directory on disk)",
    )
    parser.add_argument("--clients", type=int, default=10, help="throughput clients")
    parser.add_argument("--rounds", type=int, default=2, help="A/B/C rounds of throughput")
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured seconds before each")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--mixed-seconds", type=int, default=60)
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=5,
        help="mixed load: users started per second, measured once all run "
        "(0: all at once, measured from their first requests, as runs before 2026-12-03)",
    )
    parser.add_argument("--skip", default="", help="comma-separated: throughput, mixed")
    parser.add_argument(
        "--runs", default="ABC", help="which throughput runs, in order per round (A, B, C)"
    )
    parser.add_argument("--csv-prefix", default="/tmp/rectify-mixed")
    parser.add_argument("--out", default="", help="also write the Markdown report here")
    parser.add_argument(
        "--code", default="", help="what code is measured, when ROOT is not a git checkout"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    base_env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
    }
    # The production cache is Redis; a file cache in a directory of this run's own (removed
    # at the end) unless CACHE_URL is given.
    cache_dir = None if os.environ.get("CACHE_URL") else tempfile.mkdtemp(prefix="rectify-mixed-")
    env = {
        **base_env,
        "DATABASE_URL": args.database_url,
        "PYTHONPATH": str(ROOT),
        "CACHE_URL": os.environ.get("CACHE_URL") or f"file://{cache_dir}",
    }
    stock_dir = ROOT / "bench" / "stock_admin"
    stock_env = {
        **base_env,
        "STOCK_DATABASE_URL": args.stock_database_url,
        "PYTHONPATH": str(stock_dir),
        "DJANGO_SETTINGS_MODULE": "stock_site.settings",
    }
    out = _shell(ROOT, env, SETUP.format(password=PASSWORD, extra=RECTIFY_SAMPLE))
    _tag, task_min, task_max, units, inspections = next(
        line for line in out if line.startswith("BENCH ")
    ).split(" ")
    n_tasks = int(next(line for line in out if line.startswith("BENCH-COUNT")).split()[1])
    stock_count = _shell(
        stock_dir,
        stock_env,
        SETUP.format(
            password=PASSWORD,
            extra="from stock.models import Task\nprint('BENCH-COUNT', Task.objects.count())",
        ),
    )
    n_stock = int(next(line for line in stock_count if line.startswith("BENCH-COUNT")).split()[1])
    print(f"{n_tasks:,} tasks (reference copy: {n_stock:,})", file=sys.stderr)

    rectify = _serve(["rectify.wsgi"], ROOT, env, 8765, args)
    stock = _serve(["stock_site.wsgi"], stock_dir, stock_env, 8766, args)
    lines: list[str] = []
    try:
        _wait_for("http://127.0.0.1:8765/accounts/login/")
        _wait_for("http://127.0.0.1:8766/admin/login/")
        sessions = [_login("http://127.0.0.1:8765", "/accounts/login/") for _ in range(24)]
        stock_sessions = [_login("http://127.0.0.1:8766", "/admin/login/") for _ in range(10)]
        locust_env = {
            **env,
            "BENCH_TASK_MIN": task_min,
            "BENCH_TASK_MAX": task_max,
            "BENCH_UNIT_IDS": units,
            "BENCH_INSPECTION_IDS": inspections,
            "BENCH_SESSION": ",".join(sessions),
            "BENCH_STOCK_SESSION": ",".join(stock_sessions),
            "BENCH_DATABASE_URL": args.database_url,
        }
        lines += _header(args, n_tasks, n_stock)
        if "throughput" not in skip:
            lines += _throughput(args, locust_env)
        if "mixed" not in skip:
            lines += _mixed(args, locust_env)
    finally:
        for server in (rectify, stock):
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # still answering queued requests
                server.kill()
                server.wait(timeout=30)
        if cache_dir:
            shutil.rmtree(cache_dir, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


def _shell(cwd: Path, env: dict, code: str) -> list[str]:
    return subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", code],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()


def _serve(app: list[str], cwd: Path, env: dict, port: int, args) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *app,
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--bind",
            f"127.0.0.1:{port}",
            *(["--worker-tmp-dir", args.worker_tmp_dir] if args.worker_tmp_dir else []),
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
    )


def _wait_for(url: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310  (our own local server)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _login(host: str, path: str) -> str:
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(host + path).read().decode()
    token = CSRF_RE.search(page).group(1)
    data = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(host + path, data=data, headers={"Referer": host + path})
    try:
        opener.open(request).read()
    except urllib.error.HTTPError:
        pass  # the redirect target (e.g. the reference project's "/") need not exist
    return next(c.value for c in jar if c.name == "sessionid")


def _locust(
    classes: list[str],
    host: str,
    users: int,
    seconds: int,
    prefix,
    env: dict,
    spawn_rate: float | None = None,
) -> None:
    """Run locust headless. With ``spawn_rate``, users start that many per second and the
    statistics are reset once all of them run (``seconds`` is then counted from that moment):
    the run measures the steady load, not the instant its users were started."""
    extra = ["--csv", prefix] if prefix else []
    if spawn_rate:
        extra.append("--reset-stats")
        seconds += int(users / spawn_rate) + 1
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(Path(__file__).resolve()),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate or users),
            "--run-time",
            f"{seconds}s",
            "--host",
            host,
            *extra,
            "--only-summary",
            "--loglevel",
            "WARNING",
            *classes,
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stats(prefix: str) -> list[dict]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


THROUGHPUT = [
    ("A", "rectify · task list (unit, 整改中)", "ListClient", "http://127.0.0.1:8765"),
    ("B", "stock admin · changelist (unit, in progress)", "StockClient", "http://127.0.0.1:8766"),
    ("C", "rectify admin · task changelist (unit, 整改中)", "AdminClient", "http://127.0.0.1:8765"),
]


def _throughput(args, env: dict) -> list[str]:
    rows, rps = [], {}
    for round_ in range(1, args.rounds + 1):
        for letter, label, cls, host in sorted(
            (run for run in THROUGHPUT if run[0] in args.runs), key=lambda r: args.runs.index(r[0])
        ):
            _locust([cls], host, args.clients, args.warmup, None, env)
            before = _load()
            started = time.strftime("%H:%M:%S")
            prefix = f"{args.csv_prefix}-rps-{letter}{round_}"
            _locust([cls], host, args.clients, args.seconds, prefix, env)
            agg = next(r for r in _stats(prefix) if r["Name"] == "Aggregated")
            value = float(agg["Requests/s"])
            rps.setdefault(letter, []).append(value)
            rows.append(
                f"| {letter}{round_} {started} | {label} | {agg['Request Count']} | "
                f"{agg['Failure Count']} | {value:.1f} | {agg['50%']} | {agg['95%']} | "
                f"{before} / {_load()} |"
            )
    lines = [
        "",
        f"### Throughput: {args.clients} clients, no think time, {args.seconds} s per run",
        "",
        "| run | page | requests | failures | req/s | p50 ms | p95 ms | load before / after |",
        "|---|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
    ]
    mean = {k: sum(v) / len(v) for k, v in rps.items()}
    if mean.get("B") and {"A", "C"} <= set(mean):
        lines.append(
            f"Mean req/s: A {mean['A']:.1f}, B {mean['B']:.1f}, C {mean['C']:.1f}; "
            f"A/B = {mean['A'] / mean['B']:.1f}×, C/B = {mean['C'] / mean['B']:.1f}× "
            "(per round: "
            + ", ".join(
                f"{a / b:.1f}× / {c / b:.1f}×"
                for a, b, c in zip(rps["A"], rps["B"], rps["C"], strict=True)
            )
            + ")."
        )
    return lines


def _mixed(args, env: dict) -> list[str]:
    users = args.readers + 3  # readers, 2 writers, 1 probe (fixed counts)
    mixed_env = {**env, "BENCH_READERS": str(args.readers)}
    classes = ["Reader", "Writer", "Probe"]
    host = "http://127.0.0.1:8765"
    _locust(classes, host, users, 15, None, mixed_env)
    before, started = _load(), time.strftime("%H:%M:%S")
    prefix = f"{args.csv_prefix}-mixed"
    _locust(classes, host, users, args.mixed_seconds, prefix, mixed_env, args.spawn_rate)
    after = _load()
    lines = [
        "",
        f"### Mixed load: {args.readers} readers + 2 writers (2 changes/s) + 1 probe, "
        f"{args.mixed_seconds} s from {started}",
        "",
        (
            f"Users started {args.spawn_rate:g} per second; measured from the moment all ran."
            if args.spawn_rate
            else "Users started all at once; measured from their first requests."
        ),
        "",
        "| page | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in _stats(prefix):
        if row["Name"] == "Aggregated":
            continue
        lines.append(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
            f"{row['50%']} | {row['95%']} | {row['99%']} | "
            f"{float(row['Max Response Time']):.0f} |"
        )
    changes = sum(
        int(r["Request Count"]) for r in _stats(prefix) if r["Name"].startswith("change ·")
    )
    lines += [
        "",
        f"Changes: {changes} in {args.mixed_seconds} s ({changes / args.mixed_seconds:.2f}/s, "
        "writers and probe). Load average before / after: " + f"{before} / {after}.",
    ]
    return lines


def _header(args, n_tasks: int, n_stock: int) -> list[str]:
    diff = subprocess.run(
        ["git", "diff", "--stat", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    head = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"## Run {time.strftime('%Y-%m-%d %H:%M')} UTC: {n_tasks:,} tasks (reference copy "
        f"{n_stock:,}), gunicorn {args.workers} workers × {args.threads} threads per server "
        f"(heartbeat files in {args.worker_tmp_dir or 'the temporary directory'}), "
        f"{os.cpu_count()} cores, load average {_load()}",
        "",
        f"Code: `{head or args.code or 'not a git checkout'}` plus",
        "",
        "```",
        diff.strip() or "(no uncommitted changes)",
        "```",
    ]


# --- locust users (defined only when locust imports this file) ----------------------------------

if __name__ != "__main__":
    import itertools
    import random

    from locust import FastHttpUser, between, constant, constant_throughput, events, task

    TASK_MIN = int(os.environ.get("BENCH_TASK_MIN", "1"))
    TASK_MAX = int(os.environ.get("BENCH_TASK_MAX", "1"))
    UNITS = [int(x) for x in os.environ.get("BENCH_UNIT_IDS", "1").split(",")]
    INSPECTIONS = [int(x) for x in os.environ.get("BENCH_INSPECTION_IDS", "1").split(",")]
    SESSIONS = os.environ.get("BENCH_SESSION", "").split(",")
    STOCK_SESSIONS = os.environ.get("BENCH_STOCK_SESSION", "").split(",")
    _numbers = itertools.count()
    VERSION_RE = re.compile(r'name="version" value="(\d+)"')
    STATUS_RE = re.compile(r'<select name="status"[^>]*>(.*?)</select>', re.S)
    OPTION_RE = re.compile(r'<option value="([a-z_]+)"( selected)?')
    MEASURE_RE = re.compile(r'name="measures" value="(\d+)"[^>]*?( checked)?>')
    NA_RE = re.compile(r'name="(na_\d+)"(?: value="([^"]*)")?')
    CSRF_SECRET = "benchcsrfsecret0123456789abcdefg"  # 32 letters and digits

    class _Client(FastHttpUser):
        abstract = True
        sessions = SESSIONS

        def on_start(self) -> None:
            number = next(_numbers)
            self.cookie = {"Cookie": "sessionid=" + self.sessions[number % len(self.sessions)]}

        def get(self, url: str, name: str):
            with self.client.get(
                url, name=name, headers=self.cookie, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(str(response.status_code))
                return response

    class ListClient(_Client):
        wait_time = constant(0)

        @task
        def unit_in_progress(self) -> None:
            self.get(
                f"/?owner_unit={random.choice(UNITS)}&status=in_progress",
                "task list · unit, 整改中",
            )

    class AdminClient(_Client):
        wait_time = constant(0)

        @task
        def unit_in_progress(self) -> None:
            self.get(
                f"/admin/tracker/task/?owner_unit__id__exact={random.choice(UNITS)}"
                "&status__exact=in_progress",
                "rectify admin · changelist (unit, 整改中)",
            )

    class StockClient(_Client):
        wait_time = constant(0)
        sessions = STOCK_SESSIONS

        @task
        def unit_in_progress(self) -> None:
            self.get(
                f"/admin/stock/task/?owner_unit__id__exact={random.choice(UNITS)}"
                "&status__exact=in_progress",
                "stock admin · changelist (unit, in progress)",
            )

    class Reader(_Client):
        fixed_count = int(os.environ.get("BENCH_READERS", "20"))
        wait_time = between(0.5, 1.5)

        @task(3)
        def dashboard_all(self) -> None:
            self.get("/dashboard/", "dashboard · all")

        @task(2)
        def dashboard_inspection(self) -> None:
            self.get(
                f"/dashboard/?inspection={random.choice(INSPECTIONS)}", "dashboard · inspection"
            )

        @task(2)
        def list_unit(self) -> None:
            self.get(
                f"/?owner_unit={random.choice(UNITS)}&status=in_progress", "list · unit, 整改中"
            )

        @task(2)
        def list_overdue(self) -> None:
            self.get("/?overdue=true", "list · all overdue")

        @task(3)
        def task_page(self) -> None:
            self.get(f"/tasks/{random.randint(TASK_MIN, TASK_MAX)}/", "task page")

    def change_task(user: _Client, name: str) -> bool:
        """Open a random task's page and save progress through its form: a note, and every
        other time a status move (整改中 ↔ 未启动) when the form offers it. A closed task has
        no progress form: the next random one is opened (up to five), so each call makes one
        change, as a clerk who opened the wrong task would."""
        for _attempt in range(5):
            pk = random.randint(TASK_MIN, TASK_MAX)
            page = user.get(f"/tasks/{pk}/", "task page (writer)")
            text = page.text or ""
            version = VERSION_RE.search(text)
            # (The other forms of a closed task carry a version too.)
            if version and f"/tasks/{pk}/progress/" in text:
                break
        else:
            return False
        # Django accepts the unmasked secret as the form token when it equals the cookie.
        data = [("csrfmiddlewaretoken", CSRF_SECRET), ("version", version.group(1))]
        data.append(("note", f"bench note {time.time():.3f}"))
        status = STATUS_RE.search(text)
        current, offered = "", []
        if status:
            for value, selected in OPTION_RE.findall(status.group(1)):
                offered.append(value)
                current = value if selected else current
        target = {"in_progress": "not_started", "not_started": "in_progress"}.get(current)
        kind = "note"
        if target in offered and random.random() < 0.5:
            data.append(("status", target))
            kind = "status"
        elif current:
            data.append(("status", current))
        data += [("measures", m) for m, checked in MEASURE_RE.findall(text) if checked]
        data += [(na, value or "") for na, value in NA_RE.findall(text)]
        with user.client.post(
            f"/tasks/{pk}/progress/",
            data=urllib.parse.urlencode(data),
            headers={
                "Cookie": user.cookie["Cookie"] + "; csrftoken=" + CSRF_SECRET,
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": user.host + f"/tasks/{pk}/",
            },
            name=f"change · {kind}",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(str(response.status_code))
                return False
        return True

    class Writer(_Client):
        fixed_count = 2
        wait_time = constant_throughput(1)

        @task
        def change(self) -> None:
            change_task(self, "writer")

    class Probe(_Client):
        """Every 5 s: a bare count(*) of the task table on the same database (what a dashboard
        that counted would pay), then a change, then the first dashboard request after it."""

        fixed_count = 1
        wait_time = constant(5)

        def on_start(self) -> None:
            super().on_start()
            import psycopg

            self.db = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)

        @task
        def probe(self) -> None:
            # The count first: it is measured even when a saturated server never answers the
            # change or the dashboard within the run.
            started = time.perf_counter()
            with self.db.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM tracker_task")
                cursor.fetchone()
            events.request.fire(
                request_type="SQL",
                name="bare count(*) of tracker_task",
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=None,
                context={},
            )
            if change_task(self, "probe"):
                self.get("/dashboard/", "dashboard · first after a change")


if __name__ == "__main__":
    main()
