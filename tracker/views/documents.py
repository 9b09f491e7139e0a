"""Downloads of an inspection's documents: the progress notice (整改进展情况通报, DOCX and
text) and the rectification report (整改报告, DOCX).

For supervisors (整改办) of the inspection and administrators. Anyone else, and any inspection
outside the user's scope, gets 404, exactly as if it did not exist (``tracker.permissions``).
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracker.documents.docx import render_docx
from tracker.documents.notice import build_notice
from tracker.documents.report import build_report
from tracker.documents.text import render_text
from tracker.models import Inspection
from tracker.permissions import get_supervised_inspection

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def supervised_inspection(request: HttpRequest, pk: int) -> Inspection:
    """The inspection if the user supervises it; 404 otherwise (tracker.permissions)."""
    return get_supervised_inspection(request, pk)


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    ascii_name = filename.encode("ascii", "ignore").decode() or "document"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def notice_docx(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = supervised_inspection(request, pk)
    doc = build_notice(inspection)
    return _download(render_docx(doc), f"{doc.title}.docx", DOCX_TYPE)


@login_required
@require_GET
def notice_txt(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = supervised_inspection(request, pk)
    doc = build_notice(inspection)
    return _download(render_text(doc).encode(), f"{doc.title}.txt", "text/plain; charset=utf-8")


@login_required
@require_GET
def report_docx(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = supervised_inspection(request, pk)
    doc = build_report(inspection)
    return _download(render_docx(doc), f"{doc.title}.docx", DOCX_TYPE)
