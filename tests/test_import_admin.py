"""Importing a notice in the admin: upload → dry-run preview → confirm.

The story: the office administrator has the big-data bureau's notice (seed 002) as a GBK text
file from the bureau's website. They upload it, check what was read, and confirm.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracker.importer.admin_upload import SESSION_PREFIX
from tracker.importer.loader import import_file
from tracker.models import Inspection, SourceNotice, Task

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_002 = SEEDS / "002_e510119d14028505.txt"
FORM = "admin:tracker_sourcenotice_import"
CONFIRM = "admin:tracker_sourcenotice_import_confirm"


def upload(client, name: str, data: bytes):
    return client.post(reverse(FORM), {"file": SimpleUploadedFile(name, data)})


def gbk_002() -> bytes:
    return SEED_002.read_text(encoding="utf-8").encode("gb18030")


def test_the_notice_list_has_an_import_button(admin_client):
    response = admin_client.get(reverse("admin:tracker_sourcenotice_changelist"))
    assert reverse(FORM) in response.content.decode()
    assert "导入通报" in response.content.decode()
    assert admin_client.get(reverse(FORM)).status_code == 200


def test_upload_preview_confirm_imports_the_notice(admin_client, admin_user):
    # When the administrator uploads the GBK file
    response = upload(admin_client, "大数据局通报.txt", gbk_002())
    # then the preview shows the organization, the plan, the tree with statuses, and the dates
    page = response.content.decode()
    assert response.status_code == 200
    assert "中共海南省大数据管理局委员会" in page
    assert "将新建党组织和巡视巡察" in page
    assert "将新建整改任务 32 个" in page
    assert "对大数据发展统筹谋划不足" in page
    assert "省委第三巡视组" in page and "2022-01-24" in page
    # and nothing is written yet; the text waits in the session, not in the page.
    assert not SourceNotice.objects.exists()
    token = response.context["token"]
    assert admin_client.session[SESSION_PREFIX + token]["name"] == "大数据局通报.txt"
    assert "统筹谋划" not in response.context["token"]

    # When they confirm
    response = admin_client.post(reverse(CONFIRM), {"token": token})
    # then the notice is imported, they land on it, and a message says what happened.
    notice = SourceNotice.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:tracker_sourcenotice_change", args=[notice.pk])
    assert notice.imported_by == admin_user and notice.file_name == "大数据局通报.txt"
    assert Task.objects.count() == 32
    text = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("新建任务 32 个" in m for m in text)
    # The token is spent: confirming twice does not import twice.
    response = admin_client.post(reverse(CONFIRM), {"token": token})
    assert response.url == reverse(FORM)
    assert SourceNotice.objects.count() == 1


def test_preview_says_which_existing_inspection_it_will_join(admin_client):
    # Given the multi-organization notice 000 was imported (it names the bureau too)
    import_file(SEEDS / "000_a8da41f290e21ab7.txt")
    bureau = Inspection.objects.get(organization__name="省大数据管理局党委")
    # When 002 is previewed
    response = upload(admin_client, SEED_002.name, gbk_002())
    page = response.content.decode()
    # then it will join that inspection, matching two problems and adding 30.
    assert "将并入已有巡视巡察" in page
    assert reverse("admin:tracker_inspection_change", args=[bureau.pk]) in page
    assert "匹配已有问题 2 个" in page
    assert "将新建整改任务 30 个" in page


def test_preview_shows_declared_totals_the_gap_and_warnings(admin_client):
    data = (SEEDS / "001_5c2e2c6e6d9d9ed6.txt").read_bytes()
    page = upload(admin_client, "001.txt", data).content.decode()
    assert "通报声明 31 个,相差 4 个" in page
    assert "通报声明问题 31 个,公布了 27 个" in page
    assert "基本完成" in page and "整改中" in page


def test_preview_of_an_already_imported_notice_says_so(admin_client):
    import_file(SEED_002)
    page = upload(admin_client, "again.txt", gbk_002()).content.decode()
    assert "这份通报已导入过" in page


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "文件为空"),
        (b"%PDF-1.7\n\x00\x01", "无法读取 PDF 文档"),
        (b"\n\n  \n", "文件为空"),
        ("只有一句话,没有任何问题。".encode(), "未能识别被巡视巡察的党组织"),
    ],
)
def test_bad_uploads_are_shown_on_the_form_naming_the_file(admin_client, data, says):
    response = upload(admin_client, "bad.txt", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "errornote" in page
    assert says in page and "bad.txt" in page
    assert not SourceNotice.objects.exists()


def test_a_forged_or_expired_token_imports_nothing(admin_client):
    response = admin_client.post(reverse(CONFIRM), {"token": "../../etc/passwd"})
    assert response.url == reverse(FORM)
    assert not SourceNotice.objects.exists()


def test_staff_without_the_add_permission_cannot_import(client):
    clerk = get_user_model().objects.create_user("office", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_sourcenotice"))
    client.force_login(clerk)
    assert client.get(reverse(FORM)).status_code == 403
    assert client.post(reverse(CONFIRM), {"token": "x"}).status_code == 403
    page = client.get(reverse("admin:tracker_sourcenotice_changelist")).content.decode()
    assert reverse(FORM) not in page


def test_the_preview_reads_the_database_a_bounded_number_of_times(
    admin_client, django_assert_max_num_queries
):
    import_file(SEEDS / "000_a8da41f290e21ab7.txt")
    # 62 problems in the tree; the queries do not grow with them (session + user + matching).
    with django_assert_max_num_queries(15):
        response = upload(
            admin_client, "004.txt", (SEEDS / "004_5b3e05d84e55cae8.txt").read_bytes()
        )
    assert response.status_code == 200


def test_preview_names_what_was_read_and_the_line_of_every_warning(admin_client):
    # Given seed 001, which declares 31 problems on its line 5 and publishes 27;
    data = (SEEDS / "001_5c2e2c6e6d9d9ed6.txt").read_bytes()
    response = upload(admin_client, "001.txt", data)
    page = response.content.decode()
    # Then each fact read stands under its Chinese label,
    facts = {f.label: f.value for f in response.context["sections"][0]["facts"]}
    assert facts["被巡视巡察党组织"] == "中共秦皇岛经济技术开发区工作委员会"
    assert facts["巡视巡察组"] == "市委第五巡察组" and facts["公布的问题(个)"] == "27"
    assert facts["进驻时间"] == "2020-10-22 — 2020-12-15"
    assert "被巡视巡察党组织" in page and "读到的通报信息" in page
    # the title, which the notice does not print, says it was composed,
    notice = {f.label: (f.value, f.where) for f in response.context["notice_facts"]}
    assert notice["标题"][1] == "通报未印标题,据落款和正文拟定"
    assert notice["发布单位"][0] == "市委巡察办"
    # and the warning says which line it came from.
    [warning] = response.context["warnings"]
    line = next(
        n
        for n, text in enumerate(data.decode().splitlines(), start=1)
        if "31个具体问题" in text or "31个问题" in text
    )
    assert (warning.where, warning.text) == (f"第 {line} 行", "通报声明问题 31 个,公布了 27 个")
    assert f"第 {line} 行</span>:通报声明问题 31 个,公布了 27 个" in page
    # Each problem row shows the line it was read from.
    rows = response.context["sections"][0]["rows"]
    assert [r.line for r in rows[:3]] == [12, 13, 14] and "<td>14</td>" in page


def test_preview_of_a_round_rollup_shows_its_totals_and_no_problem_table(admin_client):
    data = (Path(__file__).resolve().parent / "notices" / "21_round_rollup.txt").read_bytes()
    response = upload(admin_client, "rollup.txt", data)
    page = response.content.decode()
    assert response.status_code == 200 and "errornote" not in page
    assert "一轮巡视巡察的汇总通报(只有总数,不列具体问题)" in page
    assert "被巡察党组织(个)" in page and "notice-tree" not in page.split("</style>", 1)[1]
    assert response.context["warnings"] == []
