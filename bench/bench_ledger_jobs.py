"""The ledger's background jobs at volume on PostgreSQL: what the requests take that hand a large
ledger to a job, and what the jobs then take in the worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench .venv/bin/python \
        bench/bench_ledger_jobs.py [--tasks 100000] [--edits 1000]

The scratch database and its data are bench_ledger.py's (``--tasks`` generated tasks with a
progress note each). As the generated supervisor, through Django's test client (the whole
request: middleware, session, view): GET /ledger/export/?fmt=xlsx (creates the export job),
then the export job itself (``ledger_jobs.run``, what the Celery task calls); the same for an
upload of that file with ``--edits`` rows edited (POST /ledger/upload/, the preview job), and
its confirm (POST /ledger/confirm/, the apply job). Prints each time and the load average.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import _edit, _fill, _load  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from tracker import ledger_jobs  # noqa: E402
from tracker.models import LedgerJob, Task  # noqa: E402


def _timed(label: str, fn):
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:56s} {wall:7.2f} s  cpu {cpu:6.2f} s  ({_load()})", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--note-chars", type=int, default=120)
    ap.add_argument("--edits", type=int, default=1000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    if connection.vendor != "postgresql":
        print("DATABASE_URL must point at PostgreSQL", file=sys.stderr)
        return 2
    db = settings.DATABASES["default"]
    db["TEST"].update({"NAME": f"{db['NAME']}_bench_ledger", "MIGRATE": False})
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    setup_test_environment()  # the client's responses then carry their template context
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.RECTIFY["XLSX_MAX_UNCOMPRESSED_BYTES"] = 1024 * 1024 * 1024
    try:
        if not (args.keep and Task.objects.count() == args.tasks):
            _fill(args.tasks, args.note_chars)
        client = Client()
        client.force_login(get_user_model().objects.get(username="supervisor"))
        print(f"{Task.objects.count()} tasks; LEDGER_SYNC_ROWS={ledger_jobs.threshold()}")

        client.get(reverse("tracker:dashboard"))  # the first request's imports, not the export's
        for _ in range(2):
            response = _timed(
                "request: GET /ledger/export/?fmt=xlsx (creates the job)",
                lambda: client.get(reverse("tracker:ledger_export") + "?fmt=xlsx"),
            )
            assert response.status_code == 302, response.status_code
        job = LedgerJob.objects.latest("pk")
        _timed("job: export (worker)", lambda: ledger_jobs.run(job.pk))
        job.refresh_from_db()
        print(f"  {job.status}, {job.done}/{job.total} rows {job.error}")
        data = ledger_jobs.result_file(job).read_bytes()
        print(f"  {len(data) / 1e6:.1f} MB; estimated rows {ledger_jobs.estimated_rows(data)}")

        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
            data = pool.submit(_edit, data, args.edits).result()
        file = io.BytesIO(data)
        file.name = "bench.xlsx"
        response = _timed(
            "request: POST /ledger/upload/ (creates the job)",
            lambda: client.post(reverse("tracker:ledger_upload"), {"file": file}),
        )
        assert response.status_code == 302, response.status_code
        job = LedgerJob.objects.latest("pk")
        _timed("job: upload preview (worker)", lambda: ledger_jobs.run(job.pk))
        job.refresh_from_db()
        print(f"  {job.status}, {job.done}/{job.total} rows {job.error}")
        response = _timed(
            "request: GET the finished preview's page",
            lambda: client.get(reverse("tracker:ledger_job", args=[job.pk])),
        )
        preview = response.context["preview"]
        print(f"  {preview.row_count} rows, {preview.change_count} changes")
        response = _timed(
            "request: POST /ledger/confirm/ (creates the job)",
            lambda: client.post(
                reverse("tracker:ledger_confirm"), {"token": response.context["token"]}
            ),
        )
        assert response.status_code == 302, response.status_code
        job = LedgerJob.objects.latest("pk")
        _timed("job: apply (worker)", lambda: ledger_jobs.run(job.pk))
        job.refresh_from_db()
        print(f"  {job.status}: {job.result} {job.error}")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
