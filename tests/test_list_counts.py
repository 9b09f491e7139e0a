"""我的任务 shows how many tasks the filtered list has: exact up to COUNT_CAP, "超过 COUNT_CAP 条"
past it (a lower bound, said so), with one bounded count query whatever the volume."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.queries import without_badges
from tracker.choices import TaskStatus
from tracker.views import workspace

pytestmark = pytest.mark.django_db


def get(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("tracker:task_list"), params)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


def counts(sqls: list[str]) -> list[str]:
    return [sql for sql in without_badges(sqls) if "COUNT(" in sql.upper()]


def make(inspection, unit, n: int, **kwargs) -> None:
    for _ in range(n):
        factories.make_task(inspection, owner=unit, **kwargs)


def test_a_short_list_shows_its_exact_total(client, carol, inspection, finance):
    # Given three 整改中 tasks of 财政局 and one closed one
    make(inspection, finance, 3)
    make(inspection, finance, 1, status=TaskStatus.CLOSED)
    client.force_login(carol)

    # When carol lists 财政局's 整改中 tasks
    response, sqls = get(client, owner_unit=finance.pk, status="in_progress")

    # Then the page says 共 3 条, from one bounded count
    assert "共 3 条" in response.content.decode()
    [count] = counts(sqls)
    assert f"LIMIT {workspace.COUNT_CAP + 1}" in count


def test_a_later_partial_page_knows_the_exact_total(client, carol, inspection, finance):
    # Given 30 tasks: page 2 holds the last 5
    make(inspection, finance, workspace.PAGE_SIZE + 5)
    client.force_login(carol)

    response, sqls = get(client, page=2)

    assert f"共 {workspace.PAGE_SIZE + 5} 条" in response.content.decode()
    assert len(counts(sqls)) == 1


def test_a_full_page_counts_once_and_only_up_to_the_cap(
    client, carol, inspection, finance, monkeypatch
):
    # Given a cap of 30 (1,000 in production) and 40 matching tasks
    monkeypatch.setattr(workspace, "COUNT_CAP", 30)
    make(inspection, finance, 40)
    client.force_login(carol)

    # When the first page is read
    response, sqls = get(client, owner_unit=finance.pk, status="in_progress")

    # Then one bounded count ran, and the label says the total is more than the cap (not exact)
    [count] = counts(sqls)
    assert "LIMIT 31" in count
    page = response.content.decode()
    assert "超过 30 条" in page and "只精确计数到 30 条" in page
    assert "共 " not in page.split('class="muted list-total"')[1][:80]


def test_below_the_cap_a_full_page_shows_the_exact_count(
    client, carol, inspection, finance, monkeypatch
):
    monkeypatch.setattr(workspace, "COUNT_CAP", 1000)
    make(inspection, finance, workspace.PAGE_SIZE + 7)
    client.force_login(carol)

    response, sqls = get(client)

    assert f"共 {workspace.PAGE_SIZE + 7} 条" in response.content.decode()
    assert len(counts(sqls)) == 1


def test_the_query_count_does_not_grow_with_the_number_of_tasks(
    client, carol, inspection, finance, planning, monkeypatch
):
    # Given a short list (3 tasks) and a cap of 26
    monkeypatch.setattr(workspace, "COUNT_CAP", 26)
    make(inspection, finance, 2)
    make(inspection, planning, 1)
    client.force_login(carol)
    params = {"status": "in_progress", "sort": "deadline"}
    get(client, **params)  # the scope's organization list read and kept (tracker.scope_choices)
    _, few = get(client, **params)

    # When the list holds 63, past the cap
    make(inspection, finance, 30)
    make(inspection, planning, 30)
    response, many = get(client, **params)

    # Then the same number of queries ran, and none counts without a bound
    assert len(few) == len(many)
    assert "超过 26 条" in response.content.decode()
    for sql in counts(many):
        assert "LIMIT 27" in sql


def test_an_invalid_filter_lists_nothing_and_says_so(client, carol, inspection, finance):
    make(inspection, finance, 2)
    client.force_login(carol)

    response, _ = get(client, inspection=999_999)

    assert "共 0 条" in response.content.decode()
