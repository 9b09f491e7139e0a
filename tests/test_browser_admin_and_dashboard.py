"""In a real browser (Debian's headless chromium through Playwright, against the live server on
PostgreSQL), the office's other stories:

1. the administrator imports a published notice, a GB18030 text file, through the Chinese admin:
   upload, check the preview (tree, statuses, declared totals), confirm;
2. carol, the supervisor, reads the dashboard (charts drawn by the vendored ECharts), drills into
   the 已逾期 figure and downloads the ledger as Excel;
3. eve, a clerk of another unit, types the URL of a task she may not see and gets a 404.

Nothing is frozen in the browser: deadlines are chosen around today in Asia/Shanghai, the day
the live server judges overdue by (``local_today()``). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from tests import factories
from tests.browser import ARTIFACTS, log_in
from tests.conftest import PASSWORD
from tracker.choices import DECLARED_LABELS, TaskStatus, TaskType
from tracker.models import Inspection, SourceNotice, Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TESTS = Path(__file__).resolve().parent
SEED = TESTS.parent / "seeds" / "001_5c2e2c6e6d9d9ed6.txt"
EXPECTED = json.loads((TESTS / "seeds_expected.json").read_text(encoding="utf-8"))[SEED.name]


@pytest.fixture
def fresh_cache():
    # Dashboard figures are cached in this process (locmem), which the live server shares.
    cache.clear()
    yield
    cache.clear()


def _new_page(browser, *, width: int = 1280):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 900}, accept_downloads=True
    )
    return context, context.new_page()


def _log_in(browser, live_server, username: str, *, width: int = 1280):
    return log_in(browser, live_server, username, PASSWORD, width=width)


def _leaves(problems: list[dict]) -> list[dict]:
    out = []
    for problem in problems:
        out.extend(_leaves(problem["children"]) if problem["children"] else [problem])
    return out


# --- 1. the administrator imports a notice ------------------------------------------------------


def test_admin_imports_a_gb18030_notice_through_preview_and_confirm(
    transactional_db, tmp_path, browser, live_server
):
    # The database fixtures come first so that the live server (session-scoped) is set up after
    # the test database and stopped before it is dropped.
    # Given the office administrator, a superuser, and 秦皇岛开发区's notice (seed 001) saved
    # the way the office's website serves it: GB18030 bytes
    get_user_model().objects.create_superuser("office-admin", "admin@example.org", PASSWORD)
    notice_file = tmp_path / "秦皇岛开发区整改通报.txt"
    notice_file.write_bytes(SEED.read_text(encoding="utf-8").encode("gb18030"))
    assert notice_file.read_bytes() != SEED.read_bytes()  # really not UTF-8 any more
    section = EXPECTED["inspections"][0]
    leaves = _leaves(section["problems"])
    # A notice's 未完成 is a task still 整改中; the other two words carry over as they are.
    task_status = {
        "completed": TaskStatus.COMPLETED,
        "basically_completed": TaskStatus.BASICALLY_COMPLETED,
        "not_completed": TaskStatus.IN_PROGRESS,
    }
    expected_statuses = Counter(task_status[leaf["status"]] for leaf in leaves)

    # When they log into the (Chinese) admin and open 整改通报 → 导入通报
    context, page = _new_page(browser)
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "office-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="整改通报", exact=True).click()
    page.wait_for_url("**/admin/tracker/sourcenotice/")
    page.get_by_role("link", name="导入通报").click()
    page.wait_for_url("**/admin/tracker/sourcenotice/import/")

    # and upload the file
    page.set_input_files("input[name=file]", str(notice_file))
    page.click("input[type=submit][value=上传并预览]")

    # then the preview shows what was read, decoded right: organization, group, feedback date,
    # the declared totals and the gap to the published problems, the tree with each status
    page.wait_for_selector("input[type=submit][value=确认导入]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-import-preview.png"), full_page=True)
    content = page.inner_text("#content-main")
    assert notice_file.name in content
    # what was read is a table of labels and values (tab-separated in the page's text)
    assert re.search(rf"发布日期\s+{EXPECTED['published']}", content)
    assert section["organization"] in content
    assert "将新建党组织和巡视巡察" in content
    assert f"将新建整改任务 {section['leaf_problems']} 个" in content
    assert section["group"] in content
    assert re.search(rf"反馈日期\s+{section['feedback']}", content)
    declared = section["declared"]["problems"]
    gap = declared - section["leaf_problems"]
    assert re.search(re.escape("公布的问题(个)") + rf"\s+{section['leaf_problems']}", content)
    assert f"通报声明 {declared} 个,相差 {gap} 个" in content
    declared_rows = page.locator(".notice-plan table.notice-declared tr")
    shown = dict(
        zip(
            declared_rows.locator("th").all_inner_texts(),
            declared_rows.locator("td").all_inner_texts(),
            strict=True,
        )
    )
    # each declared figure under its Chinese label, never its raw key
    assert shown == {
        str(DECLARED_LABELS[key]): str(value) for key, value in section["declared"].items()
    }
    tree = page.locator("table.notice-tree tbody tr")
    categories = [p for p in section["problems"] if p.get("kind") == "category"]
    assert tree.locator("td.category").count() == len(categories)
    assert categories[0]["title"] in tree.locator("td.category").first.inner_text()

    def row(label: str) -> list[str]:
        """The row's cells after its first, the line of the notice it was read on."""
        cells = tree.filter(has=page.locator(f"td:text-is('{label}')")).locator("td")
        line, *rest = [text.strip() for text in cells.all_inner_texts()]
        assert line.isdigit()
        return rest

    by_label = {leaf["label"]: leaf for leaf in leaves}
    # (6) is 未完成 in the notice and becomes a task 整改中; (8) 基本完成; (1) 已完成
    for label, notice_word, task_word in [
        ("(6)", "未完成", "整改中"),
        ("(8)", "基本完成", "基本完成"),
        ("(1)", "已完成", "已完成"),
    ]:
        assert row(label) == [label, by_label[label]["title"], notice_word, task_word]
    # Nothing is written before the confirmation.
    assert not SourceNotice.objects.exists() and not Task.objects.exists()

    # When they confirm
    page.click("input[type=submit][value=确认导入]")

    # then the admin shows the notice with a success message naming the file and the counts
    success = page.locator("ul.messagelist li.success")
    success.wait_for()
    message = success.inner_text()
    assert f"已导入 {notice_file.name}" in message
    assert f"新建任务 {section['leaf_problems']} 个" in message
    assert "新建巡视巡察 1 个" in message
    page.screenshot(path=str(ARTIFACTS / "admin-import-done.png"), full_page=True)
    context.close()

    # and the database holds the inspection and one task per published problem, with the statuses
    # the notice gave them.
    notice = SourceNotice.objects.get()
    assert notice.file_name == notice_file.name
    assert notice.imported_by.username == "office-admin"
    inspection = Inspection.objects.get()
    assert inspection.organization.name == section["organization"]
    assert inspection.group == section["group"]
    assert inspection.feedback_date == datetime.date.fromisoformat(section["feedback"])
    assert inspection.declared == section["declared"]
    tasks = Task.objects.filter(inspection=inspection)
    assert tasks.count() == section["leaf_problems"] == len(leaves)
    assert Counter(tasks.values_list("status", flat=True)) == expected_statuses
    assert set(tasks.values_list("problem__title", flat=True)) == {leaf["title"] for leaf in leaves}


