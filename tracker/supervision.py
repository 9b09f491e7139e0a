"""The rules and read side of supervision (督办): when a 签收 is late, which ladder rung a task
is at and which comes next, what the sweep proposes to supervisors, who receives a document.

Nothing here writes: ``tracker.actions.supervision`` issues, replies and acknowledges, and calls
these rules so that the pages, the sweep and the actions judge alike.

- 签收 late: a task given to its owner unit by a person (``Task.assigned_at``) and not signed for
  after ACK_WORKING_DAYS working days (chinese-calendar: holidays and 调休 counted);
- the ladder: a task's rung is the highest one of the documents issued about it; the next rung
  is one higher, never skipped, and nothing comes after 问责书;
- proposals: an overdue task whose next rung is due by LADDER_DAYS (days overdue per rung),
  once the reply period of the previous document is over; or at once when the previous
  document's reply deadline was missed. Grouped by unit and rung: one document per unit.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from tracker import rules
from tracker.choices import LADDER_ORDER, UnitRole
from tracker.models import Membership, Task, Unit, local_today
from tracker.models.ladder import SupervisionDocument
from tracker.workdays import is_workday

# --- working days ---------------------------------------------------------------------------


def ack_cutoff(today: datetime.date, working_days: int | None = None) -> datetime.date:
    """The last day a task may have been given on and be late for 签收 on ``today``: from that
    day to today (exclusive, inclusive) lie ``working_days`` working days."""
    n = settings.RECTIFY["ACK_WORKING_DAYS"] if working_days is None else working_days
    day, count = today, 0
    while count < n:
        count += is_workday(day)
        day -= datetime.timedelta(days=1)
    return day


def _day_end(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day`` in the project's time zone (Asia/Shanghai)."""
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(start, timezone.get_default_timezone())


def awaiting_ack_q() -> Q:
    """Open tasks given by a person and not signed for yet (the partial index ``task_awaiting_ack``)."""
    return rules.open_q() & Q(assigned_at__isnull=False, acknowledged_at__isnull=True)


def ack_late_q(today: datetime.date | None = None) -> Q:
    """Awaiting 签收 for ACK_WORKING_DAYS working days or more on ``today``."""
    cutoff = ack_cutoff(today or local_today())
    return awaiting_ack_q() & Q(assigned_at__lt=_day_end(cutoff))


def is_ack_late(task: Task, today: datetime.date | None = None) -> bool:
    """``ack_late_q`` for one loaded task."""
    if task.is_done or not task.awaits_acknowledgement:
        return False
    assigned = timezone.localtime(task.assigned_at).date()
    return assigned <= ack_cutoff(today or local_today())


# --- the ladder -----------------------------------------------------------------------------


@dataclass
class LadderPosition:
    """Where one task stands on the ladder: its highest rung (-1 for none) and the document
    that put it there."""

    index: int = -1
    last: SupervisionDocument | None = None

    @property
    def rung(self) -> str | None:
        return LADDER_ORDER[self.index] if self.index >= 0 else None

    @property
    def next_rung(self) -> str | None:
        """The rung a new document must be: one higher, None past 问责书."""
        following = self.index + 1
        return LADDER_ORDER[following] if following < len(LADDER_ORDER) else None


def positions(task_ids: Iterable[int]) -> dict[int, LadderPosition]:
    """Each task's position on the ladder, from the documents issued about it (one query)."""
    ids = list(task_ids)
    out: dict[int, LadderPosition] = {pk: LadderPosition() for pk in ids}
    if not ids:
        return out
    through = SupervisionDocument.tasks.through
    links = through.objects.filter(task_id__in=ids).values_list("task_id", "supervisiondocument_id")
    by_task: dict[int, list[int]] = defaultdict(list)
    for task_id, doc_id in links:
        by_task[task_id].append(doc_id)
    docs = SupervisionDocument.objects.in_bulk({d for ds in by_task.values() for d in ds})
    for task_id, doc_ids in by_task.items():
        for doc_id in doc_ids:
            doc = docs[doc_id]
            position = out[task_id]
            index = LADDER_ORDER.index(doc.rung)
            if index > position.index or (
                index == position.index and doc.issued_at > position.last.issued_at
            ):
                position.index, position.last = index, doc
    return out


