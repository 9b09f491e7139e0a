"""Today's dashboard figures on ``make run``'s SQLite, as on PostgreSQL.

The rest of the suite runs on PostgreSQL; this story runs in a subprocess against a fresh SQLite
file (``tests/test_reminders_sqlite.py``'s laptop): the figures are rolled on the first read
(SQLite has no table locks: one writing transaction at a time), kept by a change, read raw
(SQLite gives dates as text, the oldest overdue deadline among them) and equal to the scan.
"""

from __future__ import annotations

from tests.test_reminders_sqlite import laptop, run  # noqa: F401 - the fixture

STORY = """
import datetime
from django.contrib.auth import get_user_model
from django.db.models import Q
from tests import factories
from tracker import actions, aggregates, selectors
from tracker.selectors import rankings
from tracker.models import FigureDay, local_today

org = factories.make_org()
finance = factories.make_unit(org, "财政局", "finance@example.org")
inspection = factories.make_inspection(org, feedback=datetime.date(2026, 9, 1))
today = local_today()
late = factories.make_task(inspection, owner=finance, deadline=today - datetime.timedelta(days=9))
factories.make_task(inspection, owner=finance, deadline=today - datetime.timedelta(days=3))
factories.make_task(inspection, owner=finance, deadline=today + datetime.timedelta(days=5))
nobody = factories.make_unit(org, "规划局")  # no contact: among the units nobody can email
factories.make_task(inspection, owner=nobody, deadline=today + datetime.timedelta(days=40))
tasks = __import__("tracker.models", fromlist=["Task"]).Task.objects.all()
everything = Q(pk__isnull=False)


def both():
    figured = selectors.dashboard(tasks, today, tally=everything, day_tally=everything, figure=everything)
    scanned = selectors.dashboard(tasks, today, use_cache=False)
    assert figured["source"] == "figures", figured["source"]
    for part in ("totals", "units", "inspections", "categories", "types", "history"):
        assert figured[part] == scanned[part], (part, figured[part], scanned[part])
    # The page's first rows, ranked by SQLite's window functions: what a sort of every row lists.
    ranked = selectors.dashboard(
        tasks, today, tally=everything, day_tally=everything, figure=everything, shown=(1, 1)
    )
    assert rankings.first_rows(ranked, 1, 1) == rankings.first_rows(figured, 1, 1), ranked
    assert ranked["unit_counts"] == rankings.lamp_counts(figured["units"]), ranked["unit_counts"]
    assert ranked["no_contact"] == figured["no_contact"] != [], ranked["no_contact"]
    return figured


first = both()
assert FigureDay.objects.get().day == today
unit = first["units"][0]
assert (unit["overdue"], unit["longest_overdue"], unit["days_overdue"]) == (2, 9, 12), unit
actions.admin_set_status(late, "completed", factories.SYSTEM, reason="核实已完成")
after = both()
assert after["units"][0]["longest_overdue"] == 3, after["units"][0]
assert aggregates.differences() == []
# The page itself, as `make run` serves it.
from django.test import Client
boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "a-long-pass-phrase")
browser = Client()
browser.force_login(boss)
page = browser.get("/dashboard/", HTTP_HOST="localhost")
assert page.status_code == 200, page.status_code
assert "规划局" in page.content.decode() and 'data-figure="no_contact_open"' in page.content.decode()
print("FIGURES-OK", after["totals"]["overdue"])
"""


def test_todays_figures_on_sqlite_roll_keep_and_equal_the_scan(laptop):  # noqa: F811
    env, _var = laptop
    run(env, "migrate", "--noinput")
    out = run(env, "shell", "-c", STORY)
    assert "FIGURES-OK 1" in out
