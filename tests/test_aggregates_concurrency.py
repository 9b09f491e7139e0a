"""Concurrent actions on tasks of the same unit neither deadlock nor lose a count.

Real threads, each with its own PostgreSQL connection and transactions (transaction=True): they
move counts between the same tally rows at the same moment (status changes and owner swaps
between two units, in opposite directions), which is where a read-modify-write would lose an
update and locks taken in different orders would deadlock. Today's figures (tracker.figures) are
rolled first, so every change keeps them too, and one story rolls them again while others write.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections

from tests import factories
from tracker import actions, aggregates, figures
from tracker.choices import TaskStatus
from tracker.models import FigureDay, GroupFigure, Task, TaskTally, local_today

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and real concurrency: PostgreSQL"
    ),
]

THREADS = 6
ROUNDS = 8


def _run_all(work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return errors


def test_concurrent_status_changes_and_owner_swaps_keep_every_count(org, inspection):
    finance = factories.make_unit(org, "财政局")
    planning = factories.make_unit(org, "规划局")
    tasks = [
        factories.make_task(inspection, owner=finance, status=TaskStatus.NOT_STARTED)
        for _ in range(THREADS * 2)
    ]
    statuses = [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.BASICALLY_COMPLETED]
    system = factories.SYSTEM
    figures.roll(*figures.wanted())

    def work(i: int) -> None:
        mine = tasks[i * 2 : i * 2 + 2]
        for r in range(ROUNDS):
            for task in mine:
                # Half the threads move finance → planning while the others move back.
                if (i + r) % 2:
                    target = planning if task.owner_unit_id == finance.pk else finance
                    actions.change_owner(task, target, system)
                else:
                    actions.admin_set_status(task, statuses[(i + r) % 3], system)

    errors = _run_all(work)
    assert errors == []
    assert aggregates.differences() == []
    assert sum(TaskTally.objects.values_list("n", flat=True)) == Task.objects.count()


def test_concurrent_creations_in_one_unit_count_every_task(org, inspection):
    finance = factories.make_unit(org, "财政局")
    category = factories.make_category(inspection)
    figures.roll(*figures.wanted())

    def work(i: int) -> None:
        for _ in range(ROUNDS):
            factories.make_task(inspection, owner=finance, category=category)

    errors = _run_all(work)
    assert errors == []
    assert aggregates.differences() == []
    assert TaskTally.objects.get(n__gt=0).n == THREADS * ROUNDS


def test_overdue_deadlines_moving_while_the_figures_roll_keep_every_figure(org, inspection):
    """Writers move overdue tasks' deadlines (the oldest one leaving and coming back) and
    statuses while one thread keeps re-judging the figures: no change is lost between a roll
    and the writes around it, and the oldest overdue deadline stays the true one."""
    finance = factories.make_unit(org, "财政局")
    today = local_today()
    days = [-40, -20, -5, 3, 12, 40]
    tasks = [
        factories.make_task(
            inspection,
            owner=finance,
            deadline=today + datetime.timedelta(days=days[k % len(days)]),
            status=TaskStatus.IN_PROGRESS,
        )
        for k in range(THREADS * 2)
    ]
    figures.roll(*figures.wanted())
    system = factories.SYSTEM

    def work(i: int) -> None:
        if i == 0:
            for _ in range(ROUNDS):
                figures.roll(*figures.wanted(), force=True)
            return
        for r in range(ROUNDS):
            for task in tasks[i * 2 : i * 2 + 2]:
                if r % 3 == 2:
                    status = TaskStatus.COMPLETED if r % 2 else TaskStatus.IN_PROGRESS
                    actions.admin_set_status(task, status, system)
                else:
                    shift = days[(i + r) % len(days)]
                    actions.change_deadline(task, today + datetime.timedelta(days=shift), system)

    errors = _run_all(work)
    assert errors == []
    assert FigureDay.objects.get().day == today
    assert aggregates.differences() == []
    oldest = Task.objects.open().filter(deadline__lt=today).order_by("deadline").first()
    figure = GroupFigure.objects.get(owner_unit=finance)
    assert figure.oldest_deadline == (oldest.deadline if oldest else None)
