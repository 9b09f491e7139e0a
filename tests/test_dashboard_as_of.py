"""As-of means as of: the dashboard of a past 统计日期 shows each task's status, deadline, owner
unit and type as they stood at the end of that day (Asia/Shanghai), rebuilt from history, and
does not count tasks created later.

The story (the clock frozen at each step, Asia/Shanghai):
  10-05 10:00  A (财政局, due 10-10), B (财政局, due 10-20), C (规划局, due 10-08) created, 整改中
  10-07 15:00  A 整改中 → 已完成
  10-09 20:00  规划局's clerk asks to extend C to 10-31 (C is overdue from 10-09)
  10-10 23:30  the supervisor approves: C due 10-31 (15:30 UTC: still 10-10 in Shanghai)
  10-12 09:00  B moves from 财政局 to 规划局
  10-15 11:00  D (财政局, due 10-30, 未启动) created
  10-19 10:00  C becomes 长期坚持
  10-23 10:00  B 整改中 → 已完成 (overdue under 规划局 on 10-21 and 10-22)
At the end of every day the dashboard for that day (today's figures, read from the columns) is
kept; on 10-26 the dashboard for each past day, rebuilt from history, must equal it.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from tests import factories
from tracker import actions, selectors
from tracker.choices import TaskStatus, TaskType
from tracker.permissions import access_for

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
D = datetime.date
FIRST, LAST = D(2026, 10, 4), D(2026, 10, 25)
NOW = datetime.datetime(2026, 10, 26, 9, tzinfo=SHANGHAI)
# What the story compares: everything but the uncontactable units (a fact of now) and the
# rules (no task data).
COMPARED = ("as_of", "totals", "units", "inspections", "categories", "types", "history")


def at(day: D, hour: int, minute: int = 0):
    return time_machine.travel(
        datetime.datetime.combine(day, datetime.time(hour, minute), SHANGHAI), tick=False
    )


def figures(user, day: D) -> dict:
    data = selectors.dashboard(access_for(user).tasks(), day, use_cache=False)
    return {k: data[k] for k in COMPARED}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def story(carol, eve, inspection, finance, planning):
    """Run the story day by day; return the tasks and the dashboard kept at each day's end."""
    as_carol, as_eve = actions.Actor.of(carol), actions.Actor.of(eve)
    category = factories.make_category(inspection, "关于落实主体责任方面")
    tasks: dict = {}

    def create(name, owner, deadline, **kw):
        tasks[name] = factories.make_task(
            inspection, owner=owner, deadline=deadline, category=category, **kw
        )

    steps = {
        D(2026, 10, 5): [
            (10, 0, lambda: create("A", finance, D(2026, 10, 10))),
            (10, 1, lambda: create("B", finance, D(2026, 10, 20))),
            (10, 2, lambda: create("C", planning, D(2026, 10, 8))),
        ],
        D(2026, 10, 7): [
            (15, 0, lambda: actions.change_status(tasks["A"], TaskStatus.COMPLETED, as_carol))
        ],
        D(2026, 10, 9): [
            (
                20,
                0,
                lambda: actions.request_extension(
                    tasks["C"], as_eve, new_deadline=D(2026, 10, 31), reason="需协调资金"
                ),
            )
        ],
        D(2026, 10, 10): [(23, 30, lambda: actions.approve_extension(tasks["C"], as_carol))],
        D(2026, 10, 12): [(9, 0, lambda: actions.change_owner(tasks["B"], planning, as_carol))],
        D(2026, 10, 15): [
            (
                11,
                0,
                lambda: create("D", finance, D(2026, 10, 30), status=TaskStatus.NOT_STARTED),
            )
        ],
        D(2026, 10, 19): [
            (10, 0, lambda: actions.change_type(tasks["C"], TaskType.LONG_TERM, as_carol))
        ],
        D(2026, 10, 23): [
            (10, 0, lambda: actions.change_status(tasks["B"], TaskStatus.COMPLETED, as_carol))
        ],
    }
    kept = {}
    day = FIRST
    while day <= LAST:
        for hour, minute, step in steps.get(day, []):
            with at(day, hour, minute):
                step()
        with at(day, 23, 59):  # the day's own dashboard: today's figures, from the columns
            kept[day] = figures(carol, day)
        day += datetime.timedelta(days=1)
    return {"tasks": tasks, "kept": kept}


def test_every_past_day_shows_what_was_true_at_its_end(carol, story):
    with time_machine.travel(NOW, tick=False):
        for day, then in story["kept"].items():
            assert figures(carol, day) == then, day


def _units(data) -> dict:
    return {u["name"]: (u["total"], u["open"], u["overdue"], u["lamp"]) for u in data["units"]}


