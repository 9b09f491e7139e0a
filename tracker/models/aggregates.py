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
        indexes = [
            models.Index(fields=["inspection", "owner_unit"]),
            models.Index(fields=["owner_unit"], name="tracker_tally_owner"),
        ]

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
        indexes = [
            models.Index(fields=["inspection", "day"]),
            models.Index(fields=["day"], name="tracker_daytally_day"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: +{self.created} done {self.done}"


# --- the dashboard's figures for one day -----------------------------------------------------
#
# TaskTally keeps the dates a rule reads, so at a million tasks it holds ~430,000 rows and the
# all-organizations dashboard would sum them all. Its figures of *one day* are far smaller: per
# (inspection, owner) what a unit's row and light need (GroupFigure), per (inspection, type) the
# tasks by status and the day's overdue, due soon, … (TypeFigure: the totals, the type and the
# inspection rows), per (inspection, category) total, done and overdue (CategoryFigure).
# ``tracker.figures`` keeps them with every change, in the same transaction, for the day
# ``FigureDay`` names, and rolls them to a new day (recomputed from TaskTally) on the first read
# of that day or when the lamp rules they were judged by changed.


class FigureDay(models.Model):
    """The day (and due-soon window) the figures were judged for: one row, absent until the
    first roll."""

    day = models.DateField()
    yellow_days = models.IntegerField()

    class Meta:
        verbose_name = "figure day"

    def __str__(self) -> str:
        return f"{self.day} (yellow {self.yellow_days})"


class GroupFigure(models.Model):
    """One (inspection, owner) as judged on FigureDay.day; ``overdue_days`` is the sum of the
    overdue tasks' deadlines as day numbers (``date.toordinal``), so their days overdue are
    ``overdue × day − overdue_days``; the oldest overdue deadline is recomputed from TaskTally
    when an overdue task leaves."""

    key = models.CharField(max_length=80, unique=True)
    inspection = _ref("tracker.Inspection")
    owner_unit = _ref("tracker.Unit")
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    due_soon = models.IntegerField(default=0)
    basic_late = models.IntegerField(default=0)
    overdue_days = models.BigIntegerField(default=0)
    oldest_deadline = models.DateField(null=True)

    class Meta:
        verbose_name = "group figure"
        indexes = [models.Index(fields=["inspection", "owner_unit"])]

    def __str__(self) -> str:
        return self.key


class TypeFigure(models.Model):
    """One (inspection, type) as judged on FigureDay.day: tasks by status and the day's
    figures (``tracker.selectors.GROUP_COUNTS`` but days overdue)."""

    key = models.CharField(max_length=80, unique=True)
    inspection = _ref("tracker.Inspection")
    task_type = models.CharField(max_length=16)
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    status_not_started = models.IntegerField(default=0)
    status_in_progress = models.IntegerField(default=0)
    status_basically_completed = models.IntegerField(default=0)
    status_completed = models.IntegerField(default=0)
    status_closed = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    due_soon = models.IntegerField(default=0)
    basic_late = models.IntegerField(default=0)
    no_deadline = models.IntegerField(default=0)
    report_due = models.IntegerField(default=0)
    due_7 = models.IntegerField(default=0)
    due_30 = models.IntegerField(default=0)

    class Meta:
        verbose_name = "type figure"
        indexes = [models.Index(fields=["inspection", "task_type"])]

    def __str__(self) -> str:
        return self.key


class CategoryFigure(models.Model):
    """One (inspection, category) as judged on FigureDay.day: total, done, overdue."""

    key = models.CharField(max_length=80, unique=True)
    inspection = _ref("tracker.Inspection")
    category = _ref("tracker.Problem", null=True)
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)

    class Meta:
        verbose_name = "category figure"
        indexes = [models.Index(fields=["inspection", "category"])]

    def __str__(self) -> str:
        return self.key
