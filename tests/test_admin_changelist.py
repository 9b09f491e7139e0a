"""The admin's task changelist at any volume: no date_hierarchy DISTINCT, no full count, no
choice per unit or inspection (the autocomplete-style filters read only the chosen one), rows
joined in one query; the same queries for 3 tasks as for 33."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tracker.admin import TaskAdmin
from tracker.choices import TaskStatus

pytestmark = pytest.mark.django_db
URL = "admin:tracker_task_changelist"


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)):
        yield


def get(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(URL), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response, [q["sql"] for q in ctx.captured_queries]


def shown(response) -> set[int]:
    return {task.pk for task in response.context["cl"].result_list}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status__exact": "in_progress"},
        {"owner_unit__id__exact": "unit", "status__exact": "in_progress"},
        {"inspection__id__exact": "inspection", "deadline_is": "overdue"},
    ],
    ids=["all", "status", "unit+status", "inspection+overdue"],
)
def test_the_changelist_costs_the_same_queries_with_3_or_33_tasks(
    admin_client, inspection, finance, planning, params
):
    values = {"unit": str(finance.pk), "inspection": str(inspection.pk)}
    params = {k: values.get(v, v) for k, v in params.items()}
    for _ in range(3):
        factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))
    _, few = get(admin_client, **params)
    for _ in range(15):
        factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))
        factories.make_task(inspection, owner=planning)
    response, many = get(admin_client, **params)

    assert len(few) == len(many)
    assert response.context["cl"].result_count > 0
    for sql in many:
        # No date_hierarchy DISTINCT, no facet or full count, no list of every unit/inspection
        assert "DISTINCT" not in sql
        if 'FROM "tracker_task"' in sql and "COUNT(" in sql:
            assert "LIMIT 10001" in sql
        if sql.startswith('SELECT "tracker_unit"') or sql.startswith('SELECT "tracker_inspection"'):
            assert "WHERE" in sql and '"id" =' in sql


def test_date_navigation_is_a_fixed_filter_not_a_date_hierarchy():
    assert TaskAdmin.date_hierarchy is None
    assert TaskAdmin.show_full_result_count is False


def test_the_owner_unit_filter_takes_an_id_and_shows_only_the_chosen_unit(
    admin_client, inspection, finance, planning
):
    mine = factories.make_task(inspection, owner=finance)
    factories.make_task(inspection, owner=planning)

    response, _ = get(admin_client, owner_unit__id__exact=finance.pk)

    assert shown(response) == {mine.pk}
    page = response.content.decode()
    assert finance.name in page
    # The row links filter by its unit and inspection (how a filter is picked)
    assert f'href="?owner_unit__id__exact={finance.pk}"' in page
    assert f'href="?inspection__id__exact={inspection.pk}"' in page
    # A malformed id lists nothing rather than failing
    response, _ = get(admin_client, owner_unit__id__exact="x")
    assert shown(response) == set()


def test_the_inspection_filter_takes_an_id(admin_client, org, inspection, finance):
    other = factories.make_inspection(org, round_name="十五届省委第三轮")
    mine = factories.make_task(inspection, owner=finance)
    factories.make_task(other, owner=finance)

    response, _ = get(admin_client, inspection__id__exact=inspection.pk)

    assert shown(response) == {mine.pk}


def test_the_deadline_filter_uses_the_lists_rules(admin_client, inspection, finance):
    late = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))
    soon = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 11, 25))
    none = factories.make_task(inspection, owner=finance, deadline=None)
    factories.make_task(
        inspection, owner=finance, deadline=datetime.date(2026, 10, 1), status=TaskStatus.CLOSED
    )

    assert shown(get(admin_client, deadline_is="overdue")[0]) == {late.pk}
    assert shown(get(admin_client, deadline_is="7")[0]) == {soon.pk}
    assert shown(get(admin_client, deadline_is="none")[0]) == {none.pk}


def test_rows_come_in_the_lists_urgency_order(admin_client, inspection, finance):
    done = factories.make_task(
        inspection, owner=finance, status=TaskStatus.CLOSED, deadline=datetime.date(2026, 1, 1)
    )
    later = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 12, 30))
    late = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))

    response, _ = get(admin_client)

    assert [t.pk for t in response.context["cl"].result_list] == [late.pk, later.pk, done.pk]


@pytest.mark.parametrize(
    "params",
    [{}, {"owner_unit__id__exact": "unit", "status__exact": "in_progress", "o": "-6"}],
    ids=["plain", "filtered+sorted"],
)
def test_the_rows_written_per_column_are_the_rows_django_writes(
    admin_client, inspection, finance, params
):
    # Given tasks with and without a deadline, overdue or not, 长期坚持 among them
    from django.contrib.admin.templatetags.admin_list import results

    from tracker.choices import TaskType
    from tracker.templatetags.fast_admin import fast_results

    factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))
    factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 12, 1))
    factories.make_task(inspection, owner=finance, deadline=None)
    factories.make_task(inspection, owner=finance, task_type=TaskType.LONG_TERM)
    factories.make_task(inspection, owner=finance, status=TaskStatus.CLOSED)
    params = {k: str(finance.pk) if v == "unit" else v for k, v in params.items()}

    # When the changelist is shown
    response, _ = get(admin_client, **params)
    cl = response.context["cl"]

    # Then every row is, cell for cell, what Django's own results() writes
    django_rows = ["".join(str(cell) for cell in row) for row in results(cl)]
    fast_rows = ["".join(str(cell) for cell in row) for row in fast_results(cl)]
    assert fast_rows == django_rows and len(fast_rows) == len(cl.result_list) > 0
    assert "_changelist_filters=" in fast_rows[0] or not params
    assert fast_rows[0] in response.content.decode()
