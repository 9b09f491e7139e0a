"""Plain-text rendering of a document model: one line per block, as the notices are published.

The output is what ``tracker.importer.parser.parse_notice`` reads: the title on the first line,
numbered headings and items at the start of their lines, a problem's status in brackets after
its title, the signature (issuer, then date) on the last two lines.
"""

from __future__ import annotations

from tracker.documents.model import Document, Heading, ListItem, Paragraph, Signature


def render_text(doc: Document) -> str:
    lines = [doc.title]
    if doc.number:
        lines.append(doc.number)
    if doc.addressee:
        lines.append(doc.addressee)
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines.append(f"{block.label}{block.text}")
        elif isinstance(block, ListItem):
            status = f"（{block.status}）" if block.status else ""
            lines.append(f"{block.label}{block.text}{status}")
        elif isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Signature):
            lines.append(block.issuer)
            lines.append(block.date)
    return "\n".join(line for line in lines if line) + "\n"