def test_the_story_day_by_day(carol, story):
    with time_machine.travel(NOW, tick=False):
        # Before anything was created: nothing, although A, B, C and D exist now.
        assert figures(carol, D(2026, 10, 4))["totals"]["total"] == 0

        day = figures(carol, D(2026, 10, 6))
        assert day["totals"]["by_status"][TaskStatus.IN_PROGRESS] == 3
        assert day["totals"]["done"] == 0
        assert _units(day) == {"财政局": (2, 2, 0, "yellow"), "规划局": (1, 1, 0, "yellow")}

        # 10-09: A was done; C, due 10-08 and not yet extended, was overdue.
        day = figures(carol, D(2026, 10, 9))
        assert (day["totals"]["done"], day["totals"]["overdue"]) == (1, 1)
        assert _units(day)["规划局"] == (1, 1, 1, "red")

        # 10-10: approved at 23:30 Shanghai (15:30 UTC), so C is no longer overdue that day.
        day = figures(carol, D(2026, 10, 10))
        assert day["totals"]["overdue"] == 0
        assert _units(day)["规划局"][3] != "red"

        # 10-11: B (due within the 10 yellow days) still belonged to 财政局; C, extended to
        # 10-31, lit nothing; 10-12 B was 规划局's.
        assert _units(figures(carol, D(2026, 10, 11))) == {
            "财政局": (2, 1, 0, "yellow"),
            "规划局": (1, 1, 0, "green"),
        }
        assert _units(figures(carol, D(2026, 10, 12)))["规划局"][:2] == (2, 2)

        # D (created 10-15) is not counted the day before.
        assert figures(carol, D(2026, 10, 14))["totals"]["total"] == 3
        assert figures(carol, D(2026, 10, 15))["totals"]["total"] == 4

        # C's type as of 10-18 and 10-19.
        types = {t["task_type"]: t["total"] for t in figures(carol, D(2026, 10, 18))["types"]}
        assert types[TaskType.LONG_TERM] == 0
        types = {t["task_type"]: t["total"] for t in figures(carol, D(2026, 10, 19))["types"]}
        assert types[TaskType.LONG_TERM] == 1

        # B, due 10-20, was overdue under 规划局 on 10-22 (two days), then done on 10-23.
        day = figures(carol, D(2026, 10, 22))
        assert day["totals"]["overdue"] == 1
        [planning] = [u for u in day["units"] if u["name"] == "规划局"]
        assert (planning["overdue"], planning["days_overdue"], planning["lamp"]) == (1, 2, "red")
        assert [c["overdue"] for c in day["categories"]] == [1]
        day = figures(carol, D(2026, 10, 23))
        assert (day["totals"]["overdue"], day["totals"]["done"]) == (0, 2)

        # And today's dashboard reads today's columns.
        today = figures(carol, D(2026, 10, 26))
        assert today["totals"]["by_status"][TaskStatus.COMPLETED] == 2
        assert _units(today)["财政局"][:2] == (2, 1)  # A (done) and D


def test_the_dashboard_page_with_a_past_as_of_day(client, carol, story, finance):
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("tracker:dashboard") + "?as_of=2026-10-11")
        assert response.status_code == 200
        context = response.context
        assert context["as_of"] == D(2026, 10, 11)
        totals = context["totals"]
        assert totals["total"] == 3  # D did not exist yet
        assert totals["by_status"][TaskStatus.COMPLETED] == 1
        assert totals["by_status"][TaskStatus.IN_PROGRESS] == 2
        assert totals["overdue"] == 0
        rows = {u["name"]: (u["total"], u["open"]) for u in context["lamp_units"]}
        assert rows == {"财政局": (2, 1), "规划局": (1, 1)}
        html = response.content.decode()
        assert "2026-10-11" in html
        assert 'data-note="as-of"' in html  # says the figures are rebuilt, the lists are not
        today = client.get(reverse("tracker:dashboard") + "?as_of=2026-10-26")
        assert today.context["totals"]["total"] == 4
        assert 'data-note="as-of"' not in today.content.decode()

        # A unit's own dashboard that day counts the tasks it held then (A and B), not today's
        # (A and D), as its row on the parent dashboard did.
        response = client.get(
            reverse("tracker:dashboard") + f"?as_of=2026-10-11&owner_unit={finance.pk}"
        )
        assert response.context["totals"]["total"] == 2
        response = client.get(
            reverse("tracker:dashboard") + f"?as_of=2026-10-11&owner_unit={finance.pk}"
            f"&status={TaskStatus.IN_PROGRESS}"
        )
        assert response.context["totals"]["total"] == 1  # B, 整改中 then (已完成 now)

        # The overdue filter of a past day reads the deadline of that day too.
        response = client.get(reverse("tracker:dashboard") + "?as_of=2026-10-09&overdue=true")
        assert response.context["totals"]["total"] == 1  # C, before its extension


def test_the_summary_of_a_past_day_counts_the_same_as_that_days_dashboard(carol, story):
    """``manage.py summary --date`` reads the same rebuilt history as the dashboard."""
    from tracker.selectors import inspection_summaries

    with time_machine.travel(NOW, tick=False):
        for day, then in story["kept"].items():
            summary = inspection_summaries(today=day)
            tasks = summary["inspections"][0]["tasks"] if summary["inspections"] else None
            if then["totals"]["total"] == 0:
                assert tasks is None or tasks["total"] == 0, day
                continue
            assert tasks["by_status"] == then["totals"]["by_status"], day
            assert (tasks["total"], tasks["overdue"], tasks["no_deadline"]) == (
                then["totals"]["total"],
                then["totals"]["overdue"],
                then["totals"]["no_deadline"],
            ), day


def test_a_past_days_figures_stay_cached_through_todays_work(carol, story):
    """Later work cannot change a past day (it is undone from history), so its cached figures
    survive it; today's are never cached (they come from the tallies kept with each change)."""
    from tracker.selectors import dashboard_key

    scope = access_for(carol).tasks()
    with time_machine.travel(NOW, tick=False):
        past = dashboard_key(scope, D(2026, 10, 12))
        selectors.dashboard(scope, D(2026, 10, 12))
        assert cache.get(past) is not None
        actions.record_note(story["tasks"]["D"], "今天的进展", actions.Actor.of(carol))
        assert dashboard_key(scope, D(2026, 10, 12)) == past
        assert cache.get(past) is not None
        assert selectors.dashboard(scope, NOW.date())["source"] == "scan"  # never cached
        assert figures(carol, D(2026, 10, 12)) == story["kept"][D(2026, 10, 12)]
