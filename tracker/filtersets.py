"""The one TaskFilterSet: the task list, the dashboard's drill-downs and the ledger exports
all filter through it, so "overdue" or "due within 7 days" means the same everywhere."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tracker.choices import Level, TaskStatus, TaskType
from tracker.models import Inspection, Problem, Task, Unit, local_today


class TaskFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("整改状态"), choices=TaskStatus.choices, widget=forms.CheckboxSelectMultiple
    )
    task_type = django_filters.MultipleChoiceFilter(
        label=_("整改类型"), choices=TaskType.choices, widget=forms.CheckboxSelectMultiple
    )
    overdue = django_filters.BooleanFilter(label=_("已逾期"), method="filter_overdue")
    no_deadline = django_filters.BooleanFilter(label=_("无时限"), method="filter_no_deadline")
    report_due = django_filters.BooleanFilter(label=_("报告到期"), method="filter_report_due")
    due_within = django_filters.NumberFilter(
        label=_("N天内到期"), method="filter_due_within", min_value=0
    )
    level = django_filters.ChoiceFilter(
        label=_("层级"), field_name="inspection__level", choices=Level.choices
    )
    inspection = django_filters.ModelChoiceFilter(
        label=_("巡视巡察"), queryset=Inspection.objects.none()
    )
    organization = django_filters.NumberFilter(
        label=_("党组织"), field_name="inspection__organization_id"
    )
    category = django_filters.ModelChoiceFilter(
        label=_("问题类别"), queryset=Problem.objects.none(), method="filter_category"
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("单位"), queryset=Unit.objects.none(), method="filter_unit"
    )
    q = django_filters.CharFilter(label=_("搜索"), method="filter_text")

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, access=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        # Choices are limited to what the user may see (lists of inspections and units).
        if access is not None:
            inspections = access.inspections().select_related("organization")
            self.filters["inspection"].queryset = inspections
            self.filters["category"].queryset = Problem.objects.filter(
                inspection__in=inspections, kind="category"
            )
            self.filters["unit"].queryset = Unit.objects.filter(
                organization__inspections__in=inspections
            ).distinct()

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.overdue(local_today())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_no_deadline(self, queryset, name, value):
        return queryset.no_deadline() if value else queryset

    def filter_report_due(self, queryset, name, value):
        return queryset.report_due(local_today()) if value else queryset

    def filter_due_within(self, queryset, name, value):
        return queryset if value is None else queryset.due_within(int(value), local_today())

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
