"""The dashboard tallies: kept by the actions in the same transaction as each change, equal to
live counts after any sequence of changes, and giving the dashboard the same figures as a scan
of the tasks, for every persona and filter, with a number of queries that does not grow.

Story (judged on 2026-11-01 in Asia/Shanghai): an organization with three units and two
inspections; tasks of every status, type and deadline kind, some under a category, one under a
sub-problem (its category is the grandparent), one without a category.
"""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.queries import without_badges
from tracker import actions, aggregates, selectors
from tracker.actions.fields import NewTask
from tracker.choices import ProblemKind, ScopeRole, TaskStatus, TaskType
from tracker.filtersets import TaskFilterSet
from tracker.models import (
    FigureDay,
    Problem,
    ScopeAssignment,
    Task,
    TaskDayTally,
    TaskTally,
    local_today,
)
from tracker.permissions import access_for

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 1, 9, tzinfo=SHANGHAI)
D = datetime.date
SYSTEM = factories.SYSTEM


@pytest.fixture
def world(org, inspection, finance, planning):
    """Tasks created over several weeks and moved about, so the trend has history."""
    other = factories.make_inspection(org, feedback=D(2026, 8, 1), group="省委第三巡视组")
    education = factories.make_unit(org, "教育局")
    main = factories.make_category(inspection, "关于落实主体责任方面")
    style = factories.make_category(other, "关于作风建设方面")
    sub = Problem.objects.create(
        inspection=inspection, parent=main, kind=ProblemKind.PROBLEM, title="子问题", order=99
    )
    tasks = []
    with time_machine.travel(datetime.datetime(2026, 9, 10, 9, tzinfo=SHANGHAI), tick=False):
        tasks.append(factories.make_task(inspection, owner=finance, category=main))
        tasks.append(
            factories.make_task(
                other, owner=planning, task_type=TaskType.LONG_TERM, deadline=None, category=style
            )
        )
        tasks.append(factories.make_task(inspection, owner=education, category=sub))
    with time_machine.travel(datetime.datetime(2026, 10, 5, 9, tzinfo=SHANGHAI), tick=False):
        tasks.append(
            factories.make_task(other, owner=finance, status=TaskStatus.COMPLETED, category=style)
        )
        tasks.append(factories.make_task(inspection, owner=planning, deadline=D(2026, 10, 20)))
        tasks.append(factories.make_task(inspection, owner=finance, deadline=None))
        actions.admin_set_status(tasks[0], TaskStatus.BASICALLY_COMPLETED, SYSTEM)
    with time_machine.travel(datetime.datetime(2026, 10, 20, 9, tzinfo=SHANGHAI), tick=False):
        actions.admin_set_status(tasks[4], TaskStatus.CLOSED, SYSTEM)
        actions.change_deadline(tasks[2], D(2026, 11, 5), SYSTEM)
        tasks.append(
            factories.make_task(
                other, owner=education, task_type=TaskType.IMMEDIATE, deadline=D(2026, 10, 25)
            )
        )
    return {
        "tasks": tasks,
        "units": (finance, planning, education),
        "inspections": (inspection, other),
        "categories": (main, style, sub),
    }


def _admin():
    return get_user_model().objects.create_superuser("root", "root@example.org", "x")


