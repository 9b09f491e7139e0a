"""A parsed plan (``tracker.importer.plan``) → problems and tasks, through ``tracker.actions``.

``preview_plan`` says, per problem of the sheet, what importing would do (create, update with
which changes, nothing, or nothing because the task is 已销号), which unit names the
organization does not have (the user maps each to a unit or asks for it to be created) and what
cannot be imported (a retired unit, another organization's unit). ``apply_plan`` computes the
same again and makes it, all in one transaction, as the uploading user (a supervisor of the
inspection: the actions authorize every change) with source 方案导入 and ref ``plan:<file>``.

Problems are matched by folded title (``normalize_title``) within the inspection, categories
with categories and problems with problems, so importing the same plan again changes nothing
and a plan filled in from the inspection's notices finds the problems the notices created. An
edited plan moves deadline, owner, lead unit, responsible units, lead leader and type, and adds
measures it names that the task lacks; it never removes a measure, never clears a field left
empty, and never touches status, progress, evidence or close-outs.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from tracker import actions, spreadsheet
from tracker.choices import EventSource, ProblemKind, TaskStatus, TaskType
from tracker.importer.plan import CellError, ParsedPlan, PlanRow
from tracker.importer.text import fold_width, normalize_title
from tracker.models import Inspection, Problem, Task, Unit

NEW_UNIT = "new"


class PlanRefused(actions.ActionError):
    """The plan cannot be imported as it stands; ``errors`` names the cells."""

    def __init__(self, message: str, errors: list[CellError] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass
class Change:
    """One change an import makes to an existing task (``value`` is what the action takes)."""

    field: str
    label: str
    old: str
    new: str
    value: object = None


@dataclass
class RowPlan:
    """What importing one problem of the sheet does."""

    row: PlanRow
    action: str  # "create", "update", "unchanged", "closed"
    task: Task | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def label(self) -> str:
        return {
            "create": _("新建"),
            "update": _("更新"),
            "unchanged": _("无变化"),
            "closed": _("已销号,不更新"),
        }[self.action]


@dataclass
class PlanPreview:
    """What a plan would do to an inspection."""

    inspection: Inspection
    parsed: ParsedPlan
    rows: list[RowPlan] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    state: list = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "unchanged": 0, "closed": 0}
        for row in self.rows:
            out[row.action] += 1
        return out

    @property
    def digest(self) -> str:
        """The state of the tasks and units the preview was computed on: a confirm refuses when
        it changed meanwhile."""
        return hashlib.sha256(json.dumps(self.state, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> dict:
        return {
            "inspection": self.inspection.pk,
            "tasks": [row.to_json() for row in self.parsed.rows],
            "new_units": list(self.new_units),
            "errors": [e.to_json() for e in self.errors],
        }


def _fold(name: str) -> str:
    return fold_width(name).strip()


class _Units:
    """The organization's units by name (retired ones apart), and the user's mapping of the
    names it lacks."""

    def __init__(self, inspection: Inspection, names: set[str], mapping: dict[str, str] | None):
        org_id = inspection.organization_id
        self.org_id = org_id
        self.live: dict[str, Unit] = {}
        self.retired: set[str] = set()
        for unit in Unit.objects.filter(organization_id=org_id):
            if unit.retired:
                self.retired.add(_fold(unit.name))
            else:
                self.live[_fold(unit.name)] = unit
        unknown = {n for n in names if _fold(n) not in self.live and _fold(n) not in self.retired}
        self.foreign: dict[str, str] = dict(
            Unit.objects.filter(name__in=unknown, retired=False)
            .exclude(organization_id=org_id)
            .values_list("name", "organization__name")
        )
        self.mapping = mapping or {}
        self.mapped: dict[str, Unit] = {}
        self.mapping_errors: list[str] = []
        by_id = {str(u.pk): u for u in self.live.values()}
        for name, choice in self.mapping.items():
            if choice in ("", NEW_UNIT, None):
                continue
            unit = by_id.get(str(choice))
            if unit is None:
                self.mapping_errors.append(_("为“%s”选择的单位不属于该党组织或已撤并。") % name)
            else:
                self.mapped[_fold(name)] = unit

    def get(self, name: str) -> Unit | None:
        key = _fold(name)
        return self.live.get(key) or self.mapped.get(key)

    def check(self, name: str, where: tuple[str, str], row: int, errors: list[CellError]):
        """None when the name is known or mapped (or to be created); an error otherwise."""
        key = _fold(name)
        if key in self.live or key in self.mapped:
            return
        if key in self.retired:
            errors.append(
                CellError(
                    row,
                    where[1] or None,
                    _("%(where)s:单位“%(name)s”已撤并,不能再分派任务。")
                    % {"where": where[0], "name": name},
                )
            )
        elif name in self.foreign:
            errors.append(
                CellError(
                    row,
                    where[1] or None,
                    _(
                        "%(where)s:单位“%(name)s”属于其他党组织(%(org)s),不是被巡视巡察党组织的单位。"
                    )
                    % {"where": where[0], "name": name, "org": self.foreign[name]},
                )
            )


def match_leader(name: str):
    """The one active user whose full name or username is ``name``, else None."""
    if not name or "、" in name:
        return None
    user_model = get_user_model()
    first = name.split(" ")[0]
    candidates = user_model.objects.filter(
        Q(username=name) | Q(first_name=first) | Q(last_name=name), is_active=True
    )
    found = [u for u in candidates if u.get_full_name() == name or u.get_username() == name]
    return found[0] if len(found) == 1 else None


def _units_text(units) -> str:
    return "、".join(u.name if isinstance(u, Unit) else str(u) for u in units)


class _Problems:
    """The inspection's problems by folded title, handed out once each, in order."""

    def __init__(self, inspection: Inspection):
        self.categories: dict[str, list[Problem]] = {}
        self.problems: dict[str, list[Problem]] = {}
        for problem in inspection.problems.select_related("task").order_by("order", "pk"):
            key = normalize_title(problem.title)[:255]
            if not key:
                continue
            bucket = self.categories if problem.kind == ProblemKind.CATEGORY else self.problems
            bucket.setdefault(key, []).append(problem)
        self.taken: set[int] = set()
        self.created: list[Problem] = []  # problems given a task by this import, in order

    def category(self, title: str) -> Problem | None:
        found = self.categories.get(normalize_title(title)[:255]) or []
        return found[0] if found else None

    def problem(self, title: str) -> Problem | None:
        for problem in self.problems.get(normalize_title(title)[:255], []):
            if problem.pk not in self.taken:
                self.taken.add(problem.pk)
                return problem
        return None


