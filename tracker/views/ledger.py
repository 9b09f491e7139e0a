"""The ledger (整改台账): export for the current filter, upload with a preview, confirm.

The uploaded file is kept under MEDIA_ROOT/ledger-uploads/ between preview and confirm (named
by a random token held in the session with what the preview would apply: the rows' task versions
and a digest of their changes), so the confirm step re-reads exactly what was previewed and
refuses, keeping nothing, if a task changed meanwhile or the upload would now do anything else.
Which changes a user may make is decided by tracker.permissions and tracker.actions, never here.

A ledger past ``RECTIFY["LEDGER_SYNC_ROWS"]`` (the export's tasks, the upload's rows, the
confirm of such an upload) is handed to a background job (tracker.ledger_jobs): the request
answers with the job's page, which shows its progress, then the download, the preview (with the
same confirm form) or what was imported. A job is its user's alone: anyone else's answers 404.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tracker import ledger, ledger_jobs
from tracker.actions import ActionError
from tracker.models import LedgerJob, local_today
from tracker.permissions import access_for
from tracker.views import staging

SESSION_KEY = "rectify_ledger_upload"


def _upload_dir() -> Path:
    return staging.staging_dir("ledger")


class LedgerUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("台账文件(.xlsx)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        staging.check_size(upload)
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(gettext_lazy("请上传 .xlsx 格式的台账"))
        return upload


@login_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The tasks of the current filter (the dashboard's or the task list's), as XLSX or CSV."""
    access = access_for(request)
    if not access.may_see_dashboard:  # no role, no ledger: 404 as the dashboard answers
        raise Http404("No ledger for this user.")
    tasks, today = ledger_jobs.export_tasks(access, request.GET)
    count = tasks.count()
    if count > ledger_jobs.threshold():
        job = ledger_jobs.start_export(
            request.user, request.GET.urlencode(), request.GET.get("fmt", "xlsx"), today, count
        )
        return redirect("tracker:ledger_job", job.pk)
    stamp = today.strftime("%Y%m%d")
    if request.GET.get("fmt") == "csv":
        response = StreamingHttpResponse(
            ledger.export_csv(tasks, today), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.csv"'
        return response
    response = HttpResponse(
        ledger.export_xlsx(tasks, today),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.xlsx"'
    return response


@login_required
def ledger_upload(request: HttpRequest) -> HttpResponse:
    """Upload an edited ledger and see, row by row, what it would change and what is wrong."""
    access = access_for(request)
    if not access.may_upload_ledger:
        raise Http404("No ledger upload for this user.")
    form = LedgerUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            name = Path(upload.name).name[:200]
            estimate = ledger_jobs.estimated_rows(data)
            # Past the row bound it is refused below at once, whatever it would take to read.
            if ledger_jobs.threshold() < estimate <= settings.RECTIFY["XLSX_MAX_ROWS"]:
                # Read and previewed by a worker; the confirm then starts an apply job.
                token = secrets.token_hex(16)
                (_upload_dir() / f"{token}.xlsx").write_bytes(data)
                job = ledger_jobs.start_preview(request.user, token, name, estimate)
                return redirect("tracker:ledger_job", job.pk)
            # Refused before it is parsed if it unpacks past the configured bounds.
            rows = ledger.read_ledger(data, Path(upload.name).name)
        except ledger.LedgerError as exc:
            form.add_error("file", str(exc))
        else:
            result = ledger.preview(access, rows)
            token = secrets.token_hex(16)
            (_upload_dir() / f"{token}.xlsx").write_bytes(data)
            request.session[SESSION_KEY] = {
                "token": token,
                "name": Path(upload.name).name[:200],
                "versions": {str(k): v for k, v in result.versions.items()},
                "digest": result.digest,
            }
            return render(
                request,
                "tracker/ledger_preview.html",
                {"preview": result, "name": upload.name, "token": token, "today": local_today()},
            )
    return render(request, "tracker/ledger_upload.html", {"form": form})


@login_required
@require_POST
def ledger_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the previewed upload's allowed changes through tracker.actions, all or nothing."""
    access = access_for(request)
    if not access.may_upload_ledger:
        raise Http404("No ledger upload for this user.")
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("没有待确认的台账,请重新上传。"))
        return redirect("tracker:ledger_upload")
    if pending.get("job"):
        # Previewed by a worker: a ledger that large is applied by one too.
        del request.session[SESSION_KEY]
        job = ledger_jobs.start_apply(request.user, pending)
        return redirect("tracker:ledger_job", job.pk)
    path = _upload_dir() / f"{pending['token']}.xlsx"
    try:
        rows = ledger.read_ledger(path.read_bytes(), pending["name"])
        versions = {int(k): v for k, v in pending.get("versions", {}).items()}
        # A pending upload without a digest (previewed before the digest existed) never matches.
        applied = ledger.apply(
            access, rows, pending["name"], versions=versions, digest=pending.get("digest", "")
        )
    except (ledger.LedgerError, OSError):
        messages.error(request, _("台账文件已失效,请重新上传。"))
        return redirect("tracker:ledger_upload")
    except ActionError as exc:
        messages.error(request, _("未导入任何修改:%s") % exc)
        return redirect("tracker:ledger_upload")
    finally:
        del request.session[SESSION_KEY]
        path.unlink(missing_ok=True)
    messages.success(request, _("已导入 %d 项修改。") % applied)
    return redirect("tracker:ledger_upload")


def _own_job(request: HttpRequest, pk: int) -> LedgerJob:
    """The user's own job; anyone else's, or one that does not exist, answers 404."""
    return get_object_or_404(LedgerJob, pk=pk, user=request.user)


def _job_status(job: LedgerJob) -> dict:
    download = None
    if job.kind == LedgerJob.Kind.EXPORT and job.status == LedgerJob.Status.DONE:
        download = reverse("tracker:ledger_job_download", args=[job.pk])
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "finished": job.finished,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "error": job.error,
        "download": download,
        "result": {k: v for k, v in job.result.items() if k in ("applied", "filename")},
    }


