"""Decoding: bytes of a notice file (UTF-8, GB18030, UTF-16, Word, PDF) to text, and the error a
notice that cannot be read raises."""

from __future__ import annotations

import os

from django.conf import settings

from ..text import fold_width

MAX_NOTICE_BYTES = 5 * 1024 * 1024


def _(message: str) -> str:
    """gettext for the messages users read (errors, warnings): Chinese source text, English in
    the catalogue. The parser stays usable without Django settings (the benchmarks, a REPL):
    then the source text is returned as it is."""
    if not settings.configured:
        return message
    from django.utils.translation import gettext

    return gettext(message)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (makemessages reads this name); translated by ``_``
    where it is used."""
    return message


class NoticeParseError(ValueError):
    """A notice that cannot be read; str() reads "name,第 N 行:message" (translated), naming
    the file and, where that helps, the line."""

    def __init__(self, message: str, *, name: str | None = None, line: int | None = None):
        self.message = message
        self.name = name
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        values = {"name": self.name, "line": self.line, "message": self.message}
        if self.name and self.line:
            return _("%(name)s,第 %(line)s 行:%(message)s") % values
        if self.name:
            return _("%(name)s:%(message)s") % values
        if self.line:
            return _("第 %(line)s 行:%(message)s") % values
        return self.message


def _too_large(size: int, name: str) -> NoticeParseError:
    return NoticeParseError(
        _("文件有 %(size)s 字节,超过通报的上限 %(limit)s MB")
        % {"size": f"{size:,}", "limit": MAX_NOTICE_BYTES // (1024 * 1024)},
        name=name,
    )


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

_BINARY_MAGIC = (
    (b"%PDF", gettext_noop("PDF 文档")),
    (b"PK\x03\x04", gettext_noop("ZIP 压缩包(可能是 .docx 文档)")),
    (b"\xd0\xcf\x11\xe0", gettext_noop("旧版 Word/Excel 文档")),
    (b"\x89PNG", gettext_noop("PNG 图片")),
    (b"\xff\xd8\xff", gettext_noop("JPEG 图片")),
    (b"GIF8", gettext_noop("GIF 图片")),
    (b"\x1f\x8b", gettext_noop("gzip 压缩包")),
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode_notice(data: bytes, *, name: str) -> str:
    """Decode a notice file: UTF-8 (with or without BOM), else GB18030 (covers GBK/GB2312); a
    Word (.docx) or PDF notice is read for its text (``tracker.importer.documents``).

    Raises NoticeParseError for oversize, empty, binary, undecodable and truncated input.
    """
    size = len(data)
    if size > MAX_NOTICE_BYTES:
        raise _too_large(size, name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and size % 2 == 0:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NoticeParseError(
                _("UTF-16 文本在第 %(pos)s 字节处有无法解码的字节") % {"pos": exc.start},
                name=name,
            ) from None
        return _check_decoded(text, name)
    if not data.strip():
        raise NoticeParseError(_("文件为空"), name=name)
    from tracker.importer import documents  # Word and PDF notices: their text, same parser

    for looks_like, read in (
        (documents.is_docx, documents.docx_text),
        (documents.is_pdf, documents.pdf_text),
    ):
        if looks_like(data):
            try:
                return _check_decoded(read(data), name)
            except documents.DocumentError as exc:
                raise NoticeParseError(str(exc), name=name) from None
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise NoticeParseError(
                _("不是文本文件:看起来是%(what)s") % {"what": _(what)}, name=name
            )
    head = data[:65536]
    nul = head.find(b"\x00")
    if nul >= 0:
        raise NoticeParseError(
            _("不是文本文件:含有 NUL 字节(二进制内容)"),
            name=name,
            line=_line_of(data, nul),
        )
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(head) // 20):
        raise NoticeParseError(
            _("不是文本文件:前 %(size)s 字节中有 %(count)s 个控制字符")
            % {"size": len(head), "count": controls},
            name=name,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_err:
        if utf8_err.reason == "unexpected end of data" and utf8_err.end == len(data):
            raise NoticeParseError(
                _("文件似乎不完整:在一个 UTF-8 多字节字符中间结束(第 %(pos)s 字节)")
                % {"pos": utf8_err.start},
                name=name,
                line=_line_of(data, utf8_err.start),
            ) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as gb_err:
            # Report the position of the decoder that got further: that is where the file goes
            # wrong in the encoding it is most likely written in.
            pos = max(utf8_err.start, gb_err.start)
            raise NoticeParseError(
                _("无法按 UTF-8 或 GB18030 解码:第 %(pos)s 字节处有无效字节 %(bytes)s")
                % {"pos": pos, "bytes": data[pos : pos + 4].hex(" ")},
                name=name,
                line=_line_of(data, pos),
            ) from None
    return _check_decoded(text, name)


def _check_decoded(text: str, name: str) -> str:
    text = text.lstrip("\ufeff")
    if not text.strip() or not fold_width(text).strip():
        raise NoticeParseError(_("文件为空"), name=name)
    if "\x00" in text:
        raise NoticeParseError(_("不是文本文件:含有 NUL 字符"), name=name)
    return text


def read_notice(path: str | os.PathLike[str], *, name: str | None = None) -> str:
    """Read and decode one notice file; an oversize file fails before it is read."""
    label = name or os.fspath(path)
    size = os.stat(path).st_size
    if size > MAX_NOTICE_BYTES:
        raise _too_large(size, label)
    with open(path, "rb") as fh:
        data = fh.read(MAX_NOTICE_BYTES + 1)
    return decode_notice(data, name=label)


# --------------------------------------------------------------------------------------------
