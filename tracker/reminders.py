"""The reminder sweep: who is told about which task today, and sending that as one digest each.

Three steps, each safe to repeat and to run twice at once:

1. **collect** (read only): the tasks in a tier today — green / yellow before the deadline,
   red / escalated after it, report due for 长期坚持 — selected with the one definition of
   overdue in ``TaskQuerySet`` (an index range scan on ``task_open_deadline``), and the people
   each tier reaches. ``--dry-run`` stops here.
2. **record**: one ``ReminderDigest`` per recipient and day and one ``ReminderLog`` per
   (task, recipient, tier, day), inserted with ``ON CONFLICT DO NOTHING`` against their unique
   constraints, so a second sweep of the same day adds nothing.
3. **deliver**: claim a batch of digests (``SELECT … FOR UPDATE SKIP LOCKED``, then mark them
   ``sending`` with a token and a lease), send the batch over one SMTP connection, and mark each
   digest sent right after the server accepted it. A temporary failure (4xx, connection lost)
   is retried later with exponential backoff, a permanent one (5xx) is recorded as failed; a
   sender that died leaves its lease to run out and the next run takes the claim over.

The only window in which an email can go out twice is between the server's "250 OK" and the
UPDATE that follows it (microseconds); SMTP itself offers nothing tighter. (That UPDATE commits
without waiting for the disk flush unless REMINDER_DURABLE_MARK is set: a killed worker changes
nothing, a crash of the database server could lose its last ~0.6 s of marks.) After each batch,
``record_sent`` puts one reminder event per task and day on the timelines.

The same code runs on SQLite (``make run``): where PostgreSQL gets a faster statement (COPY and
one INSERT … SELECT for the log, ``= ANY(array)``, row locks for claims, an advisory lock for the
timeline) SQLite gets an equivalent portable one (``bulk_create``, ``IN (…)``, a claim by one
conditional UPDATE, its single writer lock taken first). A sender that fails on the way puts its
unsent claims back for a retry (``send_batch``): nothing stays "sending".

Sized for 1,000,000 tasks of which 100,000 are overdue (bench/RESULTS-sweep.md): tiers are
selected by partial-index range scans, log rows go in by COPY, rows are rendered in Python.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

import chinese_calendar
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tracker import actions, emails, rules
from tracker.choices import ScopeRole, TaskStatus, TaskType, UnitRole
from tracker.models import (
    Inspection,
    Membership,
    Problem,
    ScopeAssignment,
    Task,
    Unit,
    local_today,
)
from tracker.models.reminders import (
    DeliveryState,
    DigestKind,
    ReminderDigest,
    ReminderLog,
    ReminderSweep,
    ReminderTier,
)
from tracker.rules import no_contact_q

logger = logging.getLogger(__name__)

# Tiers whose recipients include the owner unit's lead(s), the lead unit and the leaders.
_LEAD_TIERS = {
    ReminderTier.YELLOW,
    ReminderTier.RED,
    ReminderTier.ESCALATED,
    ReminderTier.REPORT_DUE,
}
_RED_TIERS = {ReminderTier.RED, ReminderTier.ESCALATED}
# pg_advisory_xact_lock key serialising timeline writes of concurrent senders ("REM1").
_TIMELINE_LOCK = 0x52454D31


# --- tiers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The tier thresholds, read from ``settings.RECTIFY`` (see the README)."""

    green_days: int = 20
    yellow_days: int = 10
    escalate_days: int = 30
    working_days: bool = False

    @classmethod
    def from_settings(cls) -> Policy:
        conf = settings.RECTIFY
        return cls(
            green_days=conf["REMINDER_GREEN_DAYS"],
            yellow_days=conf["REMINDER_YELLOW_DAYS"],
            escalate_days=conf["REMINDER_ESCALATE_DAYS"],
            working_days=conf["REMINDER_WORKING_DAYS"],
        )

    def horizon(self, today: datetime.date) -> int:
        """Calendar days ahead that can still be within ``green_days`` (working days are sparser:
        the longest run of holidays is the Spring Festival's, about nine days)."""
        return self.green_days * 2 + 14 if self.working_days else self.green_days


