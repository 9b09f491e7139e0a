"""Supervisors set up an inspection in the app: create or edit the inspection, add categories and
problems (each problem with its task), reword or withhold a problem, and assign lead leader,
lead unit, responsible units, type and deadline to one task or many selected ones at once.

Every write goes through ``tracker.actions`` (create_inspection, create_problem, edit_problem,
assign_tasks), which decide who may; the pages only offer what the user's scope holds:
inspections they supervise (404 for any other), the units of the inspection's organization.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import actions
from tracker.actions.problems import INSPECTION_FIELDS
from tracker.choices import EventSource, Level, ProblemKind, TaskType, Withheld
from tracker.importer.plan import clean_leader
from tracker.importer.plan_loader import match_leader
from tracker.models import Inspection, Problem, Task, Unit
from tracker.permissions import Access, access_for, get_supervised_inspection

# The most tasks one assignment page lists (an inspection holds tens to a few hundred).
PAGE_TASKS = 500

# The assignment form's choices that leave a field as it is, or clear it.
UNCHANGED = ""
CLEAR = "-"


def _actor(request: HttpRequest, ref: str) -> actions.Actor:
    return actions.Actor.of(request.user, EventSource.USER, ref, access=access_for(request))


def _require_supervisor(access: Access) -> None:
    if not access.supervised_organizations().exists() and not (
        access.supervised_inspections().exists()
    ):
        raise Http404("No inspections for this user.")


def _units(inspection: Inspection) -> list[Unit]:
    return list(
        Unit.objects.filter(organization_id=inspection.organization_id, retired=False).order_by(
            "name"
        )
    )


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- the inspection ---------------------------------------------------------------------------


class InspectionForm(forms.ModelForm):
    class Meta:
        model = Inspection
        fields = ("organization", *INSPECTION_FIELDS)
        widgets = {
            name: _date_input()
            for name in ("start_date", "end_date", "feedback_date", "deadline_override")
        }

    def __init__(self, *args, access: Access, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["organization"]  # an inspection never moves to another organization
        else:
            self.fields["organization"].queryset = access.supervised_organizations().order_by(
                "name"
            )
        self.fields["level"].choices = [("", "---------"), *Level.choices]


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    """The inspections this supervisor sets up, with links to their problems and documents."""
    access = access_for(request)
    _require_supervisor(access)
    inspections = (
        access.supervised_inspections()
        .select_related("organization")
        .order_by("-feedback_date", "-pk")[:200]
    )
    return render(
        request,
        "tracker/inspection_list.html",
        {
            "inspections": inspections,
            "may_create": access.supervised_organizations().exists(),
        },
    )


@login_required
def inspection_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create an inspection (pk None) or edit one the user supervises."""
    access = access_for(request)
    inspection = get_supervised_inspection(access, pk) if pk is not None else None
    if inspection is None and not access.supervised_organizations().exists():
        raise Http404("No organizations for this user.")
    form = InspectionForm(request.POST or None, instance=inspection, access=access)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in INSPECTION_FIELDS}
        try:
            if inspection is None:
                inspection = actions.create_inspection(
                    form.cleaned_data["organization"], _actor(request, "inspection:new"), **values
                )
                messages.success(request, _("已新建巡视巡察:%s") % inspection)
            else:
                actions.edit_inspection(
                    inspection, _actor(request, f"inspection:{inspection.pk}"), **values
                )
                messages.success(request, _("已保存巡视巡察:%s") % inspection)
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            return redirect("tracker:inspection_problems", pk=inspection.pk)
    events = (
        list(inspection.events.select_related("actor").order_by("-created_at", "-pk")[:100])
        if inspection is not None
        else []
    )
    return render(
        request,
        "tracker/inspection_form.html",
        {"form": form, "inspection": inspection, "events": events},
    )


# --- problems and tasks -----------------------------------------------------------------------


