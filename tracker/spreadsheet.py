"""Spreadsheets in and out, safely: plain functions, no ORM.

Out: a text cell is always text. In XLSX a ``str`` that openpyxl would turn into a formula
(``=…``) or an error value (``#N/A``) is written as a string cell, and text that starts with a
character a spreadsheet may read as a formula is also given Excel's quote prefix (so editing the
cell in Excel keeps it text); the text itself is unchanged, so it reads back as written. In CSV
such text gets a leading single quote, as OWASP advises against CSV injection; ``csv_unguard``
takes exactly that quote off again for a CSV read back.

In: ``check_xlsx`` refuses an XLSX by what it would unpack to, before openpyxl parses anything:
the zip's directory (number of members, declared uncompressed sizes in all and per member,
compression ratio), then every XML member streamed through expat in small chunks (a DTD is
refused, so no entity tricks), counting each sheet's rows and columns (also those its
``<dimension>`` claims, which openpyxl pads to) and each cell's characters (inline strings,
values and shared strings). Python's zipfile never inflates a member past its declared size,
so the declared sizes bound what openpyxl may read afterwards; memory stays at a few chunks.
The bounds come from ``settings.RECTIFY`` (``Limits.from_settings``).
"""

from __future__ import annotations

import datetime
import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from xml.parsers import expat

from django.utils.functional import Promise
from django.utils.translation import gettext as _

# A cell starting with one of these may be read as a formula by a spreadsheet (OWASP, "CSV
# Injection"); tab and carriage return because some spreadsheets skip them before looking.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_GUARD = "'"

CHUNK_BYTES = 64 * 1024
# Past this many members a zip's directory alone costs real memory; an XLSX has a dozen or two.
MAX_MEMBERS = 1000
# Deflate cannot do better than ~1,030:1; XML of a real sheet compresses 5-30:1, a sheet of
# repeated rows somewhat more. Judged only for members above RATIO_MIN_BYTES.
MAX_RATIO = 200
RATIO_MIN_BYTES = 1024 * 1024
MB = 1024 * 1024


# --- out -------------------------------------------------------------------------------------


