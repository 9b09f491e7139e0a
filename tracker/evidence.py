"""Evidence upload validation (佐证材料).

An upload is accepted only when its *content* is one of the allowed types (sniffed from the
first bytes with ``filetype``, never trusted from the name or the browser's Content-Type) and the
name's extension agrees with that content. It is stored under a random name chosen here, so a
user-supplied name such as ``../../settings.py`` never reaches the file system; the original
name is kept, cleaned, for display and as the download name only. Files are never served by the
web server: ``tracker.views.workspace.evidence_download`` checks access first.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tracker.choices import EVIDENCE_TYPES

# Extensions a user may give for each sniffed type.
NAME_EXTENSIONS = {
    "pdf": {"pdf"},
    "jpg": {"jpg", "jpeg"},
    "png": {"png"},
    "docx": {"docx"},
    "xlsx": {"xlsx"},
}
SNIFF_BYTES = 8192  # filetype needs the start of a zip's central entries for docx/xlsx


@dataclass(frozen=True)
class CheckedUpload:
    """What validation found: the type by content, a random stored name and a display name."""

    kind: str
    content_type: str
    stored_name: str
    display_name: str
    size: int
    sha256: str


def clean_display_name(name: str) -> str:
    """The last path component, without control characters, at most 200 characters.

    Both separators are stripped because a Windows browser may send ``C:\\Users\\x\\a.pdf``.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot else name[:200]
    return name or "evidence"


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Validate an uploaded evidence file; raise ``ValidationError`` with a message for the user."""
    max_bytes = settings.RECTIFY["EVIDENCE_MAX_BYTES"]
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(
            _("文件“%(name)s”超过大小上限 %(limit)s。")
            % {"name": clean_display_name(upload.name), "limit": filesizeformat(max_bytes)}
        )
    if upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": upload.name})
    display = clean_display_name(upload.name)
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    guessed = filetype.guess(head)
    kind = guessed.extension if guessed else None
    if kind not in EVIDENCE_TYPES:
        raise ValidationError(
            _("文件“%(name)s”的内容不是允许的类型(PDF、JPG、PNG、DOCX、XLSX)。") % {"name": display}
        )
    name_ext = display.rpartition(".")[2].lower() if "." in display else ""
    if name_ext not in NAME_EXTENSIONS[kind]:
        raise ValidationError(
            _("文件“%(name)s”的扩展名与内容(%(kind)s)不符。")
            % {"name": display, "kind": kind.upper()}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        kind=kind,
        content_type=EVIDENCE_TYPES[kind],
        stored_name=f"{uuid.uuid4().hex}.{kind}",
        display_name=display,
        size=upload.size,
        sha256=digest.hexdigest(),
    )