def _both(user, query: dict | None = None, day: D | None = None):
    """The dashboard figures by the tally path (None if not expressible) and by the scan."""
    access = access_for(user)
    data = QueryDict(mutable=True)
    for name, value in (query or {}).items():
        data.setlist(name, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    fs = TaskFilterSet(data or None, queryset=access.tasks(), access=access, as_of_values=True)
    tasks = fs.qs
    today = day or fs.today()
    scan = selectors.dashboard(tasks, today, use_cache=False)
    scope, narrowed, narrowed_day = access.tally_q(), fs.tally_q(), fs.tally_q(day=True)
    if scope is None or narrowed is None:
        return None, scan
    tally = selectors.dashboard(
        tasks,
        today,
        tally=scope & narrowed,
        day_tally=None if narrowed_day is None else scope & narrowed_day,
    )
    assert tally["source"] == "tallies"
    figure_q = fs.figure_q()
    if figure_q is not None:
        # Today's figures (tracker.figures), where the filters can be said there: the same.
        figured = selectors.dashboard(
            tasks,
            today,
            tally=scope & narrowed,
            day_tally=None if narrowed_day is None else scope & narrowed_day,
            figure=scope & figure_q,
        )
        assert figured["source"] == ("figures" if today == local_today() else "tallies")
        assert _figures(figured) == _figures(tally), (user.username, query)
    return tally, scan


def _figures(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "source"}


def test_creating_and_changing_tasks_keeps_the_tallies_equal_to_live_counts(world):
    assert aggregates.differences() == []
    assert sum(TaskTally.objects.values_list("n", flat=True)) == Task.objects.count()
    # The sub-problem's task counts under the top-level category, like the dashboard always did.
    main, _style, sub = world["categories"]
    assert world["tasks"][2].category_id == main.pk
    assert Task.objects.filter(category=main).count() == 2


def test_a_rolled_back_change_rolls_its_counts_back(world, planning):
    before = dict(TaskTally.objects.values_list("key", "n"))
    task = world["tasks"][0]
    with pytest.raises(actions.ActionError):
        # The owner moves, then the status is refused: the whole change is undone.
        from django.db import transaction

        with transaction.atomic():
            actions.change_owner(task, planning, SYSTEM)
            actions.change_status(task, "nonsense", SYSTEM)
    assert dict(TaskTally.objects.values_list("key", "n")) == before
    assert aggregates.differences() == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"level": "provincial"},
        {"status": ["in_progress", "not_started"]},
        {"task_type": ["long_term"]},
        {"overdue": "true"},
        {"overdue": "false"},
        {"due_within": "7"},
        {"due_within": "30"},
        {"no_deadline": "true"},
        {"report_due": "true"},
        {"uncategorized": "true"},
        {"uncategorized": "false"},
        {"category_title": "关于作风建设方面"},
        {"as_of": "2026-11-01"},
        {"as_of": "2026-12-15"},
        {"sort": "deadline"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "all",
)
def test_the_tallies_give_the_scans_figures_for_every_persona_and_filter(
    query, world, carol, dave, alice, bob, eve, mallory, org
):
    inspection, other = world["inspections"]
    scoped = get_user_model().objects.create_user("iris")
    ScopeAssignment.objects.create(user=scoped, role=ScopeRole.SUPERVISOR, inspection=other)
    with time_machine.travel(NOW, tick=False):
        for user in (carol, dave, _admin(), scoped):
            tally, scan = _both(user, query)
            assert tally is not None, user
            assert _figures(tally) == _figures(scan), (user, query)
        # Unit members' tasks include what they lead or carry: scanned, never tallied.
        for user in (alice, bob, eve):
            assert access_for(user).tally_q() is None
        assert access_for(mallory).tally_q() is not None  # nothing at all: an empty Q


def test_the_tallies_give_the_scans_figures_for_chosen_objects(world, carol):
    inspection, other = world["inspections"]
    finance, _planning, education = world["units"]
    main, style, _sub = world["categories"]
    queries = [
        {"organization": inspection.organization_id},
        {"inspection": other.pk},
        {"owner_unit": finance.pk},
        {"owner_unit": education.pk, "overdue": "true"},
        {"category": main.pk},
        {"category": style.pk, "status": ["completed"]},
    ]
    with time_machine.travel(NOW, tick=False):
        for query in queries:
            tally, scan = _both(carol, query)
            assert tally is not None, query
            assert _figures(tally) == _figures(scan), query