def preview_plan(
    inspection: Inspection, parsed: ParsedPlan, mapping: dict[str, str] | None = None
) -> PlanPreview:
    """What importing ``parsed`` into ``inspection`` would do; writes nothing."""
    result = PlanPreview(inspection=inspection, parsed=parsed, errors=list(parsed.errors))
    names = {name for row in parsed.rows for name, _where in row.unit_names()}
    units = _Units(inspection, names, mapping)
    for message in units.mapping_errors:
        result.errors.append(CellError(None, None, message))
    for row in parsed.rows:
        for name, where in row.unit_names():
            units.check(name, where, row.row, result.errors)
            key = _fold(name)
            if (
                units.get(name) is None
                and key not in units.retired
                and name not in units.foreign
                and name not in result.new_units
            ):
                result.new_units.append(name)
    problems = _Problems(inspection)
    for row in parsed.rows:
        problem = problems.problem(row.problem)
        task = getattr(problem, "task", None) if problem is not None else None
        if task is None:
            result.rows.append(RowPlan(row, "create"))
            continue
        result.state.append([task.pk, task.version])
        if task.status == TaskStatus.CLOSED:
            result.rows.append(RowPlan(row, "closed", task))
            continue
        changes = _diff(row, task, units)
        result.rows.append(RowPlan(row, "update" if changes else "unchanged", task, changes))
    result.state.append(sorted(units.live))
    result.state.append(
        list(inspection.problems.order_by("pk").values_list("pk", flat=True)[:10000])
    )
    return result


def _unit_or_name(units: _Units, name: str):
    return units.get(name) or name


