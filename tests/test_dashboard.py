"""The supervisors' dashboard: every figure against a hand-computed story, every figure's link
reproducing it through the one TaskFilterSet, scope, history, and a constant number of queries.

The story, judged on 2026-11-01 in Asia/Shanghai (the inspection's deadline day):
  财政局  t1 in progress, due today (not overdue)   t2 in progress, due 10-31 (overdue 1 day)
          t3 completed                              t8 not started, 立行立改, due 11-10
  规划局  t4 closed                                 t5 basically completed, due 10-25 (overdue 7 days)
          t6 长期坚持, report due
  本级    t7 not started, no deadline
"""

from __future__ import annotations

import datetime
import zoneinfo
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tracker import actions
from tracker.choices import TaskStatus, TaskType
from tracker.filtersets import TaskFilterSet
from tracker.permissions import access_for
from tracker.selectors import trend

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Half past midnight in Shanghai is still 10-31 in UTC: a UTC "today" would get t1/t2 wrong.
JUST_AFTER_MIDNIGHT = datetime.datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI)
D = datetime.date


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def story(org, inspection, finance, planning):
    main = factories.make_category(inspection, "关于落实主体责任方面")
    other = factories.make_category(inspection, "关于作风建设方面")
    with time_machine.travel(datetime.datetime(2026, 7, 1, 9, tzinfo=SHANGHAI), tick=False):
        # Created in July: its 90-day report fell due on 2026-09-29.
        t6 = factories.make_task(
            inspection, owner=planning, task_type=TaskType.LONG_TERM, deadline=None
        )
    t = {
        "t1": factories.make_task(
            inspection, owner=finance, deadline=D(2026, 11, 1), category=main
        ),
        "t2": factories.make_task(
            inspection, owner=finance, deadline=D(2026, 10, 31), category=main
        ),
        "t3": factories.make_task(
            inspection,
            owner=finance,
            deadline=D(2026, 10, 1),
            status=TaskStatus.COMPLETED,
            category=other,
        ),
        "t4": factories.make_task(
            inspection, owner=planning, deadline=D(2026, 11, 20), status=TaskStatus.CLOSED
        ),
        "t5": factories.make_task(
            inspection,
            owner=planning,
            deadline=D(2026, 10, 25),
            status=TaskStatus.BASICALLY_COMPLETED,
        ),
        "t6": t6,
        "t7": factories.make_task(inspection, deadline=None, status=TaskStatus.NOT_STARTED),
        "t8": factories.make_task(
            inspection,
            owner=finance,
            deadline=D(2026, 11, 10),
            status=TaskStatus.NOT_STARTED,
            task_type=TaskType.IMMEDIATE,
        ),
    }
    inspection.declared = {"problems": 10}
    inspection.save()
    return t


def open_dashboard(client, user, query: str = ""):
    client.force_login(user)
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        response = client.get(reverse("tracker:dashboard") + query)
    assert response.status_code == 200
    return response


def drill(user, url: str) -> set[int]:
    """The task ids the task list shows for a drill-down URL (same filterset, same scope)."""
    access = access_for(user)
    query = QueryDict(urlsplit(url).query)
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        filterset = TaskFilterSet(query, queryset=access.tasks(), access=access)
        return set(filterset.qs.values_list("pk", flat=True))


def ids(story, *names) -> set[int]:
    return {story[n].pk for n in names}


def test_supervisor_sees_the_totals_judged_on_shanghai_today(client, carol, story):
    response = open_dashboard(client, carol)
    totals = response.context["totals"]
    assert totals["total"] == 8
    assert totals["by_status"] == {
        "not_started": 2,
        "in_progress": 3,
        "basically_completed": 1,
        "completed": 1,
        "closed": 1,
    }
    assert totals["done"] == 2
    assert totals["completion_rate"] == 25.0
    assert totals["basically_completed"] == 1
    assert totals["not_completed"] == 5
    # t2 (due yesterday) and t5 (basically completed, due 10-25); t1 due today is not overdue.
    assert totals["overdue"] == 2
    assert totals["due_7"] == 1  # t1
    assert totals["due_30"] == 2  # t1, t8
    assert totals["no_deadline"] == 1  # t7
    assert totals["report_due"] == 1  # t6
    assert response.context["as_of"] == D(2026, 11, 1)


