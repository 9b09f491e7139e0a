"""Unit scoring (考核): the ranked table and chart of owner units over a period, each figure
linked to the tasks behind it, and the same table as XLSX. Supervisors and observers, over
their scope (everyone else: 404). The figures and the formula are ``tracker.scoring``'s."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import scoring, spreadsheet
from tracker.choices import EventKind, LadderRung, RecheckOutcome, TaskType
from tracker.filtersets import scope_organizations
from tracker.models import Organization, local_today
from tracker.permissions import Access, access_for

MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("起始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    organization = forms.ModelChoiceField(
        label=gettext_lazy("党组织"), queryset=Organization.objects.none(), required=False
    )

    def __init__(self, data, *, access: Access):
        super().__init__(data)
        self.fields["organization"].queryset = scope_organizations(access).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("截止日期不能早于起始日期。"))
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(_("考核期间最长三年。"))
        return data


def _access(request) -> Access:
    access = access_for(request)
    if not (access.is_supervisor or access.is_observer):
        raise Http404("No scoring for this user.")
    return access


def _read(request):
    access = _access(request)
    today = local_today()
    params = request.GET.copy()
    params.setdefault("start", datetime.date(today.year, 1, 1).isoformat())
    params.setdefault("end", today.isoformat())
    form = PeriodForm(params, access=access)
    if not form.is_valid():
        return access, form, None
    tasks = access.tasks()
    if form.cleaned_data["organization"]:
        tasks = tasks.filter(inspection__organization=form.cleaned_data["organization"])
    rows = scoring.score_units(tasks, form.cleaned_data["start"], form.cleaned_data["end"])
    return access, form, rows


def _links(row, form) -> dict[str, str]:
    """The task list behind each figure of ``row``."""
    data = form.cleaned_data
    base = {"owner_unit": row.unit_id}
    if data["organization"]:
        base["organization"] = data["organization"].pk
    start, end = data["start"].isoformat(), data["end"].isoformat()
    due = {
        **base,
        "deadline_from": start,
        "deadline_to": end,
        "task_type": [TaskType.DEADLINE, TaskType.IMMEDIATE],
    }

    def url(params):
        return reverse("tracker:task_list") + "?" + urlencode(params, doseq=True)

    def events(kind, value=""):
        params = {**base, "event": kind, "event_from": start, "event_to": end}
        if value:
            params["event_value"] = value
        return url(params)

    return {
        "due": url(due),
        "returned": events(EventKind.CLOSEOUT_RETURNED),
        "extensions": events(EventKind.EXTENSION_REQUESTED),
        "rechecks": events(EventKind.RECHECK, RecheckOutcome.FAILED),
        "ladder": events(EventKind.LADDER),
    }


@login_required
def unit_scores(request: HttpRequest) -> HttpResponse:
    access, form, rows = _read(request)
    table = []
    for row in rows or []:
        table.append(
            {
                "row": row,
                "links": _links(row, form),
                "rate": None if row.on_time_rate is None else round(row.on_time_rate * 100, 1),
                "rung": LadderRung(row.ladder_code).label if row.ladder else "",
            }
        )
    chart = [
        {"name": r["row"].name, "value": r["row"].score, "url": r["links"]["due"]} for r in table
    ]
    export = reverse("tracker:unit_scores_export") + "?" + request.GET.urlencode()
    return render(
        request,
        "tracker/unit_scores.html",
        {
            "form": form,
            "table": table,
            "chart": chart,
            "weights": scoring.weights(),
            "export_url": export,
        },
    )


@login_required
def unit_scores_export(request: HttpRequest) -> HttpResponse:
    """The ranked table as XLSX (formula-safe text cells, numbers typed)."""
    _scope, form, rows = _read(request)
    if rows is None:
        raise Http404("Invalid period.")
    data = form.cleaned_data
    headers = [_("名次"), _("单位"), _("到期任务"), _("按期完成"), _("按期完成率"), _("逾期天数"),
               _("销号退回"), _("申请延期"), _("核查未到位"), _("最高督办等级"), _("得分")]  # fmt: skip
    table = [
        [
            row.rank,
            row.name,
            row.due,
            row.on_time,
            None if row.on_time_rate is None else round(row.on_time_rate, 4),
            row.days_overdue,
            row.returned,
            row.extensions,
            row.rechecks_failed,
            str(LadderRung(row.ladder_code).label) if row.ladder else "",
            row.score,
        ]
        for row in rows
    ]
    content = spreadsheet.table_xlsx(
        _("单位考核"),
        headers,
        table,
        lead=[_("考核期间:%(start)s 至 %(end)s") % {"start": data["start"], "end": data["end"]}],
        formats={4: "0.0%"},
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="unit-scores-{data["start"]}-{data["end"]}.xlsx"'
    )
    return response
