"""The API's endpoints. Thin, like the pages: scope from ``tracker.permissions`` (404 outside
it), filters from ``tracker.filtersets``, figures from ``tracker.selectors``, every change
through ``tracker.actions`` as the request's user with source 接口 (``EventSource.API``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import actions, selectors
from tracker.api import errors, tokens
from tracker.api import serializers as s
from tracker.choices import CloseoutStatus, EventSource
from tracker.filtersets import InspectionFilterSet, ProblemFilterSet, TaskFilterSet, order_tasks
from tracker.importer import plan, plan_loader
from tracker.models import (
    ApiToken,
    CloseoutRequest,
    CloseoutReview,
    Evidence,
    ExtensionRequest,
    Inspection,
    Problem,
    Task,
    local_today,
)
from tracker.models.history import label_events
from tracker.permissions import Access, access_for, get_supervised_inspection, get_task_for_user
from tracker.views import staging


def api_access(request) -> Access:
    """The request's Access, read once per request like the pages' (``access_for`` keeps it on
    the underlying HttpRequest, whose user DRF set from the token or the session)."""
    return access_for(getattr(request, "_request", request))


def api_actor(request) -> actions.Actor:
    """The request's user as the actions' actor; the ref says how they authenticated (never the
    token itself)."""
    how = "token" if isinstance(request.auth, ApiToken) else "session"
    return actions.Actor.of(
        request.user, source=EventSource.API, ref=f"api:{how}", access=api_access(request)
    )


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, handing the user's Access to the FilterSet (its choices are
    limited to the user's scope, as on the pages). An invalid filter answers 400."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {
            **super().get_filterset_kwargs(request, queryset, view),
            "access": api_access(request),
        }


def etag(task: Task) -> str:
    """The task's version as an entity tag: what ``If-Match`` on a write is checked against."""
    return f'"task-{task.pk}-v{task.version}"'


def _expected_version(request, task: Task, data: dict) -> tuple[int | None, bool]:
    """The version the client read: from ``If-Match`` (``*``: whatever it is now), else the
    body's ``version``; (version, came from the header). Neither: 428."""
    header = request.headers.get("If-Match", "").strip()
    if header:
        if header == "*":
            return None, True
        found = re.findall(rf'"task-{task.pk}-v(\d+)"', header)
        if not found:
            raise errors.PreconditionFailed(_("If-Match 与该任务的版本不符。"), task.version)
        return int(found[0]), True
    if data.get("version") is not None:
        return data["version"], False
    raise errors.PreconditionRequired()


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _detail_queryset():
    """The task with everything its detail shows, in a fixed handful of queries."""
    return Task.objects.select_related(
        "problem", "inspection__organization", "owner_unit", "lead_unit"
    ).prefetch_related(
        "responsible_units",
        "measures",
        Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
        Prefetch(
            "closeout_requests",
            queryset=CloseoutRequest.objects.select_related("requested_by")
            .prefetch_related(
                Prefetch("reviews", queryset=CloseoutReview.objects.select_related("reviewer"))
            )
            .order_by("-requested_at", "-pk"),
        ),
        Prefetch(
            "extension_requests",
            queryset=ExtensionRequest.objects.select_related("requested_by", "decided_by").order_by(
                "-requested_at", "-pk"
            ),
        ),
    )