# --- 2. the supervisor reads the dashboard ------------------------------------------------------


@pytest.fixture
def world(org, inspection, finance, planning):
    """carol's organization, with deadlines around today in Shanghai; and another organization
    (outside carol's scope) with an overdue task of its own."""
    # Today in Shanghai, computed here rather than by the app's local_today(), so that an app
    # judging by another day (UTC's, say) fails here whenever the two days differ.
    today = datetime.datetime.now(SHANGHAI).date()
    day = datetime.timedelta(days=1)
    main = factories.make_category(inspection, "关于落实主体责任方面")

    def task(title, owner, deadline, status=TaskStatus.IN_PROGRESS, **extra):
        return factories.make_task(
            inspection, title=title, owner=owner, deadline=deadline, status=status, **extra
        )

    overdue = {
        # due yesterday in Shanghai (already today in UTC for part of the day)
        "政府采购程序不规范": (task("政府采购程序不规范", finance, today - day), 1),
        "财政专项资金拨付滞后": (
            task("财政专项资金拨付滞后", finance, today - 3 * day, category=main),
            3,
        ),
        # 基本完成 is not done: still overdue
        "规划许可公示不及时": (
            task("规划许可公示不及时", planning, today - 10 * day, TaskStatus.BASICALLY_COMPLETED),
            10,
        ),
    }
    others = [
        task("国库集中支付管理不严", finance, today),  # due today: not overdue yet
        task("预算执行进度偏慢", finance, today - 20 * day, TaskStatus.COMPLETED),
        task("违法建设查处不力", planning, today - 30 * day, TaskStatus.CLOSED),
        task("土地出让金征收不到位", planning, today + 5 * day, TaskStatus.NOT_STARTED),
        task("历史遗留问题化解", planning, None, task_type=TaskType.LONG_TERM),
    ]
    elsewhere = factories.make_org("中共另一开发区工作委员会")
    factories.make_task(
        factories.make_inspection(elsewhere),
        title="外区财政问题逾期未改",
        owner=factories.make_unit(elsewhere, "外区财政局"),
        deadline=today - 5 * day,
    )
    return {"today": today, "overdue": overdue, "all": [t for t, _ in overdue.values()] + others}


