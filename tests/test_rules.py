"""Each rule of tracker.rules has two forms, a Q builder (lists, dashboards, sweeps) and a plain
function on one loaded task (pages): over a grid of every status × type × deadline × report
date, the database's answer to the Q and Python's answer to the function are the same tasks, for
the task's own columns and for the as-of annotations alike, so the two forms cannot drift."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db.models import Count

from tracker import rules, selectors
from tracker.choices import ProblemKind, TaskStatus, TaskType
from tracker.history_asof import tasks_as_of
from tracker.models import Problem, Task, local_today
from tracker.rules import AS_OF_FIELDS, FIELDS

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 1)
DAY = datetime.timedelta(days=1)
DEADLINES = {
    "past": TODAY - 3 * DAY,
    "yesterday": TODAY - DAY,
    "today": TODAY,
    "soon": TODAY + 5 * DAY,
    "edge": TODAY + 7 * DAY,
    "far": TODAY + 60 * DAY,
    "none": None,
}
REPORT_DUES = {"past": TODAY - 10 * DAY, "today": TODAY, "future": TODAY + DAY, "none": None}
WINDOWS = (0, 7, 10, 30)


@pytest.fixture
def grid(inspection, finance, planning):
    """One task per status × type × deadline × report date; owners and lead units vary."""
    combos = list(itertools.product(TaskStatus.values, TaskType.values, DEADLINES, REPORT_DUES))
    problems = Problem.objects.bulk_create(
        Problem(
            inspection=inspection,
            kind=ProblemKind.PROBLEM,
            label=f"{n}.",
            order=n,
            title=f"网格问题{n}",
            title_key=f"网格问题{n}",
        )
        for n in range(len(combos))
    )
    leads = (None, finance, planning)
    Task.objects.bulk_create(
        Task(
            problem=problem,
            inspection=inspection,
            owner_unit=(finance, planning)[n % 2],
            lead_unit=leads[n % 3],
            status=status,
            task_type=task_type,
            deadline=DEADLINES[deadline],
            report_due_on=REPORT_DUES[report_due],
        )
        for n, (problem, (status, task_type, deadline, report_due)) in enumerate(
            zip(problems, combos, strict=True)
        )
    )
    tasks = list(Task.objects.all())
    assert len(tasks) == 5 * 3 * len(DEADLINES) * len(REPORT_DUES)
    return tasks


def _pairs():
    """(name, Q builder over fields f, Python predicate over fields f)."""
    yield "done", rules.done_q, rules.is_done
    yield "open", rules.open_q, lambda t, f: not rules.is_done(t, f)
    yield (
        "overdue",
        lambda f: rules.overdue_q(TODAY, f),
        lambda t, f: rules.is_overdue(t, TODAY, f),
    )
    yield "no deadline", rules.no_deadline_q, rules.has_no_deadline
    yield (
        "report due",
        lambda f: rules.report_due_q(TODAY, f),
        lambda t, f: rules.is_report_due(t, TODAY, f),
    )
    yield (
        "basic late",
        lambda f: rules.basic_late_q(TODAY, f),
        lambda t, f: rules.is_basic_late(t, TODAY, f),
    )
    for days in WINDOWS:
        yield (
            f"due within {days}",
            lambda f, days=days: rules.due_soon_q(TODAY, days, f),
            lambda t, f, days=days: rules.is_due_soon(t, TODAY, days, f),
        )


def test_every_python_predicate_agrees_with_its_q_builder_in_the_database(grid):
    for name, q, predicate in _pairs():
        in_db = set(Task.objects.filter(q(FIELDS)).values_list("pk", flat=True))
        in_python = {t.pk for t in grid if predicate(t, FIELDS)}
        assert in_db == in_python, name
        assert in_python, f"the grid has no task that is {name}"
        assert len(in_python) < len(grid), f"every task of the grid is {name}"


def test_the_same_builders_read_the_as_of_annotations(grid):
    # Nothing changed since the grid was stored: as of today every annotation equals the column,
    # so each builder over AS_OF_FIELDS must pick exactly the tasks the Python predicate picks.
    as_of = list(tasks_as_of(Task.objects.all(), local_today()))
    assert len(as_of) == len(grid)
    for task in as_of:
        assert (task.asof_status, task.asof_deadline, task.asof_type) == (
            task.status,
            task.deadline,
            task.task_type,
        )
        assert (task.asof_owner, task.asof_report_due) == (task.owner_unit_id, task.report_due_on)
    for name, q, predicate in _pairs():
        in_db = set(
            tasks_as_of(Task.objects.all(), local_today())
            .filter(q(AS_OF_FIELDS))
            .values_list("pk", flat=True)
        )
        assert in_db == {t.pk for t in as_of if predicate(t, AS_OF_FIELDS)}, name
        assert in_db == {t.pk for t in grid if predicate(t, FIELDS)}, name


def test_the_model_methods_and_queryset_delegate_to_the_rules(grid):
    for task in grid:
        assert task.is_overdue(TODAY) == rules.is_overdue(task, TODAY)
        assert task.days_overdue(TODAY) == rules.days_overdue(task, TODAY)
        assert task.has_no_deadline == rules.has_no_deadline(task)
        assert task.is_report_due(TODAY) == rules.is_report_due(task, TODAY)
        assert task.is_done == rules.is_done(task)

    def pks(qs):
        return set(qs.values_list("pk", flat=True))

    tasks = Task.objects.all()
    assert pks(tasks.open()) == pks(tasks.filter(rules.open_q()))
    assert pks(tasks.overdue(TODAY)) == pks(tasks.filter(rules.overdue_q(TODAY)))
    assert pks(tasks.no_deadline()) == pks(tasks.filter(rules.no_deadline_q()))
    assert pks(tasks.report_due(TODAY)) == pks(tasks.filter(rules.report_due_q(TODAY)))
    for days in WINDOWS:
        assert pks(tasks.due_within(days, TODAY)) == pks(
            tasks.filter(rules.due_soon_q(TODAY, days))
        )


def test_days_overdue_and_the_dashboards_sum_of_them_agree(grid):
    expected = sum(rules.days_overdue(t, TODAY) for t in grid)
    assert expected > 0
    assert all(rules.days_overdue(t, TODAY) == 0 for t in grid if not rules.is_overdue(t, TODAY))
    groups = selectors.scope_groups(Task.objects.all(), TODAY, selectors.LampRules())
    assert sum(g["days_overdue"] for g in groups) == expected
    assert sum(g["overdue"] for g in groups) == sum(rules.is_overdue(t, TODAY) for t in grid)
    assert sum(g["basic_late"] for g in groups) == sum(rules.is_basic_late(t, TODAY) for t in grid)


def test_the_day_of_the_deadline_is_due_not_overdue(grid):
    due_today = [t for t in grid if t.deadline == TODAY and not t.is_done]
    due_today = [t for t in due_today if t.task_type != TaskType.LONG_TERM]
    assert due_today
    assert not any(rules.is_overdue(t, TODAY) for t in due_today)
    assert all(rules.is_due_soon(t, TODAY, 0) for t in due_today)
    assert all(rules.is_overdue(t, TODAY + DAY) for t in due_today)


def test_long_term_tasks_are_never_overdue_or_without_deadline(grid):
    long_term = Task.objects.filter(task_type=TaskType.LONG_TERM)
    assert not long_term.filter(rules.overdue_q(TODAY + 1000 * DAY)).exists()
    assert not long_term.filter(rules.no_deadline_q()).exists()
    assert not long_term.filter(rules.due_soon_q(TODAY, 1000)).exists()
    assert long_term.filter(rules.report_due_q(TODAY)).exists()


def test_lead_review_q_agrees_with_lead_review_unit_id(grid, finance, planning):
    for unit in (finance, planning):
        in_db = set(
            Task.objects.filter(rules.lead_review_q([unit.pk])).values_list("pk", flat=True)
        )
        assert in_db == {t.pk for t in grid if rules.lead_review_unit_id(t) == unit.pk}
        assert in_db


def test_no_contact_q_over_units_and_over_their_tasks(inspection, org, finance):
    from tests import factories

    archive = factories.make_unit(org, "档案馆", "")
    factories.make_task(inspection, owner=archive)
    factories.make_task(inspection, owner=finance)
    assert set(type(archive).objects.filter(rules.no_contact_q())) >= {archive}
    assert finance not in set(type(archive).objects.filter(rules.no_contact_q()))
    rows = (
        Task.objects.filter(rules.no_contact_q("owner_unit"))
        .values("owner_unit")
        .annotate(n=Count("pk"))
    )
    assert [(r["owner_unit"], r["n"]) for r in rows] == [(archive.pk, 1)]


def test_the_as_of_groups_judged_in_python_fold_to_the_sql_aggregates(grid):
    # A past day's dashboard groups by the rebuilt values and judges each group in Python; over
    # the same values it must give what the filtered SQL counts give, per total and per key.
    lamp_rules = selectors.LampRules(yellow_days=10)
    plain = Task.objects.all()
    in_sql = selectors.scope_groups(plain, TODAY, lamp_rules)
    judged = selectors.scope_groups(tasks_as_of(plain, local_today()), TODAY, lamp_rules)
    assert len(judged) > len(in_sql)  # one row per distinct status, deadline, report date too
    for key in (None, "owner_unit_id", "inspection_id", "task_type"):
        assert selectors._fold(judged, key) == selectors._fold(in_sql, key), key
    assert selectors.category_rows(tasks_as_of(plain, local_today()), TODAY) == (
        selectors.category_rows(plain, TODAY)
    )
