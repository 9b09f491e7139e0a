"""督办: the supervisors' ladder page (the rule's proposals to confirm, the documents issued),
a document's page (DOCX, its emails, the unit's reply), and signing for a task (签收).

Thin views: reads through ``tracker.permissions`` (outside the scope → 404), writes through
``tracker.actions`` (``NotAllowed`` → 403; a refused rule → the message, nothing written).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tracker import actions, supervision
from tracker.documents.docx import render_docx
from tracker.documents.ladder import build_ladder_document
from tracker.forms import AcknowledgeForm, LadderIssueForm, LadderReplyForm
from tracker.models import local_today
from tracker.models.ladder import DocumentState
from tracker.permissions import (
    access_for,
    can_reply,
    get_document_for_user,
    supervision_documents,
)
from tracker.reminders.ladder import delivery_summary
from tracker.views.documents import DOCX_TYPE, _download
from tracker.views.workspace import _actor, _load, _perform


def _supervisor(request: HttpRequest):
    access = access_for(request)
    if not access.is_supervisor:
        raise Http404("No ladder page for this user.")
    return access


@require_GET
@login_required
def ladder_overview(request: HttpRequest) -> HttpResponse:
    """督办: what the rule proposes today (for confirmation) and the documents issued."""
    access = _supervisor(request)
    today = local_today()
    proposals = supervision.proposals(access.supervised_tasks(), today)
    documents = list(
        supervision_documents(access)
        .select_related("unit", "issued_by")
        .order_by("-issued_at", "-pk")[:200]
    )
    return render(
        request,
        "tracker/ladder.html",
        {
            "proposals": proposals,
            "documents": documents,
            "today": today,
            "reply_days": LadderIssueForm(tasks=access.supervised_tasks())["reply_days"].initial,
        },
    )


@require_POST
@login_required
def ladder_issue(request: HttpRequest) -> HttpResponse:
    """Confirm a proposal: issue the document for the chosen tasks (all of one unit)."""
    access = _supervisor(request)
    form = LadderIssueForm(request.POST, tasks=access.supervised_tasks())
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("tracker:ladder")
    data = form.cleaned_data
    try:
        document = actions.issue_ladder_document(
            list(data["tasks"]),
            data["rung"],
            _actor(request),
            reply_days=data["reply_days"],
            reason=data["reason"],
        )
    except actions.NotAllowed:
        raise PermissionDenied
    except actions.ActionError as error:
        messages.error(request, str(error))
        return redirect("tracker:ladder")
    messages.success(
        request,
        _("已签发%(rung)s %(ref)s。")
        % {"rung": document.get_rung_display(), "ref": document.reference},
    )
    return redirect("tracker:ladder_document", pk=document.pk)


def _document_context(request: HttpRequest, document, reply_form=None) -> dict:
    access = access_for(request)
    may_reply = document.state == DocumentState.ISSUED and can_reply(access, document)
    return {
        "document": document,
        "tasks": list(access.tasks(document.tasks.all()).select_related("problem")),
        "deliveries": list(document.deliveries.order_by("recipient"))
        if access.is_supervisor
        else [],
        "delivery_counts": delivery_summary(document),
        "reply_form": (reply_form or LadderReplyForm()) if may_reply else None,
        "reply_missed": document.reply_missed(local_today()),
    }


@require_GET
@login_required
def ladder_document(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for_user(request, pk)
    return render(request, "tracker/ladder_document.html", _document_context(request, document))


@require_GET
@login_required
def ladder_docx(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for_user(request, pk)
    doc = build_ladder_document(document)
    return _download(render_docx(doc), f"{document.reference}{doc.title}.docx", DOCX_TYPE)


@require_POST
@login_required
def ladder_reply(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for_user(request, pk)
    form = LadderReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.reply_ladder_document(
                document,
                _actor(request),
                text=form.cleaned_data["text"],
                file=form.cleaned_data["file"],
            )
        except actions.NotAllowed:
            raise PermissionDenied
        except actions.ActionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("回复已提交。"))
            return redirect("tracker:ladder_document", pk=document.pk)
    return render(
        request,
        "tracker/ladder_document.html",
        _document_context(request, document, reply_form=form),
        status=400,
    )


@require_GET
@login_required
def ladder_reply_file(request: HttpRequest, pk: int) -> FileResponse:
    """The reply's evidence, only through this permission-checked view."""
    document = get_document_for_user(request, pk)
    if not document.reply_file:
        raise Http404("No reply file.")
    try:
        handle = document.reply_file.open("rb")
    except FileNotFoundError:
        raise Http404("No reply file.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.reply_file_name,
        content_type=document.reply_content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@login_required
def task_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收 from the task page."""
    task = _load(request, pk)
    form = AcknowledgeForm(request.POST, task=task)

    def change():
        actions.acknowledge(task, _actor(request), expected_version=form.cleaned_data["version"])
        messages.success(request, _("已签收。"))

    return _perform(request, task, "acknowledge_form", form, change)
