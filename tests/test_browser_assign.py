"""In a real browser (Debian's chromium, Playwright, the live server on PostgreSQL): carol, the
supervisor, opens 巡视巡察 in the top bar, goes to the inspection's 问题与分工, adds a problem
with its task, ticks it and another task, and assigns both to a lead unit with a new deadline at
once; alice (clerk of 财政局) then finds the new task waiting for 签收 and signs for it. A
screenshot of the assignment page is kept in test-artifacts/."""

from __future__ import annotations

import datetime

import pytest

from tests import factories
from tests.browser import ARTIFACTS, log_in
from tests.conftest import PASSWORD
from tracker.choices import EventKind
from tracker.models import Task, TaskEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_carol_adds_a_problem_and_assigns_two_tasks_at_once_in_a_real_browser(
    transactional_db,
    inspection,
    finance,
    planning,
    finance_task,
    alice,
    carol,
    browser,
    live_server,
):
    category = factories.make_category(inspection, "关于落实主体责任方面")
    context, page = log_in(browser, live_server, "carol", PASSWORD)
    page.click("nav.mainnav >> text=巡视巡察")
    page.click("text=问题与分工")
    page.wait_for_selector("h1:has-text('问题与分工')")

    # She adds a problem under the category, with its owner, deadline and measures
    form = page.locator("form.add-problem")
    form.locator("select[name=p-parent]").select_option(str(category.pk))
    form.locator("textarea[name=p-title]").fill("专项资金绩效评价流于形式")
    form.locator("select[name=p-owner_unit]").select_option(str(finance.pk))
    form.locator("input[name=p-deadline]").fill("2027-03-31")
    form.locator("textarea[name=p-measures]").fill("一是开展专项评价\n二是结果与预算挂钩")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=已新增")
    new = Task.objects.get(problem__title="专项资金绩效评价流于形式")

    # Then ticks it and the existing task and gives both a lead unit and a deadline at once
    page.check(f"#task-{new.pk}")
    page.check(f"#task-{finance_task.pk}")
    assign = page.locator("form.assign")
    assign.locator("select[name=a-lead_unit]").select_option(str(planning.pk))
    assign.locator("input[name=a-deadline]").fill("2027-04-30")
    assign.locator("input[name=a-reason]").fill("按整改方案统一分工")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "assign-tasks.png"), full_page=True)
    assign.locator("button[type=submit]").click()
    page.wait_for_selector("text=已更新 2 项任务")
    for task in (new, finance_task):
        task.refresh_from_db()
        assert task.lead_unit == planning and task.deadline == datetime.date(2027, 4, 30)
        assert TaskEvent.objects.filter(
            task=task, kind=EventKind.LEAD_UNIT, actor=carol, reason="按整改方案统一分工"
        ).exists()
    context.close()

    # alice finds the new task waiting for her unit to sign for it, and signs
    context, page = log_in(browser, live_server, "alice", PASSWORD)
    page.click("text=专项资金绩效评价流于形式")
    page.click("button:has-text('签收')")
    page.wait_for_load_state()
    new.refresh_from_db()
    assert new.acknowledged_at is not None
    assert TaskEvent.objects.filter(task=new, kind=EventKind.ACKNOWLEDGED, actor=alice).exists()
    context.close()
