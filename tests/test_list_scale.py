"""我的任务 at scale: the filter form offers small choice lists whatever the volume, shared links
with any filter still work, and the urgency order is the one the ``task_urgency`` index holds."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.queries import without_badges
from tracker.choices import TaskStatus, TaskType
from tracker.models import Task
from tracker.models.tasks import urgency_rank

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)):
        yield


def options(response, name: str) -> set[str]:
    """The values the rendered <select> offers (the empty choice left out)."""
    widget = response.context["filterset"].form[name].field.widget
    return {str(value) for value, _ in widget.choices if value != ""}


def test_carol_is_offered_categories_only_once_she_picks_an_inspection(
    client, carol, org, inspection, finance
):
    # Given two inspections of carol's organization, each with a category
    other = factories.make_inspection(org, round_name="十五届省委第三轮")
    mine = factories.make_category(inspection, "关于落实主体责任方面")
    theirs = factories.make_category(other, "关于作风建设方面")
    factories.make_task(inspection, owner=finance, category=mine)
    client.force_login(carol)
    url = reverse("tracker:task_list")

    # When she opens the list with no filter, no inspection, category or unit list is rendered,
    # only the organizations she supervises
    response = client.get(url)
    assert options(response, "category") == set()
    assert options(response, "inspection") == set()
    assert options(response, "unit") == set()
    assert options(response, "organization") == {str(org.pk)}

    # When she picks the organization, its inspections and units are offered
    response = client.get(url, {"organization": org.pk})
    assert options(response, "inspection") == {str(inspection.pk), str(other.pk)}
    assert str(finance.pk) in options(response, "unit")
    assert options(response, "category") == set()

    # When she picks an inspection, only that inspection's categories are offered
    response = client.get(url, {"inspection": inspection.pk})
    assert options(response, "category") == {str(mine.pk)}
    assert theirs.pk not in {int(v) for v in options(response, "category")}


def test_a_shared_link_with_only_a_category_still_filters_and_shows_its_choice(
    client, carol, inspection, finance
):
    # Given a category link shared from the dashboard (no inspection in the URL)
    category = factories.make_category(inspection, "关于资金监管方面")
    factories.make_task(inspection, owner=finance, title="问题:挪用", category=category)
    factories.make_task(inspection, owner=finance, title="问题:别的")
    client.force_login(carol)

    # When carol opens it, the list is filtered and the form still shows the chosen category
    response = client.get(reverse("tracker:task_list"), {"category": category.pk})
    assert [t.problem.title for t in response.context["tasks"]] == ["问题:挪用"]
    assert options(response, "category") == {str(category.pk)}


def test_the_urgency_rank_orders_open_with_deadline_then_without_then_done(inspection, finance):
    # Given one task of each kind, including a 长期坚持 task whose date has passed
    mk = factories.make_task
    done = mk(
        inspection, owner=finance, status=TaskStatus.CLOSED, deadline=datetime.date(2026, 1, 1)
    )
    long_term = mk(
        inspection, owner=finance, task_type=TaskType.LONG_TERM, deadline=datetime.date(2026, 1, 1)
    )
    none = mk(inspection, owner=finance, deadline=None)
    overdue = mk(inspection, owner=finance, deadline=datetime.date(2026, 10, 1))
    soon = mk(inspection, owner=finance, deadline=datetime.date(2026, 11, 25))

    # When tasks are read in the index's order (deadline ascending puts no deadline last)
    ranked = Task.objects.alias(rank=urgency_rank()).order_by("rank", "deadline", "pk")

    # Then overdue comes first, the 长期坚持 task sits with the open ones without a deadline
    # (it is never overdue), and done ones come last
    assert list(ranked) == [overdue, soon, long_term, none, done]


def test_a_status_filter_reads_the_first_page_without_distinct(client, carol, inspection, finance):
    # Given open tasks (a DISTINCT would make PostgreSQL sort every match before the first page)
    for _ in range(3):
        factories.make_task(inspection, owner=finance)
    client.force_login(carol)

    # When carol filters the list by status and type
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            reverse("tracker:task_list"),
            {"status": ["in_progress", "not_started"], "task_type": ["deadline"]},
        )

    # Then the page is read in the urgency order without DISTINCT
    assert response.status_code == 200
    sqls = without_badges([q["sql"] for q in queries])
    reads = [sql for sql in sqls if 'FROM "tracker_task"' in sql and "LIMIT" in sql]
    [page_sql] = [sql for sql in reads if "COUNT(" not in sql]
    assert "DISTINCT" not in page_sql and "ORDER BY CASE" in page_sql
    # The list's capped total (tests/test_list_counts.py) reads without DISTINCT too.
    [count_sql] = [sql for sql in reads if "COUNT(" in sql]
    assert "DISTINCT" not in count_sql
