"""Spreadsheet uploads kept between preview and confirm (the ledger, the plan): the size check
of the uploaded file, and the folder it waits in under MEDIA_ROOT, named by a random token the
session holds. One place, so every upload with a preview behaves the same."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def staging_dir(kind: str) -> Path:
    """``MEDIA_ROOT/<kind>-uploads/``, created when missing."""
    path = Path(settings.MEDIA_ROOT) / f"{kind}-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_size(upload) -> None:
    """Refuse an uploaded file past MAX_UPLOAD_BYTES, naming it and the limit."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            _("文件“%(name)s”超过 %(limit)s MB 的上限,未导入。")
            % {"name": upload.name, "limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