def _detail(request, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
    access = api_access(request)
    task = get_task_for_user(access, pk, _detail_queryset())
    events = label_events(task.events.select_related("actor").order_by("created_at", "pk"))
    data = s.TaskDetailSerializer(
        task, context={"access": access, "events": events, "request": request}
    ).data
    return Response(data, status=status_code, headers={"ETag": etag(task)})


# The schema's type of the one filter whose value it cannot guess (a unit id), said here so that
# the shared FilterSet stays free of the API's documentation tool.
extend_schema_field(OpenApiTypes.INT)(TaskFilterSet.filter_unit)


@extend_schema_view(
    list=extend_schema(
        summary="Tasks in the user's scope",
        description="Filtered by the task list page's own FilterSet (status, task_type, overdue, "
        "due_within, inspection, organization, unit, q, as_of…), most urgent first. Pages "
        "carry next/previous links and no count.",
    ),
    retrieve=extend_schema(
        summary="One task with measures, evidence, close-outs, extensions and history",
        description="The ETag header is the task's version; send it back as If-Match on a write.",
    ),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Tasks: read in the user's scope, changed through the workflow's actions.

    Every write names the version the client read (``If-Match: <ETag>`` or a ``version``
    field) and answers the task as it is now, with its new ETag."""

    serializer_class = s.TaskSerializer
    filter_backends = [ScopedFilterBackend]
    filterset_class = TaskFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema: no user, no scope
            return Task.objects.none()
        return (
            api_access(self.request)
            .tasks()
            .select_related("problem", "inspection__organization", "owner_unit", "lead_unit")
        )

    def filter_queryset(self, queryset):
        rows = super().filter_queryset(queryset)
        if self.action == "list" and not self.request.query_params.get("sort"):
            rows = order_tasks(rows, "urgency")
        return rows

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": local_today()}

    def retrieve(self, request, pk=None):
        return _detail(request, pk)

    def _change(self, request, pk, input_class, change: Callable) -> Response:
        """Load the task in scope (else 404), validate the input (400), then make the change
        through the actions against the version the client read."""
        task = get_task_for_user(api_access(request), pk)
        data = _validated(input_class, request)
        expected, from_header = _expected_version(request, task, data)
        try:
            change(task, api_actor(request), expected, data)
        except actions.NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        except actions.StaleTask as error:
            stale = errors.PreconditionFailed if from_header else errors.StaleVersion
            raise stale(str(error), error.task.version) from None
        except actions.ActionError as error:
            raise errors.Refused(str(error)) from None
        return _detail(request, pk)

    _WRITE = {
        200: s.TaskDetailSerializer,
        400: OpenApiResponse(description="Invalid input, or the rules refuse the change"),
        403: OpenApiResponse(description="The user may see the task but not make this change"),
        404: OpenApiResponse(description="No such task in the user's scope"),
        409: OpenApiResponse(description="Stale body version"),
        412: OpenApiResponse(description="Stale If-Match"),
        428: OpenApiResponse(description="No version given"),
    }
    _IF_MATCH = OpenApiParameter(
        "If-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description='The ETag the client read, e.g. "task-12-v3" (or send "version" in the body)',
    )

    @extend_schema(
        summary="Report progress (进展更新)",
        request={
            "application/json": s.ProgressInput,
            "multipart/form-data": s.ProgressInput,
        },
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="progress", url_name="progress")
    def progress(self, request, pk=None):
        def change(task, actor, expected, data):
            actions.update_progress(
                task,
                actor,
                expected_version=expected,
                note=data.get("note", ""),
                done_measure_ids=set(data["done_measures"]) if "done_measures" in data else None,
                not_applicable=data.get("not_applicable"),
                status=data.get("status") or None,
                uploads=data.get("files", []),
            )

        return self._change(request, pk, s.ProgressInput, change)

    @extend_schema(
        summary="Request close-out (申请销号)",
        request=s.CloseoutRequestInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="closeout", url_name="closeout")
    def closeout(self, request, pk=None):
        def change(task, actor, expected, data):
            actions.request_closeout(
                task,
                actor,
                summary=data["summary"],
                no_evidence_reason=data["no_evidence_reason"],
                basic_reason=data["basic_reason"],
                expected_version=expected,
            )

        return self._change(request, pk, s.CloseoutRequestInput, change)

    @extend_schema(
        summary="Review a close-out: approve (the pending stage decides which) or return",
        request=s.CloseoutReviewInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="closeout/review", url_name="closeout-review")
    def closeout_review(self, request, pk=None):
        def change(task, actor, expected, data):
            if data["decision"] == "return":
                actions.return_closeout(
                    task, actor, reason=data["comment"], expected_version=expected
                )
                return
            pending = CloseoutRequest.objects.pending().filter(task=task).first()
            if pending is not None and pending.status == CloseoutStatus.PENDING_SUPERVISOR:
                actions.approve_closeout(
                    task, actor, comment=data["comment"], expected_version=expected
                )
            else:
                actions.lead_review_closeout(
                    task, actor, comment=data["comment"], expected_version=expected
                )

        return self._change(request, pk, s.CloseoutReviewInput, change)

    @extend_schema(
        summary="Request an extension (申请延期)",
        request=s.ExtensionRequestInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="extension", url_name="extension")
    def extension(self, request, pk=None):
        def change(task, actor, expected, data):
            actions.request_extension(
                task,
                actor,
                new_deadline=data["new_deadline"],
                reason=data["reason"],
                expected_version=expected,
            )

        return self._change(request, pk, s.ExtensionRequestInput, change)

    @extend_schema(
        summary="Approve or refuse the pending extension",
        request=s.ExtensionDecisionInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="extension/decide", url_name="extension-decide")
    def extension_decide(self, request, pk=None):
        def change(task, actor, expected, data):
            if data["decision"] == "approve":
                actions.approve_extension(
                    task, actor, comment=data["comment"], expected_version=expected
                )
            else:
                actions.refuse_extension(
                    task, actor, reason=data["comment"], expected_version=expected
                )

        return self._change(request, pk, s.ExtensionDecisionInput, change)

    @extend_schema(
        summary="Reopen a closed task (回头看)",
        request=s.ReopenInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="reopen", url_name="reopen")
    def reopen(self, request, pk=None):
        def change(task, actor, expected, data):
            actions.reopen(task, actor, reason=data["reason"], expected_version=expected)

        return self._change(request, pk, s.ReopenInput, change)

    @extend_schema(
        summary="Sign for the task (签收)",
        request=s.VersionedInput,
        responses=_WRITE,
        parameters=[_IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="acknowledge", url_name="acknowledge")
    def acknowledge(self, request, pk=None):
        def change(task, actor, expected, data):
            actions.acknowledge(task, actor, expected_version=expected)

        return self._change(request, pk, s.VersionedInput, change)


_PLAN_RESULT = inline_serializer(
    "PlanImportResult",
    {
        "dry_run": serializers.BooleanField(),
        "digest": serializers.CharField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "rows": serializers.ListField(child=serializers.DictField()),
        "new_units": serializers.ListField(child=serializers.CharField()),
        "errors": serializers.ListField(child=serializers.DictField()),
        "result": serializers.DictField(required=False),
    },
)


class InspectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Inspections the user may see (supervised or observed ones, and those holding the user's
    units' tasks); a supervisor imports their rectification plans (整改方案) here."""

    serializer_class = s.InspectionSerializer
    filter_backends = [ScopedFilterBackend]
    filterset_class = InspectionFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inspection.objects.none()
        return api_access(self.request).inspections().select_related("organization").order_by("pk")

    @extend_schema(
        summary="Import a rectification plan (整改方案): dry run, then apply",
        description="dry_run=true (default) says per problem what importing would do, which unit "
        "names need a mapping, the errors, and a digest. Apply with the same file, the mapping "
        "and that digest: all or nothing, refused if the tasks changed since the preview.",
        request={"multipart/form-data": s.PlanImportInput},
        responses={200: _PLAN_RESULT, 400: OpenApiResponse(description="Refused")},
    )
    @action(detail=True, methods=["post"], url_path="plan", url_name="plan")
    def plan(self, request, pk=None):
        access = api_access(request)
        inspection = get_supervised_inspection(access, pk)  # 404 unless supervised
        data = _validated(s.PlanImportInput, request)
        upload = data["file"]
        name = Path(upload.name).name[:200]
        try:
            staging.check_size(upload)
        except DjangoValidationError as exc:
            raise ValidationError({"file": exc.messages}) from None
        try:
            parsed = plan.read_plan(upload.read(), name, inspection.feedback_date)
        except plan.PlanError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        preview = plan_loader.preview_plan(inspection, parsed, data["mapping"])
        body = _preview_json(preview, data["dry_run"])
        if data["dry_run"]:
            return Response(body)
        try:
            result = plan_loader.apply_plan(
                inspection,
                parsed,
                request.user,
                name=name,
                mapping=data["mapping"],
                digest=data["digest"] or None,
            )
        except plan_loader.PlanRefused as exc:
            return Response(
                {**body, "detail": str(exc), "errors": [e.to_json() for e in exc.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except actions.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except actions.ActionError as exc:
            raise errors.Refused(str(exc)) from None
        body["result"] = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "closed": result.closed,
            "changes": result.changes,
            "units_created": result.units_created,
        }
        return Response(body)


def _preview_json(preview, dry_run: bool) -> dict:
    return {
        "dry_run": dry_run,
        "digest": preview.digest,
        "counts": preview.counts,
        "rows": [
            {
                **r.row.to_json(),
                "action": r.action,
                "action_label": str(r.label),
                "task": r.task.pk if r.task else None,
                "changes": [
                    {"field": c.field, "label": str(c.label), "old": c.old, "new": c.new}
                    for c in r.changes
                ],
            }
            for r in preview.rows
        ],
        "new_units": list(preview.new_units),
        "errors": [e.to_json() for e in preview.errors],
    }


class ProblemViewSet(viewsets.ReadOnlyModelViewSet):
    """The problem trees (方面, 问题) the user may read: filter by ``inspection``, ``parent``,
    ``kind``."""

    serializer_class = s.ProblemSerializer
    filter_backends = [ScopedFilterBackend]
    filterset_class = ProblemFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Problem.objects.none()
        return (
            api_access(self.request)
            .problems()
            .annotate(task_pk=F("task__id"))
            .order_by("inspection_id", "order", "pk")
        )


class DashboardView(APIView):
    """The dashboard's figures for a scope and day: the dashboard page's query parameters
    (level, organization, inspection, owner_unit, as_of and the task filters), the same numbers."""

    @extend_schema(
        summary="Dashboard figures",
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR)
            for name in ("level", "organization", "inspection", "owner_unit", "as_of")
        ],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No dashboard")},
    )
    def get(self, request):
        access = api_access(request)
        if not access.may_see_dashboard:
            raise Http404("No dashboard for this user.")
        filterset = TaskFilterSet(
            request.query_params or None,
            queryset=access.tasks(),
            access=access,
            as_of_values=True,
        )
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError(filterset.errors)
        data = selectors.dashboard_for(access, filterset)
        return Response(
            {
                "as_of": data["as_of"],
                "source": data["source"],
                "rules": dataclasses.asdict(data["rules"]),
                "totals": data["totals"],
                "units": data["units"],
                "inspections": data["inspections"],
                "categories": data["categories"],
                "types": data["types"],
                "history": data["history"],
                "no_contact": data["no_contact"],
            }
        )


class TokenView(APIView):
    """The requesting user's own API token: whether there is one, a new one (replacing any
    earlier one), or none (revoked). Administrators manage everyone's in the admin."""

    @extend_schema(summary="My token: whether there is one", responses=s.TokenSerializer)
    def get(self, request):
        token = tokens.current(request.user)
        return Response({"key": None, "created": token.created if token else None})

    @extend_schema(
        summary="A new token (the previous one stops working)",
        request=None,
        responses={201: s.TokenSerializer},
    )
    def post(self, request):
        token = tokens.issue(request.user)
        return Response(
            {"key": token.key, "created": token.created},
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @extend_schema(summary="Revoke my token", request=None, responses={204: None})
    def delete(self, request):
        tokens.revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
