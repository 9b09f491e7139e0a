"""Notices as offices post them: a Word attachment, a PDF with a text layer, or a scan.

The story: the big-data bureau's notice (seed 002) reaches the office as a .docx (its progress
table kept as a Word table) and as a PDF printed from it. Both import to the same problems,
statuses and declared totals as the .txt; a scanned PDF is refused with a message saying so.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from tracker.importer.loader import import_bytes
from tracker.importer.parser import NoticeParseError, decode_notice, parse_notice
from tracker.models import Inspection, SourceNotice, Task

SEED = Path(__file__).resolve().parent.parent / "seeds" / "002_e510119d14028505.txt"


def as_docx(text: str, *, table_rows: list[list[str]] | None = None) -> bytes:
    """A Word document of ``text``, one paragraph a line (and a table after it, if given)."""
    from docx import Document

    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for r, row in enumerate(table_rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def as_pdf(lines: list[str]) -> bytes:
    """A PDF whose pages carry ``lines`` as text (a CID font with a ToUnicode map, as Word's
    "save as PDF" writes Chinese); an empty list gives a page with no text, like a scan."""
    body = b"BT /F1 12 Tf 40 800 Td 14 TL\n"
    for line in lines:
        body += b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T*\n"
    body += b"ET"
    if not lines:
        body = b"q 100 0 0 100 0 0 cm Q"  # a drawing, no text: what a scanned page amounts to
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /U def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
        b"1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    content, tounicode = zlib.compress(body), zlib.compress(cmap)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(tounicode)
        + tounicode
        + b"\nendstream",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def reading(text: str) -> tuple:
    """What the parser reads from a notice: organization, leaf problems with statuses, totals."""
    parsed = parse_notice(text, name="x")
    section = parsed.inspections[0]

    def leaves(problems):
        for p in problems:
            if p.children:
                yield from leaves(p.children)
            elif p.kind != "category":
                yield (p.title, p.status)

    return (section.organization, sorted(leaves(section.problems)), dict(section.declared))


def test_a_word_notice_reads_like_its_text():
    text = SEED.read_text(encoding="utf-8")
    assert len(reading(text)[1]) > 10  # the seed's leaf problems, with their statuses
    assert reading(decode_notice(as_docx(text), name="通报.docx")) == reading(text)


def test_a_word_table_becomes_tab_separated_rows_the_parser_reads_as_a_table():
    data = as_docx("标题", table_rows=[["序号", "问题", "整改情况"], ["1", "问题一", "已完成"]])
    text = decode_notice(data, name="表格.docx")
    assert "序号\t问题\t整改情况" in text and "1\t问题一\t已完成" in text


def test_a_pdf_with_a_text_layer_reads_like_its_text():
    text = SEED.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    assert reading(decode_notice(as_pdf(lines), name="通报.pdf")) == reading("\n".join(lines))


@pytest.mark.django_db
def test_a_word_notice_imports_the_same_tasks_as_the_text(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    result = import_bytes(as_docx(text), file_name="大数据局通报.docx")
    assert result.outcome == "created"
    notice = SourceNotice.objects.get(pk=result.notice_id)
    assert notice.file_name == "大数据局通报.docx"
    tasks = Task.objects.filter(inspection__reports__notice=notice)
    assert tasks.count() == result.tasks_created == len(reading(text)[1])
    assert Inspection.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (as_pdf([]), "没有文字层"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF"),
        (b"PK\x03\x04" + bytes(300), "ZIP"),
    ],
    ids=["scanned-pdf", "broken-pdf", "zip-not-docx"],
)
def test_documents_that_cannot_be_read_say_why_naming_the_file(data, message):
    with pytest.raises(NoticeParseError, match=message) as caught:
        decode_notice(data, name="来稿.pdf")
    assert str(caught.value).startswith("来稿.pdf:")


@pytest.mark.django_db
def test_the_import_command_takes_word_and_pdf_files_in_a_folder(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    text = SEED.read_text(encoding="utf-8")
    (tmp_path / "a.docx").write_bytes(as_docx(text))
    (tmp_path / "notes.md").write_text("not a notice", encoding="utf-8")
    out = StringIO()
    call_command("import_notices", str(tmp_path), stdout=out)
    assert "a.docx" in out.getvalue() and "notes.md" not in out.getvalue()
    assert SourceNotice.objects.get().file_name.endswith("a.docx")
