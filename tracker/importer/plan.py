"""A rectification plan (整改方案) in Excel → plain data: no ORM, no writes.

Offices keep the plan's four lists (问题清单, 任务清单, 责任清单, 时限清单) as one sheet: often a
merged title row, then a header naming the columns in one of their usual variants, then one row
per measure, the category (方面) and the problem merged over the rows of their measures.

``read_plan`` holds the file to ``tracker.spreadsheet.check_xlsx``'s bounds before openpyxl
parses it, then loads it in full (read-only sheets have no merged cells) with ``data_only``: a
formula's cached value is read, never evaluated; a formula without one is an error. Every cell
a merged range covers gets the range's value. Rows are grouped into one ``PlanRow`` per problem.
Whole-file problems raise ``PlanError``; a bad cell becomes a ``CellError`` naming its row and
column, and ``tracker.importer.plan_loader`` writes nothing while any is left.
"""

from __future__ import annotations

import calendar
import datetime
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tracker import spreadsheet
from tracker.choices import TaskType

# A plan has tens or hundreds of rows; openpyxl's full (not read-only) load holds every cell,
# so the bound is far below the ledger's.
PLAN_MAX_ROWS = 5000
HEADER_SEARCH_ROWS = 10
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Header key → the names offices give the column (compared without spaces and bracketed notes).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号"),
    "category": ("问题类别", "问题方面", "方面", "类别"),
    "problem": ("具体问题", "存在问题", "反馈问题", "问题清单", "问题描述", "问题"),
    "measures": ("整改措施", "整改举措", "整改任务", "任务清单", "措施"),
    "leader": ("责任领导", "牵头领导"),
    "lead_unit": ("牵头单位", "牵头部门"),
    "owner": ("责任主体",),
    "units": ("责任单位", "责任部门"),
    "co_units": ("配合单位", "配合部门"),
    "deadline": ("完成时限", "整改时限", "完成时间", "时限清单", "时限"),
    "type": ("整改类型",),
    "note": ("备注",),
}
# How the error messages name a column: the office's own header text is used when known.
HEADER_NAMES = {key: names[0] for key, names in HEADER_ALIASES.items()}

UNIT_SEPARATORS = re.compile(r"[、,，;；\n]+")
_BRACKETS = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_SPACES = re.compile(r"\s+")
TYPE_WORDS = {
    "立行立改": TaskType.IMMEDIATE,
    "限期整改": TaskType.DEADLINE,
    "长期坚持": TaskType.LONG_TERM,
    "immediate": TaskType.IMMEDIATE,
    "deadline": TaskType.DEADLINE,
    "long_term": TaskType.LONG_TERM,
}
REPORT_PERIODS = {"每月": 30, "每季度": 90, "每半年": 182, "每年": 365}


class PlanError(Exception):
    """The file as a whole cannot be read as a plan; the message names the file."""


