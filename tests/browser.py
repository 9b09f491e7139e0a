"""What the browser tests share: Debian's chromium, its flags, the artifacts folder, and the
``browser`` fixture (tests import it from here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

# Playwright's sync API runs an event loop in this thread; Django's ORM in the test then refuses
# to run unless told that this is on purpose.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# As root on a machine with no outside network: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/services.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            # While Playwright's loop runs, the ORM gets a connection of its own in this
            # context; close it, or the test database cannot be dropped at the end.
            connections.close_all()
            browser.close()


def log_in(browser, live_server, username: str, password: str, *, width: int = 1280):
    """A new browser context at ``width`` px, logged in through the login form as
    ``username``; returns (context, page) on 我的任务."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # anonymous: sent to the login page
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("h1:has-text('我的任务')")
    return context, page
