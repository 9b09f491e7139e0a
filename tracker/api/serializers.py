"""What the API's records look like, and what its writes accept.

Output: codes (status, type, kind, source) as stored, each beside its label in the request's
language (``*_label``), dates as ISO strings, people as username and name. Input serializers
validate shapes only; the rules (who, which transition, what a close-out needs) are the
actions', and their refusals answer as ``tracker.api.errors`` says.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.choices import TaskStatus
from tracker.models import (
    CloseoutRequest,
    CloseoutReview,
    Evidence,
    ExtensionRequest,
    Inspection,
    Measure,
    Problem,
    Task,
    TaskEvent,
    Unit,
    local_today,
)


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {"username": {"type": "string"}, "name": {"type": "string"}},
    }
)
class PersonField(serializers.Field):
    """A user as ``{"username", "name"}`` (null for a change made by the system)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, user):
        if user is None:
            return None
        return {"username": user.get_username(), "name": user.get_full_name()}


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name"]


class InspectionSerializer(serializers.ModelSerializer):
    organization = serializers.SerializerMethodField()
    name = serializers.CharField(source="__str__", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    deadline = serializers.DateField(read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "name",
            "organization",
            "level",
            "level_label",
            "term",
            "round_no",
            "round_name",
            "kind",
            "kind_label",
            "group",
            "feedback_date",
            "deadline",
            "declared",
        ]

    def get_organization(self, inspection) -> dict:
        return {"id": inspection.organization_id, "name": inspection.organization.name}


class ProblemSerializer(serializers.ModelSerializer):
    task = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "inspection",
            "parent",
            "kind",
            "kind_label",
            "label",
            "order",
            "title",
            "detail",
            "withheld",
            "task",
        ]

    def get_task(self, problem) -> int | None:
        """The id of the problem's task (categories and undivided problems have none)."""
        return getattr(problem, "task_pk", None)


class TaskSerializer(serializers.ModelSerializer):
    """A task as the list shows it (one row, no further query)."""

    url = serializers.SerializerMethodField()
    problem = serializers.SerializerMethodField()
    inspection = serializers.SerializerMethodField()
    owner_unit = UnitRefSerializer(read_only=True)
    lead_unit = UnitRefSerializer(read_only=True, allow_null=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    task_type_label = serializers.CharField(source="get_task_type_display", read_only=True)
    days_overdue = serializers.SerializerMethodField()
    awaits_acknowledgement = serializers.BooleanField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "url",
            "problem",
            "inspection",
            "owner_unit",
            "lead_unit",
            "lead_leader_name",
            "task_type",
            "task_type_label",
            "status",
            "status_label",
            "deadline",
            "original_deadline",
            "report_due_on",
            "days_overdue",
            "assigned_at",
            "acknowledged_at",
            "awaits_acknowledgement",
            "version",
            "updated_at",
        ]

    def get_url(self, task) -> str:
        return reverse("api:task-detail", args=[task.pk])

    def get_problem(self, task) -> dict:
        return {"id": task.problem_id, "label": task.problem.label, "title": task.problem.title}

    def get_inspection(self, task) -> dict:
        return {"id": task.inspection_id, "name": str(task.inspection)}

    def get_days_overdue(self, task) -> int:
        today = self.context.get("today") or local_today()
        return task.days_overdue(today)


class MeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measure
        fields = ["id", "order", "text", "done", "done_at", "not_applicable", "na_reason"]


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = PersonField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_by",
            "uploaded_at",
        ]


class CloseoutReviewSerializer(serializers.ModelSerializer):
    reviewer = PersonField()
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    decision_label = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = CloseoutReview
        fields = [
            "stage",
            "stage_label",
            "decision",
            "decision_label",
            "comment",
            "reviewer",
            "reviewed_at",
        ]


class CloseoutSerializer(serializers.ModelSerializer):
    requested_by = PersonField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reviews = CloseoutReviewSerializer(many=True, read_only=True)

    class Meta:
        model = CloseoutRequest
        fields = [
            "id",
            "status",
            "status_label",
            "summary",
            "no_evidence_reason",
            "requested_by",
            "requested_at",
            "decided_at",
            "reviews",
        ]


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = PersonField()
    decided_by = PersonField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "status",
            "status_label",
            "current_deadline",
            "new_deadline",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]