def unit_highest_rungs(unit_ids: Iterable[int]) -> dict[int, str]:
    """The highest rung issued to each unit (units without documents are absent)."""
    out: dict[int, str] = {}
    for unit_id, rung in (
        SupervisionDocument.objects.filter(unit_id__in=list(unit_ids))
        .order_by()
        .values_list("unit_id", "rung")
        .distinct()
    ):
        if unit_id not in out or LADDER_ORDER.index(rung) > LADDER_ORDER.index(out[unit_id]):
            out[unit_id] = rung
    return out


def rung_days(rung: str) -> int:
    """Days overdue from which ``rung`` is proposed (LADDER_DAYS, one figure per rung)."""
    return settings.RECTIFY["LADDER_DAYS"][LADDER_ORDER.index(rung)]


@dataclass
class Proposal:
    """A document the rule proposes: the next ``rung`` for these overdue tasks of ``unit``."""

    unit: Unit
    rung: str
    tasks: list[Task] = field(default_factory=list)
    # Tasks proposed because the previous document's reply deadline passed unanswered.
    missed: list[int] = field(default_factory=list)

    @property
    def rung_label(self) -> str:
        from tracker.choices import LadderRung

        return str(LadderRung(self.rung).label)


def proposal_reason(position: LadderPosition, days_overdue: int, today: datetime.date) -> str:
    """Why the next rung is due now ("missed", "days"), or "" when it is not."""
    nxt = position.next_rung
    if nxt is None:
        return ""
    last = position.last
    if last is not None and last.reply_missed(today):
        return "missed"
    if days_overdue < rung_days(nxt):
        return ""
    if last is not None and last.reply_due >= today:
        return ""  # the unit is still within the previous document's reply period
    return "days"


def proposals(tasks: QuerySet[Task], today: datetime.date | None = None) -> list[Proposal]:
    """The documents the rule proposes today among ``tasks`` (a supervisor's scope): one per
    unit and rung, its tasks in deadline order. Nothing is issued: a supervisor confirms."""
    today = today or local_today()
    overdue = list(
        tasks.overdue(today)
        .select_related("problem", "owner_unit__organization")
        .order_by("owner_unit_id", "deadline", "pk")
    )
    where = positions(t.pk for t in overdue)
    grouped: dict[tuple[int, str], Proposal] = {}
    for task in overdue:
        position = where[task.pk]
        reason = proposal_reason(position, task.days_overdue(today), today)
        if not reason:
            continue
        key = (task.owner_unit_id, position.next_rung)
        proposal = grouped.setdefault(key, Proposal(unit=task.owner_unit, rung=position.next_rung))
        proposal.tasks.append(task)
        if reason == "missed":
            proposal.missed.append(task.pk)
    return sorted(
        grouped.values(),
        key=lambda p: (-LADDER_ORDER.index(p.rung), p.unit.organization.name, p.unit.name),
    )


# --- recipients -----------------------------------------------------------------------------


def _emails(raw: str) -> list[str]:
    raw = raw.replace("\n", ",").replace(";", ",").replace(",", ",")
    return [item.strip().lower() for item in raw.split(",") if "@" in item]


def recipients_for(unit: Unit, tasks: Iterable[Task], rung: str) -> list[str]:
    """Who receives a document: the unit (its contact addresses, else its clerks), its leads
    (分管领导), the tasks' lead leaders with an account, and from 告诫书 up the organization's
    principal (主要负责人). Lowercased, each once, in that order."""
    users = get_user_model()
    found: list[str] = list(_emails(unit.contact_emails))
    members = (
        Membership.objects.filter(unit=unit, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__username")
        .values_list("role", "user__email")
    )
    if not found:
        found += [email.lower() for role, email in members if role == UnitRole.CLERK]
    found += [email.lower() for role, email in members if role == UnitRole.LEAD]
    leader_ids = {t.lead_leader_id for t in tasks if t.lead_leader_id}
    found += [
        email.lower()
        for email in users.objects.filter(pk__in=leader_ids, is_active=True)
        .exclude(email="")
        .order_by("username")
        .values_list("email", flat=True)
    ]
    if LADDER_ORDER.index(rung) >= LADDER_ORDER.index("warning"):
        principal = unit.organization.principal
        if principal is not None and principal.is_active and principal.email:
            found.append(principal.email.lower())
    return list(dict.fromkeys(found))


def issuer_name(unit: Unit) -> str:
    """The issuer printed on a document: LADDER_ISSUER, else the organization's 整改办."""
    return (
        settings.RECTIFY.get("LADDER_ISSUER")
        or f"{unit.organization.name}巡视巡察整改工作领导小组办公室"
    )
