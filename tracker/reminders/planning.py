"""Planning: collect the day's reminders (read only; the dry run) and record them as one digest
per recipient and one log row per (task, recipient, tier, day), and the weekly summaries.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from tracker.choices import ScopeRole
from tracker.models import local_today
from tracker.models.reminders import (
    ChannelDelivery,
    DeliveryState,
    DigestKind,
    ReminderChannel,
    ReminderDigest,
    ReminderLog,
    ReminderSweep,
    ReminderTier,
)
from tracker.reminders.quiet import QuietHours
from tracker.reminders.recipients import Directory, Planned, recipients_for
from tracker.reminders.tiers import Policy, candidate_tasks, tier_for, unacknowledged_tasks

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    day: datetime.date
    reminders: list[Planned]
    tasks: int
    # Owner units of the tasks reminded about: whose group channels hear of them today.
    owner_units: frozenset[int] = frozenset()

    def by_recipient(self) -> dict[str, dict[str, int]]:
        """{recipient: {tier: task count}} for printing."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for item in self.reminders:
            out[item.recipient][item.tier] += 1
        return {k: dict(v) for k, v in sorted(out.items())}


def collect(day: datetime.date | None = None, policy: Policy | None = None) -> Plan:
    """Every reminder due on ``day``, without writing anything (the dry run is this)."""
    day = day or local_today()
    policy = policy or Policy.from_settings()
    rows = list(candidate_tasks(day, policy))
    tiered: list[tuple[dict, str]] = []
    for row in rows:
        tier = tier_for(
            today=day,
            deadline=row["deadline"],
            task_type=row["task_type"],
            report_due_on=row["report_due_on"],
            policy=policy,
        )
        if tier:
            tiered.append((row, tier))
    # 待签收 is a tier of its own, beside whatever tier the deadline gives the same task.
    tiered += [(row, ReminderTier.UNACKNOWLEDGED) for row in unacknowledged_tasks(day)]
    directory = Directory.load(
        {r["owner_unit_id"] for r, _t in tiered}
        | {r["lead_unit_id"] for r, _t in tiered if r["lead_unit_id"]},
        {r["lead_leader_id"] for r, _t in tiered if r["lead_leader_id"]},
        {r["inspection_id"] for r, _t in tiered},
    )
    fallback = settings.RECTIFY["REMINDER_FALLBACK_EMAIL"].strip().lower()
    planned: list[Planned] = []
    # Who hears about a task depends only on these ids and the tier: 100,000 overdue tasks
    # across 2,000 units have a few thousand distinct answers.
    memo: dict[tuple, list[tuple[str, bool]]] = {}
    unreachable: list[int] = []
    for row, tier in tiered:
        key = (
            row["owner_unit_id"],
            row["lead_unit_id"],
            row["lead_leader_id"],
            row["inspection_id"],
            tier,
        )
        people = memo.get(key)
        if people is None:
            people = memo[key] = [
                (p.recipient, p.no_contact) for p in recipients_for(row, tier, directory, fallback)
            ]
        if not people:
            unreachable.append(row["id"])
        task_id = row["id"]
        planned += [Planned(task_id, email, tier, flag) for email, flag in people]
    if unreachable:  # one line, not one per task: a demo database has dozens
        logger.warning(
            "%s task(s) have nobody to remind (no contact, no supervisor, no"
            " REMINDER_FALLBACK_EMAIL): %s%s",
            len(unreachable),
            ", ".join(map(str, unreachable[:20])),
            " …" if len(unreachable) > 20 else "",
        )
    reached = {item.task_id for item in planned}
    return Plan(
        day=day,
        reminders=planned,
        tasks=len(tiered),
        owner_units=frozenset(r["owner_unit_id"] for r, _t in tiered if r["id"] in reached),
    )


