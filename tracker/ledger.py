"""The rectification ledger (整改台账) in Excel, both ways.

Export: the tasks of the current filter in the columns offices use, as XLSX (openpyxl) or CSV
with a UTF-8 byte-order mark so that Excel opens it as Chinese text. Two last, hidden columns hold
the task number (so that an uploaded copy finds its tasks again) and the task's version (so that
an upload never silently undoes a change made after the export).

Import, in three steps kept apart so each is testable:
1. ``read_ledger``: XLSX bytes → rows of plain values (no ORM);
2. ``preview``: rows → per row, the changes the user may make, the changes they may not (with
   the reason), a conflict (the task changed since the export) and errors (unknown task or out
   of scope, unknown, foreign or retired unit, bad date, unknown type or status, no version).
   The ledger decides nothing itself: each changed column maps to the action that makes the
   change (``COLUMN_ACTIONS``), ``tracker.permissions.ACTION_RULES`` names the rule that action
   needs, and the user's ``Access`` answers it (one query per rule, from the queryset Access
   keeps for it); status moves follow ``actions.allowed_statuses``, as on the task page;
3. ``apply``: the allowed changes of the rows without conflict or error, through
   ``tracker.actions`` in one transaction, each expecting the version in the file (then the
   version after the previous action), each event naming the upload (source 台账导入, ref
   ``ledger:<file name>``). The actions authorize again; anything they refuse, and any task
   changed since the preview, stops the whole upload.
The columns read back are 责任单位 (the first unit named is the owner, the others the
responsible units), 牵头单位, 牵头领导, 整改时限, 整改类型, 整改状态 and 进展情况; the others are for
reading. An unedited export changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import actions, spreadsheet
from tracker.choices import EventSource, TaskStatus, TaskType
from tracker.models import Task, TaskEvent, Unit, local_today
from tracker.permissions import ACTION_RULES, Access

ID_HEADER = "任务编号"
VERSION_HEADER = "版本"
HEADERS = [
    "序号",
    "问题类别",
    "问题",
    "整改措施",
    "牵头领导",
    "牵头单位",
    "责任单位",
    "整改时限",
    "整改类型",
    "整改状态",
    "进展情况",
    "是否逾期",
    "销号时间",
    ID_HEADER,
    VERSION_HEADER,
]
# What the header cells say, in the reader's language; HEADERS stay the keys rows are read by,
# and an upload is read whichever language its headers were exported in (_header_keys).
HEADER_LABELS = {
    "序号": gettext_lazy("序号"),
    "问题类别": gettext_lazy("问题类别"),
    "问题": gettext_lazy("问题"),
    "整改措施": gettext_lazy("整改措施"),
    "牵头领导": gettext_lazy("牵头领导"),
    "牵头单位": gettext_lazy("牵头单位"),
    "责任单位": gettext_lazy("责任单位"),
    "整改时限": gettext_lazy("整改时限"),
    "整改类型": gettext_lazy("整改类型"),
    "整改状态": gettext_lazy("整改状态"),
    "进展情况": gettext_lazy("进展情况"),
    "是否逾期": gettext_lazy("是否逾期"),
    "销号时间": gettext_lazy("销号时间"),
    ID_HEADER: gettext_lazy("任务编号"),
    VERSION_HEADER: gettext_lazy("版本"),
}
UNIT_SEPARATORS = re.compile(r"[、,,;;\n]+")
EXPORT_CHUNK = 2000
# Ids per query when an upload's tasks are read: PostgreSQL takes at most 65,535 parameters in a
# statement, and a 100,000-row ledger names more tasks than that.
QUERY_CHUNK = 5000


class LedgerError(Exception):
    """The file as a whole cannot be read (not an XLSX, no header row, no task number column)."""


# --- export ---------------------------------------------------------------------------------


def ledger_queryset(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The tasks with everything a ledger row shows, in a fixed number of queries per chunk."""
    return (
        tasks.select_related("problem__parent__parent", "owner_unit", "lead_unit")
        .prefetch_related("responsible_units", "measures")
        .order_by("inspection_id", "problem__order", "pk")
    )


def _category(task: Task) -> str:
    parent = task.problem.parent
    if parent is None:
        return ""
    return parent.parent.title if parent.parent_id else parent.title


