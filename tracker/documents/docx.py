"""DOCX rendering of a document model in the layout of Chinese official documents (GB/T 9704).

- A4, margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right;
- title in 方正小标宋简体 二号 (22 pt), centred; body in 仿宋_GB2312 三号 (16 pt), first line
  indented two characters; headings 一、 in 黑体, (一) in 楷体_GB2312, 1. and (1) in 仿宋;
- fixed line spacing of 28.95 pt and a line grid of the same pitch: 22 lines in the 225 mm text
  area (the standard's 22 lines × 28 characters);
- page numbers "— 1 —" in 宋体 四号 (14 pt) at the foot: odd pages on the right, even pages on
  the left, one character in from the edge of the text area.

Chinese fonts are named in ``w:rFonts`` ``w:eastAsia`` (Word and WPS pick the East Asian font
from there; ``ascii``/``hAnsi`` name the same font so digits and Latin letters match). Machines
without these fonts substitute them; the names are what offices expect to find.
"""

from __future__ import annotations

import io

from docx import Document as new_docx
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tracker.documents.model import Document, Heading, ListItem, Paragraph, Signature

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"

TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
LINE_PITCH = Pt(28.95)  # 225 mm / 22 lines
INDENT = Pt(32)  # two characters of 三号

MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
EM_DASH = "\u2014"


def set_font(target, name: str, size=None, *, bold: bool | None = None) -> None:
    """Set a run's or a style's font, the East Asian slot included (``w:rFonts w:eastAsia``)."""
    font = target.font
    font.name = name
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)


def _fixed_spacing(paragraph_format, pitch=LINE_PITCH) -> None:
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = pitch
    paragraph_format.space_before = Pt(0)
    paragraph_format.space_after = Pt(0)


def _setup(docx, title: str) -> None:
    section = docx.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = MARGINS["top"]
    section.bottom_margin = MARGINS["bottom"]
    section.left_margin = MARGINS["left"]
    section.right_margin = MARGINS["right"]
    section.header_distance = Mm(15)
    # The page number's line sits about 7 mm under the text area.
    section.footer_distance = Mm(22)
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(int(LINE_PITCH.twips)))

    normal = docx.styles["Normal"]
    set_font(normal, BODY_FONT, BODY_SIZE)
    _fixed_spacing(normal.paragraph_format)
    normal.paragraph_format.widow_control = False
    docx.core_properties.title = title
    docx.core_properties.language = "zh-CN"

    docx.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, odd=True)
    _page_number(section.even_page_footer, odd=False)


def _add_field(paragraph, instruction: str, placeholder: str) -> None:
    """A complex field (begin, instruction, separate, cached result, end) in its own runs."""

    def char(kind: str):
        run = paragraph.add_run()
        set_font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        return run

    char("begin")
    run = paragraph.add_run()
    set_font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    char("separate")
    result = paragraph.add_run(placeholder)
    set_font(result, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    char("end")


def _page_number(footer, *, odd: bool) -> None:
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(0)
    fmt.space_before = fmt.space_after = Pt(0)
    if odd:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        fmt.right_indent = PAGE_NUMBER_SIZE
    else:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        fmt.left_indent = PAGE_NUMBER_SIZE
    set_font(paragraph.add_run(f"{EM_DASH} "), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    _add_field(paragraph, "PAGE", "1")
    set_font(paragraph.add_run(f" {EM_DASH}"), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)


def _paragraph(docx, text: str, font: str = BODY_FONT, *, indent: bool = True, align=None):
    paragraph = docx.add_paragraph()
    fmt = paragraph.paragraph_format
    _fixed_spacing(fmt)
    fmt.first_line_indent = INDENT if indent else Pt(0)
    if align is not None:
        paragraph.alignment = align
    else:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if text:
        set_font(paragraph.add_run(text), font, BODY_SIZE)
    return paragraph


def render_docx(doc: Document) -> bytes:
    """The document as a .docx file's bytes."""
    docx = new_docx()
    _setup(docx, doc.title)
    if doc.number:  # 发文字号: centred, one blank line above the title
        _paragraph(docx, doc.number, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        _paragraph(docx, "", indent=False)
    # The default template's first paragraph, if any, is reused for the title.
    title = docx.paragraphs[0] if docx.paragraphs and not doc.number else docx.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.first_line_indent = Pt(0)
    # Two-line titles keep a 二号 line each (the body's grid is for 三号).
    _fixed_spacing(title.paragraph_format, Pt(36))
    set_font(title.add_run(doc.title), TITLE_FONT, TITLE_SIZE)
    _paragraph(docx, "", indent=False)  # one blank line under the title
    if doc.addressee:
        _paragraph(docx, doc.addressee, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    for block in doc.blocks:
        if isinstance(block, Heading):
            font = HEADING1_FONT if block.level <= 1 else HEADING2_FONT
            p = _paragraph(docx, f"{block.label}{block.text}", font)
            p.paragraph_format.keep_with_next = True
        elif isinstance(block, ListItem):
            font = HEADING2_FONT if block.depth == 0 else BODY_FONT
            status = f"（{block.status}）" if block.status else ""
            p = _paragraph(docx, f"{block.label}{block.text}{status}", font)
            p.paragraph_format.keep_with_next = True
        elif isinstance(block, Paragraph):
            _paragraph(docx, block.text, indent=block.indent)
        elif isinstance(block, Signature):
            _paragraph(docx, "", indent=False)
            for line in (block.issuer, block.date):
                p = _paragraph(docx, line, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
                # 成文日期右空四字; the issuer is set right-aligned over it.
                p.paragraph_format.right_indent = INDENT * 2
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()
