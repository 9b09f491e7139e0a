"""反向核查 (re-checks of closed tasks): the rounds, a new round, a round's page with its items,
and its export. Thin: access through ``tracker.permissions`` (a round outside the user's scope
is 404; observers see and change nothing, 403 on a change), writes through ``tracker.actions``.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tracker import actions, rechecks
from tracker.forms import RecheckCheckerForm, RecheckOutcomeForm, RecheckRoundForm
from tracker.permissions import access_for, get_recheck_round_for_user


def _actor(request: HttpRequest) -> actions.Actor:
    return actions.Actor.of(request.user, access=access_for(request))


@login_required
def recheck_list(request: HttpRequest) -> HttpResponse:
    """The rounds the user may see and, for supervisors, the form drawing a new one."""
    access = access_for(request)
    if not access.may_see_rechecks:
        raise Http404("No re-checks for this user.")
    form = None
    if access.is_supervisor:
        form = RecheckRoundForm(
            request.POST or None,
            access=access,
            initial={"seed": secrets.randbelow(10**6), "percent": 10},
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                round_ = actions.draw_recheck_sample(
                    form.chosen_scope,
                    _actor(request),
                    seed=data["seed"],
                    name=data["name"],
                    count=data["count"],
                    percent=data["percent"],
                )
            except actions.NotAllowed:
                raise PermissionDenied from None
            except actions.ActionError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request, _("已抽取 %(n)d 项已销号任务。") % {"n": round_.items.count()}
                )
                return redirect("tracker:recheck_detail", pk=round_.pk)
    rounds = rechecks.round_rows(access.recheck_rounds())
    return render(
        request,
        "tracker/recheck_list.html",
        {"rounds": rounds, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@login_required
def recheck_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_recheck_round_for_user(request, pk)
    access = access_for(request)
    can_change = access.supervised_recheck_rounds().filter(pk=round_.pk).exists()
    items = rechecks.round_items(round_)
    checkers = list(RecheckCheckerForm().fields["checker"].queryset) if can_change else []
    return render(
        request,
        "tracker/recheck_detail.html",
        {
            "round": round_,
            "items": items,
            "can_change": can_change,
            "checkers": checkers,
            "outcome_form": RecheckOutcomeForm() if can_change else None,
            "summary": rechecks.summary(items),
        },
    )


def _item(request: HttpRequest, pk: int, item_pk: int):
    round_ = get_recheck_round_for_user(request, pk)
    return get_object_or_404(round_.items.select_related("task__inspection", "round"), pk=item_pk)


@require_POST
@login_required
def recheck_checker(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    form = RecheckCheckerForm(request.POST)
    if form.is_valid():
        try:
            actions.assign_checker(item, form.cleaned_data["checker"], _actor(request))
        except actions.NotAllowed:
            raise PermissionDenied from None
        except actions.ActionError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, _("请选择核查人。"))
    return redirect("tracker:recheck_detail", pk=pk)


@require_POST
@login_required
def recheck_record(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    form = RecheckOutcomeForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_recheck(
                item, _actor(request), data["outcome"], data["findings"], file=data["file"]
            )
        except actions.NotAllowed:
            raise PermissionDenied from None
        except actions.ActionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("已记录核查结果。"))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("tracker:recheck_detail", pk=pk)


@require_GET
@login_required
def recheck_export(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_recheck_round_for_user(request, pk)
    response = HttpResponse(
        rechecks.export_xlsx(round_),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="recheck-{round_.pk}.xlsx"'
    return response
