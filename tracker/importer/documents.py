"""Notices published as Word (.docx) or PDF: their text, for the same parser as a .txt.

Offices post notices as .docx attachments or as PDF; both are read here into plain text (one
paragraph a line, a table row a line with its cells separated by tabs, which the parser reads as
a table), with no ORM and no knowledge of notices. A PDF without a text layer (a scan) and a
file that only looks like one of these get a clear message naming the file.
"""

from __future__ import annotations

import io
import zipfile

from django.utils.translation import gettext as _

# What a .docx may unpack to at most, and at what compression ratio (a notice is a few hundred
# KB of XML; more is not a notice, or a zip bomb).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200
PDF_MAX_PAGES = 200


class DocumentError(Exception):
    """The file cannot be read as the document it looks like; the message says why."""


def is_docx(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF")


def docx_text(data: bytes) -> str:
    """The text of a Word document in reading order: paragraphs and table rows."""
    from docx import Document
    from docx.table import Table

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            unpacked = sum(m.file_size for m in members)
            packed = sum(m.compress_size for m in members) or 1
    except zipfile.BadZipFile as exc:
        raise DocumentError(_("ZIP 压缩包已损坏,无法读取")) from exc
    if "word/document.xml" not in names:
        raise DocumentError(_("这是 ZIP 压缩包,不是 Word(.docx)文档"))
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_RATIO:
        raise DocumentError(
            _("Word 文档解压后过大(%(mb)s MB),不像一份通报") % {"mb": unpacked >> 20}
        )
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise DocumentError(_("无法读取 Word 文档:文件已损坏或不是 .docx 格式")) from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:  # a merged cell repeats across its span
                        cells.append(text)
                if any(cells):
                    lines.append("\t".join(cells))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF, page by page; a scan (no text) is refused with a message."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(_("PDF 文档已加密,无法读取;请提供未加密的文件"))
        if len(reader.pages) > PDF_MAX_PAGES:
            raise DocumentError(
                _("PDF 文档有 %(n)s 页,超过通报的上限 %(max)s 页")
                % {"n": len(reader.pages), "max": PDF_MAX_PAGES}
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(_("无法读取 PDF 文档:文件已损坏或不是 PDF")) from exc
    text = "\n".join(pages)
    if not "".join(text.split()):
        raise DocumentError(
            _("PDF 文档没有文字层(可能是扫描件),无法识别;请提供文字版 PDF、Word 或 .txt 文件")
        )
    return text
