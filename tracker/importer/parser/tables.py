"""Tables of problems: pipe- or tab-separated, or flattened to text (cells split by spaces, or
one cell per line), with category rows grouping them."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..text import fold_status, fold_task_type, strip_trailing_punct
from .data import ParsedProblem
from .headings import _Line, _parse_heading, _Table
from .patterns import _CATEGORY_RE, _NEG_RE, _TABLE_SPLIT_PIPE, CN
from .titles import _clean_title, _extract_measures, _unwrap_title


def _table_cells(raw: str) -> list[str] | None:
    if "|" in raw or "│" in raw or "┃" in raw:
        cells = _TABLE_SPLIT_PIPE.split(raw.strip().strip("|│┃").strip())
    elif "\t" in raw:
        cells = [c.strip() for c in raw.strip().split("\t")]
    else:
        return None
    if len(cells) < 2:
        return None
    return cells


_T_PROBLEM = re.compile(r"问题|事项|反馈意见")
_T_STATUS = re.compile(r"完成情况|完成状态|整改状态|状态|整改进度|进度|进展|整改结果|是否完成")
_T_STATUS_WEAK = re.compile(r"整改情况")
_T_SERIAL = re.compile(r"^(?:序号|编号|No\.?|#)$", re.IGNORECASE)
_T_MEASURE = re.compile(r"措施|举措|整改情况|整改内容|整改成效")
_T_TYPE = re.compile(r"整改类型|类型|整改时限|时限|期限|整改方式")
_T_CATEGORY = re.compile(r"方面|类别|分类|领域")


_T_OTHER = re.compile(r"单位|部门|领导|责任人|备注|时间|日期|依据|标准")
_T_SERIAL_CELL = re.compile(rf"[\d{CN}]{{1,4}}[.、]?")
_HEADER_CELL_BAD = re.compile(r"[,。;:!?、“”()《》【】\d]")


def _header_columns(header: list[str]) -> dict[str, int | None] | None:
    """Which header cell is the problem, status, serial, measures, type and category column."""
    cols: dict[str, int | None] = dict.fromkeys(("prob", "stat", "serial", "meas", "typ", "cat"))
    for j, h in enumerate(header):
        h2 = h.replace(" ", "")
        if cols["serial"] is None and _T_SERIAL.match(h2):
            cols["serial"] = j
        elif cols["stat"] is None and _T_STATUS.search(h2) and not _T_PROBLEM.search(h2):
            cols["stat"] = j
        elif cols["cat"] is None and _T_CATEGORY.search(h2):
            cols["cat"] = j
        elif cols["prob"] is None and _T_PROBLEM.search(h2) and not _T_MEASURE.search(h2):
            cols["prob"] = j
        elif cols["typ"] is None and _T_TYPE.search(h2):
            cols["typ"] = j
        elif cols["meas"] is None and _T_MEASURE.search(h2):
            cols["meas"] = j
    if cols["stat"] is None:
        for j, h in enumerate(header):
            if j not in (cols["prob"], cols["serial"], cols["cat"], cols["typ"]) and (
                _T_STATUS_WEAK.search(h)
            ):
                cols["stat"] = j
                if cols["meas"] == j:
                    cols["meas"] = None
                break
    if cols["prob"] is None or cols["stat"] is None:
        return None
    return cols


def _is_header_cell(c: str) -> bool:
    """A column name: short, no punctuation or digits, and a word tables use for columns."""
    if not c or len(c) > 8 or _HEADER_CELL_BAD.search(c):
        return False
    return any(
        rx.search(c)
        for rx in (
            _T_PROBLEM,
            _T_STATUS,
            _T_STATUS_WEAK,
            _T_MEASURE,
            _T_TYPE,
            _T_CATEGORY,
            _T_OTHER,
        )
    ) or bool(_T_SERIAL.match(c))


def _category_row(text: str) -> tuple[str | None, str] | None:
    """A row naming a group of problems ("(一)党的建设方面"): (label, title), else None."""
    if not text or len(text) > 60 or "。" in text:
        return None
    h = _parse_heading(text)
    label, rest = (h[1], h[2]) if h else (None, text)
    rest = strip_trailing_punct(rest)
    if "方面" not in rest or not _CATEGORY_RE.search(rest):
        return None
    return label, _clean_title(rest)


def _join_cells(parts: list[str]) -> str:
    """Cells a stray space split apart, joined again (no space between two Chinese characters)."""
    out = parts[0]
    for part in parts[1:]:
        cjk = out and part and "\u4e00" <= out[-1] <= "\u9fff" and "\u4e00" <= part[0] <= "\u9fff"
        out += part if cjk else " " + part
    return out


def _align_cells(cells: list[str], ncols: int, cols: dict[str, int | None]) -> list[str]:
    """A flattened row's cells fitted to the header: text split apart by a stray space goes back
    into the free-text column (measures, else the problem); with cells missing, the ones up to
    the problem column are read from the left and the others from the right."""
    if len(cells) == ncols:
        return cells
    if len(cells) > ncols:
        p = cols["prob"]
        assert p is not None
        extra = len(cells) - ncols
        free = cols["meas"] if cols["meas"] is not None else p
        # Unless the problem cell only reads as a shortcoming with the next pieces joined to it
        # ("公务接待 管理不规范"), the stray space was in the (longer) measures text.
        joined = "".join(cells[p : p + extra + 1])
        if free != p and not _NEG_RE.search(cells[p]) and _NEG_RE.search(joined):
            free = p
        return [
            *cells[:free],
            _join_cells(cells[free : free + extra + 1]),
            *cells[free + extra + 1 :],
        ]
    p = cols["prob"]
    assert p is not None
    missing = ncols - len(cells)
    return [*cells[: p + 1], *([""] * missing), *cells[p + 1 :]]


class _TableBuilder:
    """Rows and category rows of one table, in order."""

    def __init__(self, header: list[str], cols: dict[str, int | None]):
        self.header = header
        self.cols = cols
        self.rows: list[ParsedProblem] = []
        self.categories: list[ParsedProblem] = []

    def category(self, label: str | None, title: str, line: int) -> None:
        if not self.categories or self.categories[-1].title != title:
            self.categories.append(
                ParsedProblem(label=label, title=title, kind="category", line=line)
            )

    def row(self, cells: list[str], line: int) -> None:
        cols = self.cols
        cells = cells + [""] * (len(self.header) - len(cells))

        def cell(key: str) -> str:
            j = cols[key]
            return cells[j].strip() if j is not None and j < len(cells) else ""

        title_raw = cell("prob")
        if not title_raw:
            return
        status_text = cell("stat") or None
        status = fold_status(status_text)
        label = cell("serial") or None
        if label and not _T_SERIAL_CELL.fullmatch(label):
            label = None
        measures_text = cell("meas")
        task_type = fold_task_type(cell("typ")) or fold_task_type(status_text)
        problem = ParsedProblem(
            label=label,
            title=_unwrap_title(title_raw),
            status=status,
            status_text=status_text if status else None,
            task_type=task_type,
            detail=measures_text,
            measures=_extract_measures(measures_text)
            or [
                strip_trailing_punct(x)
                for x in re.split(r"[;；]", measures_text)
                if strip_trailing_punct(x)
            ],
            line=line,
        )
        group = cell("cat")
        if cols["cat"] is not None and group:
            self.category(None, _clean_title(group), line)
        if self.categories:
            self.categories[-1].children.append(problem)
        else:
            self.rows.append(problem)

    def table(self, line: int) -> _Table | None:
        if not self.rows and not any(c.children for c in self.categories):
            return None
        categories = [c for c in self.categories if c.children]
        return _Table(line=line, rows=self.rows, categories=categories or None)


def _read_table(lines: list[_Line], i: int, name: str) -> tuple[_Table, int] | None:
    """A table whose header row is lines[i]; returns it and the index after its last row."""
    header = _table_cells(lines[i].raw)
    if not header or len(header) < 2:
        return None
    cols = _header_columns(header)
    if cols is None:
        return None
    sep_pipe = "\t" not in lines[i].raw or "|" in lines[i].raw
    builder = _TableBuilder(header, cols)

    def is_row(x: _Line) -> bool:
        return _table_cells(x.raw) is not None and (("|" in x.raw) == sep_pipe or "\t" in x.raw)

    k = i + 1
    while k < len(lines):
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        cells = _table_cells(ln.raw)
        if cells is None or not is_row(ln):
            if not _category_between_rows(lines, k, is_row, builder):
                break
            k += 1
            continue
        k += 1
        if all(re.fullmatch(r"[-:=+\s]*", c) for c in cells):
            continue
        filled = [c for c in cells if c.strip()]
        if len(filled) == 1 and cols["cat"] is None:
            cat = _category_row(filled[0].strip())
            if cat is not None:  # "| (一)党的建设方面 | | |": a row spanning the table
                builder.category(cat[0], cat[1], ln.no)
                continue
        builder.row(cells, ln.no)
    table = builder.table(lines[i].no)
    return (table, k) if table else None


def _maybe_flat_header(t: str) -> bool:
    """Cheap test: could this line start a table flattened to text (see _read_flat_table)?"""
    if len(t) > 80:
        return False
    parts = t.split(" ", 2)
    return _is_header_cell(parts[0]) or (
        len(parts) > 1 and len(parts[0]) <= 3 and _is_header_cell(parts[0] + parts[1])
    )


def _header_words(words: list[str]) -> list[str]:
    """Header cells with a stray space inside a name joined again ("序 号", "完成 情况")."""
    out: list[str] = []
    k = 0
    while k < len(words):
        w = words[k]
        if not _is_header_cell(w):
            for j in range(k + 1, min(k + 3, len(words))):
                joined = "".join(words[k : j + 1])
                if _is_header_cell(joined):
                    w, k = joined, j
                    break
        out.append(w)
        k += 1
    return out


def _read_flat_table(lines: list[_Line], i: int) -> tuple[_Table, int] | None:
    """A table copied out of a web page as plain text, its header at lines[i]. Either each row
    on one line with cells split by spaces ("序号 问题 整改措施 责任单位 完成情况", then "1 … 已完成"),
    or one cell per line (the header cells, then for each row its serial number and cells)."""
    t = lines[i].text
    if " " in t:
        header = _header_words(t.split())
        if len(header) < 3 or not all(_is_header_cell(c) for c in header):
            return None
        cols = _header_columns(header)
        if cols is None:
            return None
        return _read_space_rows(lines, i + 1, header, cols, lines[i].no)
    header = []
    k = i
    while k < len(lines) and len(header) < 12:
        x = lines[k].text
        if x:
            if " " in x and len(x) <= 10:
                x = x.replace(" ", "")
            if not _is_header_cell(x):
                break
            header.append(x)
        k += 1
    if len(header) < 3:
        return None
    cols = _header_columns(header)
    if cols is None or cols["serial"] is None:
        return None
    return _read_cell_lines(lines, k, header, cols, lines[i].no)


def _category_between_rows(lines, k: int, is_row, builder) -> bool:
    """Line ``k`` is a category row (一、…方面) inside a table, taken only when table rows
    follow it; records it with ``builder`` and says whether it did."""
    ln = lines[k]
    cat = _category_row(ln.text)
    if cat is None or not _next_is(lines, k + 1, is_row):
        return False
    builder.category(cat[0], cat[1], ln.no)
    return True


def _next_is(lines: list[_Line], k: int, test: Callable[[_Line], bool]) -> bool:
    """Is the next non-empty line from lines[k] on one that passes `test`? (A category row only
    belongs to a table when table rows follow it.)"""
    while k < len(lines) and not lines[k].text:
        k += 1
    return k < len(lines) and bool(test(lines[k]))


def _serial_cell(text: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}[.、]?", text))


def _read_space_rows(
    lines: list[_Line], k: int, header: list[str], cols: dict[str, int | None], line: int
) -> tuple[_Table, int] | None:
    builder = _TableBuilder(header, cols)
    ncols = len(header)

    def is_row(x: _Line) -> bool:
        cells = x.raw.split()
        if cols["serial"] is not None:
            return len(cells) >= min(3, ncols) and _serial_cell(cells[0])
        return len(cells) >= max(2, ncols - 1) and _parse_heading(x.text) is None

    while k < len(lines):
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        cells = ln.raw.split()
        if not is_row(ln):
            if not _category_between_rows(lines, k, is_row, builder):
                break
            k += 1
            continue
        builder.row(_align_cells(cells, ncols, cols), ln.no)
        k += 1
    table = builder.table(line)
    return (table, k) if table else None


def _read_cell_lines(
    lines: list[_Line], k: int, header: list[str], cols: dict[str, int | None], line: int
) -> tuple[_Table, int] | None:
    builder = _TableBuilder(header, cols)
    ncols = len(header)
    serial = cols["serial"]
    assert serial is not None
    n = len(lines)
    while k < n:
        ln = lines[k]
        if not ln.text:
            k += 1
            continue
        if not _serial_cell(ln.text):
            cat = _category_row(ln.text)
            if cat is None or not _next_is(lines, k + 1, lambda x: _serial_cell(x.text)):
                break
            builder.category(cat[0], cat[1], ln.no)
            k += 1
            continue
        row_line = ln.no
        cells = [ln.text]
        k += 1
        stop = k
        while stop < n:
            x = lines[stop].text
            if x and (_serial_cell(x) or _category_row(x) or _parse_heading(x)):
                break
            stop += 1
        texts = [x.text for x in lines[k:stop] if x.text]
        last_row = (
            stop >= n or not _serial_cell(lines[stop].text) and not _category_row(lines[stop].text)
        )
        if last_row and len(texts) > ncols - 1:
            # The last row ends where its cells do: what follows is the notice's own text.
            taken = 0
            while k < stop and taken < ncols - 1:
                if lines[k].text:
                    taken += 1
                k += 1
            texts = texts[: ncols - 1]
        else:
            k = stop
        cells.extend(texts)
        # The serial number is column `serial`; cells before it (rare) come after it here.
        cells = [*cells[1 : serial + 1], cells[0], *cells[serial + 1 :]]
        builder.row(_align_cells(cells, ncols, cols), row_line)
        if last_row:
            break
    table = builder.table(line)
    return (table, k) if table else None