@login_required
def ledger_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A background ledger job: its progress (the page refreshes itself until it is done), then
    the download, the preview with its confirm form, or what was imported."""
    job = _own_job(request, pk)
    if job.kind == LedgerJob.Kind.PREVIEW and job.status == LedgerJob.Status.DONE:
        result = ledger_jobs.stored_preview(job)
        if result is None:
            messages.error(request, _("台账文件已失效,请重新上传。"))
            return redirect("tracker:ledger_upload")
        access = access_for(request)
        if not access.may_upload_ledger:
            raise Http404("No ledger upload for this user.")
        request.session[SESSION_KEY] = {
            "token": job.params["token"],
            "name": job.params["name"],
            "versions": job.result.get("versions", {}),
            "digest": job.result.get("digest", ""),
            "job": job.pk,
        }
        return render(
            request,
            "tracker/ledger_preview.html",
            {
                "preview": result,
                "name": job.params["name"],
                "token": job.params["token"],
                "today": local_today(),
            },
        )
    return render(request, "tracker/ledger_job.html", {"job": job, "status": _job_status(job)})


@login_required
def ledger_job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The job's progress as JSON (for a script, or a page that polls instead of refreshing)."""
    return JsonResponse(_job_status(_own_job(request, pk)))


@login_required
def ledger_job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A finished export's file, to its user while they may still see the ledger."""
    job = _own_job(request, pk)
    if job.kind != LedgerJob.Kind.EXPORT or job.status != LedgerJob.Status.DONE:
        raise Http404("No file for this job.")
    if not access_for(request).may_see_dashboard:
        raise Http404("No ledger for this user.")
    path = ledger_jobs.result_file(job)
    if path is None:
        raise Http404("The file is gone.")
    filename = job.result.get("filename", path.name)
    content_type = (
        "text/csv; charset=utf-8"
        if filename.endswith(".csv")
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
