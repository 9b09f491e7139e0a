"""The document model: what a document says, in reading order, without any layout.

Renderers (``tracker.documents.docx``, ``tracker.documents.text``) turn a ``Document`` into a
file; builders (``notice``, ``report``) make one from the ORM. Nothing here touches either.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    """A numbered heading: level 1 (一、) is set in 黑体, level 2 ((一)) in 楷体."""

    label: str
    text: str
    level: int = 1


@dataclass
class Paragraph:
    """Body text, first line indented two characters (unless ``indent`` is False)."""

    text: str
    indent: bool = True


@dataclass
class ListItem:
    """A numbered item of the problem tree: its label as printed (（一）, 1., （1）, ①), its
    text and, for problems, the status printed after it in brackets (已完成 …). ``depth``
    counts from 0 at the tree's top; ``category`` marks a 方面 (never a task)."""

    label: str
    text: str
    depth: int = 0
    status: str | None = None
    category: bool = False


@dataclass
class Signature:
    """The issuer and the date under the body, right-aligned."""

    issuer: str
    date: str


Block = Heading | Paragraph | ListItem | Signature


@dataclass
class Document:
    title: str
    # The addressee line (主送机关) under the title, e.g. "省委第七巡视组:"; empty for notices.
    addressee: str = ""
    # The number line (发文字号), e.g. "〔2026〕7号": centred above the title; empty for notices.
    number: str = ""
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> Block:
        self.blocks.append(block)
        return block