def test_every_total_links_to_the_tasks_that_make_it(client, carol, story):
    links = open_dashboard(client, carol).context["links"]
    assert drill(carol, links["total"]) == {t.pk for t in story.values()}
    assert drill(carol, links["done"]) == ids(story, "t3", "t4")
    assert drill(carol, links["overdue"]) == ids(story, "t2", "t5")
    assert drill(carol, links["due_7"]) == ids(story, "t1")
    assert drill(carol, links["due_30"]) == ids(story, "t1", "t8")
    assert drill(carol, links["no_deadline"]) == ids(story, "t7")
    assert drill(carol, links["report_due"]) == ids(story, "t6")
    assert drill(carol, links["not_completed"]) == ids(story, "t1", "t2", "t6", "t7", "t8")
    assert drill(carol, links["basically_completed"]) == ids(story, "t5")


def test_units_are_lit_red_first_and_ranked_by_overdue_days(client, carol, story, finance):
    context = open_dashboard(client, carol).context
    rows = [
        (u["name"], u["lamp"], u["total"], u["open"], u["overdue"]) for u in context["lamp_units"]
    ]
    assert rows == [
        ("财政局", "red", 4, 3, 1),
        ("规划局", "red", 3, 2, 1),
        ("中共测试开发区工作委员会", "green", 1, 1, 0),
    ]
    assert [(u["name"], u["days_overdue"], u["longest_overdue"]) for u in context["by_days"]] == [
        ("规划局", 7, 7),
        ("财政局", 1, 1),
    ]
    finance_row = context["lamp_units"][0]
    assert finance_row["due_soon"] == 2  # t1 and t8 within the 10 yellow days
    assert drill(carol, finance_row["links"]["overdue"]) == ids(story, "t2")
    assert drill(carol, finance_row["links"]["open"]) == ids(story, "t1", "t2", "t8")
    assert drill(carol, finance_row["links"]["total"]) == ids(story, "t1", "t2", "t3", "t8")


def test_inspection_row_compares_declared_with_tracked(client, carol, story, inspection):
    [row] = open_dashboard(client, carol).context["inspections"]
    assert (row["declared"], row["total"], row["declared_gap"]) == (10, 8, 2)
    assert (row["done"], row["completion_rate"], row["overdue"], row["lamp"]) == (
        2,
        25.0,
        2,
        "red",
    )
    assert drill(carol, row["links"]["overdue"]) == ids(story, "t2", "t5")


def test_breakdown_by_category_and_type_with_links(client, carol, story):
    context = open_dashboard(client, carol).context
    categories = {c["title"]: c for c in context["categories"]}
    assert {k: (v["total"], v["done"], v["overdue"]) for k, v in categories.items()} == {
        "": (5, 1, 1),
        "关于落实主体责任方面": (2, 0, 1),
        "关于作风建设方面": (1, 1, 0),
    }
    assert drill(carol, categories["关于落实主体责任方面"]["links"]["total"]) == ids(
        story, "t1", "t2"
    )
    assert drill(carol, categories[""]["links"]["total"]) == ids(
        story, "t4", "t5", "t6", "t7", "t8"
    )
    types = {t["task_type"]: t for t in context["types"]}
    assert {k: (v["total"], v["overdue"], v["report_due"]) for k, v in types.items()} == {
        "immediate": (1, 0, 0),
        "deadline": (6, 2, 0),
        "long_term": (1, 0, 1),
    }
    assert drill(carol, types["long_term"]["links"]["report_due"]) == ids(story, "t6")


def test_scope_and_as_of_day_are_url_parameters(client, carol, story, finance):
    # A week later t1 and t8's neighbours change: t1 is overdue too, due-within counts move.
    context = open_dashboard(client, carol, f"?unit={finance.pk}&as_of=2026-11-08").context
    totals = context["totals"]
    assert totals["total"] == 4
    assert totals["overdue"] == 2  # t1, t2
    assert totals["due_7"] == 1  # t8 (11-10)
    assert drill(carol, context["links"]["overdue"]) == ids(story, "t1", "t2")
    assert "as_of=2026-11-08" in context["links"]["overdue"]


