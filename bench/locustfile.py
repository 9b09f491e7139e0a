"""Locust users for bench_pages.py: a supervisor over everything clicking through the app, and
the same questions asked of Django's stock admin as the reference.

Environment (set by bench_pages.py): BENCH_USER, BENCH_PASSWORD, BENCH_TASK_MIN/MAX (task id
range), BENCH_UNIT_IDS and BENCH_INSPECTION_IDS (comma-separated samples).
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import FastHttpUser, between, tag, task

TASK_MIN = int(os.environ.get("BENCH_TASK_MIN", "1"))
TASK_MAX = int(os.environ.get("BENCH_TASK_MAX", "1"))
UNITS = [int(x) for x in os.environ.get("BENCH_UNIT_IDS", "1").split(",")]
INSPECTIONS = [int(x) for x in os.environ.get("BENCH_INSPECTION_IDS", "1").split(",")]
_user_numbers = itertools.count()
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Supervisor(FastHttpUser):
    # FastHttpUser (geventhttpclient): the load generator runs on the same two cores as the
    # server, and the requests-based HttpUser costs several times more CPU per request.
    # Think time between clicks: 20 users reading pages, not a flood of scripted requests.
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        sessions = os.environ.get("BENCH_SESSION", "").split(",")
        if sessions[0]:
            # Logged in beforehand by bench_pages.py, one session per user: 20 password hashes
            # at once would saturate both cores and be counted against the pages.
            self.cookie = "sessionid=" + sessions[next(_user_numbers) % len(sessions)]
            return
        page = self.client.get("/accounts/login/", name="login")
        token = CSRF_RE.search(page.text).group(1)
        self.client.post(
            "/accounts/login/",
            {
                "username": os.environ["BENCH_USER"],
                "password": os.environ["BENCH_PASSWORD"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            # The redirect target (the full task list) is measured as a page of its own.
            allow_redirects=False,
        )

    def _get(self, url: str, name: str) -> None:
        headers = {"Cookie": self.cookie} if getattr(self, "cookie", "") else None
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    @task(3)
    @tag("dashboard")
    def dashboard_all(self) -> None:
        self._get("/dashboard/", "dashboard · all")

    @task(2)
    @tag("dashboard")
    def dashboard_inspection(self) -> None:
        self._get(f"/dashboard/?inspection={random.choice(INSPECTIONS)}", "dashboard · inspection")

    @task(3)
    @tag("list")
    def task_list_overdue(self) -> None:
        self._get(f"/?owner_unit={random.choice(UNITS)}&overdue=true", "task list · unit overdue")

    @task(2)
    @tag("list")
    def task_list_unit_in_progress(self) -> None:
        # Like for like with the admin reference below (one unit, 整改中); the list shows its
        # capped total (exact up to 1,000).
        self._get(
            f"/?owner_unit={random.choice(UNITS)}&status=in_progress",
            "task list · unit in progress",
        )

    @task(2)
    @tag("list")
    def task_list_all_overdue(self) -> None:
        self._get("/?overdue=true", "task list · all overdue")

    @task(3)
    @tag("page")
    def task_page(self) -> None:
        self._get(f"/tasks/{random.randint(TASK_MIN, TASK_MAX)}/", "task page")

    @task(2)
    @tag("admin-list")
    def admin_changelist(self) -> None:
        self._get(
            f"/admin/tracker/task/?owner_unit__id__exact={random.choice(UNITS)}&status__exact=in_progress",
            "admin · task changelist (unit, in progress)",
        )

    @task(2)
    @tag("admin-dashboard", "admin-list")
    def admin_changelist_all(self) -> None:
        self._get("/admin/tracker/task/?status__exact=in_progress", "admin · task changelist (all)")

    @task(2)
    @tag("admin-page")
    def admin_change(self) -> None:
        self._get(
            f"/admin/tracker/task/{random.randint(TASK_MIN, TASK_MAX)}/change/",
            "admin · task change page",
        )