def test_todays_figures_answer_the_whole_install_an_organization_and_an_inspection(world, carol):
    """The all-organizations dashboard and its organization, level and inspection choices read
    today's figures (tracker.figures); an owner, a type, a status or a deadline rule reads the
    tallies. Either way the figures are the scan's (``_both`` compares all three)."""
    inspection, other = world["inspections"]
    finance = world["units"][0]
    access = access_for(carol)
    with time_machine.travel(NOW, tick=False):
        for query in (
            {},
            {"level": "provincial"},
            {"organization": inspection.organization_id},
            {"inspection": other.pk},
            {"as_of": "2026-11-01"},
        ):
            data = QueryDict(mutable=True)
            data.update(query)
            fs = TaskFilterSet(data, queryset=access.tasks(), access=access, as_of_values=True)
            assert fs.figure_q() is not None, query
            tally, scan = _both(carol, query)
            assert _figures(tally) == _figures(scan), query
            assert selectors.dashboard_for(access, fs)["source"] == "figures", query
        for query in ({"owner_unit": finance.pk}, {"task_type": "long_term"}, {"overdue": "true"}):
            data = QueryDict(mutable=True)
            data.update(query)
            fs = TaskFilterSet(data, queryset=access.tasks(), access=access, as_of_values=True)
            assert fs.figure_q() is None, query
            assert selectors.dashboard_for(access, fs)["source"] == "tallies", query


def test_the_first_read_of_a_new_day_judges_the_figures_for_it(world, carol):
    """Figures judged on 1 November; five days later a change comes before anyone reads the
    dashboard (it is judged for the day the figures hold, so they stay consistent), then the
    first read rolls them: a task whose deadline (5 November) passed meanwhile is overdue."""
    access = access_for(carol)

    def read():
        fs = TaskFilterSet(None, queryset=access.tasks(), access=access, as_of_values=True)
        return selectors.dashboard_for(access, fs)

    with time_machine.travel(NOW, tick=False):
        before = read()
    assert FigureDay.objects.get().day == D(2026, 11, 1)
    later = NOW + datetime.timedelta(days=5)
    with time_machine.travel(later, tick=False):
        actions.change_report_due(world["tasks"][1], D(2026, 12, 30), SYSTEM)
        assert aggregates.differences() == []  # as judged on 1 November
        after = read()
        _tally, scan = _both(carol)
    assert FigureDay.objects.get().day == D(2026, 11, 6)
    assert after["source"] == "figures"
    assert _figures(after) == _figures(scan)
    assert after["totals"]["overdue"] > before["totals"]["overdue"]  # 5 November has passed


def test_a_changed_due_soon_window_judges_the_figures_again(world, carol, settings):
    access = access_for(carol)
    with time_machine.travel(NOW, tick=False):
        fs = TaskFilterSet(None, queryset=access.tasks(), access=access, as_of_values=True)
        selectors.dashboard_for(access, fs)
        settings.RECTIFY = {**settings.RECTIFY, "LAMP_YELLOW_DAYS": 30}
        data = selectors.dashboard_for(access, fs)
        _tally, scan = _both(carol)
    assert FigureDay.objects.get().yellow_days == 30
    assert data["source"] == "figures" and _figures(data) == _figures(scan)


def test_the_nightly_task_rolls_the_figures_once(world):
    from tracker.tasks import roll_figures

    with time_machine.travel(NOW, tick=False):
        # (Inside the test's transaction VACUUM cannot run: the next story tidies.)
        assert roll_figures() == {"day": "2026-11-01", "rolled": True, "tidied": False}
        assert roll_figures() == {"day": "2026-11-01", "rolled": False, "tidied": False}
        assert aggregates.differences() == []