def record(plan: Plan, now: datetime.datetime | None = None) -> ReminderSweep:
    """Write the plan's digests and log rows; rows that already exist are left alone.

    Reminders for a recipient whose digest of the day has already been claimed are not added:
    that person has had today's email, and tomorrow's lists the task again.
    """
    now = now or timezone.now()
    no_contact: dict[str, bool] = defaultdict(bool)
    for item in plan.reminders:
        no_contact[item.recipient] |= item.no_contact
    ReminderDigest.objects.bulk_create(
        [
            ReminderDigest(
                kind=DigestKind.DAILY,
                recipient=recipient,
                day=plan.day,
                no_contact=flag,
                next_attempt_at=now,
            )
            for recipient, flag in sorted(no_contact.items())
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    digests = {
        recipient: (pk, state)
        for recipient, pk, state in ReminderDigest.objects.filter(
            kind=DigestKind.DAILY, day=plan.day
        ).values_list("recipient", "pk", "state")
    }
    _insert_logs(plan, digests)
    plan_channels(
        DigestKind.DAILY,
        plan.day,
        {r: pk for r, (pk, _s) in digests.items()},
        plan.owner_units,
        now,
    )
    sweep, _created = ReminderSweep.objects.update_or_create(
        kind=DigestKind.DAILY,
        day=plan.day,
        defaults={
            "tasks": plan.tasks,
            "reminders": len(plan.reminders),
            "digests": len(no_contact),
        },
    )
    return sweep


def _insert_logs(plan: Plan, digests: dict[str, tuple[int, str]]) -> None:
    """Insert the plan's log rows that do not exist yet, for recipients whose digest is still
    pending. On PostgreSQL: COPY into a temporary table, then one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING`` (half a million rows in seconds; ``bulk_create`` took minutes)."""
    if db_connection.vendor != "postgresql":
        rows = [
            ReminderLog(
                task_id=item.task_id,
                recipient=item.recipient,
                tier=item.tier,
                day=plan.day,
                no_contact=item.no_contact,
                digest_id=digests[item.recipient][0],
            )
            for item in sorted(plan.reminders, key=lambda p: (p.task_id, p.recipient))
            if digests[item.recipient][1] == DeliveryState.PENDING
        ]
        ReminderLog.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
        return
    log_table = ReminderLog._meta.db_table
    digest_table = ReminderDigest._meta.db_table
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS reminder_plan")
        cursor.execute(
            "CREATE TEMPORARY TABLE reminder_plan (task_id integer, recipient varchar(254),"
            " tier varchar(12), no_contact boolean) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY reminder_plan (task_id, recipient, tier, no_contact) FROM STDIN"
        ) as copy:
            for item in plan.reminders:
                copy.write_row(item)
        # Sorted keys: concurrent sweeps inserting the same keys wait on each other in the
        # same order instead of deadlocking. By digest first, so that each digest's rows lie
        # together on disk for the sender; sorted in memory, not in temporary files.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(  # table names from the models, values as parameters
            f"""
            INSERT INTO {log_table} (task_id, recipient, tier, day, no_contact, digest_id)
            SELECT p.task_id, p.recipient, p.tier, %(day)s::date, p.no_contact, d.id
              FROM reminder_plan p
              JOIN {digest_table} d
                ON d.kind = %(kind)s::varchar AND d.day = %(day)s::date AND d.recipient = p.recipient
             WHERE d.state = %(pending)s::varchar
             ORDER BY d.id, p.task_id, p.tier
            ON CONFLICT DO NOTHING
            """,  # noqa: S608
            {"day": plan.day, "kind": DigestKind.DAILY, "pending": DeliveryState.PENDING},
        )
    with db_connection.cursor() as cursor:
        # Fresh statistics for the senders' queries: right after half a million new rows the
        # planner would otherwise expect a small table and scan it whole for every batch.
        cursor.execute(f"ANALYZE {log_table}, {digest_table}")


def plan_day(day: datetime.date | None = None) -> ReminderSweep:
    """collect + record for one day."""
    return record(collect(day))


def is_planned(day: datetime.date, kind: str = DigestKind.DAILY) -> bool:
    return ReminderSweep.objects.filter(kind=kind, day=day).exists()


def sweep_time_passed(now: datetime.datetime | None = None) -> bool:
    """Whether today's daily sweep time (Asia/Shanghai) has passed: catch-up never runs earlier,
    so nobody is emailed at 00:17 because the hourly run came first."""
    local = timezone.localtime(now or timezone.now())
    hour, minute = settings.RECTIFY["REMINDER_SWEEP_AT"]
    return (local.hour, local.minute) >= (hour, minute)


# --- weekly summary ----------------------------------------------------------------------------


def weekly_payload(user, today: datetime.date) -> dict:
    """Figures for one supervisor's weekly summary: counts, red units, longest overdue."""
    from tracker.permissions import access_for

    tasks = access_for(user).supervised_tasks()
    yellow = settings.RECTIFY["REMINDER_YELLOW_DAYS"]
    overdue = tasks.overdue(today)
    red_units = (
        overdue.order_by()
        .values("owner_unit__name")
        .annotate(n=Count("id"), oldest=Min("deadline"))
        .order_by("-n", "owner_unit__name")[:10]
    )
    longest = overdue.select_related("problem", "owner_unit").order_by("deadline", "pk")[:10]
    # The 督办 documents the rule proposes today, for the supervisor to confirm on /ladder/.
    from tracker.supervision import proposals

    ladder = [
        {"unit": p.unit.name, "rung": p.rung, "tasks": len(p.tasks)}
        for p in proposals(tasks, today)[:10]
    ]
    return {
        "ladder": ladder,
        "counts": {
            "open": tasks.open().count(),
            "overdue": overdue.count(),
            # Overdue by more than REMINDER_ESCALATE_DAYS = already overdue that many days ago.
            "escalated": tasks.overdue(
                today - datetime.timedelta(days=settings.RECTIFY["REMINDER_ESCALATE_DAYS"])
            ).count(),
            "due_soon": tasks.due_within(yellow, today).count(),
            "report_due": tasks.report_due(today).count(),
        },
        "red_units": [
            {"name": r["owner_unit__name"], "overdue": r["n"], "days": (today - r["oldest"]).days}
            for r in red_units
        ],
        "longest": [
            {
                "id": t.pk,
                "title": str(t.problem)[:80],
                "unit": t.owner_unit.name,
                "deadline": t.deadline.isoformat(),
                "days": (today - t.deadline).days,
            }
            for t in longest
        ],
    }


def plan_weekly(day: datetime.date | None = None) -> ReminderSweep:
    """One summary digest per supervisor for the week starting on ``day``'s Monday."""
    day = day or local_today()
    monday = day - datetime.timedelta(days=day.weekday())
    user_model = get_user_model()
    supervisors = (
        user_model.objects.filter(is_active=True, scopes__role=ScopeRole.SUPERVISOR)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    existing = set(
        ReminderDigest.objects.filter(kind=DigestKind.WEEKLY, day=monday).values_list(
            "recipient", flat=True
        )
    )
    now = timezone.now()
    seen: set[str] = set()
    new = []
    for user in supervisors:
        email = user.email.lower()
        if email in existing or email in seen:
            continue
        seen.add(email)
        new.append(
            ReminderDigest(
                kind=DigestKind.WEEKLY,
                recipient=email,
                day=monday,
                next_attempt_at=now,
                payload=weekly_payload(user, day),
            )
        )
    ReminderDigest.objects.bulk_create(new, ignore_conflicts=True)
    plan_channels(
        DigestKind.WEEKLY,
        monday,
        dict(
            ReminderDigest.objects.filter(kind=DigestKind.WEEKLY, day=monday).values_list(
                "recipient", "pk"
            )
        ),
        frozenset(),
        now,
    )
    sweep, _created = ReminderSweep.objects.update_or_create(
        kind=DigestKind.WEEKLY, day=monday, defaults={"digests": len(existing) + len(new)}
    )
    return sweep


def plan_channels(
    kind: str,
    day: datetime.date,
    digests: dict[str, int],
    units: frozenset[int] | set[int],
    now: datetime.datetime | None = None,
) -> int:
    """One delivery per enabled channel that hears of this run, inserted with ``ON CONFLICT DO
    NOTHING`` against (channel, kind, day) like the digests: a person's channels get their
    digest (``digests``: recipient → digest id), a unit's channels (daily only) the unit's
    tasks. Each is due at once, or at the end of quiet hours (email is not held back)."""
    now = now or timezone.now()
    due = QuietHours.from_settings().next_allowed(now)
    rows: list[ChannelDelivery] = []
    people = ReminderChannel.objects.filter(
        enabled=True, user__isnull=False, user__is_active=True
    ).values_list("pk", "user__email")
    for channel_id, email in people:
        digest_id = digests.get((email or "").lower())
        if digest_id:
            rows.append(
                ChannelDelivery(channel_id=channel_id, kind=kind, day=day, digest_id=digest_id)
            )
    if kind == DigestKind.DAILY and units:
        for channel_id in ReminderChannel.objects.filter(
            enabled=True, unit_id__in=list(units)
        ).values_list("pk", flat=True):
            rows.append(ChannelDelivery(channel_id=channel_id, kind=kind, day=day))
    for row in rows:
        row.next_attempt_at = due
    ChannelDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
