"""Reminder sweep at scale: 1,000,000 tasks, 100,000 overdue, across 2,000 units.

    .venv/bin/python bench/bench_sweep.py [--tasks 1000000] [--overdue 100000] [--units 2000]
                                          [--senders 2] [--keep]

Builds its own PostgreSQL database (``rectify_bench_sweep``; schema from the models, data with
``INSERT … SELECT generate_series``), starts a counting SMTP sink (aiosmtpd, a separate
process), then times the sweep: plan (select + tiers + recipients + log rows) and deliver
(claim, render, send one digest per recipient over batched SMTP connections) with ``--senders``
processes claiming disjoint batches, as that many Celery workers would. Prints the EXPLAIN of
the selection, the phase timings, and checks that the sink received one email per recipient.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "rectify_bench_sweep"
PG = "postgres://postgres@127.0.0.1:5432"


def _setup_django(port: int) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "rectify.settings",
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"{PG}/{DB}",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "REMINDER_BATCH_SIZE": os.environ.get("REMINDER_BATCH_SIZE", "200"),
        }
    )
    import django

    django.setup()


def sink(port: int, count_file: str) -> None:
    """A counting SMTP sink (run in its own process so it does not share our GIL)."""
    from aiosmtpd.controller import Controller

    class Counter:
        n = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.n += 1
            if Counter.n % 100 == 0:
                Path(count_file).write_text(str(Counter.n))
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(0.2)
            Path(count_file).write_text(str(Counter.n))
    finally:
        controller.stop()


def build(tasks: int, overdue: int, units: int, today: datetime.date) -> None:
    """Recreate the database and fill it with SQL (seconds, not minutes)."""
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    from django.apps import apps
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
    orgs = max(units // 10, 1)
    # Tasks go round the units; one round in `every` is overdue, so each unit has its share.
    every = tasks // overdue
    sql = f"""
    INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                           is_staff, is_active, date_joined)
      SELECT g, '!', false, 'u' || g, '', '', 'u' || g || '@example.org', false, true, now()
      FROM generate_series(1, {units * 2 + orgs * 2}) g;
    INSERT INTO tracker_organization (id, name, short_name, core_name, aliases, principal_name,
                                      principal_id)
      SELECT g, '组织' || g, '', '组织' || g, '[]', '', {units * 2} + g
      FROM generate_series(1, {orgs}) g;
    INSERT INTO tracker_unit (id, organization_id, name, is_self, lead_name, contact_emails)
      SELECT g, 1 + (g - 1) % {orgs}, '单位' || g, false, '',
             CASE WHEN g % 50 = 0 THEN '' ELSE 'unit' || g || '@example.org' END
      FROM generate_series(1, {units}) g;
    INSERT INTO tracker_membership (user_id, unit_id, role)
      SELECT g, g, 'clerk' FROM generate_series(1, {units}) g;
    INSERT INTO tracker_membership (user_id, unit_id, role)
      SELECT {units} + g, g, 'lead' FROM generate_series(1, {units}) g;
    INSERT INTO tracker_scopeassignment (user_id, role, organization_id, all_organizations)
      SELECT {units * 2 + orgs} + g, 'supervisor', g, false FROM generate_series(1, {orgs}) g;
    INSERT INTO tracker_inspection (id, organization_id, level, term, round_no, round_name, kind,
        "group", start_precision, end_precision, feedback_date, feedback_precision, declared,
        created_at)
      SELECT g, g, 'city', '', '', '', 'regular', '', 'day', 'day', DATE '{today}' - 120, 'day',
             '{{}}', now()
      FROM generate_series(1, {orgs}) g;
    INSERT INTO tracker_problem (id, inspection_id, parent_id, kind, label, "order", title,
                                 title_key, detail)
      SELECT g, 1 + ((g - 1) % {units}) % {orgs}, NULL, 'problem', g || '.', g,
             '问题' || g || ':落实主体责任不到位', '问题' || g, ''
      FROM generate_series(1, {tasks}) g;
    INSERT INTO tracker_task (id, problem_id, inspection_id, owner_unit_id, lead_unit_id,
        lead_leader_name, lead_leader_id, task_type, status, deadline, original_deadline,
        report_due_on, progress, status_changed_at, closed_at, version, created_at, updated_at)
      SELECT g, g, 1 + ((g - 1) % {units}) % {orgs}, 1 + (g - 1) % {units}, NULL, '', NULL,
             CASE WHEN ((g - 1) / {units}) % 1000 = 2 THEN 'long_term' ELSE 'deadline' END,
             CASE WHEN ((g - 1) / {units}) % {every} = 0 OR ((g - 1) / {units}) % 100 = 1
                       OR ((g - 1) / {units}) % 1000 = 2
                  THEN 'in_progress' ELSE 'completed' END,
             CASE WHEN ((g - 1) / {units}) % 1000 = 2 THEN NULL
                  WHEN ((g - 1) / {units}) % {every} = 0
                  THEN DATE '{today}' - (1 + ((g - 1) / {units} / {every}) % 60)
                  WHEN ((g - 1) / {units}) % 100 = 1 THEN DATE '{today}' + (25 + g % 300)
                  ELSE DATE '{today}' - (g % 90) END,
             NULL,
             -- One round of 长期坚持 tasks (one per unit) has its progress report due.
             CASE WHEN ((g - 1) / {units}) % 1000 = 2 THEN DATE '{today}' - (g % 7) END,
             '', now(), NULL, 1, now(), now()
      FROM generate_series(1, {tasks}) g;
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for table in ("auth_user", "tracker_unit", "tracker_task", "tracker_problem"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE")


def reset() -> None:
    """Start the sweep from nothing on an existing database (``--skip-build``): recreate the
    reminder tables and the task history from the current models, add missing Task indexes."""
    from django.db import connection

    from tracker.models import ReminderDigest, ReminderLog, ReminderSweep, Task, TaskEvent

    with connection.schema_editor() as editor:
        for model in (ReminderLog, ReminderDigest, ReminderSweep):
            editor.execute(f"DROP TABLE IF EXISTS {model._meta.db_table} CASCADE")
        for model in (ReminderSweep, ReminderDigest, ReminderLog):
            editor.create_model(model)
        editor.execute(f"TRUNCATE {TaskEvent._meta.db_table}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'tracker_task'")
            existing = {row[0] for row in cursor.fetchall()}
        for index in Task._meta.indexes:
            if index.name not in existing:
                editor.add_index(Task, index)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tracker_task")


def explain(today: datetime.date) -> str:
    from django.db import connection

    from tracker import reminders

    qs = reminders.candidate_tasks(today, reminders.Policy.from_settings())
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _sender(today: datetime.date, port: int, out) -> None:
    _setup_django(port)
    from tracker import reminders

    report = reminders.deliver(today)
    out.put(len(report.sent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--overdue", type=int, default=100_000)
    ap.add_argument("--units", type=int, default=2_000)
    ap.add_argument("--senders", type=int, default=3)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before timing, wait (up to 10 min) until the 1-minute load average is below this",
    )
    args = ap.parse_args(argv)

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    count_file = f"/tmp/bench_sweep_sink_{port}"
    sink_process = multiprocessing.Process(target=sink, args=(port, count_file), daemon=True)
    sink_process.start()
    _setup_django(port)
    from django.db import connection

    from tracker import reminders
    from tracker.models import ReminderDigest, ReminderLog, TaskEvent, local_today

    today = local_today()
    if not args.skip_build:
        t = time.perf_counter()
        build(args.tasks, args.overdue, args.units, today)
        print(f"built {args.tasks:,} tasks in {time.perf_counter() - t:.1f}s")
        if args.build_only:
            sink_process.terminate()
            return 0
    else:
        reset()
    print(explain(today))
    time.sleep(0.5)
    waited = time.monotonic()
    while args.wait_idle and os.getloadavg()[0] >= args.wait_idle:
        if time.monotonic() - waited > 600:
            print(f"machine still busy after 10 min (load {os.getloadavg()[0]:.2f}); timing anyway")
            break
        time.sleep(5)
    print("load average before the sweep: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    loads: list[float] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(2):
            loads.append(os.getloadavg()[0])

    threading.Thread(target=sample, daemon=True).start()

    start = time.perf_counter()
    plan = reminders.collect(today)
    t_collect = time.perf_counter() - start
    print(f"collect {t_collect:.1f}s: {len(plan.reminders):,} reminders", flush=True)
    reminders.record(plan)
    t_plan = time.perf_counter() - start
    connection.close()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    senders = [
        multiprocessing.Process(target=_sender, args=(today, port, queue))
        for _ in range(args.senders)
    ]
    for p in senders:
        p.start()
    sent = sum(queue.get() for _ in senders)
    for p in senders:
        p.join()
    total = time.perf_counter() - start
    time.sleep(0.5)
    received = int(Path(count_file).read_text() or 0)
    digests = ReminderDigest.objects.count()
    print(
        f"tasks in a tier: {plan.tasks:,}; reminders (log rows): {ReminderLog.objects.count():,}; "
        f"digests: {digests:,}; timeline events: {TaskEvent.objects.count():,}"
    )
    print(
        f"collect {t_collect:.1f}s, plan total {t_plan:.1f}s, deliver {total - t_plan:.1f}s "
        f"({args.senders} senders), sweep total {total:.1f}s"
    )
    print(
        f"sent {sent:,}; SMTP sink received {received:,}; one per recipient: {received == digests}"
    )
    sampling.set()
    print("load average after the sweep: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if loads:
        print(
            f"1-min load average during the sweep: max {max(loads):.2f}, mean "
            f"{sum(loads) / len(loads):.2f} (2 cores; the sweep itself accounts for ~2-3)"
        )
    sink_process.terminate()
    return 0 if received == digests == sent else 1


if __name__ == "__main__":
    sys.exit(main())
