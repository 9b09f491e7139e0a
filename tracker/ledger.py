"""The rectification ledger (整改台账) in Excel, both ways.

Export: the tasks of the current filter in the columns offices use, as XLSX (openpyxl) or CSV
with a UTF-8 byte-order mark so that Excel opens it as Chinese text. A last, hidden column holds
the task number so that an uploaded copy can find its tasks again.

Import, in three steps kept apart so each is testable:
1. ``read_ledger``: XLSX bytes → rows of plain values (no ORM);
2. ``preview``: rows → per-row changes and per-row errors, against the tasks the user may
   change (unknown task or out of scope, unknown unit, bad date, unknown type or status, a
   status move ``actions.allowed_statuses`` does not allow);
3. ``apply``: the previewed changes through ``tracker.actions`` in one transaction, each event
   naming the upload (source 台账导入, ref ``ledger:<file name>``); a task changed by someone
   else since the preview stops the whole upload (optimistic concurrency).
Only 责任单位 (the first unit named is the owner), 整改时限, 整改类型 and 整改状态 are read back;
the other columns are for reading. An unedited export changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker import actions
from tracker.choices import EventSource, TaskStatus, TaskType
from tracker.models import Task, Unit, local_today
from tracker.permissions import Access

ID_HEADER = "任务编号"
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
]
# Columns an upload may change, and the order changes are applied in.
EDITABLE = ("责任单位", "整改类型", "整改时限", "整改状态")
UNIT_SEPARATORS = re.compile(r"[、,,;;\n]+")
EXPORT_CHUNK = 2000


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


def ledger_rows(tasks: QuerySet[Task], today: datetime.date | None = None) -> Iterator[list]:
    """One list of cell values per task, in HEADERS order."""
    today = today or local_today()
    qs = ledger_queryset(tasks)
    for number, task in enumerate(qs.iterator(chunk_size=EXPORT_CHUNK), start=1):
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
        ]


def export_xlsx(tasks: QuerySet[Task], today: datetime.date | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("整改台账"))
    widths = [6, 24, 48, 48, 10, 16, 24, 12, 10, 10, 36, 8, 12, 10]
    for index, width in enumerate(widths, start=1):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = width
    # The task number is how an upload finds its task; hidden so offices do not edit it.
    sheet.column_dimensions[_column_letter(len(HEADERS))].hidden = True
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for values in ledger_rows(tasks, today):
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
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


def export_csv(tasks: QuerySet[Task], today: datetime.date | None = None) -> Iterator[bytes]:
    """CSV chunks, the first starting with a UTF-8 BOM (Excel then reads it as UTF-8)."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(HEADERS)).encode()
    for values in ledger_rows(tasks, today):
        yield writer.writerow(
            [
                "" if v is None else v.isoformat() if isinstance(v, datetime.date) else v
                for v in values
            ]
        ).encode()


# --- import: read ----------------------------------------------------------------------------


@dataclass
class SheetRow:
    """One data row of an uploaded ledger: its Excel row number and values by header."""

    number: int
    values: dict[str, object]


def read_ledger(data: bytes) -> list[SheetRow]:
    """The data rows of the first sheet whose header row names the task number column."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not XLSX
        raise LedgerError(_("无法读取文件,请上传导出的 Excel(.xlsx)台账。")) from exc
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            for header_number, header in enumerate(rows, start=1):
                names = [str(c).strip() if c is not None else "" for c in header]
                if ID_HEADER in names:
                    return _data_rows(names, rows, header_number)
                if header_number >= 10:  # the header sits at the top; stop looking
                    break
    finally:
        workbook.close()
    raise LedgerError(_("未找到表头“%s”列,请使用本系统导出的台账。") % ID_HEADER)


def _data_rows(names: list[str], rows: Iterable[tuple], header_number: int) -> list[SheetRow]:
    result = []
    for number, values in enumerate(rows, start=header_number + 1):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        result.append(SheetRow(number, {n: v for n, v in zip(names, values, strict=False) if n}))
    return result


# --- import: preview -------------------------------------------------------------------------


@dataclass
class Change:
    """One field of one task as the upload would change it."""

    column: str
    old: str
    new: str
    value: object


@dataclass
class RowPreview:
    """What one row would do: its changes, or why it cannot be applied."""

    number: int
    task_id: int | None
    title: str = ""
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """The whole upload: every row with changes or errors, and the versions the preview saw."""

    rows: list[RowPreview]
    versions: dict[int, int]

    @property
    def changed(self) -> list[RowPreview]:
        return [r for r in self.rows if r.changes and not r.errors]

    @property
    def errors(self) -> list[RowPreview]:
        return [r for r in self.rows if r.errors]

    @property
    def change_count(self) -> int:
        return sum(len(r.changes) for r in self.changed)


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
    """Label (as exported, or the code) → code."""
    mapping = {}
    for value, label in choices.choices:
        mapping[str(label)] = value
        mapping[value] = value
    return mapping


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def editable_task_ids(access: Access, task_ids: Iterable[int]) -> set[int]:
    """Of ``task_ids``, those the user may change: supervised ones and their units' ones."""
    task_ids = list(task_ids)
    if access.is_admin:
        return set(task_ids)
    q = Q(pk__in=access.supervised_tasks().filter(pk__in=task_ids).values("pk"))
    if access.unit_ids:
        q |= access._unit_q(access.unit_ids)  # the unit rule of tracker.permissions
    return set(Task.objects.filter(pk__in=task_ids).filter(q).values_list("pk", flat=True))