def is_formula_like(value: object) -> bool:
    """Text a spreadsheet might take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def plain_text(value: str) -> bool:
    """Text openpyxl writes as a plain string cell by itself: not formula-like, not an error
    code (#N/A …); anything else goes through ``text_cell``."""
    from openpyxl.cell.cell import ERROR_CODES

    return not is_formula_like(value) and value not in ERROR_CODES


def _needs_guard(text: str) -> bool:
    # Text that already starts with quotes before a trigger is guarded too, so that taking one
    # quote off on the way back in gives exactly the text that went out.
    return text.lstrip(CSV_GUARD).startswith(FORMULA_TRIGGERS)


def csv_cell(value: object) -> object:
    """A value for a CSV cell: formula-like text gets a leading single quote, others unchanged."""
    return CSV_GUARD + value if isinstance(value, str) and _needs_guard(value) else value


def csv_unguard(text: str) -> str:
    """A CSV cell read back: takes off exactly the quote ``csv_cell`` added, nothing else."""
    if text.startswith(CSV_GUARD) and _needs_guard(text[1:]):
        return text[1:]
    return text


def text_cell(cell) -> None:
    """Make an openpyxl cell holding a ``str`` a string cell whatever the text starts with
    (openpyxl makes ``=…`` a formula and ``#N/A`` an error), quote-prefixed if formula-like."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True


def utf8_sheets() -> None:
    """Have openpyxl write its sheets' XML in UTF-8 (idempotent; call before building a
    workbook).

    With lxml installed (python-docx needs it) openpyxl writes each sheet through
    ``lxml.etree.xmlfile`` without an encoding, i.e. in ASCII: every Chinese character becomes a
    character reference (``&#38382;``, 8 bytes instead of UTF-8's 3). A ledger of Chinese text
    then unpacks to twice its size, so a 100,000-row export ran into XLSX_MAX_UNCOMPRESSED_MB
    on its way back in, and reading and writing it took twice as long. UTF-8 is XML's default
    encoding and what Excel itself writes; the cells are the same.
    """
    from openpyxl import LXML
    from openpyxl.worksheet import _writer

    if LXML and not isinstance(_writer.xmlfile, functools.partial):
        _writer.xmlfile = functools.partial(_writer.xmlfile, encoding="utf-8")


def table_xlsx(
    title: str,
    headers: list,
    rows: Iterable[list],
    *,
    lead: list | None = None,
    formats: dict[int, str] | None = None,
) -> bytes:
    """A one-sheet workbook: an optional first line (``lead``: what the table is of), a bold
    header row, then ``rows``; text cells are always text (never a formula), dates are dates,
    and ``formats`` gives a number format by column index (0-based)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    utf8_sheets()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(title))
    formats = formats or {}

    def cell(value, column: int | None = None, bold: bool = False):
        c = WriteOnlyCell(sheet, value=str(value) if isinstance(value, Promise) else value)
        text_cell(c)
        if bold:
            c.font = Font(bold=True)
        if isinstance(value, datetime.date):
            c.number_format = "yyyy-mm-dd"
        if column in formats:
            c.number_format = formats[column]
        return c

    if lead:
        sheet.append([cell(value) for value in lead])
    sheet.append([cell(value, bold=True) for value in headers])
    for row in rows:
        sheet.append([cell(value, column) for column, value in enumerate(row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- in --------------------------------------------------------------------------------------


class SpreadsheetRefused(Exception):
    """An upload refused before it was parsed; the message names the file and the limit."""


class NotXlsx(SpreadsheetRefused):
    """The upload is not a zip (so not an XLSX) at all."""


@dataclass(frozen=True)
class Limits:
    """What an uploaded XLSX may unpack to."""

    uncompressed_bytes: int = 50 * MB  # all members together, and each member
    rows: int = 200_000  # per sheet
    columns: int = 50
    cell_chars: int = 32767  # Excel's own limit per cell

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        conf = getattr(settings, "RECTIFY", {})
        default = cls()
        return cls(
            uncompressed_bytes=conf.get("XLSX_MAX_UNCOMPRESSED_BYTES", default.uncompressed_bytes),
            rows=conf.get("XLSX_MAX_ROWS", default.rows),
            columns=conf.get("XLSX_MAX_COLUMNS", default.columns),
            cell_chars=conf.get("XLSX_MAX_CELL_CHARS", default.cell_chars),
        )


def _mb(size: int) -> str:
    return f"{size / MB:g}"


def check_xlsx(data: bytes, name: str, limits: Limits | None = None) -> None:
    """Raise ``SpreadsheetRefused`` if the XLSX ``data`` (uploaded as ``name``) is past
    ``limits``; ``NotXlsx`` if it is not a zip. Reads with bounded memory, writes nothing."""
    limits = limits or Limits.from_settings()
    _check_directory_size(data, name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise NotXlsx(_("文件“%s”不是有效的 Excel(.xlsx)文件。") % name) from exc
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        biggest = max((m.file_size for m in members), default=0)
        if total > limits.uncompressed_bytes or biggest > limits.uncompressed_bytes:
            raise SpreadsheetRefused(
                _("文件“%(name)s”解压后超过 %(limit)s MB 的上限,未导入。")
                % {"name": name, "limit": _mb(limits.uncompressed_bytes)}
            )
        for member in members:
            if member.file_size > RATIO_MIN_BYTES and member.file_size > MAX_RATIO * max(
                member.compress_size, 1
            ):
                raise SpreadsheetRefused(
                    _("文件“%(name)s”的压缩比异常(超过 %(limit)s 倍),未导入。")
                    % {"name": name, "limit": MAX_RATIO}
                )
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels", ".vml")):
                _scan_member(archive, member, name, limits)


def _check_directory_size(data: bytes, name: str) -> None:
    """Refuse a zip announcing more than MAX_MEMBERS entries before zipfile reads its directory
    (each entry becomes an object; 20 MB of tiny entries would be hundreds of MB)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) < end + 22:
        return  # not a zip: zipfile says so next
    (entries,) = struct.unpack("<H", data[end + 10 : end + 12])
    if entries > MAX_MEMBERS:  # 0xFFFF (zip64) included: no ledger needs zip64
        raise SpreadsheetRefused(
            _("文件“%(name)s”包含超过 %(limit)s 个部件,不是正常的 Excel 文件,未导入。")
            % {"name": name, "limit": MAX_MEMBERS}
        )


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


@functools.lru_cache(maxsize=256)
def _local(tag: str) -> str:
    """An element's local name ("{namespace} row" → "row"); a sheet repeats a handful of tags."""
    return tag.rpartition(" ")[2]


TOO_MANY = 10**9  # what an absurd row or column number counts as (never computed in full)


@functools.lru_cache(maxsize=4096)
def _column_of(letters: str) -> int:
    if len(letters) > 3:  # Excel's last column is XFD
        return TOO_MANY
    return _column_number(letters) if letters.isascii() and letters.isalpha() else 0


def _cell_column(ref: str) -> int:
    """The column of a cell reference like AB12 (0 if it is not one): per cell, so cached."""
    return _column_of(ref.rstrip("0123456789").replace("$", ""))


class _Scan:
    """The counts of one XML member, fed to expat chunk by chunk."""

    def __init__(self, member: str, name: str, limits: Limits):
        self.member, self.name, self.limits = member, name, limits
        self.rows = 0  # rows seen, or the highest row number, whichever is more
        self.row = 0  # the current row's number
        self.column = 0  # the current cell's column
        self.item_depth = 0  # inside <si> (shared string) or <is> (inline string)
        self.text_depth = 0  # inside <t> or <v>
        self.chars = 0  # characters of the current cell / string item

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "c":
            ref = attrs.get("r")
            column = _cell_column(ref) if ref else 0
            self.column = column or self.column + 1
            if self.column > self.limits.columns:
                self._columns(self.column)
            self.chars = 0
        elif tag == "row":
            number = attrs.get("r", "")
            if number.isdigit():
                self.row = int(number) if len(number) < 10 else TOO_MANY
            else:
                self.row += 1
            self.rows = max(self.rows + 1, self.row)
            self.column = 0
            self._rows(self.rows)
        elif tag in ("si", "is"):
            if not self.item_depth:
                self.chars = 0
            self.item_depth += 1
        elif tag in ("t", "v"):
            if not self.item_depth and not self.text_depth:
                self.chars = 0
            self.text_depth += 1
        elif tag == "dimension":
            # openpyxl's read-only sheets pad every row to, and yield rows up to, this range.
            last = attrs.get("ref", "").rpartition(":")[2].replace("$", "").strip()
            digits = last[len(last.rstrip("0123456789")) :]
            self._columns(_column_of(last[: len(last) - len(digits)]))
            self._rows(int(digits) if 0 < len(digits) < 10 else TOO_MANY if digits else 0)

    def end(self, tag: str) -> None:
        tag = _local(tag)
        if tag in ("si", "is"):
            self.item_depth = max(self.item_depth - 1, 0)
        elif tag in ("t", "v"):
            self.text_depth = max(self.text_depth - 1, 0)

    def text(self, data: str) -> None:
        if self.text_depth:
            self.chars += len(data)
            if self.chars > self.limits.cell_chars:
                raise SpreadsheetRefused(
                    _("文件“%(name)s”中有单元格超过 %(limit)s 个字符的上限,未导入。")
                    % {"name": self.name, "limit": self.limits.cell_chars}
                )

    def doctype(self, *args) -> None:
        raise SpreadsheetRefused(
            _("文件“%s”包含不允许的 XML 声明(DTD),不是正常的 Excel 文件,未导入。") % self.name
        )

    def _rows(self, rows: int) -> None:
        if rows > self.limits.rows:
            raise SpreadsheetRefused(
                _("文件“%(name)s”超过 %(limit)s 行的上限,未导入。")
                % {"name": self.name, "limit": self.limits.rows}
            )

    def _columns(self, columns: int) -> None:
        if columns > self.limits.columns:
            raise SpreadsheetRefused(
                _("文件“%(name)s”超过 %(limit)s 列的上限,未导入。")
                % {"name": self.name, "limit": self.limits.columns}
            )


def _scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: Limits):
    scan = _Scan(member.filename, name, limits)
    parser = expat.ParserCreate(namespace_separator=" ")
    # Character data comes in pieces of at most the buffer size: a huge string is counted, never
    # held. The counters raise from inside the handlers; expat passes the exception on.
    parser.buffer_text = True
    parser.buffer_size = CHUNK_BYTES
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = scan.doctype
    parser.EntityDeclHandler = scan.doctype
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise NotXlsx(_("文件“%s”不是有效的 Excel(.xlsx)文件。") % name) from exc
