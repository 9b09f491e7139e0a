"""The one TaskFilterSet: the task list, the dashboard's drill-downs and the ledger exports
all filter through it, so "overdue" or "due within 7 days" means the same everywhere (the rules
are ``tracker.rules``')."""

from __future__ import annotations

import copy
import datetime

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.choices import EventKind, Level, ProblemKind, TaskStatus, TaskType
from tracker.figures import TALLY_FIELDS
from tracker.history_asof import scope_as_of
from tracker.models import (
    Inspection,
    Organization,
    Problem,
    RepeatLink,
    Task,
    TaskEvent,
    Unit,
    local_today,
)
from tracker.models.tasks import urgency_rank
from tracker.rules import (
    FIELDS,
    due_soon_q,
    no_deadline_q,
    overdue_q,
    report_due_q,
)
from tracker.scope_choices import organization_choices

# The empty option of every single-choice filter: "no restriction", never Django's "---------"
# or NullBooleanSelect's 未知 (Unknown).
ANY_LABEL = _("全部")


class AnyBooleanSelect(forms.NullBooleanSelect):
    """NullBooleanSelect (the same values: unknown / true / false) whose empty option reads 全部."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", ANY_LABEL), ("true", _("是")), ("false", _("否"))]


def scope_organizations(access) -> QuerySet[Organization]:
    """The organizations of the inspections the user may see (the filters' and the dashboard's
    organization choices)."""
    return Organization.objects.filter(pk__in=access.inspections().values("organization_id"))


def scope_units(access) -> QuerySet[Unit]:
    """The units of the organizations in the user's scope: a clerk of one organization is
    offered (and may filter by) its units only, never another organization's."""
    return Unit.objects.filter(organization_id__in=access.inspections().values("organization_id"))


SORT_CHOICES = [
    ("urgency", _("紧急程度")),
    ("deadline", _("时限由近到远")),
    ("-deadline", _("时限由远到近")),
    ("-updated", _("最近更新")),
    ("status", _("整改状态")),
    ("problem", _("问题顺序")),
]


def order_tasks(queryset, sort: str = "urgency"):
    """Order tasks for a list. ``urgency``: overdue first, then open tasks by nearest deadline,
    then open ones without a deadline (长期坚持, unknown), then done ones; ``pk`` breaks ties so
    that offset pages never repeat or skip a row."""
    if sort == "urgency":
        # Overdue work has the earliest deadlines among open tasks with one, so sorting by the
        # day-independent rank then deadline equals "overdue, then nearest, then none, then
        # done", and matches the ``task_urgency`` index.
        return queryset.alias(urgency=urgency_rank()).order_by(
            "urgency", F("deadline").asc(nulls_last=True), "pk"
        )
    fields = {
        "deadline": [F("deadline").asc(nulls_last=True), "pk"],
        "-deadline": [F("deadline").desc(nulls_last=True), "-pk"],
        "-updated": ["-updated_at", "-pk"],
        "status": ["status", F("deadline").asc(nulls_last=True), "pk"],
        "problem": ["inspection_id", "problem__order", "pk"],
    }
    return queryset.order_by(*fields.get(sort, fields["problem"]))


def _copy_filter(declared: django_filters.Filter) -> django_filters.Filter:
    """A copy of a declared filter that a request may change (parent, model, queryset,
    field_name are its own attributes), with its own ``extra`` (the queryset filters write
    theirs into it), no cached field, and its method bound to the copy."""
    filter_ = copy.copy(declared)
    filter_.extra = dict(declared.extra)
    filter_.__dict__.pop("_field", None)
    if declared.method is not None:
        filter_.method = declared.method  # a FilterMethod of the copy, not of the declared one
    return filter_


def _copy_field(field: forms.Field) -> forms.Field:
    """A form field a request may change: ``Field.__deepcopy__`` (its own widget with its own
    attrs, error messages and validators) except that choice lists are shared rather than
    copied and normalized again, and a model field's queryset is not cloned (the filter
    set's ``form`` gives every model choice field its own scoped queryset)."""
    copied = copy.copy(field)
    widget = copied.widget = copy.copy(field.widget)
    widget.attrs = dict(field.widget.attrs)
    copied.error_messages = dict(field.error_messages)
    copied.validators = list(field.validators)
    # A choice iterator that reads its field (empty label, queryset) reads the copy, as after
    # a deep copy.
    iterator = widget.choices if hasattr(widget, "choices") else None
    if getattr(iterator, "field", None) is field:
        if isinstance(iterator, ModelChoiceIterator):
            widget.choices = type(iterator)(copied)
        else:
            widget.choices = type(iterator)(copied, iterator.choices)
    return copied