def preview(access: Access, rows: list[SheetRow]) -> Preview:
    """Compare each row with its task; a fixed number of queries whatever the row count."""
    ids = {r.number: _parse_id(r.values.get(ID_HEADER)) for r in rows}
    tasks = {
        t.pk: t
        for t in access.tasks()
        .filter(pk__in=[i for i in ids.values() if i is not None])
        .select_related("owner_unit", "inspection", "problem")
    }
    editable = editable_task_ids(access, tasks)
    org_ids = {t.inspection.organization_id for t in tasks.values()}
    units = {
        (u.organization_id, u.name): u for u in Unit.objects.filter(organization_id__in=org_ids)
    }
    types, statuses = _labels(TaskType), _labels(TaskStatus)
    seen: set[int] = set()
    result = []
    for row in rows:
        task_id = ids[row.number]
        preview_row = RowPreview(row.number, task_id)
        result.append(preview_row)
        task = tasks.get(task_id) if task_id is not None else None
        if task is None:
            # Missing and out of scope read the same, as everywhere else (404 rule).
            preview_row.errors.append(
                _("任务编号“%s”不存在或不在您的权限范围内") % _text(row.values.get(ID_HEADER))
            )
            continue
        preview_row.title = task.problem.title
        if task_id in seen:
            preview_row.errors.append(_("任务编号重复出现"))
            continue
        seen.add(task_id)
        _compare(task, row.values, preview_row, units, types, statuses)
        if preview_row.changes and task_id not in editable:
            preview_row.errors.append(_("您无权修改该任务"))
    return Preview(result, {pk: t.version for pk, t in tasks.items()})


def _compare(task: Task, values: dict, out: RowPreview, units, types, statuses) -> None:
    if "责任单位" in values:
        names = [n.strip() for n in UNIT_SEPARATORS.split(_text(values["责任单位"])) if n.strip()]
        if names and names[0] != task.owner_unit.name:
            unit = units.get((task.inspection.organization_id, names[0]))
            if unit is None:
                out.errors.append(_("未知单位:%s") % names[0])
            else:
                out.changes.append(Change("责任单位", task.owner_unit.name, unit.name, unit))
    new_type = task.task_type
    if "整改类型" in values and _text(values["整改类型"]):
        label = _text(values["整改类型"])
        if label not in types:
            out.errors.append(_("未知的整改类型:%s") % label)
        elif types[label] != task.task_type:
            new_type = types[label]
            out.changes.append(
                Change(
                    "整改类型",
                    str(TaskType(task.task_type).label),
                    str(TaskType(new_type).label),
                    new_type,
                )
            )
    if "整改时限" in values:
        try:
            deadline = parse_date(values["整改时限"])
        except ValueError:
            out.errors.append(_("日期无法识别:%s") % _text(values["整改时限"]))
        else:
            if deadline != task.deadline:
                out.changes.append(
                    Change(
                        "整改时限",
                        task.deadline.isoformat() if task.deadline else "",
                        deadline.isoformat() if deadline else "",
                        deadline,
                    )
                )
    if "整改状态" in values and _text(values["整改状态"]):
        label = _text(values["整改状态"])
        if label not in statuses:
            out.errors.append(_("未知的整改状态:%s") % label)
        elif statuses[label] != task.status:
            new_status = statuses[label]
            old_label = str(TaskStatus(task.status).label)
            new_label = str(TaskStatus(new_status).label)
            if new_status not in actions.allowed_statuses(task):
                out.errors.append(
                    _("不允许从“%(old)s”变更为“%(new)s”") % {"old": old_label, "new": new_label}
                )
            else:
                out.changes.append(Change("整改状态", old_label, new_label, new_status))


# --- import: apply ---------------------------------------------------------------------------


@transaction.atomic
def apply(access: Access, rows: list[SheetRow], name: str, versions: dict[int, int]) -> int:
    """Apply the rows' changes through tracker.actions, all or nothing; returns changes made.

    ``versions`` are the task versions the user saw in the preview: a task changed since then
    raises ``actions.StaleTask`` and nothing of the upload is kept. Rows with errors are skipped
    (the preview showed them).
    """
    result = preview(access, rows)
    actor = actions.Actor.of(access.user, source=EventSource.LEDGER, ref=f"ledger:{name}")
    tasks = Task.objects.in_bulk([r.task_id for r in result.changed])
    applied = 0
    for row in result.changed:
        task = tasks[row.task_id]
        expected = versions.get(row.task_id, result.versions[row.task_id])
        reason = _("台账导入:%(name)s 第%(row)s行") % {"name": name, "row": row.number}
        for change in row.changes:
            kwargs = {"reason": reason, "expected_version": expected}
            if change.column == "责任单位":
                actions.change_owner(task, change.value, actor, **kwargs)
            elif change.column == "整改类型":
                actions.change_type(task, change.value, actor, **kwargs)
            elif change.column == "整改时限":
                actions.change_deadline(task, change.value, actor, **kwargs)
            elif change.column == "整改状态":
                actions.change_status(task, change.value, actor, **kwargs)
            # Each action bumps the version; the next change of the row expects the new one.
            expected = task.version
            applied += 1
    return applied