def _diff(row: PlanRow, task: Task, units: _Units) -> list[Change]:
    """The changes ``row`` makes to ``task`` (fields the sheet leaves empty stay as they are)."""
    changes: list[Change] = []
    owner = _unit_or_name(units, row.owner_name) if row.owner_name else None
    if owner is not None and getattr(owner, "pk", None) != task.owner_unit_id:
        changes.append(
            Change("owner", _("责任主体"), task.owner_unit.name, _units_text([owner]), owner)
        )
    if row.responsible_units:
        others = [_unit_or_name(units, n) for n in row.other_units]
        current = list(task.responsible_units.all())
        if {getattr(u, "pk", u) for u in others} != {u.pk for u in current}:
            changes.append(
                Change(
                    "responsible_units",
                    _("责任单位"),
                    _units_text(current),
                    _units_text(others),
                    others,
                )
            )
    if row.lead_unit:
        lead = _unit_or_name(units, row.lead_unit)
        if getattr(lead, "pk", None) != task.lead_unit_id:
            old = task.lead_unit.name if task.lead_unit_id else ""
            changes.append(Change("lead_unit", _("牵头单位"), old, _units_text([lead]), lead))
    if row.lead_leader:
        user = match_leader(row.lead_leader)
        same_name = row.lead_leader == task.lead_leader_name
        if not same_name or (user is not None and user.pk != task.lead_leader_id):
            changes.append(
                Change(
                    "lead_leader",
                    _("牵头领导"),
                    task.lead_leader_name,
                    row.lead_leader,
                    (row.lead_leader, user),
                )
            )
    if row.deadline is not None and row.deadline != task.deadline:
        changes.append(
            Change(
                "deadline",
                _("整改时限"),
                task.deadline.isoformat() if task.deadline else "",
                row.deadline.isoformat(),
                row.deadline,
            )
        )
    if row.type_given and row.task_type != task.task_type:
        changes.append(
            Change(
                "type",
                _("整改类型"),
                str(TaskType(task.task_type).label),
                str(TaskType(row.task_type).label),
                row.task_type,
            )
        )
    have = {normalize_title(m.text) for m in task.measures.all()}
    for text in row.measures:
        if normalize_title(text) not in have:
            have.add(normalize_title(text))
            changes.append(Change("measure", _("新增措施"), "", text, text))
    return changes


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    changes: int = 0
    units_created: list[str] = field(default_factory=list)


def apply_plan(
    inspection: Inspection,
    parsed: ParsedPlan,
    user,
    *,
    name: str,
    mapping: dict[str, str] | None = None,
    create_units: bool = False,
    digest: str | None = None,
) -> ApplyResult:
    """Import the plan, all or nothing. Unknown unit names need ``mapping`` (a unit id or
    ``NEW_UNIT`` per name) or ``create_units``; any cell error, or (with ``digest``) a change
    since the preview, refuses the whole plan."""
    with transaction.atomic():
        preview = preview_plan(inspection, parsed, mapping)
        if preview.errors:
            raise PlanRefused(_("方案有错误,未导入任何内容。"), preview.errors)
        if digest is not None and preview.digest != digest:
            raise PlanRefused(_("预览之后任务或单位已有变化,请重新上传方案并核对预览。"))
        mapping = dict(mapping or {})
        to_create = [n for n in preview.new_units if create_units or mapping.get(n) == NEW_UNIT]
        missing = [n for n in preview.new_units if n not in to_create]
        if missing:
            raise PlanRefused(
                _("以下单位在该党组织中不存在,请选择对应单位或新建:%s") % "、".join(missing)
            )
        if to_create and not actions.Actor.of(user).user:
            raise PlanRefused(_("没有操作人的修改不被接受。"))
        result = ApplyResult()
        for unit_name in to_create:
            Unit.objects.create(organization_id=inspection.organization_id, name=unit_name[:200])
            result.units_created.append(unit_name)
        if to_create:  # now every name is a unit
            preview = preview_plan(inspection, parsed, mapping)
        actor = actions.Actor.of(user, source=EventSource.PLAN, ref=f"plan:{name}")
        units = _Units(inspection, set(), mapping)
        next_order = (inspection.problems.aggregate(m=Max("order"))["m"] or 0) + 1
        problems = _Problems(inspection)
        new_categories: dict[str, Problem] = {}
        for plan in preview.rows:
            reason = _("方案导入:%(name)s 第%(row)s行") % {"name": name, "row": plan.row.row}
            if plan.action == "create":
                next_order = _create(
                    inspection, plan.row, actor, units, problems, new_categories, next_order, reason
                )
                result.created += 1
            elif plan.action == "update":
                for change in plan.changes:
                    _apply(plan.task, change, actor, units, reason)
                    result.changes += 1
                result.updated += 1
            elif plan.action == "closed":
                result.closed += 1
            else:
                result.unchanged += 1
        # 屡巡屡犯: the plan's new problems against the organization's other inspections.
        actions.link_repeats(problems.created, actor)
        return result


def _resolve(units: _Units, value):
    if isinstance(value, str):
        unit = units.get(value)
        if unit is None:
            raise PlanRefused(_("单位“%s”不存在。") % value)
        return unit
    return value


def _apply(task: Task, change: Change, actor, units: _Units, reason: str) -> None:
    if change.field == "owner":
        actions.change_owner(task, _resolve(units, change.value), actor, reason=reason)
    elif change.field == "responsible_units":
        actions.change_responsible_units(
            task, [_resolve(units, u) for u in change.value], actor, reason=reason
        )
    elif change.field == "lead_unit":
        actions.change_lead_unit(task, _resolve(units, change.value), actor, reason=reason)
    elif change.field == "lead_leader":
        leader, user = change.value
        actions.change_lead_leader(task, leader, actor, user=user, reason=reason)
    elif change.field == "deadline":
        actions.change_deadline(task, change.value, actor, reason=reason)
    elif change.field == "type":
        actions.change_type(task, change.value, actor, reason=reason)
    elif change.field == "measure":
        actions.add_measure(task, change.value, actor, reason=reason)


