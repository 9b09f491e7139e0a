"""The Django admin, in Chinese, for data entry and corrections.

Every change of a task made here (each field, the responsible units, the measures) goes through
``tracker.actions`` as the admin user, so that each change is authorized like any other and
writes a history event naming them; a save based on a stale form is refused as in the
workspace, and a refused save writes nothing (``TaskAdmin``). History itself is read-only
everywhere and is shown with labels, never codes. A unit, inspection, problem or notice that
tasks or history refer to cannot be deleted (PROTECT: the admin shows what protects it).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import F, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tracker import actions
from tracker.api import tokens as api_tokens
from tracker.choices import EventSource, TaskStatus
from tracker.models import (
    ApiToken,
    Inspection,
    InspectionEvent,
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
from tracker.models.history import label_events
from tracker.models.outcomes import InspectionOutcome
from tracker.models.tasks import urgency_rank

admin.site.site_header = _("巡视巡察整改管理")
admin.site.site_title = _("整改管理后台")
admin.site.index_title = _("数据管理")


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (a bounded subquery), so a million-row changelist stays fast."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.CAP + 1].count()


class RefusalsAsFormErrors:
    """A save the actions refuse is shown as a form error, with nothing written.

    ``changeform_view`` runs the whole POST in one transaction; an ``ActionError`` from any
    action leaves that block by exception (everything the save wrote is rolled back, no success
    message, no admin log entry), and the view runs again on the same POST with the refusal
    handed to the form (its ``refusal``), which makes the form invalid: the user sees their
    input and the message, never a 500 and never a half-saved object."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_admin_refusal", None)
        if refusal:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return self._changeform_view(request, object_id, form_url, extra_context)
        using = router.db_for_write(self.model)
        try:
            with transaction.atomic(using=using):
                return self._changeform_view(request, object_id, form_url, extra_context)
        except actions.ActionError as error:
            request._admin_refusal = str(error)
        with transaction.atomic(using=using):
            return self._changeform_view(request, object_id, form_url, extra_context)


class RefusableForm(forms.ModelForm):
    """A model form that carries an action's refusal (``RefusalsAsFormErrors``)."""

    refusal: str | None = None

    def clean(self):
        cleaned = super().clean()
        if self.refusal:
            raise ValidationError(self.refusal)
        return cleaned


class FastChangelist(admin.ModelAdmin):
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50


class ScopedToTasks:
    """Rows of a task (or tasks themselves) in the admin: only those the user may see, by the
    same queryset the workspace lists use (``Access.tasks``); an administrator sees all. Django's
    model permissions open the admin; they never widen what a user reaches."""

    task_lookup = "task"

    def get_queryset(self, request):
        from tracker.permissions import access_for

        qs = super().get_queryset(request)
        access = access_for(request)
        if access.is_admin:
            return qs
        if self.task_lookup == "":
            return access.tasks(qs)
        return qs.filter(**{f"{self.task_lookup}__in": access.tasks().values("pk")})


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
    fields = ("name", "is_self", "lead_name", "contact_emails", "retired")


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
    list_display = ("name", "organization", "is_self", "retired", "lead_name", "contact_emails")
    list_filter = ("is_self", "retired")
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    inlines = [MembershipInline]

    def get_search_results(self, request, queryset, search_term):
        """A retired unit is not offered when a task's units are picked (its old tasks and
        history keep it); the unit list itself still finds it."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _picking_for_a_task(request):
            queryset = queryset.filter(retired=False)
        return queryset, may_have_duplicates


def _picking_for_a_task(request) -> bool:
    """The request is the admin's autocomplete for a unit field of the task form."""
    match = getattr(request, "resolver_match", None)
    return (
        match is not None
        and match.url_name == "autocomplete"
        and request.GET.get("app_label") == "tracker"
        and request.GET.get("model_name") == "task"
    )


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
    fields = ("label", "title", "kind", "withheld", "parent", "order")
    # Read-only here: a problem is reworded or withheld on its own page, through
    # actions.edit_problem, so that its tasks' history records it.
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class NoticeReportInline(ReadOnlyInline):
    model = NoticeReport
    fields = ("notice", "organization_name", "declared", "published_problems", "gap")
    readonly_fields = fields

    @admin.display(description=_("声明与公布之差"))
    def gap(self, obj: NoticeReport):
        return obj.declared_gap