@lru_cache(maxsize=4096)
def _is_workday(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # Outside the years the official calendar is published for: Monday to Friday.
        return day.weekday() < 5


@lru_cache(maxsize=65536)
def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days in (start, end], counting 调休 weekend workdays and skipping holidays."""
    count, day = 0, start + datetime.timedelta(days=1)
    while day <= end:
        count += _is_workday(day)
        day += datetime.timedelta(days=1)
    return count


def days_between(start: datetime.date, end: datetime.date, working: bool) -> int:
    """Days from ``start`` to ``end`` (negative when end is earlier), calendar or working."""
    if not working:
        return (end - start).days
    if end >= start:
        return working_days_between(start, end)
    return -working_days_between(end, start)


def tier_for(
    *,
    today: datetime.date,
    deadline: datetime.date | None,
    task_type: str,
    report_due_on: datetime.date | None = None,
    policy: Policy | None = None,
) -> str | None:
    """The tier of an open task on ``today``, or None when nobody needs telling today.

    Overdue and report due are judged by the one rule of ``tracker.rules`` (calendar days);
    only the distances (how close, how long overdue) switch to working days when configured.
    """
    policy = policy or Policy.from_settings()
    # The fields of an open task, as the rules read them.
    task = SimpleNamespace(
        status=TaskStatus.IN_PROGRESS,
        deadline=deadline,
        task_type=task_type,
        report_due_on=report_due_on,
    )
    if rules.is_report_due(task, today):
        return ReminderTier.REPORT_DUE
    if task_type == TaskType.LONG_TERM or deadline is None:
        return None
    if rules.is_overdue(task, today):
        overdue = days_between(deadline, today, policy.working_days)
        return ReminderTier.ESCALATED if overdue > policy.escalate_days else ReminderTier.RED
    left = days_between(today, deadline, policy.working_days)
    if left <= policy.yellow_days:
        return ReminderTier.YELLOW
    if left <= policy.green_days:
        return ReminderTier.GREEN
    return None


def candidate_tasks(
    today: datetime.date, policy: Policy, fields: Iterable[str] | None = None
) -> QuerySet:
    """Open tasks that may be in a tier today (rows of ``fields``): overdue, due within the
    horizon, or 长期坚持 with a progress report due.

    Built from the one definition of overdue / due-within / report-due, one query per tier
    joined with UNION ALL (they are disjoint): each is a range scan of a partial index
    (``task_open_deadline``, ``task_open_report_due``). ORing them instead compiles to one
    filter that the planner can only apply after reading every open task.
    """
    fields = tuple(fields or _TASK_FIELDS)
    return (
        Task.objects.overdue(today)
        .order_by()
        .values(*fields)
        .union(
            Task.objects.due_within(policy.horizon(today), today).order_by().values(*fields),
            Task.objects.report_due(today).order_by().values(*fields),
            all=True,
        )
    )


_TASK_FIELDS = (
    "id",
    "deadline",
    "task_type",
    "report_due_on",
    "owner_unit_id",
    "lead_unit_id",
    "lead_leader_id",
    "inspection_id",
)


# --- recipients -----------------------------------------------------------------------------


class Planned(NamedTuple):
    """One reminder the sweep wants to send: a row of ``ReminderLog`` before it is written.

    A tuple, not a dataclass: a full-size sweep makes half a million of them."""

    task_id: int
    recipient: str
    tier: str
    no_contact: bool = False


@dataclass
class Directory:
    """Everyone a batch of tasks can reach, loaded in a handful of queries."""

    clerks: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    leads: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    contacts: dict[int, list[str]] = field(default_factory=dict)
    leaders: dict[int, str] = field(default_factory=dict)
    principal: dict[int, str] = field(default_factory=dict)  # inspection → principal email
    inspection_org: dict[int, int] = field(default_factory=dict)
    supervisors_all: list[str] = field(default_factory=list)
    supervisors_org: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    supervisors_insp: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, unit_ids: set[int], leader_ids: set[int], inspection_ids: set[int]) -> Directory:
        d = cls()
        for unit_id, raw in Unit.objects.filter(pk__in=unit_ids).values_list(
            "pk", "contact_emails"
        ):
            d.contacts[unit_id] = _split_emails(raw)
        for unit_id, role, email in (
            Membership.objects.filter(unit_id__in=unit_ids, user__is_active=True)
            .exclude(user__email="")
            .order_by("unit_id", "user__username")
            .values_list("unit_id", "role", "user__email")
        ):
            (d.clerks if role == UnitRole.CLERK else d.leads)[unit_id].append(email.lower())
        user_model = get_user_model()
        d.leaders = {
            pk: email.lower()
            for pk, email in user_model.objects.filter(pk__in=leader_ids, is_active=True)
            .exclude(email="")
            .values_list("pk", "email")
        }
        for pk, org_id, email, active in Inspection.objects.filter(
            pk__in=inspection_ids
        ).values_list(
            "pk",
            "organization_id",
            "organization__principal__email",
            "organization__principal__is_active",
        ):
            d.inspection_org[pk] = org_id
            if email and active:
                d.principal[pk] = email.lower()
        for email, everything, org_id, insp_id in (
            ScopeAssignment.objects.filter(role=ScopeRole.SUPERVISOR, user__is_active=True)
            .exclude(user__email="")
            .order_by("user__username")
            .values_list("user__email", "all_organizations", "organization_id", "inspection_id")
        ):
            if everything:
                d.supervisors_all.append(email.lower())
            elif org_id:
                d.supervisors_org[org_id].append(email.lower())
            elif insp_id:
                d.supervisors_insp[insp_id].append(email.lower())
        return d

    def supervisors(self, inspection_id: int) -> list[str]:
        """Supervisors of an inspection: by the inspection, its organization, or everything."""
        org_id = self.inspection_org.get(inspection_id)
        return [
            *self.supervisors_insp.get(inspection_id, ()),
            *self.supervisors_org.get(org_id, ()),
            *self.supervisors_all,
        ]

    def unit_people(self, unit_id: int) -> list[str]:
        """Clerk-level contacts of a unit: its clerks, else its contact addresses, else leads."""
        return self.clerks.get(unit_id) or self.contacts.get(unit_id) or self.leads.get(unit_id, [])


def _split_emails(raw: str) -> list[str]:
    raw = raw.replace("\n", ",").replace(";", ",").replace(",", ",")
    return [item.strip().lower() for item in raw.split(",") if "@" in item]


def recipients_for(task: dict, tier: str, d: Directory, fallback: str = "") -> list[Planned]:
    """Who hears about ``task`` at ``tier``.

    green → the owner unit's clerks; yellow and report due → also its lead(s) (分管领导);
    red → also the lead unit's contacts, the lead leader and the organization's principal;
    escalated (overdue beyond REMINDER_ESCALATE_DAYS) → also the inspection's supervisors.
    An owner unit nobody can be reached at is not skipped: its reminders go to the supervisors
    and to REMINDER_FALLBACK_EMAIL, marked "no contact", whoever else (a lead unit with
    addresses, a lead leader) hears of the task too: they are not the ones who must act.
    """
    owner = task["owner_unit_id"]
    owner_side = list(d.unit_people(owner))
    if tier in _LEAD_TIERS:
        owner_side += d.leads.get(owner, [])
    unit_side = list(owner_side)
    others: list[str] = []
    if tier in _RED_TIERS:
        unit_side += d.contacts.get(task["lead_unit_id"] or owner, [])
        if task["lead_leader_id"] in d.leaders:
            others.append(d.leaders[task["lead_leader_id"]])
        if task["inspection_id"] in d.principal:
            others.append(d.principal[task["inspection_id"]])
    if tier == ReminderTier.ESCALATED:
        others += d.supervisors(task["inspection_id"])
    chosen: dict[str, bool] = {}
    for email in [*unit_side, *others]:
        chosen.setdefault(email, False)
    if not owner_side:
        for email in [*d.supervisors(task["inspection_id"]), *([fallback] if fallback else [])]:
            chosen[email.lower()] = True
    return [Planned(task["id"], email, tier, no_contact) for email, no_contact in chosen.items()]


def units_without_contact() -> QuerySet[Unit]:
    """Units with open tasks that nobody can be emailed at. Their reminders go to the
    supervisors; the dashboard lists them (``selectors.uncontactable_owner_rows``)."""
    return (
        Unit.objects.filter(no_contact_q())
        .filter(Exists(Task.objects.open().filter(owner_unit=OuterRef("pk"))))
        .annotate(
            open_tasks=Count(
                "owned_tasks", filter=rules.open_q(rules.TaskFields(status="owned_tasks__status"))
            )
        )
        .select_related("organization")
        .order_by("organization__name", "name")
    )


# --- collect and record -----------------------------------------------------------------------


@dataclass
class Plan:
    day: datetime.date
    reminders: list[Planned]
    tasks: int

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
    return Plan(day=day, reminders=planned, tasks=len(tiered))


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
    return {
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
    sweep, _created = ReminderSweep.objects.update_or_create(
        kind=DigestKind.WEEKLY, day=monday, defaults={"digests": len(existing) + len(new)}
    )
    return sweep


# --- deliver -----------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # (recipient, tiers)
    retried: int = 0
    failed: int = 0
    # Digests put back for a later attempt, and the earliest moment one of them is due: the
    # Celery sender queues itself again for then (tracker.tasks.send_digest).
    retry_ids: list[int] = field(default_factory=list)
    next_retry_at: datetime.datetime | None = None

    def merge(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.retry_ids += other.retry_ids
        if other.next_retry_at and (
            self.next_retry_at is None or other.next_retry_at < self.next_retry_at
        ):
            self.next_retry_at = other.next_retry_at

    def retry_later(self, pk: int, when: datetime.datetime) -> None:
        self.retried += 1
        self.retry_ids.append(pk)
        if self.next_retry_at is None or when < self.next_retry_at:
            self.next_retry_at = when


def _claimable(now: datetime.datetime) -> Q:
    max_attempts = settings.RECTIFY["REMINDER_MAX_ATTEMPTS"]
    due = Q(state=DeliveryState.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(state=DeliveryState.SENDING, lease_until__lt=now)
    return (due | abandoned) & Q(attempts__lt=max_attempts)


def _deliverable_days(day: datetime.date) -> Q:
    """Today's daily digests, and weekly summaries of the current week."""
    return Q(kind=DigestKind.DAILY, day=day) | Q(
        kind=DigestKind.WEEKLY, day__gt=day - datetime.timedelta(days=7), day__lte=day
    )


def expire(day: datetime.date, now: datetime.datetime | None = None) -> None:
    """Close what can no longer be sent: earlier days' daily digests (today's lists the same
    tasks again), and claims abandoned once too often."""
    now = now or timezone.now()
    ReminderDigest.objects.filter(
        kind=DigestKind.DAILY,
        day__lt=day,
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING],
    ).filter(Q(state=DeliveryState.PENDING) | Q(lease_until__lt=now)).update(
        state=DeliveryState.SUPERSEDED, claim_token=""
    )
    ReminderDigest.objects.filter(
        state=DeliveryState.SENDING,
        lease_until__lt=now,
        attempts__gte=settings.RECTIFY["REMINDER_MAX_ATTEMPTS"],
    ).update(
        state=DeliveryState.FAILED,
        claim_token="",
        last_error="发送过程多次中断,已停止重试",
    )