@dataclass(frozen=True)
class CellError:
    """A cell the plan cannot be imported with: its Excel row, column letter, and why."""

    row: int | None
    column: str | None
    message: str

    def to_json(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return self.message


@dataclass
class PlanRow:
    """One problem of the plan with its measures and its responsibility and deadline lists."""

    row: int  # the Excel row its block starts on
    category: str
    label: str
    problem: str
    measures: list[str] = field(default_factory=list)
    lead_leader: str = ""
    lead_unit: str = ""
    owner_unit: str = ""  # only from a 责任主体 column; else the first responsible unit
    responsible_units: list[str] = field(default_factory=list)
    deadline: datetime.date | None = None
    task_type: str = TaskType.DEADLINE
    type_given: bool = False  # the sheet states the type (a type word), not just a date
    report_period_days: int | None = None
    note: str = ""
    # Where each field was read, for messages about it later (the loader's unit errors):
    # key → (the cell as a message names it, its column letter).
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def type_label(self) -> str:
        return str(TaskType(self.task_type).label)

    @property
    def owner_name(self) -> str:
        return self.owner_unit or (self.responsible_units[0] if self.responsible_units else "")

    @property
    def other_units(self) -> list[str]:
        """The responsible units besides the owner."""
        owner = self.owner_name
        return [u for u in self.responsible_units if u != owner]

    def unit_names(self) -> list[tuple[str, tuple[str, str]]]:
        """(name, (cell, column letter)) for every unit the row names."""
        none = (_("第%s行") % self.row, "")
        out = []
        if self.owner_unit:
            out.append((self.owner_unit, self.cells.get("owner", none)))
        if self.lead_unit:
            out.append((self.lead_unit, self.cells.get("lead_unit", none)))
        out.extend((u, self.cells.get("units", none)) for u in self.responsible_units)
        return out

    def to_json(self) -> dict:
        return {
            "row": self.row,
            "category": self.category,
            "label": self.label,
            "problem": self.problem,
            "measures": list(self.measures),
            "lead_leader": self.lead_leader,
            "lead_unit": self.lead_unit,
            "responsible_units": list(self.responsible_units),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "type": str(self.task_type),
        }


@dataclass
class ParsedPlan:
    """What a plan sheet says: its problems in order, and the cells it cannot be read with."""

    name: str
    sheet: str
    header_row: int
    rows: list[PlanRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)


# --- cells -------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _header_key(text: str) -> str | None:
    folded = _SPACES.sub("", _BRACKETS.sub("", text))
    if not folded:
        return None
    for key, names in HEADER_ALIASES.items():
        if folded in names:
            return key
    # "具体问题描述", "整改措施（任务清单）": the longest alias the header contains.
    best: tuple[int, str] | None = None
    for key, names in HEADER_ALIASES.items():
        for name in names:
            if len(name) >= 2 and name in folded and (best is None or len(name) > best[0]):
                best = (len(name), key)
    return best[1] if best else None


def split_units(value: object) -> list[str]:
    """Unit names as a cell writes them (、,，;； or line breaks), in order, each once."""
    names: list[str] = []
    for name in UNIT_SEPARATORS.split(_text(value)):
        name = name.strip(" \t。.")
        if name and name not in names:
            names.append(name)
    return names


def clean_leader(value: object) -> str:
    """王某某（副书记） → 王某某; several leaders stay, 、-separated, each without a title."""
    names = []
    for part in UNIT_SEPARATORS.split(_text(value)):
        name = _SPACES.sub("", _BRACKETS.sub("", part)).strip()
        if name and name not in names:
            names.append(name)
    return "、".join(names)


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*(?:底|末|份)?")
_YEAR_END = re.compile(r"(\d{4})\s*年\s*(?:年底|底|年末|末|12月底)")
_HALF = re.compile(r"(\d{4})\s*年\s*(上半年|下半年)")
_SHORT_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_SHORT_MONTH = re.compile(r"(\d{1,2})\s*月\s*(?:底|末|份)?")
_TAIL = re.compile(r"(?:之前|以前|前|止|完成|内)+$")


@dataclass(frozen=True)
class Deadline:
    """A deadline cell read: the date (or None), the type its words state, a report period."""

    day: datetime.date | None
    task_type: str | None = None
    report_period_days: int | None = None


def _in_year(month: int, day: int | None, feedback: datetime.date | None) -> datetime.date:
    """A date written without its year: the year of the feedback (the next one if that would put
    it before the feedback), else the current year."""
    year = feedback.year if feedback else datetime.date.today().year
    made = datetime.date(year, month, day) if day else _month_end(year, month)
    if feedback and made < feedback:
        made = datetime.date(year + 1, month, day) if day else _month_end(year + 1, month)
    return made


def parse_deadline(value: object, feedback: datetime.date | None = None) -> Deadline:
    """A 完成时限 cell: an Excel date, 2024.5.30, 2024年6月底前, 6月30日前 (the feedback's year),
    立行立改 / 长期坚持 (the type), 每季度 (long-term, reported every 90 days), or several of
    these together (立行立改，2024年5月底前). Raises ValueError for anything else."""
    if value is None:
        return Deadline(None)
    if isinstance(value, datetime.datetime):
        return Deadline(value.date())
    if isinstance(value, datetime.date):
        return Deadline(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel date serial in a cell not formatted as a date (2010…2064).
        if 40000 <= value <= 60000:
            return Deadline(datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value)))
        raise ValueError(str(value))
    text = _text(value)
    if not text:
        return Deadline(None)
    task_type = None
    period = None
    rest = text
    for word, code in (("长期坚持", TaskType.LONG_TERM), ("立行立改", TaskType.IMMEDIATE)):
        if word in rest:
            task_type = task_type or code
            rest = rest.replace(word, " ")
    for word, days in REPORT_PERIODS.items():
        if word in rest:
            task_type, period = TaskType.LONG_TERM, days
            rest = re.sub(word + r"(?:报告|报送|汇报)?(?:一次)?(?:进展)?(?:情况)?", " ", rest)
    if "限期整改" in rest:
        task_type = task_type or TaskType.DEADLINE
        rest = rest.replace("限期整改", " ")
    rest = re.sub(r"[，,;；、。\s]+", " ", rest).strip()
    day = None
    if rest:
        day = _date_text(_TAIL.sub("", rest.split(" ")[-1]).strip() or rest, feedback)
        if day is None:
            day = _date_text(_TAIL.sub("", rest.replace(" ", "")), feedback)
        if day is None:
            raise ValueError(text)
    if day is None and task_type is None:
        raise ValueError(text)
    return Deadline(day, task_type, period)


