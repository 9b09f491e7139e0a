"""In a real browser (Debian's headless chromium through Playwright, against the live server on
PostgreSQL): the administrator's stale save is refused.

The administrator opens a task's change form in the admin; meanwhile carol, the supervisor,
moves the task's deadline in the workspace (here: through tracker.actions, as the workspace
does); the administrator, still on the form they opened, types another deadline and saves. The
admin refuses with the workspace's own message naming carol, keeps what was typed on the page,
and the task keeps carol's deadline. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model

from tests.browser import ARTIFACTS
from tests.conftest import PASSWORD
from tracker import actions
from tracker.choices import EventSource
from tracker.models import Task, TaskEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrators_stale_save_is_refused_naming_carol_and_keeps_her_deadline(
    transactional_db, finance_task, carol, browser, live_server
):
    # The database fixtures come first so that the live server (session-scoped) is set up after
    # the test database and stopped before it is dropped.
    # Given the office administrator, a superuser, logged into the admin
    get_user_model().objects.create_superuser("office-admin", "admin@example.org", PASSWORD)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "office-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")

    # When they open the task's change form
    page.goto(f"{live_server.url}/admin/tracker/task/{finance_task.pk}/change/")
    page.wait_for_selector("#task_form")
    loaded = Task.objects.get(pk=finance_task.pk)
    assert page.input_value("input[name=loaded_version]") == str(loaded.version)

    # and meanwhile carol, the supervisor, moves the deadline
    carols_deadline = datetime.date(2026, 12, 15)
    actions.change_deadline(finance_task, carols_deadline, actions.Actor.of(carol))
    events_before = TaskEvent.objects.count()

    # and the administrator, on the form opened before, types another deadline and saves
    page.fill("#id_deadline", "2027-01-31")
    page.fill("#id_change_reason", "按批复更正")
    page.click("input[name=_save]")

    # then the admin refuses: the form comes back with the workspace's message naming carol,
    # no success message, and what was typed still in the field
    page.wait_for_selector("p.errornote")
    message = page.inner_text("ul.errorlist.nonfield")
    assert "该任务已被 carol 于" in message
    assert "修改,请刷新后重试。" in message
    assert page.locator("ul.messagelist li.success").count() == 0
    assert page.input_value("#id_deadline") == "2027-01-31"
    # and the task's history, newest first, shows carol's change as people read it
    newest = page.locator("#events-group tbody tr.form-row").first.inner_text()
    assert "时限变更" in newest and "2026-12-15" in newest and "carol" in newest
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-stale-save-refused.png"), full_page=True)
    context.close()

    # and the task keeps carol's deadline, with no event from the administrator.
    task = Task.objects.get(pk=finance_task.pk)
    assert task.deadline == carols_deadline
    assert task.version == loaded.version + 1
    assert TaskEvent.objects.count() == events_before
    assert not TaskEvent.objects.filter(task=task, source=EventSource.ADMIN).exists()
