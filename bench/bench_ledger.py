"""The ledger at volume on PostgreSQL: export, the upload's bounds check, read, preview.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench .venv/bin/python \
        bench/bench_ledger.py [--tasks 100000] [--note-chars 120] [--edits 1000] [--runs 3]

Builds a scratch database "<name>_bench_ledger" next to DATABASE_URL's (tables straight from
the models, like the test suite), fills it with ``manage.py generate_demo`` (``--tasks`` tasks,
a measure and a full history each), gives every task a progress note of ``--note-chars``
characters (generated tasks have none; offices write a few lines), and drops it at the end.

Then, as the generated supervisor (everything in scope): exports the ledger as XLSX, edits
``--edits`` progress notes and statuses the way a spreadsheet would (openpyxl, a full load and
save), and times what the upload page runs on that file: ``spreadsheet.check_xlsx`` (zip
directory, every XML member streamed through expat), ``ledger.read_ledger`` (check + openpyxl
read-only, values only) and ``ledger.preview`` (a fixed number of queries whatever the rows).
Prints each timing (median and best of ``--runs``), the file's size packed and unpacked, peak
RSS, and the load average before and after, so a figure taken on a busy machine shows it.
The upload page must answer within a worker's timeout (gunicorn's default: 30 s).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rectify")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

# Measure what production runs: DEBUG off (no SQL kept per query); DEBUG=true above only lets
# the settings load without a SECRET_KEY.
settings.DEBUG = False

from tracker import ledger, spreadsheet  # noqa: E402
from tracker.models import Task  # noqa: E402
from tracker.permissions import Access  # noqa: E402


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _reset_peak() -> None:
    """Start the peak RSS afresh (Linux: writing 5 to clear_refs resets VmHWM), so each step's
    peak is its own, not the spreadsheet edit's before it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


CPU: dict[str, list[float]] = {}


def _time(fn: Callable[[], object], runs: int, label: str = "") -> tuple[list[float], object]:
    """Wall-clock seconds per run (and this process's CPU seconds, kept under ``label``: on a
    busy machine the CPU time is the figure that compares)."""
    timings, result = [], None
    _reset_peak()
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        timings.append(time.perf_counter() - start)
        CPU.setdefault(label, []).append(time.process_time() - cpu)
    return timings, result


def _report(label: str, timings: list[float], cpu: list[float] | None = None) -> None:
    cpu = cpu if cpu is not None else CPU.get(label, [])
    cpu_text = f"   cpu {statistics.median(cpu):7.2f} s" if cpu else ""
    print(
        f"{label:42s} median {statistics.median(timings):7.2f} s   best {min(timings):7.2f} s"
        f"{cpu_text}   (peak RSS {_rss_mb():6.0f} MB)",
        flush=True,
    )