def claimable_ids(day: datetime.date) -> list[int]:
    """Ids of the digests a run on ``day`` could send now (for fanning out to workers)."""
    return list(
        ReminderDigest.objects.filter(_deliverable_days(day), _claimable(timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def claim(
    day: datetime.date | None = None, ids: Iterable[int] | None = None, limit: int | None = None
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` sendable digests; rows another sweep holds are skipped, not waited
    for. Returns the claim token and the claimed ids.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, then mark the rows. Elsewhere (SQLite has
    no row locks; ``skip_locked`` is ignored there) one conditional UPDATE whose WHERE repeats
    the claimable test, so of two senders racing for a row only one sets its token on it; the
    claimed ids are then read back by token.
    """
    limit = limit or settings.RECTIFY["REMINDER_BATCH_SIZE"]
    now = timezone.now()
    token = uuid.uuid4().hex
    qs = ReminderDigest.objects.filter(_claimable(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if day is not None:
        qs = qs.filter(_deliverable_days(day))
    mark = {
        "state": DeliveryState.SENDING,
        "claim_token": token,
        "lease_until": now + datetime.timedelta(seconds=settings.RECTIFY["REMINDER_LEASE_SECONDS"]),
        "attempts": F("attempts") + 1,
    }
    if db_connection.vendor != "postgresql":
        candidates = qs.order_by("pk").values("pk")[:limit]
        ReminderDigest.objects.filter(_claimable(now), pk__in=candidates).update(**mark)
        claimed = list(
            ReminderDigest.objects.filter(claim_token=token, state=DeliveryState.SENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return token, claimed
    with transaction.atomic():
        claimed = list(
            qs.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if claimed:
            ReminderDigest.objects.filter(pk__in=claimed).update(**mark)
    return token, claimed


def smtp_code(error: BaseException) -> int | None:
    """The SMTP reply code an error carries, if any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


def is_permanent(error: BaseException) -> bool:
    """5xx replies are permanent (the address or the message is refused); 4xx and lost
    connections are temporary."""
    code = smtp_code(error)
    return code is not None and 500 <= code < 600


def _fail(
    pk: int, token: str, attempts: int, error: BaseException | str, report: DeliveryReport
) -> None:
    now = timezone.now()
    message = (
        str(error)[:2000] if isinstance(error, str) else f"{type(error).__name__}: {error}"[:2000]
    )
    permanent = not isinstance(error, str) and is_permanent(error)
    if permanent or attempts >= settings.RECTIFY["REMINDER_MAX_ATTEMPTS"]:
        fields = {"state": DeliveryState.FAILED}
        report.failed += 1
        logger.error("reminder digest %s failed permanently: %s", pk, message)
    else:
        delay = settings.RECTIFY["REMINDER_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
        when = now + datetime.timedelta(seconds=delay)
        fields = {"state": DeliveryState.PENDING, "next_attempt_at": when}
        report.retry_later(pk, when)
        logger.warning("reminder digest %s will be retried in %ss: %s", pk, delay, message)
    ReminderDigest.objects.filter(pk=pk, claim_token=token, state=DeliveryState.SENDING).update(
        last_error=message, claim_token="", lease_until=None, **fields
    )


def _release(pks: list[int], token: str) -> None:
    """Hand back claims this sender will not get to, without counting them as attempts."""
    ReminderDigest.objects.filter(
        pk__in=pks, claim_token=token, state=DeliveryState.SENDING
    ).update(
        state=DeliveryState.PENDING, claim_token="", lease_until=None, attempts=F("attempts") - 1
    )


def task_url_template() -> str:
    """Absolute link to a task page with "{id}" for the task id: the workspace's
    ``tracker:task_detail`` when it exists, else its agreed path ``/tasks/<id>/``."""
    try:
        path = reverse("tracker:task_detail", args=[987654321]).replace("987654321", "{id}")
    except NoReverseMatch:
        path = "/tasks/{id}/"
    return settings.SITE_URL + path


def _load_items(digest_ids: list[int]) -> dict[int, list[dict]]:
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
                   p.label || p.title, u.name
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
    for digest_id, tier, no_contact, task_id, deadline, report_on, title, unit in rows:
        items[digest_id].append(
            {
                "tier": tier,
                "no_contact": no_contact,
                "task_id": task_id,
                "deadline": deadline,
                "report_due_on": report_on,
                "title": title,
                "unit": unit,
            }
        )
    return items


def send_batch(token: str, ids: list[int], connection=None) -> DeliveryReport:
    """Send claimed digests over one SMTP connection, marking each sent as soon as it is.

    Whatever goes wrong on the way (a template, the database, a bug), no claim is left in
    ``sending``: the digests this batch had not sent yet are put back for a retry with the
    usual backoff (counted as an attempt, so a failure that repeats ends as failed after
    REMINDER_MAX_ATTEMPTS), and the error is raised again for the log.
    """
    try:
        with _LazyCommits():
            return _send_batch(token, ids, connection)
    except Exception as error:
        _settle_after_crash(token, ids, error)
        raise


def _settle_after_crash(token: str, ids: list[int], error: BaseException) -> None:
    """Put back for a later attempt the digests of ``ids`` still claimed by ``token``."""
    logger.exception("sending reminder digests failed; their claims are put back")
    report = DeliveryReport()
    try:
        if not db_connection.in_atomic_block and not db_connection.is_usable():
            db_connection.close()  # e.g. the server dropped it: the next query reconnects
        for pk, attempts in ReminderDigest.objects.filter(
            pk__in=ids, claim_token=token, state=DeliveryState.SENDING
        ).values_list("pk", "attempts"):
            _fail(pk, token, attempts, f"{type(error).__name__}: {error}", report)
    except Exception:  # noqa: BLE001 — the lease still runs out and the next run takes over
        logger.exception("could not put the claims back; their lease will run out")


def _send_batch(token: str, ids: list[int], connection=None) -> DeliveryReport:
    report = DeliveryReport()
    if not ids:
        return report
    started = time.monotonic()
    # Stop well before the lease runs out, so nobody else can take over a claim still in use.
    budget = settings.RECTIFY["REMINDER_LEASE_SECONDS"] * 0.8
    digests = list(ReminderDigest.objects.filter(pk__in=ids, claim_token=token).order_by("pk"))
    items = _load_items([d.pk for d in digests if d.kind == DigestKind.DAILY])
    if settings.RECTIFY["REMINDER_WORKING_DAYS"]:
        _count_working_days(digests, items)
    url = task_url_template()
    connection = connection or get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 — any failure to connect is temporary
        for digest in digests:
            _fail(digest.pk, token, digest.attempts, error, report)
        return report
    try:
        for index, digest in enumerate(digests):
            if time.monotonic() - started > budget:
                _release([d.pk for d in digests[index:]], token)
                break
            if digest.kind == DigestKind.WEEKLY:
                message = emails.weekly_summary(digest, url)
                carried: list[dict] = []
            else:
                carried = items.get(digest.pk, [])
                if not carried:  # every reminder of it went elsewhere: nothing to say
                    ReminderDigest.objects.filter(pk=digest.pk, claim_token=token).update(
                        state=DeliveryState.SUPERSEDED, claim_token=""
                    )
                    continue
                message = emails.reminder_digest(digest, carried, url)
            try:
                connection.send_messages([message])
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                # The connection is gone: this message is retried later; so is the rest of the
                # batch unless a fresh connection works.
                _fail(digest.pk, token, digest.attempts, error, report)
                try:
                    connection.close()
                    connection.open()
                except Exception:  # noqa: BLE001
                    for rest in digests[index + 1 :]:
                        _fail(rest.pk, token, rest.attempts, error, report)
                    return report
                continue
            except smtplib.SMTPException as error:
                _fail(digest.pk, token, digest.attempts, error, report)
                continue
            _mark_sent(digest, token, carried)
            report.sent.append(
                (digest.recipient, _tier_counts(carried) if carried else {"weekly": 1})
            )
    finally:
        try:
            connection.close()
        except Exception as error:  # noqa: BLE001 — everything was recorded already
            logger.info("closing the SMTP connection failed: %s", error)
        record_sent([d.pk for d in digests])
    return report


def _count_working_days(digests: list[ReminderDigest], items: dict[int, list[dict]]) -> None:
    """With REMINDER_WORKING_DAYS, the tiers count working days, and so does the email: each
    item due today or later carries ``working_days_left`` (shown as 剩余N个工作日)."""
    for digest in digests:
        for item in items.get(digest.pk, ()):
            deadline = item["deadline"]
            if deadline is not None and deadline >= digest.day:
                item["working_days_left"] = working_days_between(digest.day, deadline)


def _tier_counts(carried: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in carried:
        counts[item["tier"]] += 1
    return dict(counts)


def _mark_sent(digest: ReminderDigest, token: str, carried: list[dict]) -> None:
    """The server accepted the email: close the claim at once (one single-row UPDATE, so the
    window in which a dying sender could leave it to be resent stays tiny). The timeline
    follows per batch in ``record_sent``.

    Unless REMINDER_DURABLE_MARK is set, the commit does not wait for the disk flush (a
    full-size sweep makes thousands of these commits, and each flush took milliseconds on a
    busy machine): the row is visible to every other sweep at once, so a killed worker changes
    nothing; only a crash of the database server itself could lose the last ~0.6 s of marks
    (PostgreSQL's wal_writer_delay × 3) and have those few emails sent again.
    """
    with db_connection.cursor() as cursor:  # plain SQL: the ORM's compile cost, per email
        cursor.execute(
            f"UPDATE {ReminderDigest._meta.db_table} SET state = %s, sent_at = %s,"  # noqa: S608
            " claim_token = '', last_error = '' WHERE id = %s AND claim_token = %s AND state = %s",
            [
                DeliveryState.SENT.value,
                timezone.now(),
                digest.pk,
                token,
                DeliveryState.SENDING.value,
            ],
        )


class _LazyCommits:
    """While sending a batch, commit without waiting for the disk flush (see ``_mark_sent``)."""

    def __enter__(self) -> None:
        self.on = db_connection.vendor == "postgresql" and not settings.RECTIFY.get(
            "REMINDER_DURABLE_MARK", False
        )
        if self.on:
            with db_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO OFF")

    def __exit__(self, *exc) -> None:
        if self.on:
            with db_connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def record_sent(ids: Iterable[int] | None = None) -> int:
    """Put today's reminders of sent digests on the tasks' timelines: one event per task and
    day, written with the first batch that carried the task (naming that batch's recipients;
    every (task, recipient) pair is in ``ReminderLog``). Exactly once per digest: the
    ``recorded`` flag flips in the same transaction, rows another sender is recording are
    skipped, and an advisory lock serialises the "has this task an event today" check. With
    ``ids`` None, records whatever a sender killed after sending left unrecorded."""
    qs = ReminderDigest.objects.filter(state=DeliveryState.SENT, recorded=False)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    total = 0
    postgresql = db_connection.vendor == "postgresql"
    while True:
        with transaction.atomic():
            if not postgresql:
                # SQLite has neither row locks nor advisory locks, but one writer at a time:
                # write first, so this transaction holds the write lock before it reads (a
                # read-then-write transaction could not take it while another one writes).
                ReminderDigest.objects.filter(pk=0).update(recorded=False)
            batch = list(
                qs.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:1000]
            )
            if not batch:
                return total
            if postgresql:
                with db_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TIMELINE_LOCK])
            actions.record_reminders(batch)
            ReminderDigest.objects.filter(pk__in=batch).update(recorded=True)
            total += len(batch)


def deliver(
    day: datetime.date | None = None,
    ids: Iterable[int] | None = None,
    connection=None,
) -> DeliveryReport:
    """Claim and send batch after batch until nothing sendable is left (for ``day``, or among
    ``ids``). Safe to run in several processes at once: each claims different rows."""
    report = DeliveryReport()
    ids = list(ids) if ids is not None else None
    if day is not None:
        expire(day)
    record_sent()  # what a sender killed after sending left off the timeline
    while True:
        token, claimed = claim(day=day, ids=ids)
        if not claimed:
            return report
        report.merge(send_batch(token, claimed, connection=connection))


def sweep(day: datetime.date | None = None, connection=None) -> DeliveryReport:
    """The whole daily run, synchronously: plan the day, then send everything sendable."""
    day = day or local_today()
    plan_day(day)
    return deliver(day, connection=connection)
