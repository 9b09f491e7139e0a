"""Large ledgers as background work: an export, an upload's preview, or applying a confirmed
upload, run by a Celery worker (``tracker.tasks.run_ledger_job``) instead of in the request.

A request whose ledger is past ``RECTIFY["LEDGER_SYNC_ROWS"]`` (the filtered tasks of an export,
the rows of an upload) creates a ``LedgerJob`` for its user and queues the job's id; the user
waits on the job's page (it refreshes itself; ``status/`` answers the same in JSON). Smaller
ledgers are answered in the request, as before.

The worker claims the job first (an UPDATE that only one worker wins), so running a job twice,
or two workers getting it, does it once. It works as the job's user, with that user's ``Access``
read afresh: the export is built from the same filters by the same code as the synchronous one,
and the upload's preview and apply are ``tracker.ledger.preview`` / ``apply``, which go through
``tracker.actions`` with the uploading user as the actor. A preview's result (the notable rows,
their count, and the versions and digest the confirm is held to) is kept as a JSON file; the
confirm step is the one of the synchronous preview (the session holds the same token, versions
and digest).

Result files (MEDIA_ROOT/ledger-jobs/) go when the user starts another job of the same kind,
and at the latest ``KEEP`` after the job finished (``purge``, run hourly by beat).
"""

from __future__ import annotations

import datetime
import io
import json
import re
import secrets
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation

from tracker import ledger
from tracker.models import LedgerJob
from tracker.permissions import Access

KEEP = datetime.timedelta(hours=24)
# A job claimed this long ago whose worker never finished it (killed, lost) is run again.
LEASE = datetime.timedelta(minutes=15)
BYTES_PER_ROW = 300  # an upload whose sheet gives no dimension: rows estimated from its size


def threshold() -> int:
    return settings.RECTIFY["LEDGER_SYNC_ROWS"]


def job_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "ledger-jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- creating jobs (in the request) ---------------------------------------------------------


def _start(user, kind: str, params: dict, total: int = 0) -> LedgerJob:
    _drop_results(user, kind)
    job = LedgerJob.objects.create(user=user, kind=kind, params=params, total=total)
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    from tracker.tasks import run_ledger_job

    run_ledger_job.delay(job_id)


def start_export(user, query: str, fmt: str, today: datetime.date, total: int) -> LedgerJob:
    params = {
        "query": query,
        "fmt": "csv" if fmt == "csv" else "xlsx",
        "today": today.isoformat(),
        "language": translation.get_language(),
    }
    return _start(user, LedgerJob.Kind.EXPORT, params, total)


def start_preview(user, token: str, name: str, rows: int) -> LedgerJob:
    params = {"token": token, "name": name, "language": translation.get_language()}
    return _start(user, LedgerJob.Kind.PREVIEW, params, rows)


def start_apply(user, pending: dict) -> LedgerJob:
    params = {
        "token": pending["token"],
        "name": pending["name"],
        "versions": pending.get("versions", {}),
        "digest": pending.get("digest", ""),
        "language": translation.get_language(),
    }
    return _start(user, LedgerJob.Kind.APPLY, params)