class EventSerializer(serializers.ModelSerializer):
    """One history event: the stored codes (``old_value``, ``new_value``) and their labels in
    the request's language (``old_display``, ``new_display``: ``label_events``)."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    old_display = serializers.CharField(read_only=True)
    new_display = serializers.CharField(read_only=True)
    actor = PersonField()

    class Meta:
        model = TaskEvent
        fields = [
            "id",
            "kind",
            "kind_label",
            "old_value",
            "new_value",
            "old_display",
            "new_display",
            "reason",
            "actor",
            "source",
            "source_label",
            "created_at",
        ]


class TaskDetailSerializer(TaskSerializer):
    """A task as its page shows it: the row, plus measures, units, evidence, close-outs,
    extensions, history, and what the requesting user may do with it."""

    responsible_units = UnitRefSerializer(many=True, read_only=True)
    progress = serializers.CharField(read_only=True)
    measures = MeasureSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    closeouts = CloseoutSerializer(many=True, read_only=True, source="closeout_requests")
    extensions = ExtensionSerializer(many=True, read_only=True, source="extension_requests")
    history = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    allowed_statuses = serializers.SerializerMethodField()
    ladder_documents = serializers.SerializerMethodField()
    repeats = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = [
            *TaskSerializer.Meta.fields,
            "responsible_units",
            "progress",
            "status_changed_at",
            "closed_at",
            "created_at",
            "measures",
            "evidence",
            "closeouts",
            "extensions",
            "history",
            "permissions",
            "allowed_statuses",
            "ladder_documents",
            "repeats",
        ]

    def get_ladder_documents(self, task) -> list[dict]:
        """The 督办 documents about the task that the user may read (as on its page)."""
        from tracker.permissions import supervision_documents

        documents = supervision_documents(self.context["access"]).filter(tasks=task)
        return [
            {
                "id": d.pk,
                "reference": d.reference,
                "rung": d.rung,
                "rung_label": d.get_rung_display(),
                "issued_at": d.issued_at,
                "reply_due": d.reply_due,
                "replied_at": d.replied_at,
            }
            for d in documents.order_by("issued_at", "pk")
        ]

    def get_repeats(self, task) -> list[dict]:
        """屡巡屡犯: the likely repeats, each named only when the user may read the other problem."""
        from tracker.selectors import repeat_links_for

        rows = []
        for row in repeat_links_for(task, self.context["access"]):
            visible = row["visible"]
            rows.append(
                {
                    "score": row["score"],
                    "earlier": row["earlier"],
                    "problem": row["other"].title if visible else None,
                    "inspection": str(row["other"].inspection) if visible else None,
                    "task": reverse("api:task-detail", args=[row["task_id"]])
                    if row["task_id"]
                    else None,
                }
            )
        return rows

    def get_history(self, task) -> list[dict]:
        return EventSerializer(self.context["events"], many=True).data

    def get_permissions(self, task) -> dict:
        """Which kinds of change the user may make (the actions still decide each one)."""
        access = self.context["access"]
        return {
            "edit": access.can_edit(task),
            "lead_review": access.can_lead_review(task),
            "supervise": access.can_supervise(task),
        }

    def get_allowed_statuses(self, task) -> list[str]:
        from tracker.actions import allowed_statuses

        return allowed_statuses(task) if task.status != TaskStatus.CLOSED else []


# --- input ---------------------------------------------------------------------------------------


class VersionedInput(serializers.Serializer):
    """Every write names the task version the client read: here, or as ``If-Match``."""

    version = serializers.IntegerField(required=False, min_value=1)


class ProgressInput(VersionedInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    done_measures = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Ids of the measures done; "
        "every other measure becomes not done. Omitted: ticks stay as they are.",
    )
    not_applicable = serializers.JSONField(
        required=False,
        help_text="{measure id: reason} of the measures that do not apply; every other measure "
        "becomes applicable. Omitted: left as they are.",
    )
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Evidence files (multipart)."
    )

    def validate_not_applicable(self, value) -> dict[int, str]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("须为 {措施编号: 理由} 形式的对象。"))
        try:
            return {int(k): str(v)[:500] for k, v in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError(_("须为 {措施编号: 理由} 形式的对象。")) from None


class CloseoutRequestInput(VersionedInput):
    summary = serializers.CharField(max_length=5000)
    no_evidence_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    basic_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )


class CloseoutReviewInput(VersionedInput):
    decision = serializers.ChoiceField(choices=["approve", "return"])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ExtensionRequestInput(VersionedInput):
    new_deadline = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class ExtensionDecisionInput(VersionedInput):
    decision = serializers.ChoiceField(choices=["approve", "refuse"])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReopenInput(VersionedInput):
    reason = serializers.CharField(max_length=2000)


class PlanImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The plan sheet (.xlsx).")
    dry_run = serializers.BooleanField(
        default=True, help_text="true (default): only say what importing would do."
    )
    mapping = serializers.JSONField(
        required=False,
        default=dict,
        help_text='JSON {unit name in the sheet: unit id, or "new" to create it}.',
    )
    digest = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The preview's digest: the import is refused if the tasks changed since.",
    )

    def validate_mapping(self, value) -> dict[str, str]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("须为 {单位名称: 单位编号或 new} 形式的对象。"))
        return {str(k): "" if v is None else str(v) for k, v in value.items()}


class TokenSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True, allow_null=True)
    created = serializers.DateTimeField(read_only=True, allow_null=True)