def unit_names(task: Task) -> list[str]:
    """责任单位 as written in the ledger: the owner (责任主体) first, then responsible units."""
    names = [task.owner_unit.name]
    for unit in task.responsible_units.all():
        if unit.name not in names:
            names.append(unit.name)
    return names


Progress = Callable[[int], None]


def ledger_rows(
    tasks: QuerySet[Task], today: datetime.date | None = None, progress: Progress | None = None
) -> Iterator[list]:
    """One list of cell values per task, in HEADERS order; ``progress`` (a background export's)
    is told the number of rows written after every EXPORT_CHUNK rows and at the end."""
    today = today or local_today()
    qs = ledger_queryset(tasks)
    number = 0
    for number, task in enumerate(qs.iterator(chunk_size=EXPORT_CHUNK), start=1):
        if progress is not None and number % EXPORT_CHUNK == 0:
            progress(number)
        yield [
            number,
            _category(task),
            task.problem.title,
            "\n".join(m.text for m in task.measures.all()),
            task.lead_leader_name,
            task.lead_unit.name if task.lead_unit_id else "",
            "、".join(unit_names(task)),
            task.deadline,
            str(TaskType(task.task_type).label),
            str(TaskStatus(task.status).label),
            task.progress,
            _("是") if task.is_overdue(today) else _("否"),
            timezone.localdate(task.closed_at) if task.closed_at else None,
            task.pk,
            task.version,
        ]
    if progress is not None:
        progress(number)


