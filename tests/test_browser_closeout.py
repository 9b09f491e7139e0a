"""In a real browser: Debian's headless chromium, driven by Playwright, against the live server
on PostgreSQL. The story of issue 4: alice (clerk) updates a task with evidence (ticking one
measure, marking the other not applicable with its reason) and asks for close-out; bob (unit lead) approves; carol (supervisor) approves; the task shows 已销号 and the
timeline shows each step. A screenshot of the task page is kept in test-artifacts/."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.browser import ARTIFACTS, log_in
from tests.conftest import PASSWORD
from tests.test_workspace_evidence import PDF_BYTES, PNG_BYTES
from tracker.choices import TaskStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _log_in(browser, live_server, username: str, *, width: int = 1280):
    return log_in(browser, live_server, username, PASSWORD, width=width)


def test_clerk_to_closeout_with_double_review_in_a_real_browser(
    transactional_db, finance_task, alice, bob, carol, media, tmp_path, browser, live_server
):
    # The database fixtures come first so that the live server (session-scoped) is set up after
    # the test database and stopped before it is dropped.
    photo = tmp_path / "整改现场.png"
    photo.write_bytes(PNG_BYTES)
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(PDF_BYTES)

    # alice, the clerk, at phone width: finds the task in 我的任务 and reports progress
    context, page = _log_in(browser, live_server, "alice", width=390)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "task-list-phone.png"), full_page=True)
    page.click("text=财政资金监管不到位")
    page.wait_for_selector("#progress")
    # a close-out needs every measure settled: the first is done, the second does not apply
    page.check("#progress input[type=checkbox] >> nth=0")
    page.fill("#progress input[name^=na_] >> nth=1", "制度已由上级统一制定")
    page.fill("#progress textarea[name=note]", "已建立财政资金专项台账,完成全面自查。")
    page.select_option("#progress select[name=status]", "completed")
    page.set_input_files("#progress input[type=file]", [str(photo), str(report)])
    page.click("#progress button[type=submit]")
    page.wait_for_selector("text=进展已保存")
    assert page.locator("#evidence li").count() == 2
    page.fill("#closeout textarea[name=summary]", "问题已整改到位,建立长效机制。")
    page.click("#closeout button[type=submit]")
    page.wait_for_selector("text=销号申请已提交")
    context.close()

    # bob, the lead of 财政局, gives the first review from his review queue
    context, page = _log_in(browser, live_server, "bob")
    page.click("text=审核队列")
    page.click("text=财政资金监管不到位")
    page.check("#review input[value=approve]")
    page.click("#review button[type=submit]")
    page.wait_for_selector("text=等待整改办审核")
    context.close()

    # carol, the supervisor, approves: the task is struck off
    context, page = _log_in(browser, live_server, "carol")
    page.click("text=审核队列")
    page.click("text=财政资金监管不到位")
    page.check("#review input[value=approve]")
    page.fill("#review textarea[name=comment]", "同意销号。")
    page.click("#review button[type=submit]")
    page.wait_for_selector("text=审核通过,任务已销号")

    assert page.inner_text("#task-status") == "已销号"
    timeline = page.inner_text("#timeline")
    steps = [
        "创建",
        "措施勾选",
        "佐证材料",
        "进展",
        "状态变更",
        "申请销号",
        "牵头单位审核通过",
        "整改办审核通过",
    ]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions), timeline
    for who in ("alice", "bob", "carol"):
        assert who in timeline

    page.screenshot(path=str(ARTIFACTS / "closeout-task-page.png"), full_page=True)
    context.close()

    try:
        finance_task.refresh_from_db()
        assert finance_task.status == TaskStatus.CLOSED
        assert finance_task.evidence.count() == 2
    finally:
        # While Playwright's loop runs, the ORM gets a connection of its own in this context;
        # close it, or the test database cannot be dropped at the end of the session.
        connections.close_all()
