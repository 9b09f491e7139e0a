"""The Django admin, in Chinese, for data entry and corrections.

Task status, deadline, owner and type edited here go through ``tracker.actions`` so that each
change writes a history event naming the admin user. History itself is read-only everywhere.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tracker import actions
from tracker.choices import EventSource
from tracker.models import (
    Inspection,
    Measure,
    Membership,
    NoticeReport,
    Organization,
    Problem,
    ScopeAssignment,
    SourceNotice,
    Task,
    TaskEvent,
    Unit,
)

admin.site.site_header = _("巡视巡察整改管理")
admin.site.site_title = _("整改管理后台")
admin.site.index_title = _("数据管理")


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (a bounded subquery), so a million-row changelist stays fast."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.CAP + 1].count()


class FastChangelist(admin.ModelAdmin):
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ("name", "is_self", "lead_name", "contact_emails")


@admin.register(Organization)
class OrganizationAdmin(FastChangelist):
    list_display = ("name", "short_name", "core_name", "parent", "principal_name")
    search_fields = ("name", "short_name", "core_name")
    autocomplete_fields = ("parent", "principal")
    inlines = [UnitInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Unit)
class UnitAdmin(FastChangelist):
    list_display = ("name", "organization", "is_self", "lead_name", "contact_emails")
    list_filter = ("is_self",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(FastChangelist):
    list_display = ("user", "unit", "role")
    list_filter = ("role",)
    search_fields = ("user__username", "unit__name")
    autocomplete_fields = ("user", "unit")
    list_select_related = ("user", "unit")


@admin.register(ScopeAssignment)
class ScopeAssignmentAdmin(FastChangelist):
    list_display = ("user", "role", "organization", "inspection", "all_organizations")
    list_filter = ("role", "all_organizations")
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("user", "organization", "inspection")
    list_select_related = ("user", "organization", "inspection__organization")


class ProblemInline(admin.TabularInline):
    model = Problem
    extra = 0
    fields = ("label", "title", "kind", "parent", "order")
    raw_id_fields = ("parent",)
    show_change_link = True


class NoticeReportInline(ReadOnlyInline):
    model = NoticeReport
    fields = ("notice", "organization_name", "declared", "published_problems", "gap")
    readonly_fields = fields

    @admin.display(description=_("声明与公布之差"))
    def gap(self, obj: NoticeReport):
        return obj.declared_gap


@admin.register(Inspection)
class InspectionAdmin(FastChangelist):
    list_display = (
        "organization",
        "level",
        "round_name",
        "group",
        "kind",
        "feedback_date",
        "deadline_display",
    )
    list_filter = ("level", "kind")
    search_fields = ("organization__name", "round_name", "group")
    autocomplete_fields = ("organization",)
    date_hierarchy = "feedback_date"
    list_select_related = ("organization",)
    inlines = [NoticeReportInline, ProblemInline]

    @admin.display(description=_("整改时限"))
    def deadline_display(self, obj: Inspection):
        return obj.deadline or _("无时限")


class NoticeProblemsInline(ReadOnlyInline):
    model = NoticeReport
    fields = ("inspection", "organization_name", "declared", "published_problems")
    readonly_fields = fields


@admin.register(SourceNotice)
class SourceNoticeAdmin(FastChangelist):
    list_display = ("file_name", "title", "issuer", "published", "imported_at")
    search_fields = ("file_name", "title", "issuer", "sha256")
    date_hierarchy = "published"
    readonly_fields = ("sha256", "imported_at", "imported_by", "warnings")
    inlines = [NoticeProblemsInline]
    # The changelist carries the "导入通报" button: upload → preview → confirm.
    change_list_template = "admin/tracker/sourcenotice/change_list.html"

    def get_urls(self):
        from tracker.importer.admin_upload import upload_urls

        return upload_urls(self) + super().get_urls()


class TaskLinkInline(ReadOnlyInline):
    model = Task
    fields = ("status", "deadline", "owner_unit", "task_type")
    readonly_fields = fields


@admin.register(Problem)
class ProblemAdmin(FastChangelist):
    list_display = ("__str__", "inspection", "kind", "order")
    list_filter = ("kind",)
    search_fields = ("title", "label")
    autocomplete_fields = ("inspection", "parent")
    list_select_related = ("inspection__organization",)
    filter_horizontal = ("sources",)
    inlines = [TaskLinkInline]


class MeasureInline(admin.TabularInline):
    model = Measure
    extra = 0
    fields = ("order", "text", "done", "done_at")
    readonly_fields = ("done_at",)


class TaskEventInline(ReadOnlyInline):
    model = TaskEvent
    fields = (
        "created_at",
        "kind",
        "old_value",
        "new_value",
        "actor",
        "source",
        "source_ref",
        "reason",
    )
    readonly_fields = fields
    show_change_link = False
    ordering = ("-created_at", "-id")


class TaskAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("变更说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = Task
        fields = (
            "problem",
            "inspection",
            "owner_unit",
            "lead_unit",
            "responsible_units",
            "lead_leader_name",
            "lead_leader",
            "task_type",
            "status",
            "deadline",
            "report_due_on",
            "progress",
        )


# Fields the admin form shows but which are saved through tracker.actions, not form.save().
ACTION_FIELDS = ("status", "deadline", "owner_unit", "task_type")


@admin.register(Task)
class TaskAdmin(FastChangelist):
    list_display = (
        "__str__",
        "inspection",
        "owner_unit",
        "task_type",
        "status",
        "deadline",
        "overdue_flag",
    )
    list_filter = ("status", "task_type", "inspection__level")
    search_fields = ("problem__title", "problem__label", "owner_unit__name")
    date_hierarchy = "deadline"
    autocomplete_fields = (
        "problem",
        "inspection",
        "owner_unit",
        "lead_unit",
        "responsible_units",
        "lead_leader",
    )
    list_select_related = ("problem", "inspection__organization", "owner_unit")
    readonly_fields = (
        "original_deadline",
        "version",
        "status_changed_at",
        "closed_at",
        "created_at",
    )
    fields = (
        "problem",
        "inspection",
        "owner_unit",
        "lead_unit",
        "responsible_units",
        "lead_leader_name",
        "lead_leader",
        "task_type",
        "status",
        "deadline",
        "original_deadline",
        "report_due_on",
        "progress",
        "change_reason",
        "version",
        "status_changed_at",
        "closed_at",
        "created_at",
    )
    inlines = [MeasureInline, TaskEventInline]
    form = TaskAdminForm

    @admin.display(description=_("逾期"), boolean=True)
    def overdue_flag(self, obj: Task):
        return obj.is_overdue()

    def save_model(self, request, obj: Task, form, change: bool) -> None:
        actor = actions.Actor.of(request.user, EventSource.ADMIN, ref="admin")
        reason = form.cleaned_data.get("change_reason", "")
        if not change:
            # A new task is created through the action so that it starts with its 'created' event.
            created = actions.create_task(
                obj.problem,
                actor,
                owner_unit=obj.owner_unit,
                deadline=obj.deadline,
                status=obj.status,
                task_type=obj.task_type,
                lead_leader_name=obj.lead_leader_name,
            )
            obj.pk = created.pk
            obj.version = created.version
            obj.created_at = created.created_at
            obj.report_due_on = obj.report_due_on or created.report_due_on
            obj.save(
                update_fields=[
                    "lead_unit",
                    "lead_leader",
                    "progress",
                    "report_due_on",
                    "inspection",
                ]
            )
            return
        wanted = {name: getattr(obj, name) for name in ACTION_FIELDS}
        stored = Task.objects.get(pk=obj.pk)
        for name in ACTION_FIELDS:
            setattr(obj, name, getattr(stored, name))
        obj.version = stored.version
        obj.save(
            update_fields=[
                "lead_unit",
                "lead_leader",
                "lead_leader_name",
                "progress",
                "report_due_on",
                "problem",
                "inspection",
            ]
        )
        try:
            if wanted["owner_unit"].pk != stored.owner_unit_id:
                actions.change_owner(obj, wanted["owner_unit"], actor, reason=reason)
            if wanted["deadline"] != stored.deadline:
                actions.change_deadline(obj, wanted["deadline"], actor, reason=reason)
            if wanted["task_type"] != stored.task_type:
                actions.change_type(obj, wanted["task_type"], actor, reason=reason)
            if wanted["status"] != stored.status:
                actions.admin_set_status(obj, wanted["status"], actor, reason=reason)
        except actions.ActionError as error:
            messages.error(request, str(error))


@admin.register(TaskEvent)
class TaskEventAdmin(FastChangelist):
    list_display = ("created_at", "task", "kind", "old_value", "new_value", "actor", "source")
    list_filter = ("kind", "source")
    search_fields = ("task__problem__title", "reason", "source_ref")
    date_hierarchy = "created_at"
    list_select_related = ("task__problem", "actor")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- workspace workflow: evidence, close-out requests and reviews, extensions (read-only here:
# they are written only through tracker.actions, which also writes the task's history).
from tracker.models import CloseoutRequest, CloseoutReview, Evidence, ExtensionRequest  # noqa: E402


class WorkflowReadOnly(FastChangelist):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Evidence)
class EvidenceAdmin(WorkflowReadOnly):
    list_display = ("original_name", "task", "content_type", "size", "uploaded_by", "uploaded_at")
    search_fields = ("original_name", "task__problem__title", "sha256")
    list_select_related = ("task__problem", "uploaded_by")
    # The stored path is not a link: files are downloaded through the permission-checked view.
    exclude = ("file",)


class CloseoutReviewInline(ReadOnlyInline):
    model = CloseoutReview
    fields = ("stage", "decision", "reviewer", "reviewed_at", "comment")
    readonly_fields = fields
    show_change_link = False


@admin.register(CloseoutRequest)
class CloseoutRequestAdmin(WorkflowReadOnly):
    list_display = ("task", "status", "requested_by", "requested_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("task__problem__title", "summary")
    list_select_related = ("task__problem", "requested_by")
    inlines = [CloseoutReviewInline]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(WorkflowReadOnly):
    list_display = (
        "task",
        "current_deadline",
        "new_deadline",
        "status",
        "requested_by",
        "decided_by",
        "requested_at",
    )
    list_filter = ("status",)
    search_fields = ("task__problem__title", "reason")
    list_select_related = ("task__problem", "requested_by", "decided_by")


# --- reminders: read-only logs for administrators, failures filterable, a retry action ---------

from tracker.models.reminders import (  # noqa: E402  (kept with its section)
    DeliveryState,
    ReminderDigest,
    ReminderLog,
    ReminderSweep,
)


class ReminderReadOnly(FastChangelist):
    """Reminder records are written by the sweep only; administrators read them."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReminderDigest)