def estimated_rows(data: bytes) -> int:
    """About how many rows an uploaded XLSX has, without parsing it: the last row of each
    worksheet's ``<dimension>`` (Excel, LibreOffice and openpyxl write it first), else its
    size. 0 for a file that is not a zip (the synchronous path then says what is wrong)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0
    rows = 0
    with archive:
        for member in archive.infolist():
            if not re.match(r"xl/worksheets/[^/]+\.xml$", member.filename):
                continue
            try:
                with archive.open(member) as stream:
                    head = stream.read(4096).decode("utf-8", "replace")
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
                return 0
            match = re.search(r'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
            if match and match.group(1):
                rows = max(rows, int(match.group(1)))
            else:  # an estimate never refuses (only a sheet's own claim does, when read)
                estimate = member.file_size // BYTES_PER_ROW
                rows = max(rows, min(estimate, settings.RECTIFY["XLSX_MAX_ROWS"]))
    return rows


# --- running jobs (in the worker) -----------------------------------------------------------


def _lost(now: datetime.datetime) -> Q:
    """Running jobs whose worker has shown no sign of life (its start or its last progress
    report) for a whole LEASE: lost, to be run again."""
    return Q(status=LedgerJob.Status.RUNNING) & (
        Q(heartbeat_at__lt=now - LEASE) | Q(heartbeat_at__isnull=True, started_at__lt=now - LEASE)
    )


def claim(job_id: int) -> bool:
    """Take the job for this run: only one caller wins a queued job (or a lost one)."""
    now = timezone.now()
    return bool(
        LedgerJob.objects.filter(pk=job_id)
        .filter(Q(status=LedgerJob.Status.QUEUED) | _lost(now))
        .update(status=LedgerJob.Status.RUNNING, started_at=now, heartbeat_at=now, done=0)
    )


def run(job_id: int) -> str:
    """Do the job if this run claims it; returns its status afterwards (or "skipped")."""
    if not claim(job_id):
        return "skipped"
    job = LedgerJob.objects.select_related("user").get(pk=job_id)
    runner = {
        LedgerJob.Kind.EXPORT: _export,
        LedgerJob.Kind.PREVIEW: _preview,
        LedgerJob.Kind.APPLY: _apply,
    }[job.kind]
    try:
        with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
            error = runner(job)
    except Exception as exc:
        _finish(job, LedgerJob.Status.FAILED, error=str(exc)[:2000] or exc.__class__.__name__)
        raise
    if error:
        _finish(job, LedgerJob.Status.FAILED, error=error)
    else:
        _finish(job, LedgerJob.Status.DONE)
    return job.status


def _finish(job: LedgerJob, status: str, error: str = "") -> None:
    job.status, job.error, job.finished_at = status, error, timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "result", "result_path", "total"])
    if status == LedgerJob.Status.DONE:
        LedgerJob.objects.filter(pk=job.pk).update(done=job.total)


def _progress(job: LedgerJob):
    def report(done: int) -> None:  # how far, and alive: the lease runs on from now
        LedgerJob.objects.filter(pk=job.pk).update(done=done, heartbeat_at=timezone.now())

    return report


def _result_file(job: LedgerJob, suffix: str) -> Path:
    path = job_dir() / f"{job.pk}-{secrets.token_hex(8)}.{suffix}"
    job.result_path = path.name
    return path


def export_tasks(access: Access, data: QueryDict):
    """The tasks the ledger export gives this user for these parameters, and the day it is
    judged on: an invalid filter (a value outside the scope) exports nothing, as the task list
    lists none. The one rule of the export view and of its background job."""
    from tracker.filtersets import TaskFilterSet

    filterset = TaskFilterSet(data or None, queryset=access.tasks(), access=access)
    invalid = filterset.is_bound and not filterset.is_valid()
    return (filterset.queryset.none() if invalid else filterset.qs), filterset.today()


def _export(job: LedgerJob) -> str:
    access = Access(job.user)
    if not job.user.is_active or not access.may_see_dashboard:
        return translation.gettext("您已无权导出台账。")
    tasks, _today = export_tasks(access, QueryDict(job.params.get("query", "")))
    job.total = tasks.count()
    LedgerJob.objects.filter(pk=job.pk).update(total=job.total)
    today = datetime.date.fromisoformat(job.params["today"])
    fmt = job.params.get("fmt", "xlsx")
    path = _result_file(job, fmt)
    progress = _progress(job)
    if fmt == "csv":
        with path.open("wb") as out:
            for chunk in ledger.export_csv(tasks, today, progress):
                out.write(chunk)
    else:
        path.write_bytes(ledger.export_xlsx(tasks, today, progress))
    job.result = {"filename": f"ledger-{today.strftime('%Y%m%d')}.{fmt}"}
    return ""


def _staged(job: LedgerJob) -> Path:
    from tracker.views import staging

    token = job.params["token"]
    if not re.fullmatch(r"[0-9a-f]{32}", token):
        raise ValueError(token)
    return staging.staging_dir("ledger") / f"{token}.xlsx"


def _preview(job: LedgerJob) -> str:
    access = Access(job.user)
    if not job.user.is_active or not access.may_upload_ledger:
        return translation.gettext("您已无权导入台账。")
    try:
        rows = ledger.read_ledger(_staged(job).read_bytes(), job.params["name"])
    except OSError:
        return translation.gettext("台账文件已失效,请重新上传。")
    except ledger.LedgerError as exc:
        return str(exc)
    job.total = len(rows)
    LedgerJob.objects.filter(pk=job.pk).update(total=job.total)
    result = ledger.preview(access, rows)
    path = _result_file(job, "json")
    path.write_text(json.dumps(preview_data(result), ensure_ascii=False), encoding="utf-8")
    job.result = {
        "versions": {str(k): v for k, v in result.versions.items()},
        "digest": result.digest,
    }
    return ""


def _apply(job: LedgerJob) -> str:
    from tracker.actions import ActionError

    access = Access(job.user)
    if not job.user.is_active or not access.may_upload_ledger:
        return translation.gettext("您已无权导入台账。")
    staged = _staged(job)
    name = job.params["name"]
    try:
        rows = ledger.read_ledger(staged.read_bytes(), name)
        job.total = len(rows)
        LedgerJob.objects.filter(pk=job.pk).update(total=job.total)
        versions = {int(k): v for k, v in job.params.get("versions", {}).items()}
        applied = ledger.apply(
            access, rows, name, versions=versions, digest=job.params.get("digest", "")
        )
    except (ledger.LedgerError, OSError):
        return translation.gettext("台账文件已失效,请重新上传。")
    except ActionError as exc:
        return translation.gettext("未导入任何修改:%s") % exc
    finally:
        staged.unlink(missing_ok=True)
    job.result = {"applied": applied}
    return ""


# --- a preview kept as JSON -----------------------------------------------------------------


def preview_data(result: ledger.Preview) -> dict:
    """What the preview page shows: the notable rows (every row with a change, a refusal, a
    conflict, an error or a warning) and the number of rows."""

    def change(c: ledger.Change) -> list:
        return [c.label, c.old, c.new, c.reason]

    return {
        "total_rows": len(result.rows),
        "missing_version": result.missing_version,
        "rows": [
            {
                "number": r.number,
                "task_id": r.task_id,
                "title": r.title,
                "version": r.version,
                "changes": [change(c) for c in r.changes],
                "refused": [change(c) for c in r.refused],
                "conflict": r.conflict,
                "errors": r.errors,
                "warnings": r.warnings,
            }
            for r in result.notable
        ],
    }


def stored_preview(job: LedgerJob) -> ledger.Preview | None:
    """The job's preview as the preview page reads it, or None if its file is gone."""
    if not job.result_path:
        return None
    try:
        data = json.loads((job_dir() / Path(job.result_path).name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

    def change(values: list) -> ledger.Change:
        label, old, new, reason = values
        return ledger.Change(label, old, new, None, "", label=label, reason=reason)

    rows = [
        ledger.RowPreview(
            number=r["number"],
            task_id=r["task_id"],
            title=r["title"],
            version=r["version"],
            changes=[change(c) for c in r["changes"]],
            refused=[change(c) for c in r["refused"]],
            conflict=r["conflict"],
            errors=r["errors"],
            warnings=r["warnings"],
        )
        for r in data["rows"]
    ]
    return ledger.Preview(rows, data["missing_version"], total_rows=data["total_rows"])


# --- files ----------------------------------------------------------------------------------


def result_file(job: LedgerJob) -> Path | None:
    if not job.result_path:
        return None
    path = job_dir() / Path(job.result_path).name
    return path if path.is_file() else None


def _drop_results(user, kind: str) -> None:
    """A new job replaces the user's earlier results of its kind: their files go."""
    earlier = LedgerJob.objects.filter(user=user, kind=kind).exclude(result_path="")
    earlier = earlier.filter(status__in=[LedgerJob.Status.DONE, LedgerJob.Status.FAILED])
    _delete_files(earlier)


def _delete_files(jobs) -> int:
    count = 0
    for job in list(jobs.only("pk", "result_path")):
        (job_dir() / Path(job.result_path).name).unlink(missing_ok=True)
        LedgerJob.objects.filter(pk=job.pk).update(result_path="")
        count += 1
    return count


def purge(now: datetime.datetime | None = None) -> dict:
    """Delete result files of jobs finished more than KEEP ago (and the uploads their previews
    staged, if never confirmed); queue again jobs whose worker was lost (lease run out)."""
    now = now or timezone.now()
    old = LedgerJob.objects.filter(finished_at__lt=now - KEEP)
    for job in old.filter(kind=LedgerJob.Kind.PREVIEW).exclude(params__token=None):
        try:
            _staged(job).unlink(missing_ok=True)
        except (KeyError, ValueError):
            pass
    deleted = _delete_files(old.exclude(result_path=""))
    lost = list(LedgerJob.objects.filter(_lost(now)).values_list("pk", flat=True))
    for job_id in lost:
        _queue(job_id)
    return {"deleted": deleted, "requeued": len(lost)}
