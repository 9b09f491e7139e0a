"""Recipients: who hears about a task at a tier (the owner unit's clerks, then its leads, the lead
unit, the leaders, the supervisors), loaded for a whole sweep in a handful of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, QuerySet

from tracker import rules
from tracker.choices import ScopeRole, UnitRole
from tracker.models import Inspection, Membership, ScopeAssignment, Task, Unit
from tracker.models.reminders import ReminderTier
from tracker.rules import no_contact_q

# Tiers whose recipients include the owner unit's lead(s), the lead unit and the leaders.
_LEAD_TIERS = {
    ReminderTier.YELLOW,
    ReminderTier.RED,
    ReminderTier.ESCALATED,
    ReminderTier.REPORT_DUE,
    ReminderTier.UNACKNOWLEDGED,
}
_RED_TIERS = {ReminderTier.RED, ReminderTier.ESCALATED}


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

    green → the owner unit's clerks; yellow, report due and 待签收 → also its lead(s) (分管领导);
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
