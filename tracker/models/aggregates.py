"""Dashboard counts kept up to date by the one write path (``tracker.actions``).

``TaskTally`` counts the tasks of each combination of the values the dashboard, the lamps and the
summary group or judge by, deadline and report date included, so overdue and due soon stay
computable for any day with a grouped ``SUM`` over these rows instead of a scan of the tasks.
``TaskDayTally`` holds, per day, how many tasks were created in and how many became (or stopped
being) done in each (inspection, owner, category, type): the completion trend is its running sum.

Both are written by ``tracker.aggregates`` in the same transaction as the change they count
(``tracker.actions.base._save``, ``create_task(s)``), never by a job that could lag; ``manage.py
rebuild_aggregates`` recomputes them and ``manage.py check_aggregates`` compares them with live
counts. The references are plain columns with ``db_constraint=False`` (``DO_NOTHING``): a row left
at zero never blocks deleting a unit or a problem, and joins (a unit's organization, a category's
title) still read the reference data live.
"""

from __future__ import annotations

from django.db import models


def _ref(model: str, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs
    )


class TaskTally(models.Model):
    """How many tasks have exactly these values (``n``); ``key`` joins them all and is unique, so
    a change is two portable upserts (``INSERT … ON CONFLICT (key) DO UPDATE``)."""

    key = models.CharField(max_length=200, unique=True)
    inspection = _ref("tracker.Inspection")
    owner_unit = _ref("tracker.Unit")
    # The task's category (方面): its problem's top-level ancestor (Task.category).
    category = _ref("tracker.Problem", null=True)
    task_type = models.CharField(max_length=16)
    status = models.CharField(max_length=24)
    # Only where a rule reads them (tracker.aggregates.key_of): the deadline of open tasks that
    # are not 长期坚持, the report date of open 长期坚持 ones; NULL otherwise.
    deadline = models.DateField(null=True)
    report_due_on = models.DateField(null=True)
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = "task tally"
        indexes = [models.Index(fields=["inspection", "owner_unit"])]

    def __str__(self) -> str:
        return f"{self.key}: {self.n}"


class TaskDayTally(models.Model):
    """Per day (Asia/Shanghai) and (inspection, owner, category, type): tasks created there
    (``created``; −1/+1 when a task moves to another owner or type) and tasks that became done
    (``done``: +1 on becoming 已完成/已销号, −1 on ceasing to be). Running sums up to a day give
    the tasks and the done tasks at the end of that day."""

    key = models.CharField(max_length=120, unique=True)
    day = models.DateField()
    inspection = _ref("tracker.Inspection")
    owner_unit = _ref("tracker.Unit")
    category = _ref("tracker.Problem", null=True)
    task_type = models.CharField(max_length=16)
    created = models.IntegerField(default=0)
    done = models.IntegerField(default=0)

    class Meta:
        verbose_name = "task day tally"
        indexes = [models.Index(fields=["inspection", "day"])]

    def __str__(self) -> str:
        return f"{self.key}: +{self.created} done {self.done}"