@pytest.mark.django_db(transaction=True)
def test_the_nightly_roll_leaves_no_dead_rows_in_the_figure_tables():
    """Where autovacuum is off or late, the rows a roll and the day's changes replaced would
    stay for every dashboard read to scan past: the nightly task vacuums the figure tables."""
    from tracker import figures

    if connection.vendor != "postgresql":
        assert figures.tidy() is False
        return
    org = factories.make_org()
    inspection = factories.make_inspection(org, feedback=datetime.date(2026, 9, 1))
    unit = factories.make_unit(org, "财政局")
    for n in range(5):
        factories.make_task(inspection, owner=unit, title=f"问题{n}")
    figures.roll(*figures.wanted(), force=True)  # every row rewritten: the old ones are dead
    assert figures.tidy() is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_dead_tup, last_vacuum IS NOT NULL FROM pg_stat_user_tables"
            " WHERE relname IN ('tracker_groupfigure', 'tracker_typefigure',"
            " 'tracker_categoryfigure') ORDER BY relname"
        )
        rows = cursor.fetchall()
    assert [(name, dead, vacuumed) for name, dead, vacuumed in rows] == [
        ("tracker_categoryfigure", 0, True),
        ("tracker_groupfigure", 0, True),
        ("tracker_typefigure", 0, True),
    ]


def test_filters_the_tallies_cannot_express_fall_back_to_the_scan(world, carol):
    finance = world["units"][0]
    with time_machine.travel(NOW, tick=False):
        for query in ({"unit": finance.pk}, {"q": "落实"}, {"as_of": "2026-10-10"}):
            tally, scan = _both(carol, query)
            assert tally is None, query
            assert scan["source"] == "scan"
        # The trend cannot be narrowed by status: the figures are tallied, the trend replayed.
        access = access_for(carol)
        data = QueryDict("status=completed")
        fs = TaskFilterSet(data, queryset=access.tasks(), access=access, as_of_values=True)
        assert fs.tally_q() is not None and fs.tally_q(day=True) is None


def test_the_trend_from_day_tallies_equals_the_history_replay(world, carol):
    with time_machine.travel(NOW, tick=False):
        tally, scan = _both(carol)
    assert tally["history"] == scan["history"]
    assert [r["total"] for r in tally["history"][-9:]] == [0, 3, 3, 3, 3, 6, 6, 7, 7]
    assert tally["history"][-1]["done"] == 2


def test_a_renamed_unit_shows_on_the_dashboard_at_once(client, world, carol):
    finance = world["units"][0]
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        names = {u["name"] for u in client.get(reverse("tracker:dashboard")).context["lamp_units"]}
        assert "财政局" in names
        finance.name = "财政局(新)"
        finance.save()
        names = {u["name"] for u in client.get(reverse("tracker:dashboard")).context["lamp_units"]}
    assert "财政局(新)" in names and "财政局" not in names


def test_a_change_shows_at_once_and_the_tally_path_reads_no_task_row(client, world, carol):
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        before = client.get(reverse("tracker:dashboard")).context["totals"]["done"]
        actions.admin_set_status(world["tasks"][0], TaskStatus.COMPLETED, SYSTEM)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("tracker:dashboard"))
    assert response.context["totals"]["done"] == before + 1
    sqls = without_badges([q["sql"] for q in ctx.captured_queries])
    # The 签收超期 figure reads the partial index of tasks awaiting acknowledgement
    # (task_awaiting_ack): the few tasks not signed for, never the task table at large.
    scans = [
        sql
        for sql in sqls
        if 'FROM "tracker_task"' in sql and '"acknowledged_at" IS NULL' not in sql
    ]
    assert scans == []


