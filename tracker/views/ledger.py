"""The ledger (整改台账): export for the current filter, upload with a preview, confirm.

The uploaded file is kept under MEDIA_ROOT/ledger-uploads/ between preview and confirm (named
by a random token held in the session with what the preview would apply: the rows' task versions
and a digest of their changes), so the confirm step re-reads exactly what was previewed and
refuses, keeping nothing, if a task changed meanwhile or the upload would now do anything else.
Which changes a user may make is decided by tracker.permissions and tracker.actions, never here.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tracker import ledger
from tracker.actions import ActionError
from tracker.filtersets import TaskFilterSet
from tracker.models import local_today
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
    filterset = TaskFilterSet(request.GET or None, queryset=access.tasks(), access=access)
    # An invalid filter (a value outside the scope) exports nothing, as the task list lists none.
    invalid = filterset.is_bound and not filterset.is_valid()
    tasks = filterset.queryset.none() if invalid else filterset.qs
    today = filterset.today()
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