def export_xlsx(
    tasks: QuerySet[Task], today: datetime.date | None = None, progress: Progress | None = None
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    spreadsheet.utf8_sheets()  # Chinese text as UTF-8, not 8-byte character references
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("整改台账"))
    widths = [6, 24, 48, 48, 10, 16, 24, 12, 10, 10, 36, 8, 12, 10, 8]
    for index, width in enumerate(widths, start=1):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = width
    # The task number is how an upload finds its task, the version how it knows the task has not
    # changed since the export; both hidden so offices do not edit them.
    for title in (ID_HEADER, VERSION_HEADER):
        sheet.column_dimensions[_column_letter(HEADERS.index(title) + 1)].hidden = True
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=str(HEADER_LABELS[title]))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for values in ledger_rows(tasks, today, progress):
        row = []
        for value in values:
            # Plain values are written as they are (a number, a text openpyxl would not read as
            # a formula); a cell object only where it needs a format, a wrap, or the guard.
            if value is None or isinstance(value, int):
                row.append(value)
                continue
            if isinstance(value, str) and "\n" not in value and spreadsheet.plain_text(value):
                row.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            spreadsheet.text_cell(cell)  # text stays text: never a formula
            if isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str) and "\n" in value:
                cell.alignment = wrap
            row.append(cell)
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(
    tasks: QuerySet[Task], today: datetime.date | None = None, progress: Progress | None = None
) -> Iterator[bytes]:
    """CSV chunks, the first starting with a UTF-8 BOM (Excel then reads it as UTF-8)."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow([str(HEADER_LABELS[h]) for h in HEADERS])).encode()
    for values in ledger_rows(tasks, today, progress):
        yield writer.writerow(
            [
                ""
                if v is None
                else v.isoformat()
                if isinstance(v, datetime.date)
                else spreadsheet.csv_cell(v)  # formula-like text gets a leading quote
                for v in values
            ]
        ).encode()


# --- import: read ----------------------------------------------------------------------------


@dataclass
class SheetRow:
    """One data row of an uploaded ledger: its Excel row number and values by header (every
    header of the sheet is a key, so a column's absence is the file's, not the row's)."""

    number: int
    values: dict[str, object]


def read_ledger(data: bytes, name: str = "") -> list[SheetRow]:
    """The data rows of the first sheet whose header row names the task number column.

    The file (uploaded as ``name``) is first held to the configured bounds on what it unpacks to
    (``tracker.spreadsheet.check_xlsx``), before openpyxl parses any of it."""
    from openpyxl import load_workbook

    try:
        spreadsheet.check_xlsx(data, name or _("台账"))
    except spreadsheet.NotXlsx as exc:
        raise LedgerError(_("无法读取文件,请上传导出的 Excel(.xlsx)台账。")) from exc
    except spreadsheet.SpreadsheetRefused as exc:
        raise LedgerError(str(exc)) from exc
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not XLSX
        raise LedgerError(_("无法读取文件,请上传导出的 Excel(.xlsx)台账。")) from exc
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            keys = _header_keys()
            for header_number, header in enumerate(rows, start=1):
                names = [str(c).strip() if c is not None else "" for c in header]
                names = [keys.get(n, n) for n in names]
                if ID_HEADER in names:
                    return _data_rows(names, rows, header_number)
                if header_number >= 10:  # the header sits at the top; stop looking
                    break
    finally:
        workbook.close()
    raise LedgerError(_("未找到表头“%s”列,请使用本系统导出的台账。") % HEADER_LABELS[ID_HEADER])


def _in_every_language(text) -> set[str]:
    """``text`` (a lazy translation) as each of the site's languages says it."""
    said = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            said.add(str(text))
    return said


def _header_keys() -> dict[str, str]:
    """Header cell text in any of the site's languages → the header key."""
    return {said: key for key, label in HEADER_LABELS.items() for said in _in_every_language(label)}


def _data_rows(names: list[str], rows: Iterable[tuple], header_number: int) -> list[SheetRow]:
    result = []
    for number, values in enumerate(rows, start=header_number + 1):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        cells = list(values) + [None] * (len(names) - len(values))
        result.append(SheetRow(number, {n: v for n, v in zip(names, cells, strict=False) if n}))
    return result


# --- import: preview -------------------------------------------------------------------------

# Each column an upload may change → the action that makes the change, in the order a row's
# changes are applied. 责任单位 holds two: its first unit is the owner, the others the
# responsible units.
COLUMN_ACTIONS: dict[str, tuple[str, ...]] = {
    "责任单位": ("change_owner", "change_responsible_units"),
    "牵头单位": ("change_lead_unit",),
    "牵头领导": ("change_lead_leader",),
    "整改时限": ("change_deadline",),
    "整改类型": ("change_type",),
    "整改状态": ("change_status",),
    "进展情况": ("record_note",),
}


def _refusal(action: str, rule: str) -> str:
    """Why the user may not make ``action`` (which needs ``rule``) through the ledger."""
    if rule == "supervise":
        return {
            "change_owner": _("责任主体(责任单位中的第一个单位)只能由整改办修改"),
            "change_responsible_units": _("责任单位只能由整改办修改"),
            "change_lead_unit": _("牵头单位只能由整改办修改"),
            "change_lead_leader": _("牵头领导只能由整改办修改"),
            "change_deadline": _("整改时限只能由整改办修改;如需延期,请在任务页面申请延期"),
            "change_type": _("整改类型只能由整改办修改"),
        }.get(action, _("只有整改办可以进行此修改"))
    return _("您无权修改该任务")


@dataclass
class Change:
    """One field of one task as the upload would change it, and the action that would."""

    column: str
    old: str
    new: str
    value: object
    action: str
    label: str = ""  # what the preview calls the field (责任单位 holds two)
    reason: str = ""  # why it is not allowed, for a refused change

    def __post_init__(self) -> None:
        self.label = self.label or self.column

    @property
    def key(self) -> list:
        """The change as plain data, for the digest that ties the confirm to the preview."""
        value = self.value
        if isinstance(value, Unit):
            value = value.pk
        elif isinstance(value, list):
            value = sorted(u.pk for u in value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        return [self.action, value]


@dataclass
class RowPreview:
    """What one row would do: the changes it may make, those it may not (with the reason), a
    conflict (the task changed since the export), errors, and warnings (ignored cells)."""

    number: int
    task_id: int | None
    title: str = ""
    version: int | None = None  # the task's version in the file
    changes: list[Change] = field(default_factory=list)
    refused: list[Change] = field(default_factory=list)
    conflict: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def applicable(self) -> bool:
        """The row's allowed changes will be applied."""
        return bool(self.changes) and not self.errors and not self.conflict

    @property
    def notable(self) -> bool:
        return bool(self.changes or self.refused or self.conflict or self.errors or self.warnings)


@dataclass
class Preview:
    """The whole upload, row by row."""

    rows: list[RowPreview]
    missing_version: bool = False  # an old export, without the version column
    # A preview read back from a background job keeps only its notable rows, and the count.
    total_rows: int | None = None

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.total_rows is None else self.total_rows

    @property
    def changed(self) -> list[RowPreview]:
        """Rows whose allowed changes will be applied."""
        return [r for r in self.rows if r.applicable]

    @property
    def errors(self) -> list[RowPreview]:
        return [r for r in self.rows if r.errors]

    @property
    def conflicts(self) -> list[RowPreview]:
        return [r for r in self.rows if r.conflict]

    @property
    def refused(self) -> list[RowPreview]:
        return [r for r in self.rows if r.refused]

    @property
    def notable(self) -> list[RowPreview]:
        return [r for r in self.rows if r.notable]

    @property
    def change_count(self) -> int:
        return sum(len(r.changes) for r in self.changed)

    @property
    def refused_count(self) -> int:
        return sum(len(r.refused) for r in self.rows)

    @property
    def versions(self) -> dict[int, int]:
        """The rows to apply: task → the version in the file."""
        return {r.task_id: r.version for r in self.changed}

    @property
    def digest(self) -> str:
        """What a confirm would do, as a hash: the confirm refuses if it would do otherwise."""
        plan = [[r.task_id, r.version, [c.key for c in r.changes]] for r in self.changed]
        return hashlib.sha256(json.dumps(plan, default=str).encode()).hexdigest()


def _parse_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: object) -> datetime.date | None:
    """A deadline cell: an Excel date, or text like 2026-11-01, 2026/11/1, 2026年11月1日.

    Raises ValueError for anything else; an empty cell is no deadline.
    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day = (int(g) for g in match.groups())
    return datetime.date(year, month, day)


def _labels(choices) -> dict[str, str]:
    """Label (as exported in any of the site's languages, or the code) → code."""
    mapping = {}
    for value, label in choices.choices:
        for said in _in_every_language(label):
            mapping[said] = value
        mapping[value] = value
    return mapping


def _text(value: object) -> str:
    # A lone CR comes back from XLSX as LF (XML normalizes line ends), so both read as LF.
    return "" if value is None else str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _unit_list(value: object) -> list[str]:
    """Unit names as written in a cell, in order, each once."""
    names: list[str] = []
    for name in UNIT_SEPARATORS.split(_text(value)):
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return names


class _Permits:
    """``access`` asked about the loaded tasks, one query per rule (from the queryset Access
    keeps for that rule), instead of one per task and rule."""

    QUERYSETS: dict[str, str] = {
        "edit": "editable_tasks",
        "lead_review": "lead_review_tasks",
        "supervise": "supervised_tasks",
    }

    def __init__(self, access: Access, tasks: dict[int, Task]):
        self.access = access
        self.tasks = tasks
        self._allowed: dict[str, set[int]] = {}

    def may(self, action: str, task: Task) -> bool:
        rule = ACTION_RULES[action]
        method = self.QUERYSETS.get(rule)
        if method is None:  # "admin", or a rule without a queryset: ask for the one task
            return self.access.may(rule, task)
        if rule not in self._allowed:
            allowed: set[int] = set()
            for chunk in _chunks(list(self.tasks)):
                qs = getattr(self.access, method)().filter(pk__in=chunk)
                allowed.update(qs.values_list("pk", flat=True))
            self._allowed[rule] = allowed
        return task.pk in self._allowed[rule]


class _Units:
    """The units an upload names, read in one query, resolved per task organization."""

    def __init__(self, names: set[str]):
        self.by_name: dict[str, list[Unit]] = {}
        if names:
            for unit in Unit.objects.filter(name__in=names):
                self.by_name.setdefault(unit.name, []).append(unit)

    def resolve(self, task: Task, name: str, out: RowPreview) -> Unit | None:
        """The unit a row gives ``task`` by name, or None with the row error naming it."""
        candidates = self.by_name.get(name, [])
        org_id = task.ledger_org_id  # annotated by _load_tasks
        unit = next((u for u in candidates if u.organization_id == org_id), None)
        if unit is None:
            if candidates:
                out.errors.append(_("单位“%s”不属于该任务所在的党组织。") % name)
            else:
                out.errors.append(_("未知单位:%s") % name)
            return None
        if unit.retired:
            out.errors.append(_("单位“%s”已撤并,不能再分派任务。") % name)
            return None
        return unit


def _chunks(ids: list[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or QUERY_CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _load_tasks(access: Access, ids: Iterable[int | None]) -> dict[int, Task]:
    """The named tasks in the user's scope with what comparing a row needs, two queries per
    chunk of ids plus one for their units. Each unit is one object shared by its tasks (set as
    the owner / lead unit, and in ``task.ledger_responsible``), and the problem's title and the
    organization are annotated (``ledger_title``, ``ledger_org_id``): a 100,000-row upload then
    builds 100,000 task objects, not half a million."""
    wanted = sorted({i for i in ids if i is not None})
    tasks: dict[int, Task] = {}
    responsible: dict[int, list[int]] = {}
    through = Task.responsible_units.through
    for chunk in _chunks(wanted):
        qs = access.tasks().filter(pk__in=chunk)
        qs = qs.annotate(
            ledger_org_id=F("inspection__organization_id"), ledger_title=F("problem__title")
        )
        tasks.update((t.pk, t) for t in qs)
        links = through.objects.filter(task_id__in=[i for i in chunk if i in tasks])
        for task_id, unit_id in links.values_list("task_id", "unit_id"):
            responsible.setdefault(task_id, []).append(unit_id)
    unit_ids = {t.owner_unit_id for t in tasks.values()}
    unit_ids |= {t.lead_unit_id for t in tasks.values() if t.lead_unit_id}
    unit_ids |= {u for units in responsible.values() for u in units}
    units = Unit.objects.in_bulk(sorted(unit_ids)) if unit_ids else {}
    owner_field, lead_field = Task.owner_unit.field, Task.lead_unit.field
    for task in tasks.values():
        owner_field.set_cached_value(task, units[task.owner_unit_id])
        lead_field.set_cached_value(task, units.get(task.lead_unit_id))
        # In the order the export lists them (Unit's ordering; a task's units share an org).
        task.ledger_responsible = sorted(
            (units[u] for u in responsible.get(task.pk, [])), key=lambda u: u.name
        )
    return tasks


def preview(access: Access, rows: list[SheetRow]) -> Preview:
    """Compare each row with its task; a fixed number of queries per chunk of QUERY_CHUNK
    tasks, whatever the changes."""
    ids = {r.number: _parse_id(r.values.get(ID_HEADER)) for r in rows}
    tasks = _load_tasks(access, ids.values())
    names: set[str] = set()
    for row in rows:
        if ids[row.number] in tasks:
            names.update(_unit_list(row.values.get("责任单位")))
            names.update(_unit_list(row.values.get("牵头单位")))
    units = _Units(names)
    permits = _Permits(access, tasks)
    types, statuses = _labels(TaskType), _labels(TaskStatus)
    result = Preview([], missing_version=bool(rows) and VERSION_HEADER not in rows[0].values)
    seen: set[int] = set()
    conflicted: list[tuple[RowPreview, Task]] = []
    for row in rows:
        task_id = ids[row.number]
        out = RowPreview(row.number, task_id)
        result.rows.append(out)
        task = tasks.get(task_id) if task_id is not None else None
        if task is None:
            # Missing and out of scope read the same, as everywhere else (404 rule).
            out.errors.append(
                _("任务编号“%s”不存在或不在您的权限范围内") % _text(row.values.get(ID_HEADER))
            )
            continue
        out.title = task.ledger_title
        if task_id in seen:
            out.errors.append(_("任务编号重复出现"))
            continue
        seen.add(task_id)
        candidates = _compare(task, row.values, out, units, types, statuses)
        if not candidates:
            continue
        if result.missing_version:
            out.errors.append(
                _(
                    "该台账没有“版本”列(旧版导出),无法确认任务是否已被他人修改;"
                    "请重新导出台账后再修改上传。"
                )
            )
        else:
            out.version = _parse_id(row.values.get(VERSION_HEADER))
            if out.version is None:
                out.errors.append(
                    _("“版本”无法识别:%s,请重新导出台账。") % _text(row.values.get(VERSION_HEADER))
                )
            elif out.version != task.version:
                conflicted.append((out, task))
        _judge(task, candidates, out, permits)
    _explain_conflicts(conflicted)
    return result


def _judge(task: Task, candidates: list[Change], out: RowPreview, permits: _Permits) -> None:
    """Sort a row's changes into allowed and refused: the rule of each change's action, then the
    workflow rule the action applies (a closed task; the task page's status moves)."""
    for change in candidates:
        if task.status == TaskStatus.CLOSED:
            change.reason = _("该任务已销号,不能再修改;如需继续整改,请整改办重新打开。")
        elif not permits.may(change.action, task):
            change.reason = _refusal(change.action, ACTION_RULES[change.action])
        elif change.action == "change_status" and change.value not in actions.allowed_statuses(
            task
        ):
            if change.value == TaskStatus.CLOSED:
                change.reason = _(
                    "“已销号”不能通过台账设置:请在任务页面申请销号,经牵头单位和整改办审核后销号"
                )
            else:
                change.reason = _("不允许从“%(old)s”变更为“%(new)s”") % {
                    "old": change.old,
                    "new": change.new,
                }
        (out.refused if change.reason else out.changes).append(change)


def _explain_conflicts(conflicted: list[tuple[RowPreview, Task]]) -> None:
    """Flag rows whose task changed since the export, naming who changed it last and when (the
    latest event, as ``actions.StaleTask`` does); two queries per chunk of them."""
    if not conflicted:
        return
    last = {}
    for chunk in _chunks([t.pk for _row, t in conflicted]):
        last_ids = (
            TaskEvent.objects.filter(task_id__in=chunk)
            .values("task_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        events = TaskEvent.objects.filter(pk__in=list(last_ids)).select_related("actor")
        last.update((e.task_id, e) for e in events)
    for out, task in conflicted:
        event = last.get(task.pk)
        who = (event.actor or event.get_source_display()) if event else "?"
        when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M") if event else "?"
        out.conflict = _(
            "已被他人修改:%(who)s 于 %(when)s 修改了该任务(台账中为第 %(file)s 版,"
            "当前为第 %(current)s 版),本行未导入;请重新导出台账后再修改。"
        ) % {"who": who, "when": when, "file": out.version, "current": task.version}


def _compare(
    task: Task, values: dict, out: RowPreview, units: _Units, types, statuses
) -> list[Change]:
    """The row's differences from the task, as candidate changes in application order; cells
    that cannot be read become row errors, ignored cells warnings."""
    changes: list[Change] = []
    if "责任单位" in values:
        _compare_units(task, _unit_list(values["责任单位"]), out, units, changes)
    if "牵头单位" in values:
        names = _unit_list(values["牵头单位"])
        old = task.lead_unit.name if task.lead_unit_id else ""
        if len(names) > 1:
            out.errors.append(_("牵头单位只能填写一个单位:%s") % "、".join(names))
        elif (names[0] if names else "") != old:
            unit = units.resolve(task, names[0], out) if names else None
            if unit is not None or not names:
                changes.append(
                    Change("牵头单位", old, unit.name if unit else "", unit, "change_lead_unit")
                )
    if "牵头领导" in values:
        new, old = _text(values["牵头领导"]), task.lead_leader_name.strip()
        if new != old:
            changes.append(Change("牵头领导", old, new, new, "change_lead_leader"))
    if "整改时限" in values:
        try:
            deadline = parse_date(values["整改时限"])
        except ValueError:
            out.errors.append(_("日期无法识别:%s") % _text(values["整改时限"]))
        else:
            if deadline != task.deadline:
                changes.append(
                    Change(
                        "整改时限",
                        task.deadline.isoformat() if task.deadline else "",
                        deadline.isoformat() if deadline else "",
                        deadline,
                        "change_deadline",
                    )
                )
    if "整改类型" in values and _text(values["整改类型"]):
        label = _text(values["整改类型"])
        if label not in types:
            out.errors.append(_("未知的整改类型:%s") % label)
        elif types[label] != task.task_type:
            new_type = types[label]
            changes.append(
                Change(
                    "整改类型",
                    str(TaskType(task.task_type).label),
                    str(TaskType(new_type).label),
                    new_type,
                    "change_type",
                )
            )
    if "整改状态" in values and _text(values["整改状态"]):
        label = _text(values["整改状态"])
        if label not in statuses:
            out.errors.append(_("未知的整改状态:%s") % label)
        elif statuses[label] != task.status:
            new_status = statuses[label]
            changes.append(
                Change(
                    "整改状态",
                    str(TaskStatus(task.status).label),
                    str(TaskStatus(new_status).label),
                    new_status,
                    "change_status",
                )
            )
    if "进展情况" in values:
        new, old = _text(values["进展情况"]), _text(task.progress)
        if new != old:
            if new:
                changes.append(Change("进展情况", old, new, new, "record_note"))
            else:
                out.warnings.append(_("“进展情况”被清空,已忽略:台账导入不会清空已有的进展情况。"))
    return changes


def _compare_units(
    task: Task, names: list[str], out: RowPreview, units: _Units, changes: list[Change]
) -> None:
    """责任单位: the first name is the owner (责任主体), the others the responsible units."""
    if not names:
        out.warnings.append(_("“责任单位”为空,已忽略。"))
        return
    owner_name, others = names[0], names[1:]
    if owner_name != task.owner_unit.name:
        unit = units.resolve(task, owner_name, out)
        if unit is not None:
            changes.append(
                Change(
                    "责任单位",
                    task.owner_unit.name,
                    unit.name,
                    unit,
                    "change_owner",
                    label=_("责任主体"),
                )
            )
    current = list(task.ledger_responsible)  # set by _load_tasks
    # The export lists the owner once, first; a responsible unit that is also the owner (old or
    # new) is not a difference.
    skip = {task.owner_unit.name, owner_name}
    old_names = [u.name for u in current if u.name not in skip]
    if set(others) == set(old_names):
        return
    new_units: list[Unit] = [u for u in current if u.name == owner_name]  # kept as it was
    by_name = {u.name: u for u in current}
    resolved = True
    for name in others:
        unit = by_name.get(name) or units.resolve(task, name, out)
        resolved = resolved and unit is not None
        if unit is not None:
            new_units.append(unit)
    if resolved:
        changes.append(
            Change(
                "责任单位",
                "、".join(old_names),
                "、".join(others),
                new_units,
                "change_responsible_units",
                label=_("责任单位"),
            )
        )


# --- import: apply ---------------------------------------------------------------------------


class LedgerChanged(actions.ActionError):
    """What a confirm would do is no longer what the user previewed."""


def _apply_change(task: Task, change: Change, actor: actions.Actor, reason: str, version: int):
    kwargs = {"expected_version": version}
    if change.action == "record_note":
        return actions.record_note(task, change.value, actor, **kwargs)
    fn: Callable = getattr(actions, change.action)
    return fn(task, change.value, actor, reason=reason, **kwargs)


@transaction.atomic
def apply(
    access: Access,
    rows: list[SheetRow],
    name: str,
    *,
    versions: dict[int, int] | None = None,
    digest: str | None = None,
) -> int:
    """Apply the allowed changes of the rows without conflict or error through tracker.actions,
    all or nothing; returns the number of changes made.

    ``versions`` and ``digest`` are what the user confirmed (``Preview.versions`` and
    ``Preview.digest``): a task of the confirmed rows changed since then, or an upload that
    would now do anything else, raises and nothing of the upload is kept. Each action expects the
    version in the file, then the version the previous action left, and authorizes the user
    again (``NotAllowed``, ``StaleTask`` and the workflow's ``ActionError`` stop the upload too).
    """
    result = preview(access, rows)
    for row in result.conflicts:
        if versions is not None and row.task_id in versions:
            raise LedgerChanged(row.conflict)
    if digest is not None and result.digest != digest:
        raise LedgerChanged(_("预览之后任务已有变化,请重新上传台账并核对预览。"))
    actor = actions.Actor.of(
        access.user, source=EventSource.LEDGER, ref=f"ledger:{name}", access=access
    )
    tasks: dict[int, Task] = {}
    for chunk in _chunks([r.task_id for r in result.changed]):
        tasks.update(Task.objects.in_bulk(chunk))
    applied = 0
    for row in result.changed:
        task = tasks[row.task_id]
        expected = row.version
        reason = _("台账导入:%(name)s 第%(row)s行") % {"name": name, "row": row.number}
        for change in row.changes:
            _apply_change(task, change, actor, reason, expected)
            # Each action bumps the version; the next change of the row expects the new one.
            expected = task.version
            applied += 1
    return applied
