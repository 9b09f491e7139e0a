"""``manage.py generate_demo``: volume data whose history tells the same story as the tasks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests import factories
from tracker.choices import DONE_STATUSES, EventKind
from tracker.models import Inspection, Task, TaskEvent, Unit, local_today
from tracker.selectors import trend

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_tasks_have_history_that_rebuilds_todays_completion():
    call_command(
        "generate_demo",
        "--tasks",
        "120",
        "--units",
        "25",
        "--inspections",
        "4",
        "--seed",
        "7",
        "--batch",
        "50",
        stdout=StringIO(),
    )
    assert Task.objects.count() == 120
    assert Unit.objects.count() == 25
    assert Inspection.objects.count() == 4
    # Every task was created with an event, and the sequences moved past the copied ids.
    assert TaskEvent.objects.filter(kind=EventKind.CREATED).count() == 120
    assert Task.objects.filter(problem__parent__isnull=True).count() == 0
    history = trend.completion_history(Task.objects.all(), local_today(), weeks=2)
    assert history[-1]["total"] == 120
    assert history[-1]["done"] == Task.objects.filter(status__in=DONE_STATUSES).count()
    assert Inspection.objects.filter(declared__problems__gte=30).count() == 4
    # The id sequences moved past the copied rows: the app creates tasks as usual afterwards.
    factories.make_task(Inspection.objects.first())
    assert Task.objects.count() == 121