def test_supervisor_reads_the_dashboard_drills_into_overdue_and_exports_the_ledger(
    transactional_db, world, carol, fresh_cache, tmp_path, browser, live_server
):
    overdue = world["overdue"]
    # Given the live server serves the vendored ECharts
    context, page = _log_in(browser, live_server, "carol")
    response = page.request.get(f"{live_server.url}/static/tracker/echarts-5.6.0.min.js")
    assert response.status == 200 and b"echarts" in response.body()[:2000]

    # When carol opens 整改看板 from the top bar
    page.click("nav.mainnav a:text-is('整改看板')")
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector("h1:text-is('整改工作看板')")

    # then the charts are drawn (ECharts' SVG renderer: one slice per non-empty status) from the
    # same numbers as the table under them
    page.wait_for_selector("#chart-status svg path")
    assert page.evaluate("typeof echarts") == "object"
    drawn = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById('chart-status'))
                  .getOption().series[0].data.map(d => [d.name, d.value])"""
    )
    table = page.locator("#chart-status ~ table tbody tr")
    assert drawn == [
        [r.locator("th").inner_text(), int(r.locator("td").inner_text())] for r in table.all()
    ]
    # 整改中: three with deadlines and the 长期坚持 one
    assert dict(drawn) == {"未启动": 1, "整改中": 4, "基本完成": 1, "已完成": 1, "已销号": 1}
    for chart in ("chart-history", "chart-units", "chart-categories", "chart-types"):
        assert page.locator(f"#{chart} svg").count() == 1, chart
    # and the figures are as of today in Shanghai and count carol's organization only (the other organization's overdue task
    # is not hers)
    assert f"截至 {world['today']:%Y-%m-%d} 的整改情况" in page.inner_text("#totals-h")
    assert page.inner_text("[data-figure=total]") == str(len(world["all"]))
    assert page.inner_text("[data-figure=overdue]") == str(len(overdue))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # When she clicks the 已逾期 figure
    page.click("[data-figure=overdue]")
    page.wait_for_selector("h1:has-text('我的任务')")

    # then the task list shows exactly the overdue tasks, each with its days overdue
    assert "overdue=true" in page.url
    rows = page.locator("table.tasks tbody tr")
    listed = {
        r.locator("td").first.inner_text(): r.locator(".badge.overdue").inner_text()
        for r in rows.all()
    }
    assert listed == {
        t.problem.label + title: f"逾期 {days} 天" for title, (t, days) in overdue.items()
    }

    # When she goes back and clicks 导出台账(Excel)
    page.go_back()
    page.wait_for_selector("[data-figure=overdue]")
    with page.expect_download() as info:
        page.click("a:text-is('导出台账(Excel)')")
    download = info.value

    # then an .xlsx arrives in the office layout, one row per task in her scope, the overdue
    # ones marked 是
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved, read_only=True).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert list(header[:3]) == ["序号", "问题类别", "问题"]
    assert len(body) == len(world["all"])
    column = {name: index for index, name in enumerate(header)}
    marked = {r[column["问题"]] for r in body if r[column["是否逾期"]] == "是"}
    assert marked == set(overdue)
    context.close()

    # At phone width the dashboard still draws its charts.
    context, page = _log_in(browser, live_server, "carol", width=390)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#chart-status svg path")
    assert page.inner_text("[data-figure=overdue]") == str(len(overdue))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    context.close()


# --- 3. an outsider types a task URL ------------------------------------------------------------


def test_a_clerk_of_another_unit_typing_a_task_url_gets_404(
    transactional_db, finance_task, planning_task, carol, eve, browser, live_server
):
    # Given carol can open 财政局's task in her browser
    url = f"{live_server.url}/tasks/{finance_task.pk}/"
    context, page = _log_in(browser, live_server, "carol")
    response = page.goto(url)
    assert response.status == 200
    assert finance_task.problem.title in page.inner_text("main")
    context.close()

    # When eve, clerk of 规划局, types the same URL
    context, page = _log_in(browser, live_server, "eve")
    response = page.goto(url)

    # then she gets the 404 page and nothing of the task, while her own task opens.
    assert response.status == 404
    assert finance_task.problem.title not in page.content()
    assert page.goto(f"{live_server.url}/tasks/{planning_task.pk}/").status == 200
    assert planning_task.problem.title in page.inner_text("main")
    context.close()
