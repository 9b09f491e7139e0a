"""``manage.py summary --json``: the stable shape operators' scripts read."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from tests import factories
from tracker.choices import TaskStatus, TaskType

pytestmark = pytest.mark.django_db


def summary(*args) -> dict:
    out = StringIO()
    call_command("summary", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@time_machine.travel(datetime.datetime(2026, 11, 20, 9, tzinfo=datetime.UTC), tick=False)
def test_summary_counts_per_inspection_and_in_total(org, finance):
    inspection = factories.make_inspection(org, feedback=datetime.date(2026, 9, 1))
    inspection.declared = {"problems": 5, "completed": 1}
    inspection.save()
    factories.make_task(inspection, owner=finance)  # deadline 2026-11-01, in progress
    factories.make_task(inspection, owner=finance, status=TaskStatus.COMPLETED)
    factories.make_task(inspection, owner=finance, task_type=TaskType.LONG_TERM)
    other = factories.make_inspection(
        factories.make_org("中共另一个县委员会"), feedback=None, round_name="", group=""
    )
    factories.make_task(other)

    data = summary("--date", "2026-11-22")  # a later day: the tasks as they stand

    assert data["totals"] == {"inspections": 2, "tasks": 4, "overdue": 1, "no_deadline": 1}
    rows = {row["organization"]: row for row in data["inspections"]}
    first = rows["中共测试开发区工作委员会"]
    assert first["round"] == "十五届省委第二轮"
    assert first["group"] == "省委第七巡视组"
    assert first["deadline"] == "2026-11-01"
    assert first["declared"] == {"problems": 5, "completed": 1}
    assert first["declared_gap"] == 2
    assert first["tasks"]["total"] == 3
    assert first["tasks"]["overdue"] == 1
    assert first["tasks"]["no_deadline"] == 0
    assert first["tasks"]["completion_rate"] == 33.33
    assert first["tasks"]["by_status"] == {
        "not_started": 0,
        "in_progress": 2,
        "basically_completed": 0,
        "completed": 1,
        "closed": 0,
    }
    second = rows["中共另一个县委员会"]
    assert (second["round"], second["group"], second["deadline"]) == (None, None, None)
    assert second["tasks"]["no_deadline"] == 1


def test_summary_text_form_names_each_inspection(inspection, finance_task):
    out = StringIO()
    call_command("summary", stdout=out)
    assert "中共测试开发区工作委员会" in out.getvalue()
    assert "1 inspections, 1 tasks" in out.getvalue()


def test_a_bad_date_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--date"):
        call_command("summary", "--date", "yesterday")


def test_summary_queries_do_not_grow_with_inspections(org, django_assert_max_num_queries):
    for _ in range(5):
        factories.make_task(factories.make_inspection(org))
    with django_assert_max_num_queries(3):
        summary()