def _date_text(text: str, feedback: datetime.date | None) -> datetime.date | None:
    try:
        if m := _FULL.fullmatch(text):
            return datetime.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _YEAR_END.fullmatch(text):
            return datetime.date(int(m[1]), 12, 31)
        if m := _HALF.fullmatch(text):
            return (
                datetime.date(int(m[1]), 6, 30) if m[2] == "上半年" else _month_end(int(m[1]), 12)
            )
        if m := _MONTH.fullmatch(text):
            return _month_end(int(m[1]), int(m[2]))
        if m := _SHORT_DAY.fullmatch(text):
            return _in_year(int(m[1]), int(m[2]), feedback)
        if (m := _SHORT_MONTH.fullmatch(text)) and "月" in text:
            return _in_year(int(m[1]), None, feedback)
    except ValueError:  # 2024.2.30: digits in the right places, no such day
        return None
    return None


# --- the sheet ---------------------------------------------------------------------------------


def _refuse_old_formats(data: bytes, name: str) -> None:
    if data.startswith(OLE_MAGIC):
        # An encrypted XLSX is an OLE compound file holding an "EncryptedPackage" stream.
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptionInfo" in data:
            raise PlanError(
                _(
                    "文件“%s”设置了打开密码(已加密),无法读取。请在 Excel 中取消密码后另存为 .xlsx 再上传。"
                )
                % name
            )
        raise PlanError(
            _("文件“%s”是旧版 Excel(.xls)格式,请在 Excel 或 WPS 中另存为 .xlsx 后再上传。") % name
        )
    if name.lower().endswith(".xls"):
        raise PlanError(
            _("文件“%s”是旧版 Excel(.xls)格式,请在 Excel 或 WPS 中另存为 .xlsx 后再上传。") % name
        )


def _load(data: bytes, name: str, *, data_only: bool):
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), data_only=data_only)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not XLSX
        raise PlanError(_("无法读取文件“%s”,请上传 Excel(.xlsx)格式的整改方案。") % name) from exc


def _find_header(sheet) -> tuple[int, dict[int, str]] | None:
    """(row number, {column index: key}) of the first row naming a problem column and at least
    two other plan columns, within the first rows."""
    for number, cells in enumerate(
        sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
    ):
        keys: dict[int, str] = {}
        for index, value in enumerate(cells, start=1):
            key = _header_key(_text(value)) if isinstance(value, str) else None
            if key and key not in keys.values():
                keys[index] = key
        if "problem" in keys.values() and len(keys) >= 3:
            return number, keys
    return None