def _edit(data: bytes, edits: int) -> bytes:
    """What an office does in a spreadsheet: a new note and a status on ``edits`` rows, saved
    in UTF-8 as Excel and LibreOffice save (openpyxl alone would store every Chinese character
    as an 8-byte character reference, a file twice the size no office sends)."""
    from openpyxl import load_workbook

    spreadsheet.utf8_sheets()

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    note, status = headers.index("进展情况") + 1, headers.index("整改状态") + 1
    for row in range(2, min(edits, sheet.max_row - 1) + 2):
        sheet.cell(row=row, column=note, value=f"台账导入的新进展 {row}")
        if sheet.cell(row=row, column=status).value == "未启动":
            sheet.cell(row=row, column=status, value="整改中")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fill(tasks: int, note_chars: int) -> None:
    print(f"{_load()}; generating {tasks} tasks …", flush=True)
    start = time.perf_counter()
    call_command(
        "generate_demo",
        tasks=tasks,
        units=max(10, tasks // 500),
        inspections=max(1, tasks // 1000),
        seed=1,
        stdout=io.StringIO(),
    )
    if note_chars:
        # Scratch data for the benchmark, written directly: a note per task, varied by its id.
        body = "按照整改要求,已完成阶段性工作,建立长效机制,持续推进落实。"
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tracker_task SET progress = left(repeat(%s, %s) || id::text, %s)",
                [body, note_chars // len(body) + 1, note_chars],
            )
    print(f"generated in {time.perf_counter() - start:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--note-chars", type=int, default=120)
    ap.add_argument("--edits", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile read_ledger and preview")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database for next time")
    args = ap.parse_args(argv)
    if connection.vendor != "postgresql":
        print("DATABASE_URL must point at PostgreSQL", file=sys.stderr)
        return 2

    db = settings.DATABASES["default"]
    db["TEST"].update({"NAME": f"{db['NAME']}_bench_ledger", "MIGRATE": False})
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            pg = cursor.fetchone()[0].split(" on ")[0]
        print(f"python {platform.python_version()}, {pg}, {os.cpu_count()} CPUs")
        if not (args.keep and Task.objects.count() == args.tasks):
            _fill(args.tasks, args.note_chars)
        access = Access(get_user_model().objects.get(username="supervisor"))
        tasks = access.tasks()
        print(f"{Task.objects.count()} tasks; {_load()}", flush=True)

        label = "export_xlsx (all tasks)"
        timings, data = _time(lambda: ledger.export_xlsx(tasks), 1, label)
        _report(label, timings)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            exported = sum(m.file_size for m in archive.infolist())
        print(f"export: {len(data) / 1e6:.1f} MB, unpacked {exported / 1e6:.1f} MB")
        # In a process of its own: openpyxl's full load of the sheet takes hundreds of MB, which
        # would stay in this process and hide the upload's own memory.
        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
            data = pool.submit(_edit, data, args.edits).result()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(m.file_size for m in archive.infolist())
            sheet = max(archive.infolist(), key=lambda m: m.file_size)
        print(
            f"file: {len(data) / 1e6:.1f} MB, unpacked {unpacked / 1e6:.1f} MB "
            f"(largest member {sheet.filename}: {sheet.file_size / 1e6:.1f} MB, "
            f"ratio {sheet.file_size / sheet.compress_size:.1f}:1)"
        )
        # The benchmark measures speed, not the bounds: let a ledger of any size through (the
        # README says which XLSX_MAX_UNCOMPRESSED_MB a ledger of this many rows needs).
        limits = spreadsheet.Limits(uncompressed_bytes=max(unpacked, 1) * 2)
        settings.RECTIFY["XLSX_MAX_UNCOMPRESSED_BYTES"] = limits.uncompressed_bytes

        label = "check_xlsx (bounds, before parsing)"
        timings, _none = _time(
            lambda: spreadsheet.check_xlsx(data, "bench.xlsx", limits), args.runs, label
        )
        _report(label, timings)
        label = "read_ledger (check + openpyxl)"
        read_timings, rows = _time(lambda: ledger.read_ledger(data, "bench.xlsx"), args.runs, label)
        _report(label, read_timings)
        label = "preview"
        preview_timings, preview = _time(lambda: ledger.preview(access, rows), args.runs, label)
        _report(label, preview_timings)
        if args.profile:
            import cProfile
            import pstats

            for label, fn in (
                ("read_ledger", lambda: ledger.read_ledger(data, "b.xlsx")),
                ("preview", lambda: ledger.preview(access, rows)),
            ):
                print(f"--- profile: {label}")
                profile = cProfile.Profile()
                profile.runcall(fn)
                pstats.Stats(profile).sort_stats("tottime").print_stats(15)
        total = [r + p for r, p in zip(read_timings, preview_timings, strict=True)]
        cpu = [
            r + p
            for r, p in zip(CPU["read_ledger (check + openpyxl)"], CPU["preview"], strict=True)
        ]
        _report("upload page work (read_ledger + preview)", total, cpu)
        print(
            f"{len(rows)} rows, {preview.change_count} changes, {len(preview.errors)} rows with "
            f"errors, {len(preview.conflicts)} conflicts; {_load()}"
        )
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
