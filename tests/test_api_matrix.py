"""The permission matrix of tests/test_permissions_matrix.py, run against the API.

The same endpoints, states, personas and expected outcomes as the pages (one table, from
tests/test_write_matrix.py's ``ALLOWED``): allowed → the change (200 here, where the page
redirects with 302); may see but not change → 403; may not see → 404, exactly as for a task
that does not exist; no credentials → 401. Each persona calls with their own token.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from tests.test_permissions_matrix import PERSONAS, POSTS, SEE
from tests.test_permissions_matrix import media as media  # noqa: F401 - autouse fixture
from tests.test_permissions_matrix import people as people  # noqa: F401
from tests.test_permissions_matrix import root as root  # noqa: F401
from tracker.api import tokens
from tracker.choices import EventSource

pytestmark = pytest.mark.django_db

# The page each API endpoint mirrors (tracker:<page> → api:<endpoint>).
API_OF_PAGE = {
    "task_progress": "task-progress",
    "closeout_request": "task-closeout",
    "closeout_review": "task-closeout-review",
    "extension_request": "task-extension",
    "extension_decide": "task-extension-decide",
    "task_reopen": "task-reopen",
}


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # throttle counts live in the cache; each story starts with none


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user).key}")
    return client


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", list(POSTS))
def test_every_api_change_for_every_role(people, inspection, finance, endpoint, persona):
    page, setup, data, expected = POSTS[endpoint]
    want = {302: 200}.get(expected[persona], expected[persona])
    task = setup(inspection, finance)
    before = (task.version, task.events.count())

    response = token_client(people[persona]).post(
        reverse(f"api:{API_OF_PAGE[page]}", args=[task.pk]),
        {"version": task.version, **data()},
        format="json",
    )

    assert response.status_code == want, response.content.decode()[:500]
    task.refresh_from_db()
    if want == 200:
        event = task.events.latest("id")
        assert task.events.count() == before[1] + 1  # the change, with its one history event
        assert (event.actor, event.source, event.source_ref) == (
            people[persona],
            EventSource.API,
            "api:token",
        )
        assert response.json()["version"] == task.version
        assert response["ETag"] == f'"task-{task.pk}-v{task.version}"'
    else:
        assert (task.version, task.events.count()) == before  # refused: nothing written
        assert response.json()["detail"]  # the actions' (or the 404's) message


@pytest.mark.parametrize("endpoint", list(POSTS))
def test_anonymous_api_calls_are_refused_and_change_nothing(inspection, finance, endpoint):
    page, setup, data, _expected = POSTS[endpoint]
    task = setup(inspection, finance)
    before = task.events.count()
    response = APIClient().post(
        reverse(f"api:{API_OF_PAGE[page]}", args=[task.pk]),
        {"version": task.version, **data()},
        format="json",
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert task.events.count() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_task_detail_for_every_role(people, finance_task, persona):
    response = token_client(people[persona]).get(reverse("api:task-detail", args=[finance_task.pk]))
    assert response.status_code == SEE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_missing_task_answers_exactly_like_a_forbidden_one(people, persona):
    client = token_client(people[persona])
    missing = client.get(reverse("api:task-detail", args=[987654]))
    write = client.post(
        reverse("api:task-progress", args=[987654]), {"version": 1, "note": "x"}, format="json"
    )
    assert (missing.status_code, write.status_code) == (404, 404)
    assert missing.json() == write.json()


def test_an_outsider_gets_the_same_404_for_a_real_task_as_for_none(eve, finance_task):
    client = token_client(eve)
    real = client.post(
        reverse("api:task-reopen", args=[finance_task.pk]),
        {"version": finance_task.version, "reason": "x"},
        format="json",
    )
    missing = client.post(
        reverse("api:task-reopen", args=[987654]), {"version": 1, "reason": "x"}, format="json"
    )
    assert real.status_code == missing.status_code == 404
    assert real.json() == missing.json()


def test_the_list_shows_each_role_only_its_scope(people, finance_task, planning_task):
    from tests import factories

    elsewhere = factories.make_task(factories.make_inspection(factories.make_org("中共别处委员会")))
    expected = {
        "alice": {finance_task.pk},
        "bob": {finance_task.pk},
        "carol": {finance_task.pk, planning_task.pk},
        "dave": {finance_task.pk, planning_task.pk},
        "eve": {planning_task.pk},
        "mallory": set(),
        "root": {finance_task.pk, planning_task.pk, elsewhere.pk},
    }
    for persona, visible in expected.items():
        rows = token_client(people[persona]).get(reverse("api:task-list")).json()["results"]
        assert {row["id"] for row in rows} == visible, persona