class ReminderDigestAdmin(ReminderReadOnly):
    list_display = (
        "day",
        "kind",
        "recipient",
        "state",
        "attempts",
        "no_contact",
        "sent_at",
        "next_attempt_at",
        "error_excerpt",
    )
    list_filter = ("state", "kind", "no_contact", "day")
    search_fields = ("recipient", "last_error")
    date_hierarchy = "day"
    actions = ["retry"]

    @admin.display(description=_("最近错误"))
    def error_excerpt(self, obj: ReminderDigest) -> str:
        return obj.last_error[:80]

    def has_retry_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.action(description=_("重新发送所选失败的提醒邮件"), permissions=["retry"])
    def retry(self, request, queryset) -> None:
        # Only failed rows: a sent digest is never sent again, a pending one is already queued.
        count = queryset.filter(state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=None, claim_token=""
        )
        messages.success(request, _("已将 %d 封邮件重新排入发送队列。") % count)


@admin.register(ReminderLog)
class ReminderLogAdmin(ReminderReadOnly):
    list_display = ("day", "recipient", "tier", "task", "no_contact", "sent_at", "digest_state")
    list_filter = ("tier", "no_contact", "digest__state", "day")
    search_fields = ("recipient", "task__problem__title")
    date_hierarchy = "day"
    list_select_related = ("task__problem", "digest")
    raw_id_fields = ("task", "digest")

    @admin.display(description=_("邮件状态"))
    def digest_state(self, obj: ReminderLog) -> str:
        return obj.digest.get_state_display()


@admin.register(ReminderSweep)
class ReminderSweepAdmin(ReminderReadOnly):
    list_display = ("day", "kind", "tasks", "reminders", "digests", "planned_at")
    list_filter = ("kind",)
