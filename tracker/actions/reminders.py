"""Reminders on the timeline: one event per task and day for the digests the sweep sent
(written by the reminder sweep's system actor; a reminder changes nothing on the task)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    Actor,
)
from tracker.choices import EventKind, EventSource
from tracker.models import TaskEvent


def record_reminder(
    task_ids: list[int] | tuple[int, ...],
    *,
    recipient: str,
    tiers: dict[int, str],
    day: datetime.date,
) -> int:
    """Append one 'reminder' event per task for a digest email that was just sent.

    A reminder changes nothing on the task (no lock, no version bump); the event only puts the
    email on the task's timeline: which tier, to whom, from which day's sweep. Written in bulk
    because one digest can carry hundreds of tasks.
    """
    actor = Actor.system(EventSource.SWEEP, f"sweep:{day.isoformat()}")
    reason = _("提醒邮件已发送至 %s") % recipient
    events = [
        TaskEvent(
            task_id=task_id,
            kind=EventKind.REMINDER,
            new_value=tiers.get(task_id, ""),
            reason=reason,
            actor=None,
            source=actor.source,
            source_ref=actor.ref,
        )
        for task_id in task_ids
    ]
    TaskEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def record_reminders(digest_ids: list[int]) -> int:
    """Append one 'reminder' event per task and tier for the day's reminder digests
    ``digest_ids`` that were just sent, unless the task already has one for that tier and day
    (a task is in one deadline tier a day, and may be 待签收 besides).

    One event per task and day, not per recipient: a full-size sweep reminds 100,000 tasks
    through half a million (task, recipient) pairs, and the pairs are already in the reminder
    log. The event names the recipients of these digests, and how many people the task's
    reminder went to that day when that is more. On PostgreSQL written in one INSERT … SELECT;
    elsewhere (SQLite, ``make run``) the same rows are built from two ORM reads (the caller
    serialises concurrent calls, so "already has one" holds on both).
    """
    if not digest_ids:
        return 0
    from django.db import connection

    if connection.vendor == "postgresql":
        return _record_reminders_postgresql(digest_ids)
    return _record_reminders_portable(digest_ids)


def _reminder_reason(recipients: list[str], total: int) -> str:
    """The timeline text of a reminder event (the same words the PostgreSQL path writes)."""
    who = "、".join(recipients)
    if total > len(recipients):
        return _("提醒邮件已发送至 %(who)s 等%(n)s人") % {"who": who, "n": total}
    return _("提醒邮件已发送至 %s") % who


def _record_reminders_portable(digest_ids: list[int]) -> int:
    from django.db.models import Count

    from tracker.models.reminders import ReminderLog

    groups: dict[tuple[int, str, datetime.date], list[str]] = {}
    for task_id, tier, day, recipient in ReminderLog.objects.filter(
        digest_id__in=list(digest_ids)
    ).values_list("task_id", "tier", "day", "digest__recipient"):
        groups.setdefault((task_id, tier, day), []).append(recipient)
    if not groups:
        return 0
    task_ids = {task_id for task_id, _tier, _day in groups}
    days = {day for _task, _tier, day in groups}
    totals = {
        (row["task_id"], row["day"], row["tier"]): row["n"]
        for row in ReminderLog.objects.filter(task_id__in=task_ids, day__in=days)
        .order_by()
        .values("task_id", "day", "tier")
        .annotate(n=Count("id"))
    }
    refs = {day: f"sweep:{day.isoformat()}" for day in days}
    done = set(
        TaskEvent.objects.filter(
            kind=EventKind.REMINDER, task_id__in=task_ids, source_ref__in=refs.values()
        ).values_list("task_id", "source_ref", "new_value")
    )
    now = timezone.now()
    events = []
    for (task_id, tier, day), recipients in sorted(groups.items()):
        # One event per task, tier and day: a deadline tier and 待签收 may fall on one day.
        if (task_id, refs[day], tier) in done:
            continue
        done.add((task_id, refs[day], tier))
        recipients = sorted(set(recipients))
        events.append(
            TaskEvent(
                task_id=task_id,
                kind=EventKind.REMINDER,
                old_value="",
                new_value=tier,
                reason=_reminder_reason(recipients, totals.get((task_id, day, tier), 0)),
                actor=None,
                source=EventSource.SWEEP,
                source_ref=refs[day],
                created_at=now,
            )
        )
    TaskEvent.objects.bulk_create(events, batch_size=500)
    return len(events)


def _record_reminders_postgresql(digest_ids: list[int]) -> int:
    from django.db import connection

    from tracker.models.reminders import ReminderDigest, ReminderLog

    log_table = ReminderLog._meta.db_table
    digest_table = ReminderDigest._meta.db_table
    event_table = TaskEvent._meta.db_table
    # Parameters carry explicit types: with server-side binding (settings) PostgreSQL must
    # deduce each $n once, and a value used as text in one place and varchar in another fails.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {event_table} (task_id, kind, old_value, new_value, reason, actor_id,
                                       source, source_ref, created_at)
            SELECT s.task_id, %(kind)s::varchar, '', s.tier,
                   CASE WHEN s.total > cardinality(s.recipients)
                        THEN replace(replace(%(to_some)s::text, '%%(who)s',
                                             array_to_string(s.recipients, '、')),
                                     '%%(n)s', s.total::text)
                        ELSE replace(%(to_all)s::text, '%%s', array_to_string(s.recipients, '、'))
                   END,
                   NULL, %(source)s::varchar, s.ref, %(now)s::timestamptz
              FROM (
                SELECT l.task_id, l.tier, 'sweep:' || to_char(l.day, 'YYYY-MM-DD') AS ref,
                       array_agg(d.recipient ORDER BY d.recipient) AS recipients,
                       (SELECT count(*) FROM {log_table} a
                         WHERE a.task_id = l.task_id AND a.day = l.day AND a.tier = l.tier) AS total
                  FROM {log_table} l JOIN {digest_table} d ON d.id = l.digest_id
                 WHERE d.id = ANY(%(ids)s)
                 GROUP BY l.task_id, l.tier, l.day
              ) s
             WHERE NOT EXISTS (
                   SELECT 1 FROM {event_table} e
                    WHERE e.task_id = s.task_id AND e.kind = %(kind)s::varchar AND e.source_ref = s.ref
                      AND e.new_value = s.tier)
             ORDER BY s.task_id
            """,  # noqa: S608 — table names from the models, values as parameters
            {
                "ids": list(digest_ids),
                "kind": EventKind.REMINDER.value,
                "source": EventSource.SWEEP.value,
                "to_some": _("提醒邮件已发送至 %(who)s 等%(n)s人"),
                "to_all": _("提醒邮件已发送至 %s"),
                "now": timezone.now(),
            },
        )
        return cursor.rowcount
