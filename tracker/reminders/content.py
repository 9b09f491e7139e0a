"""Content: what a digest carries (its tasks, read in one query per batch) and the link to a task."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.db import connection as db_connection
from django.urls import NoReverseMatch, reverse

from tracker.models import Problem, Task, Unit
from tracker.models.reminders import ReminderDigest, ReminderLog
from tracker.workdays import working_days_between


def task_url_template() -> str:
    """Absolute link to a task page with "{id}" for the task id: the workspace's
    ``tracker:task_detail`` when it exists, else its agreed path ``/tasks/<id>/``."""
    try:
        path = reverse("tracker:task_detail", args=[987654321]).replace("987654321", "{id}")
    except NoReverseMatch:
        path = "/tasks/{id}/"
    return settings.SITE_URL + path


def load_items(digest_ids: list[int]) -> dict[int, list[dict]]:
    """The tasks each daily digest carries, in one query for the whole batch (plain SQL: the
    batch's ten thousand rows are the bulk of a sender's reading)."""
    items: dict[int, list[dict]] = defaultdict(list)
    if not digest_ids:
        return items
    if db_connection.vendor == "postgresql":  # one array parameter: one statement to prepare
        in_ids, ids_param = "= ANY(%s)", [list(digest_ids)]
    else:  # a batch is REMINDER_BATCH_SIZE ids, far below SQLite's limit on parameters
        in_ids, ids_param = f"IN ({', '.join(['%s'] * len(digest_ids))})", list(digest_ids)
    with db_connection.cursor() as cursor:
        cursor.execute(  # table names from the models, values as parameters
            f"""
            SELECT l.digest_id, l.tier, l.no_contact, l.task_id, t.deadline, t.report_due_on,
                   t.task_type, p.label || p.title, u.name
              FROM {ReminderLog._meta.db_table} l
              JOIN {Task._meta.db_table} t ON t.id = l.task_id
              JOIN {Problem._meta.db_table} p ON p.id = t.problem_id
              JOIN {Unit._meta.db_table} u ON u.id = t.owner_unit_id
             WHERE l.digest_id {in_ids}
            """,  # noqa: S608
            ids_param,
        )
        rows = cursor.fetchall()
    # Sorted here (by deadline, no deadline last, then task) rather than by the database,
    # whose sort of a batch's rows spilled to disk at the default work_mem.
    far = datetime.date.max
    rows.sort(key=lambda row: (row[4] or far, row[3]))
    for digest_id, tier, no_contact, task_id, deadline, report_on, task_type, title, unit in rows:
        items[digest_id].append(
            {
                "tier": tier,
                "no_contact": no_contact,
                "task_id": task_id,
                "deadline": deadline,
                "report_due_on": report_on,
                "task_type": task_type,
                "title": title,
                "unit": unit,
            }
        )
    return items


def count_working_days(digests: list[ReminderDigest], items: dict[int, list[dict]]) -> None:
    """With REMINDER_WORKING_DAYS, the tiers count working days, and so does the email: each
    item due today or later carries ``working_days_left`` (shown as 剩余N个工作日)."""
    for digest in digests:
        for item in items.get(digest.pk, ()):
            deadline = item["deadline"]
            if deadline is not None and deadline >= digest.day:
                item["working_days_left"] = working_days_between(digest.day, deadline)


def tier_counts(carried: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in carried:
        counts[item["tier"]] += 1
    return dict(counts)


def load_unit_items(unit_id: int, day: datetime.date) -> list[dict]:
    """The tasks of a unit reminded about on ``day`` (one row per task, whoever heard of it):
    what the unit's group channel carries."""
    rows = (
        ReminderLog.objects.filter(day=day, task__owner_unit_id=unit_id)
        .order_by()
        .values_list(
            "tier",
            "task_id",
            "task__deadline",
            "task__report_due_on",
            "task__task_type",
            "task__problem__label",
            "task__problem__title",
            "task__owner_unit__name",
        )
        .distinct()
    )
    far = datetime.date.max
    items = [
        {
            "tier": tier,
            "no_contact": False,
            "task_id": task_id,
            "deadline": deadline,
            "report_due_on": report_on,
            "task_type": task_type,
            "title": f"{label}{title}",
            "unit": unit,
        }
        for tier, task_id, deadline, report_on, task_type, label, title, unit in rows
    ]
    items.sort(key=lambda item: (item["deadline"] or far, item["task_id"]))
    return items
