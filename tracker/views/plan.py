"""The rectification plan (整改方案): template download, upload with a row-by-row preview, confirm.

Like the ledger: the uploaded file is kept under MEDIA_ROOT/plan-uploads/ between preview and
confirm, named by a random token the session holds with the inspection and the digest of what
the preview was computed on; the confirm re-reads the same file, applies it all or nothing
through ``tracker.importer.plan_loader`` (which calls ``tracker.actions``) and refuses if the
tasks or units changed meanwhile. Supervisors only: everyone else gets 404.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tracker.importer import plan, plan_loader
from tracker.models import Inspection, Unit
from tracker.permissions import Access, access_for, get_supervised_inspection
from tracker.views import staging

SESSION_KEY = "rectify_plan_upload"


def _upload_dir() -> Path:
    return staging.staging_dir("plan")


def supervised_inspections(access: Access) -> list[Inspection]:
    """The inspections whose plan this user may import: those they supervise."""
    return list(access.supervised_inspections().select_related("organization"))


def _inspection_or_404(access: Access, pk) -> Inspection:
    return get_supervised_inspection(access, pk)


class PlanUploadForm(forms.Form):
    inspection = forms.TypedChoiceField(label=gettext_lazy("巡视巡察"), coerce=int)
    file = forms.FileField(label=gettext_lazy("整改方案(.xlsx)"))

    def __init__(self, *args, inspections: list[Inspection], **kwargs):
        super().__init__(*args, **kwargs)
        self.inspections = {i.pk: i for i in inspections}
        self.fields["inspection"].choices = [(i.pk, str(i)) for i in inspections]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        staging.check_size(upload)
        return upload


def _render_preview(request, preview, name: str, token: str, inspection: Inspection):
    units = list(
        Unit.objects.filter(organization_id=inspection.organization_id, retired=False).order_by(
            "name"
        )
    )
    return render(
        request,
        "tracker/plan_preview.html",
        {
            "preview": preview,
            "name": name,
            "token": token,
            "inspection": inspection,
            "units": units,
            "new_unit": plan_loader.NEW_UNIT,
            "unknown": list(enumerate(preview.new_units)),
        },
    )


@login_required
def plan_upload(request: HttpRequest) -> HttpResponse:
    """Upload a plan sheet for one inspection and see what importing it would do."""
    access = access_for(request)
    inspections = supervised_inspections(access)
    if not inspections:
        raise Http404("No plan upload for this user.")
    initial = {"inspection": request.GET.get("inspection")}
    form = PlanUploadForm(
        request.POST or None, request.FILES or None, inspections=inspections, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        inspection = form.inspections[form.cleaned_data["inspection"]]
        upload = form.cleaned_data["file"]
        name = Path(upload.name).name[:200]
        data = upload.read()
        try:
            parsed = plan.read_plan(data, name, inspection.feedback_date)
        except plan.PlanError as exc:
            form.add_error("file", str(exc))
        else:
            preview = plan_loader.preview_plan(inspection, parsed)
            token = secrets.token_hex(16)
            (_upload_dir() / f"{token}.xlsx").write_bytes(data)
            request.session[SESSION_KEY] = {
                "token": token,
                "name": name,
                "inspection": inspection.pk,
                "digest": preview.digest,
                "new_units": preview.new_units,
            }
            return _render_preview(request, preview, name, token, inspection)
    return render(request, "tracker/plan_upload.html", {"form": form})


@login_required
@require_POST
def plan_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed plan with the user's unit mapping: all or nothing."""
    access = access_for(request)
    if not supervised_inspections(access):
        raise Http404("No plan upload for this user.")
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("没有待确认的方案,请重新上传。"))
        return redirect("tracker:plan_upload")
    inspection = _inspection_or_404(access, pending["inspection"])
    path = _upload_dir() / f"{pending['token']}.xlsx"
    mapping = {
        unit_name: request.POST.get(f"unit_{index}", "")
        for index, unit_name in enumerate(pending.get("new_units", []))
    }
    try:
        parsed = plan.read_plan(path.read_bytes(), pending["name"], inspection.feedback_date)
        result = plan_loader.apply_plan(
            inspection,
            parsed,
            request.user,
            name=pending["name"],
            mapping=mapping,
            digest=pending["digest"],
        )
    except (plan.PlanError, OSError):
        messages.error(request, _("方案文件已失效,请重新上传。"))
        return redirect("tracker:plan_upload")
    except plan_loader.PlanRefused as exc:
        details = ";".join(str(e) for e in exc.errors[:5])
        messages.error(request, _("未导入任何内容:%s") % (f"{exc} {details}".strip()))
        return redirect("tracker:plan_upload")
    except plan_loader.actions.ActionError as exc:
        messages.error(request, _("未导入任何内容:%s") % exc)
        return redirect("tracker:plan_upload")
    finally:
        request.session.pop(SESSION_KEY, None)
        path.unlink(missing_ok=True)
    messages.success(
        request,
        _(
            "方案已导入:新建 %(created)s 项任务,更新 %(updated)s 项(%(changes)s 处修改),新建单位 %(units)s 个。"
        )
        % {
            "created": result.created,
            "updated": result.updated,
            "changes": result.changes,
            "units": len(result.units_created),
        },
    )
    return redirect("tracker:plan_upload")


@login_required
def plan_template(request: HttpRequest) -> HttpResponse:
    """The office's plan sheet for an inspection, pre-filled with its notices' problems."""
    access = access_for(request)
    inspection = _inspection_or_404(access, request.GET.get("inspection"))
    response = HttpResponse(
        plan_loader.template_xlsx(inspection),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="plan-{inspection.pk}.xlsx"'
    return response