def read_plan(data: bytes, name: str, feedback: datetime.date | None = None) -> ParsedPlan:
    """The plan on the first sheet with a plan header. ``feedback`` (the inspection's feedback
    date) gives the year of deadlines written without one (6月30日前)."""
    from openpyxl.utils import get_column_letter

    _refuse_old_formats(data, name)
    limits = spreadsheet.Limits.from_settings()
    limits = spreadsheet.Limits(
        uncompressed_bytes=limits.uncompressed_bytes,
        rows=min(limits.rows, PLAN_MAX_ROWS),
        columns=limits.columns,
        cell_chars=limits.cell_chars,
    )
    try:
        spreadsheet.check_xlsx(data, name, limits)
    except spreadsheet.NotXlsx as exc:
        raise PlanError(_("无法读取文件“%s”,请上传 Excel(.xlsx)格式的整改方案。") % name) from exc
    except spreadsheet.SpreadsheetRefused as exc:
        raise PlanError(str(exc)) from exc
    values_book = _load(data, name, data_only=True)
    formulas_book = _load(data, name, data_only=False)
    for sheet in values_book.worksheets:
        found = _find_header(sheet)
        if found is None:
            continue
        formulas = formulas_book[sheet.title]
        return _read_sheet(sheet, formulas, found, name, feedback, get_column_letter)
    expected = "、".join(
        f"“{HEADER_NAMES[k]}”" for k in ("problem", "measures", "units", "deadline")
    )
    raise PlanError(
        _("文件“%(name)s”前%(rows)s行中没有可识别的表头(应有%(columns)s等列)。")
        % {"name": name, "rows": HEADER_SEARCH_ROWS, "columns": expected}
    )


def _read_sheet(sheet, formulas, found, name, feedback, letter) -> ParsedPlan:
    header_row, columns = found
    plan = ParsedPlan(name=name, sheet=sheet.title, header_row=header_row)
    header_text = {i: _text(sheet.cell(header_row, i).value) for i in columns}

    def where(row: int, col: int) -> str:
        head = header_text.get(col) or ""
        return (
            _("第%(row)s行第%(col)s列(“%(head)s”)") % {"row": row, "col": letter(col), "head": head}
            if head
            else _("第%(row)s行第%(col)s列") % {"row": row, "col": letter(col)}
        )

    def error(row: int | None, col: int | None, message: str) -> None:
        plan.errors.append(CellError(row, letter(col) if col else None, message))

    # Merged cells: the header must be plain; below it every covered cell takes the range's value.
    fill: dict[tuple[int, int], object] = {}
    for merged in sheet.merged_cells.ranges:
        if merged.max_row < header_row:
            continue  # the title row(s)
        if merged.min_row <= header_row <= merged.max_row:
            error(
                header_row,
                merged.min_col,
                _("%(where)s:表头单元格不能合并(%(range)s),请把表头拆成每列一格。")
                % {"where": where(header_row, merged.min_col), "range": merged.coord},
            )
            continue
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                fill[(row, col)] = value
    if plan.errors:
        return plan

    def value(row: int, col: int) -> object:
        if (row, col) in fill:
            return fill[(row, col)]
        return sheet.cell(row, col).value

    by_key = {key: col for col, key in columns.items()}
    current: PlanRow | None = None
    deadlines: dict[int, list[datetime.date]] = {}
    for row in range(header_row + 1, sheet.max_row + 1):
        cells: dict[str, object] = {}
        for key, col in by_key.items():
            raw = value(row, col)
            formula = formulas.cell(row, col).value
            if isinstance(formula, str) and formula.startswith("=") and raw is None:
                error(
                    row,
                    col,
                    _("%s是公式但没有保存计算结果,请在 Excel 中打开并保存(或复制为数值)后再上传。")
                    % where(row, col),
                )
                continue
            if isinstance(raw, str) and raw.startswith("#") and raw.rstrip("!?0/").isupper():
                error(
                    row,
                    col,
                    _("%(where)s的公式结果是错误值 %(value)s。")
                    % {"where": where(row, col), "value": raw},
                )
                continue
            cells[key] = raw
        if all(_text(v) == "" for v in cells.values()):
            continue
        problem = _text(cells.get("problem"))
        category = _text(cells.get("category"))
        seq = _text(cells.get("seq"))
        same_block = current is not None and (
            problem == current.problem or (not problem and not seq)
        )
        if same_block and category and category != current.category:
            same_block = False
        if not same_block:
            if not problem:
                error(
                    row,
                    by_key.get("problem"),
                    _("%s:没有填写问题。") % where(row, by_key["problem"]),
                )
                current = None
                continue
            current = PlanRow(row=row, category=category, label=seq, problem=problem)
            plan.rows.append(current)

        def cell(key: str, row: int = row) -> tuple[str, str]:
            return (where(row, by_key[key]), letter(by_key[key]))

        _add_cells(current, cells, row, by_key, where, cell, error, feedback, deadlines)
    for plan_row in plan.rows:
        days = deadlines.get(plan_row.row)
        if days:
            plan_row.deadline = max(days)  # a task is done when its last measure is
        if not plan_row.owner_unit and not plan_row.responsible_units:
            col = by_key.get("units") or by_key.get("owner") or by_key.get("lead_unit")
            plan.errors.append(
                CellError(
                    plan_row.row,
                    letter(col) if col else None,
                    _("%(where)s:问题“%(problem)s”没有填写责任单位。")
                    % {
                        "where": where(plan_row.row, col) if col else _("第%s行") % plan_row.row,
                        "problem": plan_row.problem[:30],
                    },
                )
            )
    return plan