class _ShallowCopiedFields(dict):
    """A form class's ``base_fields`` that ``Form.__init__`` copies with ``_copy_field``: a
    deep copy of the 26 fields (their choice lists, widgets and querysets) was a tenth of the
    task list's CPU."""

    def __deepcopy__(self, memo):
        return {name: _copy_field(field) for name, field in self.items()}


class TaskFilterSet(django_filters.FilterSet):
    # distinct=False: both filter the task's own column (no join can repeat a row), and a
    # DISTINCT would make PostgreSQL sort every matching row before the first page.
    status = django_filters.MultipleChoiceFilter(
        label=_("整改状态"),
        choices=TaskStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    task_type = django_filters.MultipleChoiceFilter(
        label=_("整改类型"),
        choices=TaskType.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    overdue = django_filters.BooleanFilter(
        label=_("已逾期"), method="filter_overdue", widget=AnyBooleanSelect
    )
    no_deadline = django_filters.BooleanFilter(
        label=_("无时限"), method="filter_no_deadline", widget=AnyBooleanSelect
    )
    report_due = django_filters.BooleanFilter(
        label=_("报告到期"), method="filter_report_due", widget=AnyBooleanSelect
    )
    unacknowledged = django_filters.BooleanFilter(
        label=_("签收超期"), method="filter_unacknowledged", widget=AnyBooleanSelect
    )
    due_within = django_filters.NumberFilter(
        label=_("N天内到期"), method="filter_due_within", min_value=0
    )
    level = django_filters.ChoiceFilter(
        label=_("层级"),
        field_name="inspection__level",
        choices=Level.choices,
        empty_label=ANY_LABEL,
    )
    inspection = django_filters.ModelChoiceFilter(
        label=_("巡视巡察"), queryset=Inspection.objects.none(), empty_label=ANY_LABEL
    )
    # Choices in the user's scope only (set in __init__): an organization outside it is an
    # invalid filter, exactly like an inspection or unit outside it.
    organization = django_filters.ModelChoiceFilter(
        label=_("党组织"),
        field_name="inspection__organization",
        queryset=Organization.objects.none(),
        empty_label=ANY_LABEL,
    )
    category = django_filters.ModelChoiceFilter(
        label=_("问题类别"),
        queryset=Problem.objects.none(),
        method="filter_category",
        empty_label=ANY_LABEL,
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("单位"), queryset=Unit.objects.none(), method="filter_unit", empty_label=ANY_LABEL
    )
    q = django_filters.CharFilter(label=_("搜索"), method="filter_text")
    # Dashboard drill-downs: the exact owner (责任主体) a per-unit figure counts, a category by
    # its wording across inspections, and the day "overdue" and "due within" are judged on.
    owner_unit = django_filters.NumberFilter(label=_("责任主体"), field_name="owner_unit_id")
    category_title = django_filters.CharFilter(
        label=_("问题类别名称"), method="filter_category_title"
    )
    uncategorized = django_filters.BooleanFilter(
        label=_("未分类"),
        field_name="problem__parent",
        lookup_expr="isnull",
        widget=AnyBooleanSelect,
    )
    # 屡巡屡犯: tasks whose problem reads like one an earlier inspection fed back.
    repeat = django_filters.BooleanFilter(
        label=_("屡巡屡犯"), method="filter_repeat", widget=AnyBooleanSelect
    )
    as_of = django_filters.DateFilter(label=_("统计日期"), method="filter_as_of")
    # Unit scoring drill-downs (tracker.scoring): tasks due in a period, and tasks with an event
    # of one kind in a period (close-outs returned, extensions asked, re-checks failed, …).
    deadline_from = django_filters.DateFilter(
        label=_("时限起"), field_name="deadline", lookup_expr="gte"
    )
    deadline_to = django_filters.DateFilter(
        label=_("时限止"), field_name="deadline", lookup_expr="lte"
    )
    event = django_filters.ChoiceFilter(
        label=_("事件"), choices=EventKind.choices, method="filter_event", empty_label=ANY_LABEL
    )
    event_value = django_filters.CharFilter(label=_("事件取值"), method="filter_event_noop")
    event_from = django_filters.DateFilter(label=_("事件起"), method="filter_event_noop")
    event_to = django_filters.DateFilter(label=_("事件止"), method="filter_event_noop")
    # Ordering last: applied after every filter above. Absent = the caller's own order.
    sort = django_filters.ChoiceFilter(
        label=_("排序"), choices=SORT_CHOICES, method="filter_sort", empty_label=None
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        request=None,
        prefix=None,
        access=None,
        as_of_values: bool = False,
    ):
        # django_filters.BaseFilterSet.__init__, except that the filters are shallow copies
        # (``_copy_filter``) rather than one deep copy of all 26 (their choice lists, widgets
        # and querysets) on every request: a fifth of the task list's filter work.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: _copy_filter(f) for name, f in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
        # as_of_values (the dashboard): with a past 统计日期, judge status, type, owner and the
        # deadline rules on the tasks as they stood at the end of that day (rebuilt from
        # history), so a scoped dashboard counts what its parent's rows counted. Without it
        # (the task list, the ledger export) a past 统计日期 moves only the day the deadline
        # rules are judged on; statuses, owners and deadlines are today's.
        self.as_of_values = as_of_values
        self.task_fields = FIELDS
        # Choices are limited to what the user may see (organizations, inspections, units).
        if access is not None:
            inspections = access.inspections().select_related("organization")
            self.filters["inspection"].queryset = inspections
            self.filters["organization"].queryset = scope_organizations(access).order_by("name")
            self.filters["category"].queryset = Problem.objects.filter(
                inspection__in=inspections, kind="category"
            )
            self.filters["unit"].queryset = scope_units(access)

    # The form class, built once per filter set class from the declared filters (their
    # querysets are the empty ones above); ``form`` gives each form this instance's scoped
    # querysets. django-filter would build the class, and a field per filter, on every request.
    _form_classes: dict[type, type] = {}

    def get_form_class(self):
        cls = type(self)
        form_class = TaskFilterSet._form_classes.get(cls)
        if form_class is None:
            pristine = {name: copy.deepcopy(f) for name, f in self.base_filters.items()}
            form_class = type(
                f"{cls.__name__}Form",
                (self._meta.form,),
                {name: f.field for name, f in pristine.items()},
            )
            form_class.base_fields = _ShallowCopiedFields(form_class.base_fields)
            TaskFilterSet._form_classes[cls] = form_class
        return form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for name, filter_ in self.filters.items():
                if isinstance(filter_, django_filters.filters.QuerySetRequestMixin):
                    form.fields[name].queryset = filter_.get_queryset(self.request)
        return self._form

    def narrow_choices(self, access) -> None:
        """Render small choice lists, whatever the volume: organizations; the chosen
        organization's inspections and units; the chosen inspection's categories (问题类别).

        Call after validation: the fields still accept any value in the user's scope (a shared
        link with only ``category`` or ``unit`` works), only the rendered ``<select>``s shrink.
        A value already chosen always stays among the options so the form shows it.
        """
        form = self.form
        data = getattr(form, "cleaned_data", None) or {}
        inspection = data.get("inspection")
        organization = data.get("organization")
        # Only a validated (in-scope) organization or inspection narrows the lists: a typed-in
        # organization id of someone else's never lists that organization's units.
        org_id = organization.pk if organization else None
        if org_id is None and inspection:
            org_id = inspection.organization_id
        # Kept per scope until an organization or inspection changes (tracker.scope_choices).
        choices = organization_choices(access, scope_organizations(access), ANY_LABEL)
        form.fields["organization"].widget = forms.Select(choices=choices)
        chosen = {name: data.get(name) for name in ("inspection", "category", "unit")}

        def keep(queryset, name):
            value = chosen[name]
            if not value:
                return queryset
            return queryset | queryset.model._default_manager.filter(pk=value.pk)

        fields = form.fields
        if org_id:
            fields["inspection"].queryset = fields["inspection"].queryset.filter(
                organization_id=org_id
            )
            fields["unit"].queryset = keep(
                scope_units(access).filter(organization_id=org_id).order_by("name"), "unit"
            )
        else:
            fields["inspection"].queryset = keep(
                Inspection.objects.none(), "inspection"
            ).select_related("organization")
            fields["unit"].queryset = keep(Unit.objects.none(), "unit")
        fields["category"].queryset = keep(
            Problem.objects.filter(inspection=inspection, kind="category")
            if inspection
            else Problem.objects.none(),
            "category",
        )

    def today(self):
        """The as-of day (统计日期) when given and valid, else today in Asia/Shanghai."""
        data = getattr(self.form, "cleaned_data", None) or {}
        return data.get("as_of") or local_today()

    def filter_queryset(self, queryset):
        if self.as_of_values:
            queryset, self.task_fields = scope_as_of(queryset, self.today())
            f = self.task_fields
            self.filters["status"].field_name = f.status
            self.filters["task_type"].field_name = f.task_type
            self.filters["owner_unit"].field_name = f.owner
        return super().filter_queryset(queryset)

    # Filters that narrow the dashboard tallies (tracker.models.aggregates) exactly as they
    # narrow the tasks; any other filter with a value makes ``tally_q`` answer None.
    TALLY_FIELDS = TALLY_FIELDS
    # Those that narrow today's figures too (tracker.figures: per inspection and owner, per
    # inspection and type, per inspection and category); an owner or a type reads the tallies.
    FIGURE_FILTERS = frozenset({"level", "inspection", "organization"})

    def figure_q(self) -> Q | None:
        """The active filters as a Q over the figure tables (they all have an ``inspection``),
        or None when one of them cannot be said there (the caller reads the tallies)."""
        q = self.tally_q()
        if q is None:
            return None
        data = self.form.cleaned_data if self.is_bound else {}
        for name, value in data.items():
            if name in ("sort", "as_of") or name in self.FIGURE_FILTERS:
                continue
            if name == "q":
                value = (value or "").strip()
            if value not in (None, "", [], ()):
                return None
        return q

    def tally_q(self, day: bool = False) -> Q | None:
        """The active filters as a Q over TaskTally (``day``: over TaskDayTally, which has no
        status, deadline or report date), or None when one of them cannot be said there (a
        unit's lead or responsible tasks, text search, a past as-of day, and with ``day`` the
        status and deadline filters) or the form is invalid: the caller then scans the tasks.
        The deadline rules are tracker.rules' Q builders over the tally's own columns."""
        if self.is_bound and not self.form.is_valid():
            return None
        data = self.form.cleaned_data if self.is_bound else {}
        today = self.today()
        if today < local_today():
            return None
        f = self.TALLY_FIELDS
        q = Q(pk__isnull=False)
        for name, value in data.items():
            if name in ("sort", "as_of"):
                continue
            if name == "q":
                value = (value or "").strip()
            if value in (None, "", [], ()):
                continue
            if day and name in ("status", "overdue", "no_deadline", "report_due", "due_within"):
                return None
            if name == "status":
                q &= Q(status__in=value)
            elif name == "task_type":
                q &= Q(task_type__in=value)
            elif name == "overdue":
                q &= overdue_q(today, f) if value else ~overdue_q(today, f)
            elif name == "no_deadline":
                q &= no_deadline_q(f) if value else Q()
            elif name == "report_due":
                q &= report_due_q(today, f) if value else Q()
            elif name == "due_within":
                if value != int(value):
                    return None
                q &= due_soon_q(today, int(value), f)
            elif name == "level":
                q &= Q(inspection__level=value)
            elif name == "inspection":
                q &= Q(inspection_id=value.pk)
            elif name == "organization":
                q &= Q(inspection__organization_id=value.pk)
            elif name == "owner_unit":
                if value != int(value):
                    return None
                q &= Q(owner_unit_id=int(value))
            elif name == "category":
                # filter_category matches a leaf one or two levels under it, or the problem
                # itself: the task's category exactly when it is top-level and has no task.
                if value.parent_id is not None or Task.objects.filter(problem=value).exists():
                    return None
                q &= Q(category_id=value.pk)
            elif name == "category_title":
                q &= Q(category__title=value)
            elif name == "uncategorized":
                q &= Q(category__isnull=value)
            else:  # unit, q and anything added later
                return None
        return q

    def filter_as_of(self, queryset, name, value):
        return queryset  # read by today(); it filters nothing by itself

    def filter_event_noop(self, queryset, name, value):
        return queryset  # read by filter_event

    def filter_event(self, queryset, name, value):
        """Tasks with an event of kind ``value`` (and ``event_value``), on a day from
        ``event_from`` to ``event_to`` (local days, both included)."""
        if not value:
            return queryset
        data = self.form.cleaned_data
        events = TaskEvent.objects.filter(kind=value)
        if data.get("event_value"):
            events = events.filter(new_value=data["event_value"])
        tz = timezone.get_current_timezone()
        if data.get("event_from"):
            start = datetime.datetime.combine(data["event_from"], datetime.time.min, tzinfo=tz)
            events = events.filter(created_at__gte=start)
        if data.get("event_to"):
            end = datetime.datetime.combine(
                data["event_to"] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
            )
            events = events.filter(created_at__lt=end)
        return queryset.filter(pk__in=events.order_by().values("task_id"))

    def filter_category_title(self, queryset, name, value):
        if not value:
            return queryset
        # A leaf's category is its top-level ancestor (parent, or grandparent when deeper).
        return queryset.filter(
            Q(problem__parent__parent__isnull=True, problem__parent__title=value)
            | Q(problem__parent__parent__isnull=False, problem__parent__parent__title=value)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.filter(overdue_q(self.today(), self.task_fields))
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_no_deadline(self, queryset, name, value):
        return queryset.filter(no_deadline_q(self.task_fields)) if value else queryset

    def filter_report_due(self, queryset, name, value):
        return queryset.filter(report_due_q(self.today(), self.task_fields)) if value else queryset

    def filter_unacknowledged(self, queryset, name, value):
        """Not signed for (签收) ACK_WORKING_DAYS working days after being given (tracker.supervision)."""
        from tracker.supervision import ack_late_q

        if value is None:
            return queryset
        late = queryset.filter(ack_late_q(self.today()))
        return late if value else queryset.exclude(pk__in=late.values("pk"))

    def filter_due_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(due_soon_q(self.today(), int(value), self.task_fields))

    def filter_category(self, queryset, name, value):
        if not value:
            return queryset
        # Tasks hang off leaves two or three levels under a category.
        return queryset.filter(
            Q(problem__parent=value) | Q(problem__parent__parent=value) | Q(problem=value)
        )

    def filter_unit(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Q(owner_unit=value)
            | Q(lead_unit=value)
            | Q(pk__in=Task.responsible_units.through.objects.filter(unit=value).values("task_id"))
        )

    def filter_repeat(self, queryset, name, value):
        if value is None:
            return queryset
        linked = Exists(RepeatLink.objects.filter(problem_id=OuterRef("problem_id")))
        return queryset.filter(linked) if value else queryset.exclude(linked)

    def filter_sort(self, queryset, name, value):
        return order_tasks(queryset, value) if value else queryset

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(problem__title__icontains=value)
            | Q(problem__detail__icontains=value)
            | Q(
                pk__in=Task.measures.rel.related_model.objects.filter(text__icontains=value).values(
                    "task_id"
                )
            )
        )


class InspectionFilterSet(django_filters.FilterSet):
    """The API's inspection list: by organization and level. Ids, never choices of every row:
    an id outside the user's scope lists nothing, exactly like one that does not exist."""

    organization = django_filters.NumberFilter(label=_("党组织"), field_name="organization_id")
    level = django_filters.ChoiceFilter(label=_("层级"), choices=Level.choices)

    class Meta:
        model = Inspection
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, access=None):
        super().__init__(data, queryset, request=request, prefix=prefix)


class ProblemFilterSet(django_filters.FilterSet):
    """The API's problem list: one inspection's tree, a node's children, categories or problems."""

    inspection = django_filters.NumberFilter(label=_("巡视巡察"), field_name="inspection_id")
    parent = django_filters.NumberFilter(label=_("上级"), field_name="parent_id")
    kind = django_filters.ChoiceFilter(label=_("类别"), choices=ProblemKind.choices)

    class Meta:
        model = Problem
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, access=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