def test_a_clerk_sees_only_their_units_and_an_outsider_gets_404(client, alice, mallory, story):
    totals = open_dashboard(client, alice).context["totals"]
    assert totals["total"] == 4  # 财政局's tasks only
    client.force_login(mallory)
    assert client.get(reverse("tracker:dashboard")).status_code == 404
    client.logout()
    assert client.get(reverse("tracker:dashboard")).status_code == 302  # to the login page


def test_completion_over_time_is_rebuilt_from_history(carol, inspection, finance):
    system = factories.SYSTEM
    week = datetime.timedelta(weeks=1)
    start = datetime.datetime(2026, 10, 5, 10, tzinfo=SHANGHAI)  # a Monday
    with time_machine.travel(start, tick=False):
        a = factories.make_task(inspection, owner=finance)
        b = factories.make_task(inspection, owner=finance)
    with time_machine.travel(start + week, tick=False):
        actions.change_status(a, TaskStatus.COMPLETED, system)
        actions.change_status(b, TaskStatus.COMPLETED, system)
    with time_machine.travel(start + 2 * week, tick=False):
        actions.change_status(b, TaskStatus.IN_PROGRESS, system)  # reopened after a re-check
        factories.make_task(inspection, owner=finance)

    history = trend.completion_history(access_for(carol).tasks(), D(2026, 10, 26), weeks=4)
    # Weeks end on the as-of day (Mondays): 10-05, 10-12, 10-19, 10-26.
    assert [(r["week_end"], r["total"], r["done"]) for r in history] == [
        (D(2026, 10, 5), 2, 0),
        (D(2026, 10, 12), 2, 2),
        (D(2026, 10, 19), 3, 1),
        (D(2026, 10, 26), 3, 1),
    ]
    assert history[-1]["completion_rate"] == 33.33


def test_a_change_is_on_the_dashboard_at_once_despite_the_cache(client, carol, story):
    assert open_dashboard(client, carol).context["totals"]["done"] == 2
    actions.change_status(story["t1"], TaskStatus.COMPLETED, factories.SYSTEM)
    assert open_dashboard(client, carol).context["totals"]["done"] == 3


def test_query_count_does_not_grow_with_tasks_units_or_inspections(client, carol, org, story):
    ctx_log: list = []

    def count_queries() -> int:
        cache.clear()
        client.force_login(carol)
        with (
            CaptureQueriesContext(connection) as ctx,
            time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False),
        ):
            assert client.get(reverse("tracker:dashboard")).status_code == 200
        ctx_log[:] = ctx.captured_queries
        return len(ctx.captured_queries)

    count_queries()  # the day's first read judges today's figures (tracker.figures.roll)
    before = count_queries()
    second = factories.make_inspection(org, feedback=D(2026, 8, 1))
    for n in range(6):
        unit = factories.make_unit(org, f"新单位{n}")
        factories.make_task(second, owner=unit, category=factories.make_category(second))
    assert count_queries() == before
    assert before <= 24, "\n".join(q["sql"][:150] for q in ctx_log)


def test_charts_come_from_the_vendored_echarts_with_tables_beneath(client, carol, story):
    from django.contrib.staticfiles import finders

    html = open_dashboard(client, carol).content.decode()
    assert "/static/tracker/echarts-5.6.0.min.js" in html
    assert "cdn" not in html.lower()
    assert finders.find("tracker/echarts-5.6.0.min.js")
    assert 'id="dashboard-data"' in html
    # Each chart is followed by its accessible table with a caption.
    assert html.count('aria-hidden="true"') == html.count('class="chart"') == 5
    assert html.count("<caption>") >= 7


