"""Evidence uploads (佐证材料): content checked, not the name; size limit; safe stored names;
downloads only through the permission-checked view."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import PASSWORD
from tracker import actions
from tracker.evidence import check_upload, clean_display_name
from tracker.models import Evidence


def _png(width: int = 4, height: int = 4) -> bytes:
    """A real, tiny PNG (red square), built by hand so the tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG_BYTES = _png()
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    # The browser's content type is deliberately wrong: it must never be trusted.
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- validation (no database) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("整改报告.pdf", PDF_BYTES, "pdf"),
        ("现场.PNG", PNG_BYTES, "png"),
        ("制度.docx", _docx(), "docx"),
        ("台账.xlsx", _xlsx(), "xlsx"),
    ],
)
def test_the_allowed_types_are_recognised_by_content(name, data, kind):
    checked = check_upload(upload(name, data))
    assert checked.kind == kind
    assert checked.display_name == name
    assert checked.stored_name.endswith(f".{kind}") and name not in checked.stored_name


def test_a_script_named_pdf_is_refused():
    with pytest.raises(ValidationError, match="内容不是允许的类型"):
        check_upload(upload("整改报告.pdf", b"#!/bin/sh\nrm -rf /\n" * 10))


def test_a_png_named_pdf_is_refused_because_name_and_content_disagree():
    with pytest.raises(ValidationError, match="扩展名与内容"):
        check_upload(upload("整改报告.pdf", PNG_BYTES))


def test_an_allowed_content_in_a_forbidden_container_is_refused():
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    with pytest.raises(ValidationError):
        check_upload(upload("图.gif", gif))


def test_an_oversize_file_is_refused_before_reading_it(settings):
    settings.RECTIFY = {**settings.RECTIFY, "EVIDENCE_MAX_BYTES": 1024}
    with pytest.raises(ValidationError, match="超过大小上限"):
        check_upload(upload("大文件.pdf", PDF_BYTES + b"0" * 2000))
    assert check_upload(upload("小文件.pdf", PDF_BYTES)).kind == "pdf"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("C:\\Users\\alice\\照片.png", "照片.png"),
        ("/abs/path/x.png", "x.png"),
        ("bad\x00name\n.png", "badname.png"),
        ("..", "evidence"),
    ],
)
def test_path_traversal_names_are_reduced_to_a_harmless_display_name(given, shown):
    assert clean_display_name(given) == shown


@pytest.mark.django_db
def test_a_traversal_name_is_stored_under_a_random_name_inside_media_root(
    finance_task, alice, media
):
    evidence = actions.add_evidence(
        finance_task, upload("../../../../tmp/evil.png", PNG_BYTES), actions.Actor.of(alice)
    )
    stored = Path(evidence.file.path).resolve()
    assert stored.is_relative_to(Path(media).resolve() / "evidence" / str(finance_task.pk))
    assert "evil" not in stored.name and stored.suffix == ".png"
    assert stored.read_bytes() == PNG_BYTES
    assert evidence.original_name == "evil.png"
    assert not Path("/tmp/evil.png").exists()


# --- through the pages ----------------------------------------------------------------------------


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_alice_uploads_through_the_progress_form_and_bob_downloads_it(
    client, finance_task, alice, bob
):
    _login(client, alice)
    response = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {"version": finance_task.version, "files": [upload("整改报告.pdf", PDF_BYTES)]},
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(task=finance_task)

    _login(client, bob)
    response = client.get(reverse("tracker:evidence_download", args=[finance_task.pk, evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.django_db
def test_wrong_content_through_the_form_shows_the_error_and_stores_nothing(
    client, finance_task, alice, media
):
    _login(client, alice)
    response = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {
            "version": finance_task.version,
            "note": "附上报告",
            "files": [upload("报告.pdf", b"<html><script>alert(1)</script></html>")],
        },
    )
    assert response.status_code == 400
    assert "内容不是允许的类型" in response.content.decode()
    assert not Evidence.objects.exists()
    finance_task.refresh_from_db()
    assert finance_task.progress == ""  # the note in the same submission is not saved either
    assert not any(Path(media).rglob("*.*"))


@pytest.mark.django_db
def test_an_outsider_cannot_download_evidence_and_cannot_tell_it_exists(
    client, finance_task, planning_task, alice, eve, mallory
):
    evidence = actions.add_evidence(
        finance_task, upload("报告.pdf", PDF_BYTES), actions.Actor.of(alice)
    )
    url = reverse("tracker:evidence_download", args=[finance_task.pk, evidence.pk])
    missing = reverse("tracker:evidence_download", args=[finance_task.pk, evidence.pk + 999])
    # evidence of one task cannot be fetched through another task the user may see
    swapped = reverse("tracker:evidence_download", args=[planning_task.pk, evidence.pk])
    for user in (eve, mallory):
        _login(client, user)
        assert client.get(url).status_code == 404
        assert client.get(missing).status_code == 404
    _login(client, eve)
    assert client.get(swapped).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_media_is_not_served_by_any_url(client, finance_task, alice):
    evidence = actions.add_evidence(
        finance_task, upload("报告.pdf", PDF_BYTES), actions.Actor.of(alice)
    )
    _login(client, alice)
    assert client.get("/media/" + evidence.file.name).status_code == 404
    assert client.get("/media-not-served/" + evidence.file.name).status_code == 404