def test_the_dashboards_query_count_is_constant_in_the_number_of_tasks(client, world, carol):
    inspection, other = world["inspections"]

    def count() -> int:
        client.force_login(carol)
        with (
            CaptureQueriesContext(connection) as ctx,
            time_machine.travel(NOW, tick=False),
        ):
            assert client.get(reverse("tracker:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    count()  # the day's first read judges today's figures (tracker.figures.roll)
    before = count()
    for n in range(12):
        unit = factories.make_unit(inspection.organization, f"新单位{n}")
        with time_machine.travel(NOW - datetime.timedelta(days=n * 3), tick=False):
            factories.make_task(
                other if n % 2 else inspection,
                owner=unit,
                category=factories.make_category(inspection),
                status=[TaskStatus.NOT_STARTED, TaskStatus.COMPLETED][n % 2],
            )
    assert count() == before


def test_check_aggregates_finds_a_difference_and_rebuild_repairs_it(world):
    out = io.StringIO()
    call_command("check_aggregates", stdout=out)
    assert "agree" in out.getvalue()
    row = TaskTally.objects.filter(n__gt=0).first()
    TaskTally.objects.filter(pk=row.pk).update(n=row.n + 5)
    TaskDayTally.objects.filter(pk=TaskDayTally.objects.first().pk).update(created=99)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("check_aggregates", stdout=out, stderr=io.StringIO())
    assert exited.value.code == 1
    assert f"TaskTally {row.key}: stored {row.n + 5}, live {row.n}" in out.getvalue()
    assert "TaskDayTally" in out.getvalue()
    call_command("rebuild_aggregates", stdout=io.StringIO())
    assert aggregates.differences() == []
    assert not TaskTally.objects.filter(n=0).exists()


def test_the_trends_past_days_are_read_once_a_day_and_again_after_a_rebuild(
    world, carol, django_capture_on_commit_callbacks
):
    """No change writes a past day's trend row, so its sums are cached per scope and day; a
    rebuild (the one thing that rewrites them) makes the next read take them afresh."""
    access = access_for(carol)

    def trend():
        fs = TaskFilterSet(None, queryset=access.tasks(), access=access, as_of_values=True)
        return selectors.dashboard_for(access, fs)["history"]

    with time_machine.travel(NOW, tick=False):
        before = trend()
        past = TaskDayTally.objects.filter(day__lt=NOW.date()).order_by("day").first()
        TaskDayTally.objects.filter(pk=past.pk).update(created=past.created + 40)
        assert trend() == before  # read from the cache: the row is not read again
        cache.clear()  # as on another day
        assert trend()[-1]["total"] == before[-1]["total"] + 40  # the row as it now is
        with django_capture_on_commit_callbacks(execute=True):
            call_command("rebuild_aggregates", stdout=io.StringIO())
        assert trend() == before  # rebuilt from history, read afresh the same day


def test_rebuild_gives_what_the_actions_kept(world):
    kept = set(TaskTally.objects.exclude(n=0).values_list("key", "n"))
    days = set(
        TaskDayTally.objects.exclude(created=0, done=0).values_list("key", "created", "done")
    )
    aggregates.rebuild()
    assert set(TaskTally.objects.values_list("key", "n")) == kept
    assert set(TaskDayTally.objects.values_list("key", "created", "done")) == days


def test_bulk_created_tasks_are_counted_with_one_upsert_per_key(inspection, finance):
    problems = [
        Problem.objects.create(inspection=inspection, title=f"批量{n}", order=n) for n in range(5)
    ]
    with CaptureQueriesContext(connection) as ctx:
        actions.create_tasks(
            [
                NewTask(problem=p, owner_unit=finance, deadline=inspection.deadline)
                for p in problems
            ],
            SYSTEM,
        )
    upserts = [q for q in ctx.captured_queries if "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 2  # one statement per table, one row per distinct key
    assert TaskTally.objects.get().n == 5
    assert aggregates.differences() == []


def test_a_problem_with_tasks_cannot_be_moved_in_the_tree_in_the_admin(client, world):
    main, style, sub = world["categories"]
    client.force_login(_admin())
    for problem in (main, sub):  # a category above a task, and a sub-problem above one
        page = client.get(reverse("admin:tracker_problem_change", args=[problem.pk]))
        fields = page.context["adminform"].form.fields
        assert "parent" not in fields and "inspection" not in fields
    empty = Problem.objects.create(inspection=world["inspections"][0], title="空方面", order=1)
    page = client.get(reverse("admin:tracker_problem_change", args=[empty.pk]))
    assert "parent" in page.context["adminform"].form.fields


# --- random sequences of actions ----------------------------------------------------------------

_CLOCK = [NOW]

STEP = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 2), st.sampled_from(TaskStatus.values)),
    st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(TaskStatus.values)),
    st.tuples(st.just("owner"), st.integers(0, 50), st.integers(0, 2)),
    st.tuples(st.just("type"), st.integers(0, 50), st.sampled_from(TaskType.values)),
    st.tuples(st.just("deadline"), st.integers(0, 50), st.integers(-30, 30)),
    st.tuples(st.just("report"), st.integers(0, 50), st.integers(-30, 30)),
    st.tuples(st.just("reopen"), st.integers(0, 50), st.just(0)),
    st.tuples(st.just("bulk"), st.integers(1, 3), st.integers(0, 2)),
    st.tuples(st.just("day"), st.integers(1, 10), st.just(0)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_random_action_sequences_keep_the_tallies_equal_to_live_counts(
    steps, org, inspection, finance, planning
):
    units = [finance, planning, factories.make_unit(org, "教育局")]
    category = factories.make_category(inspection)
    # Examples share the test's database: time only moves forward across them, as it does for
    # history (an event stamped before an earlier example's events would replay out of order).
    now = _CLOCK[0] = _CLOCK[0] + datetime.timedelta(minutes=1)
    for kind, a, b in steps:
        with time_machine.travel(now, tick=False):
            tasks = list(Task.objects.filter(inspection=inspection).order_by("pk"))
            task = tasks[a % len(tasks)] if tasks else None
            today = now.date()
            try:
                if kind == "create":
                    factories.make_task(inspection, owner=units[a], status=b, category=category)
                elif kind == "bulk":
                    problems = [
                        Problem.objects.create(
                            inspection=inspection, parent=category, title="批量", order=900 + i
                        )
                        for i in range(a)
                    ]
                    actions.create_tasks(
                        [NewTask(p, units[b], inspection.deadline) for p in problems], SYSTEM
                    )
                elif task is None:
                    continue
                elif kind == "status":
                    actions.admin_set_status(task, b, SYSTEM)
                elif kind == "owner":
                    actions.change_owner(task, units[b], SYSTEM)
                elif kind == "type":
                    actions.change_type(task, b, SYSTEM)
                elif kind == "deadline":
                    actions.change_deadline(task, today + datetime.timedelta(days=b), SYSTEM)
                elif kind == "report":
                    actions.change_report_due(task, today + datetime.timedelta(days=b), SYSTEM)
                elif kind == "reopen":
                    actions.reopen(task, SYSTEM, reason="回头看")
            except actions.ActionError:
                pass  # refused (a closed task, a reopen of an open one): nothing may change
            if kind == "day":
                now = _CLOCK[0] = now + datetime.timedelta(days=a)
            assert aggregates.differences() == [], (kind, a, b)
    with time_machine.travel(now, tick=False):
        admin = get_user_model().objects.filter(is_superuser=True).first() or _admin()
        tally, scan = _both(admin)
        assert _figures(tally) == _figures(scan)


def test_the_close_out_and_extension_workflow_keeps_the_tallies(
    inspection, finance, alice, bob, carol, planning
):
    """Every path that changes a task row: close-out in two stages, reopening, an extension."""
    clerk, lead, supervisor = (actions.Actor.of(u) for u in (alice, bob, carol))
    with time_machine.travel(NOW, tick=False):
        task = factories.ready_for_closeout(factories.make_task(inspection, owner=finance))
        actions.request_closeout(task, clerk, summary="已整改到位", no_evidence_reason="无需材料")
        actions.lead_review_closeout(task, lead)
        actions.approve_closeout(task, supervisor)
        assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSED
        assert aggregates.differences() == []
        actions.reopen(task, supervisor, reason="回头看")
        actions.request_extension(
            task, clerk, new_deadline=NOW.date() + datetime.timedelta(days=40), reason="工期长"
        )
        actions.approve_extension(task, supervisor)
        assert TaskTally.objects.get(n=1).deadline == NOW.date() + datetime.timedelta(days=40)
        actions.change_owner(task, planning, supervisor)
        actions.change_type(task, TaskType.LONG_TERM, supervisor)
    assert aggregates.differences() == []
    # A 长期坚持 task is never overdue: its row keeps the report date, not the deadline.
    row = TaskTally.objects.get(n=1)
    assert row.deadline is None and row.report_due_on is not None
