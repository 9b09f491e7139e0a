"""督办 document numbers under concurrency: supervisors issuing at the same moment in one
organization get consecutive numbers, none twice, none skipped.

Real threads, each with its own PostgreSQL connection (transaction=True): the counter row of the
organization and year is locked while a document takes its number, so they wait in turn.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections

from tests import factories
from tracker import actions
from tracker.choices import LadderRung
from tracker.models import SupervisionDocument, local_today

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and real concurrency: PostgreSQL"
    ),
]

THREADS = 6


def test_numbers_are_consecutive_when_issued_at_once(org, inspection, carol):
    past = local_today() - datetime.timedelta(days=20)
    tasks = [
        factories.make_task(inspection, owner=factories.make_unit(org, f"单位{i}"), deadline=past)
        for i in range(THREADS)
    ]
    # The first issue of the year creates the counter row: even that race leaves no gap.
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def issue(i: int) -> None:
        try:
            barrier.wait()
            actions.issue_ladder_document([tasks[i]], LadderRung.NOTICE, actions.Actor.of(carol))
        except BaseException as exc:  # noqa: BLE001 — reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []
    numbers = sorted(SupervisionDocument.objects.values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