def _create(inspection, row: PlanRow, actor, units, problems, new_categories, order, reason):
    """The row's problem (under its category, found or created) and its task."""
    parent = None
    if row.category:
        key = normalize_title(row.category)[:255]
        parent = problems.category(row.category) or new_categories.get(key)
        if parent is None:
            parent = Problem.objects.create(
                inspection=inspection, kind=ProblemKind.CATEGORY, order=order, title=row.category
            )
            new_categories[key] = parent
            order += 1
    problem = problems.problem(row.problem)
    if problem is None:
        problem = Problem.objects.create(
            inspection=inspection,
            parent=parent,
            kind=ProblemKind.PROBLEM,
            label=row.label[:20],
            order=order,
            title=row.problem,
        )
        order += 1
    owner = _resolve(units, row.owner_name)
    lead = _resolve(units, row.lead_unit) if row.lead_unit else None
    deadline = row.deadline
    if deadline is None and row.task_type != TaskType.LONG_TERM:
        deadline = inspection.deadline
    problems.created.append(problem)
    task = actions.create_task(
        problem,
        actor,
        owner_unit=owner,
        deadline=deadline,
        task_type=row.task_type,
        measures=row.measures,
        lead_unit=lead,
        report_period_days=row.report_period_days,
    )
    others = [_resolve(units, n) for n in row.other_units]
    if others:
        actions.change_responsible_units(task, others, actor, reason=reason)
    if row.lead_leader:
        actions.change_lead_leader(
            task, row.lead_leader, actor, user=match_leader(row.lead_leader), reason=reason
        )
    return order


# --- the office template -----------------------------------------------------------------------

TEMPLATE_HEADERS = [
    "序号",
    "问题类别",
    "具体问题",
    "整改措施",
    "责任领导",
    "牵头单位",
    "责任单位",
    "完成时限",
    "整改类型",
    "备注",
]


def template_xlsx(inspection: Inspection) -> bytes:
    """The plan sheet offices fill in: a merged title row, the header, and (when the
    inspection's problems came from a notice) one row per measure of each problem, the category
    and the problem merged over them, with what the tasks already hold."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    spreadsheet.utf8_sheets()
    book = Workbook()
    sheet = book.active
    sheet.title = "整改方案"
    title = _("关于%(group)s反馈意见的整改方案——问题清单、任务清单、责任清单、时限清单") % {
        "group": inspection.group or str(inspection)
    }
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TEMPLATE_HEADERS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    widths = [6, 24, 40, 48, 14, 16, 24, 16, 10, 16]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    leaves = (
        inspection.problems.filter(kind=ProblemKind.PROBLEM, sources__isnull=False)
        .distinct()
        .select_related("parent", "task__owner_unit", "task__lead_unit")
        .prefetch_related("task__measures", "task__responsible_units")
        .order_by("order", "pk")
    )
    row = 3
    category_start: tuple[int, int | None] | None = None
    for problem in leaves:
        if problem.children.exists():
            continue
        task = getattr(problem, "task", None)
        category = problem.ancestors()[0].title if problem.parent_id else ""
        measures = [m.text for m in task.measures.all()] if task else []
        measures = measures or [""]
        units = []
        if task is not None and not task.owner_unit.is_self:
            units = [task.owner_unit.name, *[u.name for u in task.responsible_units.all()]]
        first = row
        for measure in measures:
            values = [
                problem.label,
                category,
                problem.title,
                measure,
                task.lead_leader_name if task else "",
                task.lead_unit.name if task and task.lead_unit_id else "",
                "、".join(units),
                task.deadline if task and task.deadline else None,
                str(TaskType(task.task_type).label) if task else "",
                "",
            ]
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row, column=col, value=value)
                spreadsheet.text_cell(cell)
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                if isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
            row += 1
        if row - first > 1:
            for col in (1, 3, 5, 6, 7, 8, 9, 10):
                sheet.merge_cells(
                    start_row=first, start_column=col, end_row=row - 1, end_column=col
                )
        key = (problem.parent_id or 0, None)
        if category_start is None or category_start[1] != key[0]:
            _merge_category(sheet, category_start, first)
            category_start = (first, key[0])
    _merge_category(sheet, category_start, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _merge_category(sheet, start, end: int) -> None:
    """Merge the category column over the rows of one category's problems."""
    if start is not None and end - 1 > start[0] and start[1]:
        sheet.merge_cells(start_row=start[0], start_column=2, end_row=end - 1, end_column=2)