class ProblemForm(forms.Form):
    """A new category, or a new problem with what its task starts with."""

    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[
            (ProblemKind.PROBLEM, gettext_lazy("问题")),
            (ProblemKind.CATEGORY, gettext_lazy("问题类别")),
        ],
    )
    parent = forms.TypedChoiceField(
        label=gettext_lazy("所属问题类别"), coerce=int, required=False, empty_value=None
    )
    label = forms.CharField(label=gettext_lazy("序号"), max_length=20, required=False)
    title = forms.CharField(label=gettext_lazy("问题"), widget=forms.Textarea(attrs={"rows": 2}))
    owner_unit = forms.ModelChoiceField(
        label=gettext_lazy("责任主体"), queryset=Unit.objects.none(), required=False
    )
    responsible_units = forms.ModelMultipleChoiceField(
        label=gettext_lazy("责任单位"), queryset=Unit.objects.none(), required=False
    )
    lead_unit = forms.ModelChoiceField(
        label=gettext_lazy("牵头单位"), queryset=Unit.objects.none(), required=False
    )
    lead_leader = forms.CharField(label=gettext_lazy("牵头领导"), max_length=100, required=False)
    task_type = forms.ChoiceField(
        label=gettext_lazy("整改类型"),
        choices=TaskType.choices,
        initial=TaskType.DEADLINE,
        required=False,
    )
    deadline = forms.DateField(label=gettext_lazy("整改时限"), required=False, widget=_date_input())
    measures = forms.CharField(
        label=gettext_lazy("整改措施(每行一条)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, inspection: Inspection, units: list[Unit], categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.inspection = inspection
        ids = [u.pk for u in units]
        for name in ("owner_unit", "responsible_units", "lead_unit"):
            self.fields[name].queryset = Unit.objects.filter(pk__in=ids).order_by("name")
        self.fields["parent"].choices = [("", "---------")] + [(c.pk, str(c)) for c in categories]

    def clean(self):
        cleaned = super().clean()
        cleaned["task_type"] = cleaned.get("task_type") or TaskType.DEADLINE
        if cleaned.get("kind") == ProblemKind.PROBLEM and not cleaned.get("owner_unit"):
            self.add_error("owner_unit", _("请选择责任主体。"))
        if cleaned.get("kind") == ProblemKind.CATEGORY and cleaned.get("parent"):
            self.add_error("parent", _("问题类别不能有上级。"))
        if (
            cleaned.get("task_type") == TaskType.DEADLINE
            and cleaned.get("kind") == ProblemKind.PROBLEM
            and not cleaned.get("deadline")
        ):
            self.add_error("deadline", _("限期整改的问题须填写整改时限。"))
        return cleaned


class AssignForm(forms.Form):
    """Fields to set on every selected task; an empty choice leaves the field as it is."""

    tasks = forms.TypedMultipleChoiceField(label=gettext_lazy("任务"), coerce=int)
    owner_unit = forms.ChoiceField(label=gettext_lazy("责任主体"), required=False)
    lead_unit = forms.ChoiceField(label=gettext_lazy("牵头单位"), required=False)
    set_responsible = forms.BooleanField(
        label=gettext_lazy("设置责任单位(替换原有)"), required=False
    )
    responsible_units = forms.TypedMultipleChoiceField(
        label=gettext_lazy("责任单位"), coerce=int, required=False
    )
    lead_leader = forms.CharField(
        label=gettext_lazy("牵头领导"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("留空不变;填“-”清空"),
    )
    task_type = forms.ChoiceField(label=gettext_lazy("整改类型"), required=False)
    deadline = forms.DateField(label=gettext_lazy("整改时限"), required=False, widget=_date_input())
    reason = forms.CharField(label=gettext_lazy("变更说明"), max_length=500, required=False)

    def __init__(self, *args, task_ids: list[int], units: list[Unit], **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {u.pk: u for u in units}
        unit_choices = [(str(u.pk), u.name) for u in units]
        keep = (UNCHANGED, _("(不变)"))
        self.fields["tasks"].choices = [(pk, pk) for pk in task_ids]
        self.fields["owner_unit"].choices = [keep, *unit_choices]
        self.fields["lead_unit"].choices = [keep, (CLEAR, _("(清空)")), *unit_choices]
        self.fields["responsible_units"].choices = [(u.pk, u.name) for u in units]
        self.fields["task_type"].choices = [keep, *TaskType.choices]

    def assignment(self) -> actions.Assignment:
        data = self.cleaned_data
        values: dict = {"reason": data["reason"]}
        if data["owner_unit"]:
            values["owner_unit"] = self.units[int(data["owner_unit"])]
        if data["lead_unit"] == CLEAR:
            values["lead_unit"] = None
        elif data["lead_unit"]:
            values["lead_unit"] = self.units[int(data["lead_unit"])]
        if data["set_responsible"]:
            values["responsible_units"] = [self.units[pk] for pk in data["responsible_units"]]
        leader = data["lead_leader"].strip()
        if leader == CLEAR:
            values["lead_leader"] = ("", None)
        elif leader:
            name = clean_leader(leader)
            values["lead_leader"] = (name, match_leader(name))
        if data["task_type"]:
            values["task_type"] = data["task_type"]
        if data["deadline"]:
            values["deadline"] = data["deadline"]
        return actions.Assignment(**values)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.assignment().changed():
            raise forms.ValidationError(_("请至少选择一项要修改的内容。"))
        return cleaned


def _tasks_of(access: Access, inspection: Inspection):
    return (
        access.supervised_tasks(Task.objects.filter(inspection=inspection))
        .select_related("problem", "owner_unit", "lead_unit", "lead_leader")
        .prefetch_related(Prefetch("responsible_units", queryset=Unit.objects.order_by("name")))
        .order_by("problem__order", "pk")
    )


@login_required
def inspection_problems(request: HttpRequest, pk: int) -> HttpResponse:
    """The inspection's problems and tasks: add a problem, assign the selected tasks."""
    access = access_for(request)
    inspection = get_supervised_inspection(access, pk)
    units = _units(inspection)
    categories = list(
        Problem.objects.filter(inspection=inspection, kind=ProblemKind.CATEGORY).order_by("order")
    )
    tasks = list(_tasks_of(access, inspection)[: PAGE_TASKS + 1])
    more = len(tasks) > PAGE_TASKS
    tasks = tasks[:PAGE_TASKS]
    task_ids = [t.pk for t in tasks]
    posted = request.POST.get("form") if request.method == "POST" else None
    problem_form = ProblemForm(
        request.POST if posted == "problem" else None,
        inspection=inspection,
        units=units,
        categories=categories,
        prefix="p",
    )
    assign_form = AssignForm(
        request.POST if posted == "assign" else None, task_ids=task_ids, units=units, prefix="a"
    )
    if posted == "problem" and problem_form.is_valid():
        if _create_problem(request, inspection, problem_form, categories):
            return redirect("tracker:inspection_problems", pk=inspection.pk)
    elif posted == "assign" and assign_form.is_valid():
        chosen = set(assign_form.cleaned_data["tasks"])
        selected = [t for t in tasks if t.pk in chosen]
        try:
            actions.assign_tasks(
                selected,
                assign_form.assignment(),
                _actor(request, f"assign:inspection:{inspection.pk}"),
            )
        except actions.ActionError as error:
            assign_form.add_error(None, _("未修改任何任务:%s") % error)
        else:
            messages.success(request, _("已更新 %d 项任务。") % len(selected))
            return redirect("tracker:inspection_problems", pk=inspection.pk)
    by_parent: dict[int | None, list[Task]] = {}
    for task in tasks:
        by_parent.setdefault(task.problem.parent_id, []).append(task)
    groups = [(c, by_parent.pop(c.pk, [])) for c in categories]
    loose = [t for parent_tasks in by_parent.values() for t in parent_tasks]
    return render(
        request,
        "tracker/inspection_problems.html",
        {
            "inspection": inspection,
            "groups": groups,
            "loose": loose,
            "more": more,
            "page_tasks": PAGE_TASKS,
            "problem_form": problem_form,
            "assign_form": assign_form,
            "selected": set(assign_form.data.getlist("a-tasks")) if posted == "assign" else set(),
        },
    )


def _create_problem(request, inspection: Inspection, form: ProblemForm, categories) -> bool:
    data = form.cleaned_data
    parent = {c.pk: c for c in categories}.get(data["parent"])
    task = None
    if data["kind"] == ProblemKind.PROBLEM:
        leader = clean_leader(data["lead_leader"])
        task = actions.TaskFields(
            owner_unit=data["owner_unit"],
            deadline=data["deadline"],
            task_type=data["task_type"],
            measures=tuple(line.strip() for line in data["measures"].splitlines() if line.strip()),
            lead_unit=data["lead_unit"],
            responsible_units=tuple(data["responsible_units"]),
            lead_leader_name=leader,
            lead_leader=match_leader(leader),
        )
    try:
        problem = actions.create_problem(
            inspection,
            _actor(request, f"inspection:{inspection.pk}"),
            title=data["title"],
            kind=data["kind"],
            parent=parent,
            label=data["label"],
            task=task,
        )
    except actions.ActionError as error:
        form.add_error(None, str(error))
        return False
    messages.success(request, _("已新增:%s") % problem)
    return True


class ProblemEditForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("序号"), max_length=20, required=False)
    title = forms.CharField(label=gettext_lazy("问题"), widget=forms.Textarea(attrs={"rows": 3}))
    withheld = forms.ChoiceField(
        label=gettext_lazy("不公开原因"), choices=Withheld.choices, required=False
    )
    reason = forms.CharField(label=gettext_lazy("变更说明"), max_length=500, required=False)


@login_required
def problem_edit(request: HttpRequest, pk: int, problem_pk: int) -> HttpResponse:
    """Reword, renumber or withhold one problem of an inspection the user supervises."""
    access = access_for(request)
    inspection = get_supervised_inspection(access, pk)
    try:
        problem = Problem.objects.get(pk=problem_pk, inspection=inspection)
    except (Problem.DoesNotExist, ValueError):
        raise Http404("No problem matches the given query.") from None
    form = ProblemEditForm(
        request.POST or None,
        initial={"label": problem.label, "title": problem.title, "withheld": problem.withheld},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.edit_problem(
                problem,
                _actor(request, f"problem:{problem.pk}"),
                title=form.cleaned_data["title"],
                label=form.cleaned_data["label"],
                withheld=form.cleaned_data["withheld"],
                reason=form.cleaned_data["reason"],
            )
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已保存:%s") % problem)
            return redirect("tracker:inspection_problems", pk=inspection.pk)
    return render(
        request,
        "tracker/problem_form.html",
        {"form": form, "inspection": inspection, "problem": problem},
    )
