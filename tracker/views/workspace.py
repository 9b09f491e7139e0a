"""The rectification offices' workspace: 我的任务, the task page, progress with evidence,
close-out review (对账销号), extensions, reopening and the review queue.

Views are thin: they read through ``tracker.permissions`` (out of scope → 404), validate with
``tracker.forms`` and write through ``tracker.actions`` (rules and history live there). An
``actions.NotAllowed`` becomes 403; a stale version or a refused rule re-renders the task page
with the message and changes nothing.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Prefetch
from django.db.models.expressions import RawSQL
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tracker import actions, rules, selectors
from tracker.choices import CloseoutStatus, ExtensionStatus, TaskStatus, TaskType
from tracker.filtersets import TaskFilterSet, order_tasks
from tracker.forms import (
    AcknowledgeForm,
    CloseoutRequestForm,
    CloseoutReviewForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    ProgressForm,
    ReopenForm,
)
from tracker.models import (
    CloseoutRequest,
    CloseoutReview,
    Evidence,
    ExtensionRequest,
    RepeatLink,
    SupervisionDocument,
    Task,
    local_today,
)
from tracker.models.history import label_events
from tracker.permissions import (
    access_for,
    closeouts_to_review,
    extensions_to_review,
    get_task_for_user,
    supervision_documents,
)
from tracker.supervision import is_ack_late

PAGE_SIZE = 25


# --- 我的任务 -----------------------------------------------------------------------------------


@require_GET
@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """Tasks in the user's scope, filtered by the shared TaskFilterSet, urgent first.

    Pages are fetched as PAGE_SIZE + 1 rows: the extra row only says whether a next page exists,
    so no query ever counts the whole (possibly million-row) result; the total shown is exact up
    to COUNT_CAP and "more than COUNT_CAP" past it (``_capped_total``).
    """
    access = access_for(request)
    tasks = access.tasks()
    filterset = TaskFilterSet(request.GET, queryset=tasks, access=access)
    # An invalid filter (e.g. an inspection outside the scope) lists nothing, with the error.
    rows = filterset.qs if filterset.is_valid() else tasks.none()
    if not filterset.form.cleaned_data.get("sort"):
        rows = order_tasks(rows, "urgency")
    filterset.narrow_choices(access)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    offset = (page - 1) * PAGE_SIZE
    fetched = list(rows.values(*ROW_FIELDS)[offset : offset + PAGE_SIZE + 1])
    has_next = len(fetched) > PAGE_SIZE
    total = _capped_total(rows)
    query = request.GET.copy()
    query.pop("page", None)
    today = local_today()
    return render(
        request,
        "tracker/task_list.html",
        {
            "filterset": filterset,
            # The page's tasks as model instances, fetched only if something asks for them
            # (the rows are written from plain values below).
            "tasks": SimpleLazyObject(lambda: _instances([r["pk"] for r in fetched[:PAGE_SIZE]])),
            "rows_html": _rows_html(_list_rows(fetched[:PAGE_SIZE], today)),
            "page": page,
            "has_next": has_next,
            "has_previous": page > 1,
            "query": query.urlencode(),
            "today": today,
            "total": f"{min(total, COUNT_CAP):,}",
            "total_capped": total > COUNT_CAP,
        },
    )


# The list's total is exact up to this many rows; past it the page says "more than" (超过)
# this figure. Counting every match of a broad filter (all overdue work of a million tasks)
# would read every matching row on each page view, and the planner's estimate for a filter
# of ORs and subqueries can be off by orders of magnitude: a capped exact count is honest and
# costs at most COUNT_CAP + 1 index entries.
COUNT_CAP = 1000


def _capped_total(rows) -> int:
    """How many tasks the filtered list has, exactly up to COUNT_CAP (COUNT_CAP + 1 means more):
    one ``COUNT(*)`` over at most COUNT_CAP + 1 rows, on every page, whatever the volume (the
    same queries for a short list as for a long one)."""
    return rows.order_by().values("pk")[: COUNT_CAP + 1].count()


# What a row of 我的任务 shows, read as plain values (no model instances: six per row with
# their relations cost more than the rest of the row).
ROW_FIELDS = (
    "pk",
    "problem__label",
    "problem__title",
    "inspection__organization__short_name",
    "inspection__organization__name",
    "inspection__round_name",
    "owner_unit__name",
    "lead_unit_id",
    "lead_unit__name",
    "task_type",
    "status",
    "deadline",
    "original_deadline",
)


def _instances(ids: list[int]) -> list[Task]:
    by_pk = Task.objects.select_related("problem").in_bulk(ids)
    return [by_pk[pk] for pk in ids if pk in by_pk]


def _list_rows(tasks: list[dict], today) -> list[dict]:
    """What each row of 我的任务 shows (``ROW_FIELDS`` values), computed once here: a template
    resolving the same lookups, filters and translations row by row cost several times more."""
    types = {value: str(label) for value, label in TaskType.choices}
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    # One reverse() for the page, not one per row: the task page's URL around a marker id.
    marker = str(2**62)
    url_before, url_after = reverse("tracker:task_detail", args=[marker]).split(marker)
    rows = []
    for task in tasks:
        deadline, original, kind = task["deadline"], task["original_deadline"], task["task_type"]
        rows.append(
            {
                "url": f"{url_before}{task['pk']}{url_after}",
                "title": task["problem__label"] + Truncator(task["problem__title"]).chars(80),
                "inspection": task["inspection__organization__short_name"]
                or task["inspection__organization__name"],
                "round": task["inspection__round_name"],
                "owner": task["owner_unit__name"],
                "lead": task["lead_unit__name"] if task["lead_unit_id"] else "",
                "type": types.get(kind, kind),
                "status": task["status"],
                "status_label": statuses.get(task["status"], task["status"]),
                "deadline": deadline.isoformat() if deadline else "",
                "long_term": kind == TaskType.LONG_TERM,
                "original": original.isoformat() if original else "",
                "days_overdue": rules.days_overdue(SimpleNamespace(**task), today),
            }
        )
    return rows


def _rows_html(rows: list[dict]) -> SafeString:
    """The list's ``<tr>``s, written here with every value escaped: the same markup through the
    template language (about 15 lookups and tags per row) was a third of the page's CPU."""
    l_inspection, l_owner, l_type, l_status, l_deadline, l_lead, l_original, l_long, l_none = (
        escape(label)
        for label in (
            _("巡视巡察"),
            _("责任主体"),
            _("整改类型"),
            _("整改状态"),
            _("整改时限"),
            _("牵头"),
            _("原定"),
            _("长期坚持"),
            _("无时限"),
        )
    )
    out = []
    for row in rows:
        if row["deadline"]:
            deadline = escape(row["deadline"])
        else:
            deadline = f'<span class="muted">{l_long if row["long_term"] else l_none}</span>'
        if row["original"]:
            deadline += f'<br><span class="muted">{l_original} {escape(row["original"])}</span>'
        if row["days_overdue"]:
            overdue = escape(_("逾期 %(days)s 天") % {"days": row["days_overdue"]})
            deadline += f'<br><span class="badge overdue">{overdue}</span>'
        round_ = f" · {escape(row['round'])}" if row["round"] else ""
        lead = (
            f'<br><span class="muted">{l_lead}:{escape(row["lead"])}</span>' if row["lead"] else ""
        )
        out.append(
            f'<tr><td><a href="{escape(row["url"])}">{escape(row["title"])}</a></td>'
            f'<td data-label="{l_inspection}">{escape(row["inspection"])}{round_}</td>'
            f'<td data-label="{l_owner}">{escape(row["owner"])}{lead}</td>'
            f'<td data-label="{l_type}">{escape(row["type"])}</td>'
            f'<td data-label="{l_status}"><span class="badge {escape(row["status"])}">'
            f"{escape(row['status_label'])}</span></td>"
            f'<td data-label="{l_deadline}">{deadline}</td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value escaped above


# --- the task page ------------------------------------------------------------------------------


@functools.cache
def _task_queryset():
    """(Built once per process: its joins and flags are resolved at build time, and each use
    clones it.) The task with everything its page shows in one row, and whether it has close-outs,
    extensions, evidence, responsible units, 督办 documents and likely repeats at all: most
    tasks have none of them, and the page then skips those six queries (the flags are read in
    the same statement, so they are never stale)."""

    # The flags are written as SQL once, from the models' table and column names: as
    # ``Exists()`` subqueries the ORM compiled them again on every request (0.45 ms of the
    # page's 2 ms of query compiling).
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"

    def exists(model, *pairs: tuple[str, str]) -> RawSQL:
        where = " OR ".join(
            f"{column(model, inner)} = {column(Task, outer)}" for inner, outer in pairs
        )
        sql = f"EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} WHERE {where})"  # noqa: S608
        return RawSQL(sql, (), output_field=BooleanField())  # noqa: S611 - names from _meta

    def has(model) -> RawSQL:
        return exists(model, ("task", "id"))

    # Of the joined rows, only what the page shows (the crumbs, the problem, the inspection's
    # name, the units' names): every column more is compiled and converted on each request.
    node = ("label", "title", "parent")
    shown = (
        *(f.name for f in Task._meta.concrete_fields),
        *(f"problem__{name}" for name in (*node, "detail")),
        *(f"problem__parent__{name}" for name in node),
        *(f"problem__parent__parent__{name}" for name in node),
        "inspection__organization__name",
        "inspection__round_name",
        "inspection__group",
        "owner_unit__name",
        "lead_unit__name",
    )
    return (
        Task.objects.select_related(
            "problem__parent__parent", "inspection__organization", "owner_unit", "lead_unit"
        )
        .only(*shown)
        .annotate(
            has_closeouts=has(CloseoutRequest),
            has_extensions=has(ExtensionRequest),
            has_evidence=has(Evidence),
            has_responsible_units=has(Task.responsible_units.through),
            has_documents=has(SupervisionDocument.tasks.through),
            has_repeats=exists(RepeatLink, ("problem", "problem"), ("earlier_problem", "problem")),
        )
    )


def _load(request: HttpRequest, pk: int) -> Task:
    return get_task_for_user(request, pk, _task_queryset().all())


def _detail_context(request: HttpRequest, task: Task, **bound_forms) -> dict:
    access = access_for(request)
    measures = list(task.measures.all())

    def rows(flag: str, queryset) -> list:
        # (``queryset`` is a callable: a query the flag rules out is not even built.)
        return list(queryset()) if getattr(task, flag, True) else []

    closeouts = rows(
        "has_closeouts",
        lambda: (
            task.closeout_requests.select_related("requested_by")
            .prefetch_related(
                Prefetch("reviews", queryset=CloseoutReview.objects.select_related("reviewer")),
            )
            .order_by("-requested_at", "-pk")
        ),
    )
    pending_closeout = next((c for c in closeouts if c.is_pending), None)
    extensions = rows(
        "has_extensions",
        lambda: task.extension_requests.select_related("requested_by", "decided_by").order_by(
            "-requested_at", "-pk"
        ),
    )
    pending_extension = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    can_edit = access.can_edit(task)
    can_supervise = access.can_supervise(task)
    can_lead_review = access.can_lead_review(task)
    is_open = task.status != TaskStatus.CLOSED

    def form(name, cls, show: bool, **extra):
        if name in bound_forms:
            return bound_forms[name]
        return cls(task=task, **extra) if show else None

    # Nobody reviews their own request (the actions refuse it too).
    review_shown = (
        pending_closeout is not None
        and pending_closeout.requested_by_id != (request.user.pk)
        and (
            (pending_closeout.status == CloseoutStatus.PENDING_LEAD and can_lead_review)
            or (pending_closeout.status == CloseoutStatus.PENDING_SUPERVISOR and can_supervise)
        )
    )
    return {
        "task": task,
        "ancestors": task.problem.ancestors(),
        "measures": measures,
        "responsible_units": rows("has_responsible_units", task.responsible_units.all),
        "events": label_events(task.events.select_related("actor").order_by("created_at", "pk")),
        # What stands between the task and a close-out request (a 基本完成 reason is asked for
        # in the form itself).
        "closeout_blockers": actions.closeout_blockers(task, basic_reason="-", measures=measures)
        if can_edit and is_open
        else [],
        "evidence": rows("has_evidence", lambda: task.evidence.select_related("uploaded_by")),
        "closeouts": closeouts,
        "pending_closeout": pending_closeout,
        "extensions": extensions,
        "pending_extension": pending_extension,
        "can_edit": can_edit,
        "today": local_today(),
        "progress_form": form(
            "progress_form", ProgressForm, can_edit and is_open, measures=measures
        ),
        "closeout_form": form(
            "closeout_form",
            CloseoutRequestForm,
            can_edit and is_open and pending_closeout is None,
        ),
        "review_form": form("review_form", CloseoutReviewForm, review_shown),
        "extension_form": form(
            "extension_form",
            ExtensionRequestForm,
            can_edit
            and not task.is_done
            and task.task_type != TaskType.LONG_TERM
            and pending_extension is None,
        ),
        "extension_decision_form": form(
            "extension_decision_form",
            ExtensionDecisionForm,
            can_supervise and pending_extension is not None,
        ),
        "reopen_form": form("reopen_form", ReopenForm, can_supervise and not is_open),
        # 签收: the owner unit (or a supervisor) signs for a task given to it; and the 督办
        # documents about the task this user may read.
        "acknowledge_form": form(
            "acknowledge_form",
            AcknowledgeForm,
            can_edit and is_open and task.awaits_acknowledgement,
        ),
        "ack_late": is_ack_late(task),
        "ladder_documents": rows(
            "has_documents",
            lambda: supervision_documents(access).filter(tasks=task).order_by("issued_at", "pk"),
        ),
        # 屡巡屡犯: the likely repeats both ways; a link only to the tasks the viewer may see.
        "repeats": selectors.repeat_links_for(task, access)
        if getattr(task, "has_repeats", True)
        else [],
    }


@require_GET
@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    return render(request, "tracker/task_detail.html", _detail_context(request, task))


def _perform(request: HttpRequest, task: Task, form_name: str, form, change) -> HttpResponse:
    """Run ``change()`` (an action call) for a valid form and answer like every task POST does:
    redirect on success; re-render with the message on a stale version (409) or a refused rule
    (400); 403 when the user may see but not change the task."""
    if form.is_valid():
        try:
            change()
        except actions.NotAllowed:
            raise PermissionDenied
        except actions.StaleTask as error:
            # Keep what the user typed, now against the current version: they see the other
            # change on the page and can submit again (files must be chosen again).
            messages.error(request, str(error) + " " + _("您填写的内容已保留,请核对后重新提交。"))
            fresh = _load(request, task.pk)
            data = request.POST.copy()
            data["version"] = str(fresh.version)
            kept = type(form)(data, task=fresh)
            kept.is_valid()
            return render(
                request,
                "tracker/task_detail.html",
                _detail_context(request, fresh, **{form_name: kept}),
                status=409,
            )
        except actions.ActionError as error:
            messages.error(request, str(error))
        else:
            return redirect("tracker:task_detail", pk=task.pk)
    return render(
        request,
        "tracker/task_detail.html",
        _detail_context(request, task, **{form_name: form}),
        status=400,
    )


def _actor(request: HttpRequest) -> actions.Actor:
    return actions.Actor.of(request.user, access=access_for(request))


@require_POST
@login_required
def task_progress(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    form = ProgressForm(request.POST, request.FILES, task=task)

    def change():
        data = form.cleaned_data
        actions.update_progress(
            task,
            _actor(request),
            expected_version=data["version"],
            note=data["note"],
            done_measure_ids=set(data["measures"]),
            not_applicable=form.not_applicable(),
            status=data["status"] or None,
            uploads=data["files"],
        )
        messages.success(request, _("进展已保存。"))

    return _perform(request, task, "progress_form", form, change)


@require_POST
@login_required
def closeout_request(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    form = CloseoutRequestForm(request.POST, task=task)

    def change():
        actions.request_closeout(
            task,
            _actor(request),
            summary=form.cleaned_data["summary"],
            no_evidence_reason=form.cleaned_data["no_evidence_reason"],
            basic_reason=form.cleaned_data["basic_reason"],
            expected_version=form.cleaned_data["version"],
        )
        messages.success(request, _("销号申请已提交,等待牵头单位审核。"))

    return _perform(request, task, "closeout_form", form, change)


@require_POST
@login_required
def closeout_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (the stage decides: lead review, then supervisor approval) or return."""
    task = _load(request, pk)
    form = CloseoutReviewForm(request.POST, task=task)

    def change():
        data = form.cleaned_data
        actor, version = _actor(request), data["version"]
        if data["decision"] == "return":
            actions.return_closeout(task, actor, reason=data["comment"], expected_version=version)
            messages.success(request, _("已退回,任务回到整改中。"))
            return
        pending = CloseoutRequest.objects.pending().filter(task=task).first()
        if pending is not None and pending.status == CloseoutStatus.PENDING_SUPERVISOR:
            actions.approve_closeout(task, actor, comment=data["comment"], expected_version=version)
            messages.success(request, _("审核通过,任务已销号。"))
        else:
            actions.lead_review_closeout(
                task, actor, comment=data["comment"], expected_version=version
            )
            messages.success(request, _("牵头单位审核通过,等待整改办审核。"))

    return _perform(request, task, "review_form", form, change)


@require_POST
@login_required
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    form = ExtensionRequestForm(request.POST, task=task)

    def change():
        actions.request_extension(
            task,
            _actor(request),
            new_deadline=form.cleaned_data["new_deadline"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
        messages.success(request, _("延期申请已提交,等待整改办审批。"))

    return _perform(request, task, "extension_form", form, change)


@require_POST
@login_required
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    form = ExtensionDecisionForm(request.POST, task=task)

    def change():
        data = form.cleaned_data
        if data["decision"] == "approve":
            actions.approve_extension(
                task, _actor(request), comment=data["comment"], expected_version=data["version"]
            )
            messages.success(request, _("已批准延期。"))
        else:
            actions.refuse_extension(
                task, _actor(request), reason=data["comment"], expected_version=data["version"]
            )
            messages.success(request, _("已驳回延期申请。"))

    return _perform(request, task, "extension_decision_form", form, change)


@require_POST
@login_required
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = _load(request, pk)
    form = ReopenForm(request.POST, task=task)

    def change():
        actions.reopen(
            task,
            _actor(request),
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
        messages.success(request, _("任务已重新打开,回到整改中。"))

    return _perform(request, task, "reopen_form", form, change)


# --- evidence download --------------------------------------------------------------------------


@require_GET
@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """The only way to a stored evidence file: the task must be in the user's scope (else 404)."""
    task = _load(request, pk)
    evidence = get_object_or_404(Evidence, pk=evidence_pk, task=task)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("No evidence file.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    # The browser must not guess a type other than the one the content was checked as.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- review queue -------------------------------------------------------------------------------


@require_GET
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """审核队列: pending close-outs (and, for supervisors, extensions), oldest first."""
    access = access_for(request)
    return render(
        request,
        "tracker/review_queue.html",
        {
            "closeouts": list(closeouts_to_review(access)[:200]),
            "extensions": list(extensions_to_review(access)[:200]),
            "is_supervisor": access.is_supervisor,
        },
    )