def test_units_nobody_can_be_emailed_are_listed_with_their_open_tasks(
    client, carol, org, inspection, finance
):
    # Given 档案馆 has two open tasks and one done, no contact address and no member; 财政局
    # has a contact address; a contactless unit of another organization has an open task too
    archive = factories.make_unit(org, "档案馆", "")
    open_ones = {factories.make_task(inspection, owner=archive).pk for _ in range(2)}
    factories.make_task(inspection, owner=archive, status=TaskStatus.COMPLETED)
    factories.make_task(inspection, owner=finance)
    elsewhere = factories.make_org("中共别处委员会")
    factories.make_task(
        factories.make_inspection(elsewhere), owner=factories.make_unit(elsewhere, "别处档案室")
    )

    # When carol (supervisor of her organization) opens the dashboard
    context = open_dashboard(client, carol).context

    # Then only 档案馆 is listed, with its two open tasks, and the figure drills into them
    assert [(u["name"], u["open_tasks"]) for u in context["no_contact"]] == [("档案馆", 2)]
    assert drill(carol, context["no_contact"][0]["links"]["open"]) == open_ones
    assert "无联系人的单位" in context["body"]
    # ... in its row (written in Python: tracker/templatetags/dashboard_rows.py), linked
    link = context["no_contact"][0]["links"]["open"].replace("&", "&amp;")
    assert (
        f'<tr><th scope="row">档案馆</th><td>{org.name}</td><td><a href="{link}" '
        'data-figure="no_contact_open">2</a></td></tr>'
    ) in context["body"]
    # and the trend's table has a row per week end: tasks, done, rate
    for week in context["history"]:
        rate = "—" if week["completion_rate"] is None else f"{week['completion_rate']:.2f}%"
        assert (
            f'<tr><th scope="row">{week["week_end"]:%Y-%m-%d}</th><td>{week["total"]}</td>'
            f"<td>{week['done']}</td><td>{rate}</td></tr>"
        ) in context["body"]


def test_the_unit_and_inspection_tables_link_every_figure_and_escape_every_name(
    client, carol, story, finance, org
):
    """The long tables are written in Python (tracker/templatetags/dashboard_rows.py): each
    row's figures link to their task list, names are escaped, a supervisor's inspection rows
    carry the notice and report links, and the chosen organization stays selected."""
    finance.name = "财政局<b>&"
    finance.save()
    context = open_dashboard(client, carol, f"?organization={org.pk}").context
    html = context["body"]
    unit = next(u for u in context["lamp_units"] if u["id"] == finance.pk)
    row = next(
        line for line in html.splitlines() if "财政局&lt;b&gt;&amp;" in line and "lamp-" in line
    )
    assert "财政局<b>" not in html
    for link in ("dashboard", "total", "open", "overdue", "due_soon"):
        assert f'href="{unit["links"][link].replace("&", "&amp;")}"' in row, link
    assert f">{unit['overdue']}</a>" in row and '<td data-figure="ladder">' in row
    inspection = context["inspections"][0]
    assert f'href="{inspection["links"]["notice_docx"]}"' in html
    assert f'href="{inspection["links"]["report_docx"]}"' in html
    page = client.get(reverse("tracker:dashboard") + f"?organization={org.pk}").content.decode()
    assert f'<option value="{org.pk}" selected>' in page


@pytest.mark.parametrize(
    "scope",
    [
        "",
        "organization=4&status=in_progress",
        "owner_unit=3&owner_unit=9&sort=lamp",  # the row's own parameter is the scope's too
        "category_title=owner_unit%3D987654321",  # the stand-in's pair inside a value
    ],
)
def test_a_link_per_row_is_the_link_the_drill_would_encode_for_it(scope):
    """The unit and inspection tables' links are encoded once per kind with a stand-in id and
    the row's id put in its place: the same URL as encoding each row's own, whatever the
    scope."""
    from tracker.views.dashboard import OPEN_STATUSES, Drill

    drill = Drill(QueryDict(scope), "/")
    for params in ({}, {"status": OPEN_STATUSES}, {"overdue": "true"}, {"due_within": 10}):
        per_row = drill.per_id("owner_unit", **params)
        for pk in (1, 42, 987654321):
            assert per_row(pk) == drill(owner_unit=pk, **params)