class InspectionOutcomeInline(admin.TabularInline):
    """Outcomes the office records for the published notice (disciplinary actions, rules, funds)."""

    model = InspectionOutcome
    extra = 0
    fields = ("kind", "value", "note")


class InspectionEventInline(ReadOnlyInline):
    """The inspection's history, newest last (read-only: written by the actions)."""

    model = InspectionEvent
    fields = ("created_at", "field_label", "old_value", "new_value", "reason", "actor", "source")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("修改记录")

    @admin.display(description=_("字段"))
    def field_label(self, event) -> str:
        return event.field_label


@admin.register(Inspection)
class InspectionAdmin(RefusalsAsFormErrors, FastChangelist):
    """An inspection is created and changed through ``actions.create_inspection`` /
    ``edit_inspection`` as the admin user: each changed field is a row of its history (shown
    below), and the organization never changes once it has one."""

    form = RefusableForm
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
    inlines = [NoticeReportInline, InspectionOutcomeInline, ProblemInline, InspectionEventInline]

    @admin.display(description=_("整改时限"))
    def deadline_display(self, obj: Inspection):
        return obj.deadline or _("无时限")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk:
            fields.append("organization")
        return fields

    def save_formset(self, request, form, formset, change: bool) -> None:
        """Outcomes go through record_outcome / change_outcome / remove_outcome, so that each
        is a row of the inspection's history; the other inlines are read-only."""
        if formset.model is not InspectionOutcome:
            return super().save_formset(request, form, formset, change)
        actor = actions.Actor.of(
            request.user, EventSource.ADMIN, f"admin:inspection:{form.instance.pk}"
        )
        for row in formset.forms:
            if not row.has_changed() and not (row.instance.pk and formset._should_delete_form(row)):
                continue
            data = row.cleaned_data
            if row.instance.pk and formset._should_delete_form(row):
                actions.remove_outcome(row.instance, actor)
            elif row.instance.pk and "kind" in row.changed_data:  # another kind: a new figure
                actions.remove_outcome(row.instance, actor)
                actions.record_outcome(
                    form.instance, actor, kind=data["kind"], value=data["value"], note=data["note"]
                )
            elif row.instance.pk:
                actions.change_outcome(row.instance, actor, value=data["value"], note=data["note"])
            elif data:
                actions.record_outcome(
                    form.instance, actor, kind=data["kind"], value=data["value"], note=data["note"]
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_model(self, request, obj: Inspection, form, change: bool) -> None:
        from tracker.actions.problems import ADMIN_INSPECTION_FIELDS, INSPECTION_FIELDS

        names = [*INSPECTION_FIELDS, *ADMIN_INSPECTION_FIELDS]
        actor = actions.Actor.of(
            request.user, EventSource.ADMIN, f"admin:inspection:{obj.pk or 'new'}"
        )
        if change:
            edited = {n: getattr(obj, n) for n in names if n in form.changed_data}
            if edited:
                actions.edit_inspection(Inspection.objects.get(pk=obj.pk), actor, **edited)
            return
        created = actions.create_inspection(
            obj.organization, actor, **{n: getattr(obj, n) for n in names}
        )
        obj.pk = created.pk
        obj.created_at = created.created_at
        obj._state.adding = False
        obj._state.db = created._state.db


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
    fk_name = "problem"  # not Task.category, which also points at a problem
    fields = ("status", "deadline", "owner_unit", "task_type")
    readonly_fields = fields


@admin.register(Problem)
class ProblemAdmin(RefusalsAsFormErrors, FastChangelist):
    """Title, number and publication of an existing problem change through
    ``actions.edit_problem`` (as the admin user, history on each of its tasks); the tree's other
    fields are saved as they are."""

    form = RefusableForm
    list_display = ("__str__", "inspection", "kind", "withheld", "order")
    list_filter = ("kind", "withheld")
    search_fields = ("title", "label")
    autocomplete_fields = ("inspection", "parent")
    list_select_related = ("inspection__organization",)
    filter_horizontal = ("sources",)
    inlines = [TaskLinkInline]

    def get_readonly_fields(self, request, obj=None):
        """``parent`` and ``inspection`` are read-only once the problem or one of its
        descendants has a task: each task stores its category (its problem's top-level
        ancestor, ``Task.category``) and inspection when it is created, and the dashboard
        tallies count it under them, so moving the problem in the tree would silently leave
        those counts (and the task's inspection) pointing at the old place."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk and _tree_has_task(obj):
            fields += [f for f in ("parent", "inspection") if f not in fields]
        return fields

    def save_model(self, request, obj: Problem, form, change: bool) -> None:
        edited = {"title", "label", "withheld"}.intersection(form.changed_data)
        if change and edited:
            stored = Problem.objects.get(pk=obj.pk)
            actions.edit_problem(
                stored,
                actions.Actor.of(request.user, EventSource.ADMIN, f"admin:problem:{obj.pk}"),
                **{name: getattr(obj, name) for name in edited},
            )
        super().save_model(request, obj, form, change)


def _tree_has_task(problem: Problem) -> bool:
    """The problem or any descendant has a task (trees are two or three deep: a few queries)."""
    level = [problem.pk]
    seen: set[int] = set()
    while level:
        if Task.objects.filter(Q(problem_id__in=level) | Q(category_id__in=level)).exists():
            return True
        seen.update(level)
        level = [
            pk
            for pk in Problem.objects.filter(parent_id__in=level).values_list("pk", flat=True)
            if pk not in seen
        ]
    return False


class MeasureInlineForm(forms.ModelForm):
    """One measure row. Saved through tracker.actions by ``TaskAdmin.save_formset``, never by
    the formset itself; what the actions would refuse is refused here first, next to the row."""

    class Meta:
        model = Measure
        fields = ("order", "text", "done", "not_applicable", "na_reason")
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("done") and cleaned.get("not_applicable"):
            raise ValidationError(_("措施不能同时标为已完成和不适用。"))
        if cleaned.get("not_applicable") and not (cleaned.get("na_reason") or "").strip():
            self.add_error("na_reason", _("标为不适用须说明理由。"))
        return cleaned


class MeasureInline(admin.TabularInline):
    model = Measure
    form = MeasureInlineForm
    extra = 0
    fields = ("order", "text", "done", "done_at", "not_applicable", "na_reason")
    readonly_fields = ("done_at",)


class LabelledEventFormSet(BaseInlineFormSet):
    """The task's history rows: read-only, so always read from the database and never bound to
    the POST (a form shown again after a refused save lists the history as it is now, the
    change that made the form stale included); labelled once for the whole list
    (``label_events``: one query for all the units they name) rather than once per row."""

    def __init__(self, data=None, files=None, *args, **kwargs):
        super().__init__(None, None, *args, **kwargs)

    def is_valid(self) -> bool:
        return True  # nothing of it is submitted

    def get_queryset(self):
        if not hasattr(self, "_labelled"):
            self._labelled = label_events(super().get_queryset())
        return self._labelled


def _labelled(event: TaskEvent) -> TaskEvent:
    if not hasattr(event, "new_display"):
        label_events([event])
    return event


class EventDisplay:
    """Old and new values as people read them (labels, unit names), never the stored codes."""

    @admin.display(description=_("原值"))
    def old_display(self, obj: TaskEvent) -> str:
        return _labelled(obj).old_display

    @admin.display(description=_("新值"))
    def new_display(self, obj: TaskEvent) -> str:
        return _labelled(obj).new_display


class TaskEventInline(EventDisplay, ReadOnlyInline):
    model = TaskEvent
    formset = LabelledEventFormSet
    fields = (
        "created_at",
        "kind",
        "old_display",
        "new_display",
        "actor",
        "source",
        "source_ref",
        "reason",
    )
    readonly_fields = fields
    show_change_link = False
    ordering = ("-created_at", "-id")


def _offered_units(current_ids) -> QuerySet[Unit]:
    """Units a task may be given: those not retired, plus the ones it already has (a retired
    unit stays on its old tasks until someone moves them)."""
    current = {pk for pk in current_ids if pk is not None}
    return Unit.objects.filter(Q(retired=False) | Q(pk__in=current))


class TaskAdminForm(forms.ModelForm):
    """The admin's task form. It saves nothing itself: ``TaskAdmin`` turns each changed field
    into its action. It carries the version it was loaded with (``loaded_version``) and refuses
    a stale save, and a status correction without a reason, before anything is attempted."""

    change_reason = forms.CharField(
        label=_("变更说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    # Set by TaskAdmin.get_form when a save was refused by an action and the form is shown
    # again with the user's input and this message.
    refusal: str | None = None

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        task = self.instance
        current: list[int | None] = []
        if task.pk:
            self.fields["loaded_version"].initial = task.version
            current = [task.owner_unit_id, task.lead_unit_id]
            current += list(task.responsible_units.values_list("pk", flat=True))
        for name in ("owner_unit", "lead_unit", "responsible_units"):
            if name in self.fields:
                self.fields[name].queryset = _offered_units(current)

    def clean_progress(self) -> str:
        return (self.cleaned_data.get("progress") or "").replace("\r\n", "\n")

    def clean(self):
        cleaned = super().clean()
        if self.refusal:
            raise ValidationError(self.refusal)
        if self.instance.pk:
            loaded = cleaned.get("loaded_version")
            if loaded is None:
                raise ValidationError(_("表单缺少版本信息,请刷新页面后重试。"))
            if loaded != self.instance.version:
                last = self.instance.events.select_related("actor").order_by("-id").first()
                raise ValidationError(str(actions.StaleTask(self.instance, last)))
            reason = (cleaned.get("change_reason") or "").strip()
            if "status" in self.changed_data and not reason:
                self.add_error("change_reason", _("更正整改状态须填写变更说明。"))
        else:
            self._check_units_belong(cleaned)
        return cleaned

    def _check_units_belong(self, cleaned) -> None:
        """A new task's units belong to its inspection's organization (for an existing task
        the actions check this)."""
        problem = cleaned.get("problem")
        if problem is None:
            return
        inspection = cleaned.get("inspection")
        if inspection is not None and inspection.pk != problem.inspection_id:
            self.add_error("inspection", _("所选问题不属于该巡视巡察。"))
        org_id = problem.inspection.organization_id
        for name in ("owner_unit", "lead_unit"):
            unit = cleaned.get(name)
            if unit is not None and unit.organization_id != org_id:
                self.add_error(name, _("单位“%s”不属于该任务所在的党组织。") % unit.name)
        for unit in cleaned.get("responsible_units") or ():
            if unit.organization_id != org_id:
                self.add_error(
                    "responsible_units", _("单位“%s”不属于该任务所在的党组织。") % unit.name
                )


class _TaskSave:
    """One admin save of one task, applied through ``tracker.actions`` as the admin user.

    Every call passes ``expected_version``: the first one the version the form was loaded with
    (so a change made between the form's ``clean`` and here is still refused as stale), each
    later one the version the previous call left (the task row stays locked by the first call
    until the request's transaction ends)."""

    def __init__(self, request, task: Task, form: TaskAdminForm):
        self.actor = actions.Actor.of(request.user, EventSource.ADMIN, ref="admin")
        self.task = task
        self.form = form
        self.data = form.cleaned_data
        self.changed = set(form.changed_data)
        self.reason = (self.data.get("change_reason") or "").strip()
        if task.pk and self.data.get("loaded_version") is not None:
            task.version = self.data["loaded_version"]

    def call(self, action, *args, **kwargs):
        """``action(task, *args, actor, expected_version=…, **kwargs)``."""
        return action(self.task, *args, self.actor, expected_version=self.task.version, **kwargs)

    # --- a new task ---------------------------------------------------------------------------

    def create(self) -> None:
        d = self.data
        created = actions.create_task(
            d["problem"],
            self.actor,
            owner_unit=d["owner_unit"],
            deadline=d.get("deadline"),
            status=d["status"],
            task_type=d["task_type"],
            lead_leader_name=d.get("lead_leader_name") or "",
            lead_unit=d.get("lead_unit"),
            report_due_on=d.get("report_due_on"),
        )
        task = self.task
        task.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
        task._state.adding = False
        task._state.db = created._state.db

    def created_extras(self) -> None:
        """What ``create_task`` does not take: responsible units, the leader's account, progress."""
        d = self.data
        if d.get("responsible_units"):
            self.call(actions.change_responsible_units, list(d["responsible_units"]))
        if d.get("lead_leader") is not None:
            self.call(
                actions.change_lead_leader, d.get("lead_leader_name") or "", user=d["lead_leader"]
            )
        if (d.get("progress") or "").strip():
            self.call(actions.record_note, d["progress"], required=False)

    # --- an existing task ---------------------------------------------------------------------

    @property
    def reopens(self) -> bool:
        """A correction out of 已销号 goes first: the other changes need an open task."""
        return "status" in self.changed and self.form.initial.get("status") == TaskStatus.CLOSED

    def status(self) -> None:
        if "status" in self.changed:
            self.call(actions.admin_set_status, self.data["status"], reason=self.reason)

    def fields(self) -> None:
        d, changed, reason = self.data, self.changed, self.reason
        if "owner_unit" in changed:
            self.call(actions.change_owner, d["owner_unit"], reason=reason)
        if "lead_unit" in changed:
            self.call(actions.change_lead_unit, d.get("lead_unit"), reason=reason)
        if "responsible_units" in changed:
            units = list(d.get("responsible_units") or ())
            self.call(actions.change_responsible_units, units, reason=reason)
        if changed & {"lead_leader_name", "lead_leader"}:
            self.call(
                actions.change_lead_leader,
                d.get("lead_leader_name") or "",
                user=d.get("lead_leader"),
                reason=reason,
            )
        if "task_type" in changed:
            self.call(actions.change_type, d["task_type"], reason=reason)
        if "deadline" in changed:
            self.call(actions.change_deadline, d.get("deadline"), reason=reason)
        if "report_due_on" in changed:
            self.call(actions.change_report_due, d.get("report_due_on"), reason=reason)
        if "progress" in changed:
            self.call(actions.record_note, d.get("progress") or "", required=False)

    # --- measures -----------------------------------------------------------------------------

    def measures(self, formset) -> None:
        """Each row's change through its action; the formset itself saves nothing. The lists
        the admin's change message reads are filled in as ``formset.save()`` would."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = formset.deleted_forms if formset.can_delete else []
        for form in formset.initial_forms:
            measure = form.instance
            if form in deleted:
                self.call(actions.remove_measure, measure, reason=self.reason)
                formset.deleted_objects.append(measure)
            elif form.has_changed():
                self._edit_measure(measure, form)
                formset.changed_objects.append((measure, form.changed_data))
        for form in formset.extra_forms:
            if form in deleted or not form.has_changed():
                continue
            d = form.cleaned_data
            measure = self.call(actions.add_measure, d["text"], reason=self.reason)
            if "order" in form.changed_data and d.get("order") and d["order"] != measure.order:
                measure = self.call(
                    actions.edit_measure, measure, d["text"], order=d["order"], reason=self.reason
                )
            if d.get("not_applicable"):
                self.call(actions.mark_measure_not_applicable, measure, d.get("na_reason") or "")
            elif d.get("done"):
                self.call(actions.tick_measure, measure, True)
            formset.new_objects.append(measure)

    def _edit_measure(self, measure: Measure, form) -> None:
        d, changed = form.cleaned_data, set(form.changed_data)
        if changed & {"text", "order"}:
            self.call(
                actions.edit_measure,
                measure,
                d["text"],
                order=d["order"] if "order" in changed else None,
                reason=self.reason,
            )
        if d.get("not_applicable"):
            if changed & {"not_applicable", "na_reason"}:
                self.call(actions.mark_measure_not_applicable, measure, d.get("na_reason") or "")
            return
        if "done" in changed:
            # Ticking done also clears a not-applicable mark (one event: not applicable → done).
            self.call(actions.tick_measure, measure, bool(d.get("done")))
        if "not_applicable" in changed and not d.get("done"):
            self.call(actions.mark_measure_not_applicable, measure, None)


class ChosenObjectFilter(admin.SimpleListFilter):
    """An autocomplete-style filter on a task's foreign key: it takes an id from the query
    string (``<field>__id__exact``, the admin's own spelling) and lists only the chosen object,
    read by its primary key, never a choice per row of a table of thousands. An object is
    picked by clicking its name in a row (the column links to this filter) or by a link from
    elsewhere; "全部" clears it. A malformed id lists nothing rather than failing."""

    field_name = ""
    model = None

    def __init__(self, request, params, model, model_admin):
        self.parameter_name = f"{self.field_name}__id__exact"
        super().__init__(request, params, model, model_admin)

    def _chosen_id(self) -> int | None:
        try:
            return int(self.value())
        except (TypeError, ValueError):
            return None

    def lookups(self, request, model_admin):
        chosen = self._chosen_id()
        if chosen is None:
            return ()
        return [(str(obj.pk), str(obj)) for obj in self.chosen_objects(chosen)]

    def chosen_objects(self, pk: int):
        return self.model._default_manager.filter(pk=pk)

    def has_output(self) -> bool:
        return True  # "全部" and the chosen object, if any

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        chosen = self._chosen_id()
        if chosen is None:
            return queryset.none()
        return queryset.filter(**{f"{self.field_name}_id": chosen})


class OwnerUnitFilter(ChosenObjectFilter):
    title = _("责任主体")
    field_name = "owner_unit"
    model = Unit


class InspectionFilter(ChosenObjectFilter):
    title = _("巡视巡察")
    field_name = "inspection"
    model = Inspection

    def chosen_objects(self, pk: int):
        return Inspection.objects.select_related("organization").filter(pk=pk)


class DeadlineFilter(admin.SimpleListFilter):
    """Date navigation without a date_hierarchy (whose year and month links are a DISTINCT over
    every matching row): fixed choices, judged by ``tracker.rules`` like the task list."""

    title = _("整改时限")
    parameter_name = "deadline_is"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("已逾期")),
            ("7", _("7天内到期")),
            ("30", _("30天内到期")),
            ("none", _("无时限")),
        ]

    def queryset(self, request, queryset):
        from tracker import rules
        from tracker.models import local_today

        value = self.value()
        if value == "overdue":
            return queryset.filter(rules.overdue_q(local_today()))
        if value in ("7", "30"):
            return queryset.filter(rules.due_soon_q(local_today(), int(value)))
        if value == "none":
            return queryset.filter(rules.no_deadline_q())
        return queryset


@admin.register(Task)
class TaskAdmin(RefusalsAsFormErrors, ScopedToTasks, FastChangelist):
    """Tasks in the admin: every change is a ``tracker.actions`` call made as the admin user.

    How a save runs, and why it is all or nothing:

    1. The form (``TaskAdminForm.clean``) refuses, before anything is attempted, a form loaded
       at an older version than the stored one (with the workspace's own ``StaleTask``
       message), a status correction without a reason, and (per measure row) what the measure
       actions would refuse.
    2. ``save_model`` creates a new task through ``actions.create_task``; for an existing task
       it writes nothing. ``save_related`` then applies each changed field through its action
       (``_TaskSave.fields``), the measure rows through theirs (``save_formset``) and the
       status correction last (first when it takes the task out of 已销号), each call checked
       against the version the form was loaded with. Neither ``obj.save()`` nor
       ``form.save_m2m()`` nor ``formset.save()`` runs.
    3. ``RefusalsAsFormErrors`` runs the whole POST in one transaction: an ``ActionError``
       from any action (a concurrent change, a refusal by ``tracker.permissions``, a workflow
       rule) rolls back everything the save wrote and shows the form again with the refusal as
       a form error, never a 500 and never a half-saved task.
    """

    task_lookup = ""  # the rows are the tasks themselves
    # Django's changelist with its rows written once per column (tracker.templatetags.fast_admin).
    change_list_template = "admin/tracker/task/change_list.html"

    list_display = (
        "__str__",
        "inspection_link",
        "owner_unit_link",
        "task_type",
        "status",
        "deadline",
        "overdue_flag",
    )
    # No date_hierarchy (a DISTINCT over every matching row for its links) and no choice per
    # row for inspections or units: fixed choices, or the one chosen object read by its id.
    list_filter = (
        "status",
        "task_type",
        DeadlineFilter,
        "inspection__level",
        InspectionFilter,
        OwnerUnitFilter,
    )
    search_fields = ("problem__title", "problem__label", "owner_unit__name")
    # Facet counts would count every matching row per choice.
    show_facets = admin.ShowFacets.NEVER
    # The list's urgency order, read page by page from the ``task_urgency`` index (and its
    # per-inspection and per-owner twins); the model's default order (inspection, problem
    # order) is a join and a sort of every matching row before the first page.
    ordering = (urgency_rank().asc(), F("deadline").asc(nulls_last=True), "pk")
    # No bulk actions: "delete selected" would remove tasks past ``tracker.actions`` (no
    # history, no permission check of its own), and its checkbox column was a template render
    # per row, about a fifth of the page's CPU.
    actions = None
    # The workspace list's page size: each row is rendered cell by cell through the admin's
    # display machinery, the bulk of the page's CPU.
    list_per_page = 25
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
        "loaded_version",
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

    @admin.display(description=_("巡视巡察"), ordering="inspection_id")
    def inspection_link(self, obj: Task):
        """The inspection, linking to the list filtered by it (how InspectionFilter is set)."""
        return format_html(
            '<a href="?inspection__id__exact={}">{}</a>', obj.inspection_id, str(obj.inspection)
        )

    @admin.display(description=_("责任主体"), ordering="owner_unit__name")
    def owner_unit_link(self, obj: Task):
        """The owner unit, linking to the list filtered by it (how OwnerUnitFilter is set)."""
        return format_html(
            '<a href="?owner_unit__id__exact={}">{}</a>', obj.owner_unit_id, obj.owner_unit.name
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:  # a task's problem and inspection are what it is: never re-pointed
            readonly = ("problem", "inspection", *readonly)
        return readonly

    def _plan(self, request, obj: Task, form) -> _TaskSave:
        plan = getattr(form, "_task_save", None)
        if plan is None:
            plan = form._task_save = _TaskSave(request, obj, form)
        return plan

    def save_model(self, request, obj: Task, form, change: bool) -> None:
        plan = self._plan(request, obj, form)
        if not change:
            # A new task is created through the action so that it starts with its 'created' event.
            plan.create()
        # An existing task: nothing is written here; save_related applies the changes.

    def save_related(self, request, form, formsets, change: bool) -> None:
        plan = self._plan(request, form.instance, form)
        if not change:
            plan.created_extras()
        else:
            if plan.reopens:
                plan.status()
            plan.fields()
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        if change and not plan.reopens:
            plan.status()

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is Measure:
            self._plan(request, form.instance, form).measures(formset)
        elif formset.model is TaskEvent:
            # History is read-only: nothing to save.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        else:  # pragma: no cover - no other inline on tasks
            raise ImproperlyConfigured(f"TaskAdmin cannot save {formset.model.__name__} rows")


class LabelledEventChangeList(ChangeList):
    """The history list, each page labelled at once (``label_events``)."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = label_events(self.result_list)


@admin.register(TaskEvent)
class TaskEventAdmin(ScopedToTasks, EventDisplay, FastChangelist):
    list_display = (
        "created_at",
        "task",
        "kind",
        "old_display",
        "new_display",
        "actor",
        "source",
    )
    list_filter = ("kind", "source")
    search_fields = ("task__problem__title", "reason", "source_ref")
    date_hierarchy = "created_at"
    list_select_related = ("task__problem", "actor")
    fields = (
        "task",
        "created_at",
        "kind",
        "old_display",
        "new_display",
        "reason",
        "actor",
        "source",
        "source_ref",
    )
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return LabelledEventChangeList

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- workspace workflow: evidence, close-out requests and reviews, extensions (read-only here:
# they are written only through tracker.actions, which also writes the task's history).
from tracker.models import CloseoutRequest, CloseoutReview, Evidence, ExtensionRequest  # noqa: E402


class WorkflowReadOnly(ScopedToTasks, FastChangelist):
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


# --- reminder channels: robots and webhooks per unit or person; secrets never shown back --------

from tracker.models.reminders import (  # noqa: E402  (kept with its section)
    ChannelDelivery,
    ReminderChannel,
)


def mask(value: str, keep: int = 4) -> str:
    """A secret as the admin shows it: only its last few characters."""
    if not value:
        return ""
    return "••••" + (value[-keep:] if len(value) > keep * 3 else "")


def mask_url(url: str) -> str:
    """A webhook address with the values of its query (access_token, key) masked."""
    from urllib.parse import parse_qsl, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = "&".join(f"{k}={mask(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=query))


class ReminderChannelForm(forms.ModelForm):
    """The secret is write-only: the form never renders it; left empty it keeps the stored
    one, and "清除签名密钥" removes it."""

    secret = forms.CharField(
        label=_("签名密钥"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "钉钉机器人“加签”的密钥(SEC开头);通用Webhook用于对请求体签名。留空则保留已保存的密钥"
        ),
    )
    clear_secret = forms.BooleanField(label=_("清除签名密钥"), required=False)
    url = forms.URLField(
        label=_("Webhook地址"),
        max_length=500,
        assume_scheme="https",
        help_text=_("机器人或接收系统提供的完整地址(含access_token或key)"),
    )

    class Meta:
        model = ReminderChannel
        fields = ("name", "kind", "unit", "user", "url", "secret", "enabled")

    def clean_secret(self) -> str:
        value = self.cleaned_data.get("secret", "")
        if not value and self.instance.pk:
            return self.instance.secret
        return value

    def clean(self):
        data = super().clean()
        if data.get("clear_secret"):
            data["secret"] = ""
        if bool(data.get("unit")) == bool(data.get("user")):
            raise ValidationError(_("请选择单位或人员中的一项(不能同时选择)。"))
        return data


@admin.register(ReminderChannel)
class ReminderChannelAdmin(FastChangelist):
    form = ReminderChannelForm
    list_display = ("name", "kind", "unit", "user", "masked_url", "secret_hint", "enabled")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "unit__name", "user__username")
    raw_id_fields = ("user",)
    list_select_related = ("unit", "user")

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("Webhook地址"))
    def masked_url(self, obj: ReminderChannel) -> str:
        return mask_url(obj.url)

    @admin.display(description=_("签名密钥"))
    def secret_hint(self, obj: ReminderChannel) -> str:
        return mask(obj.secret) or "—"


@admin.register(ChannelDelivery)
class ChannelDeliveryAdmin(ReminderReadOnly):
    list_display = (
        "day",
        "kind",
        "channel",
        "state",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "error_excerpt",
    )
    list_filter = ("state", "kind", "channel__kind", "day")
    search_fields = ("channel__name", "last_error")
    date_hierarchy = "day"
    list_select_related = ("channel",)
    actions = ["retry"]

    @admin.display(description=_("最近错误"))
    def error_excerpt(self, obj: ChannelDelivery) -> str:
        return obj.last_error[:80]

    def has_retry_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.action(description=_("重新推送所选失败的渠道消息"), permissions=["retry"])
    def retry(self, request, queryset) -> None:
        # Only failed rows: a sent message is never sent again, a pending one is already queued.
        count = queryset.filter(state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=None, claim_token=""
        )
        messages.success(request, _("已将 %d 条渠道消息重新排入推送队列。") % count)


# --- supervision: 督办 documents, 反向核查 rounds, 屡巡屡犯 links (read-only here, for
# administrators: they are written only through tracker.actions, which also write the tasks'
# history; the supervisors' own pages are /ladder/ and /rechecks/).
from tracker.models import (  # noqa: E402
    RecheckItem,
    RecheckRound,
    RepeatLink,
    SupervisionDocument,
)


class AdministratorsReadOnly(FastChangelist):
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupervisionDocument)
class SupervisionDocumentAdmin(AdministratorsReadOnly):
    list_display = ("__str__", "organization", "unit", "issued_at", "reply_due", "replied_at")
    list_filter = ("rung",)
    list_select_related = ("organization", "unit")
    search_fields = ("unit__name", "organization__name")
    exclude = ("tasks",)


class RecheckItemInline(ReadOnlyInline):
    model = RecheckItem
    fields = ("task", "unit", "checker", "outcome", "findings", "checked_at")
    readonly_fields = fields


@admin.register(RecheckRound)
class RecheckRoundAdmin(AdministratorsReadOnly):
    list_display = ("name", "organization", "inspection", "seed", "population", "created_at")
    list_select_related = ("organization", "inspection__organization")
    inlines = [RecheckItemInline]


@admin.register(RepeatLink)
class RepeatLinkAdmin(AdministratorsReadOnly):
    list_display = ("problem", "earlier_problem", "score")
    list_select_related = ("problem", "earlier_problem")
    raw_id_fields = ("problem", "earlier_problem")


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user",)

    def validate_unique(self) -> None:
        """A user who has a token gets a new one (the old stops working), as on their page."""


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Whose API tokens exist, never a key: only its digest is stored. Adding one makes a new
    key for the chosen user and shows it on the answer page, once; deleting one revokes it."""

    form = ApiTokenForm
    list_display = ("user", "hint", "created")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # The one way to make a token (tracker.api.tokens); the admin's own row is that one,
        # so that its log entry and answer page name it.
        made = api_tokens.issue(form.cleaned_data["user"])
        obj.pk, obj.digest, obj.hint, obj.created, obj.key = (
            made.pk,
            made.digest,
            made.hint,
            made.created,
            made.key,
        )

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/tracker/apitoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": obj,
                "key": obj.key,
                "title": _("新的接口令牌"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response