def _add_cells(current: PlanRow, cells, row, by_key, where, cell, error, feedback, deadlines):
    """One sheet row's cells into the problem it belongs to."""
    measure = _text(cells.get("measures"))
    if measure and measure not in current.measures:
        current.measures.append(measure)
    leader = clean_leader(cells.get("leader"))
    if leader and not current.lead_leader:
        current.lead_leader = leader
    lead_unit = split_units(cells.get("lead_unit"))
    if lead_unit and not current.lead_unit:
        current.lead_unit = lead_unit[0]
        current.cells["lead_unit"] = cell("lead_unit")
        for extra in lead_unit[1:]:  # a second lead unit carries the task with it
            if extra not in current.responsible_units:
                current.responsible_units.append(extra)
    owner = split_units(cells.get("owner"))
    if owner and not current.owner_unit:
        current.owner_unit = owner[0]
        current.cells["owner"] = cell("owner")
    for key in ("units", "co_units"):
        for unit in split_units(cells.get(key)):
            current.cells.setdefault("units", cell(key))
            if unit not in current.responsible_units:
                current.responsible_units.append(unit)
    note = _text(cells.get("note"))
    if note and note not in current.note:
        current.note = f"{current.note}\n{note}".strip()
    if "type" in by_key and _text(cells.get("type")):
        word = _text(cells.get("type"))
        code = TYPE_WORDS.get(word)
        if code is None:
            error(
                row,
                by_key["type"],
                _("%(where)s:无法识别的整改类型“%(value)s”(应为立行立改、限期整改或长期坚持)。")
                % {"where": where(row, by_key["type"]), "value": word},
            )
        else:
            current.task_type, current.type_given = code, True
            current.cells["type"] = cell("type")
    if "deadline" in by_key and _text(cells.get("deadline")):
        raw = cells.get("deadline")
        try:
            read = parse_deadline(raw, feedback)
        except ValueError:
            error(
                row,
                by_key["deadline"],
                _(
                    "%(where)s:无法识别的完成时限“%(value)s”(可写 2024年6月30日、2024.6.30、2024年6月底前、立行立改、长期坚持)。"
                )
                % {"where": where(row, by_key["deadline"]), "value": _text(raw)},
            )
            return
        if read.day is not None:
            deadlines.setdefault(current.row, []).append(read.day)
        if read.task_type and "type" not in current.cells:  # the 整改类型 column wins
            current.task_type, current.type_given = read.task_type, True
        if read.report_period_days:
            current.report_period_days = read.report_period_days
