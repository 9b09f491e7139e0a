"""One definition each of the domain's predicates, as ``Q`` builders over tasks (and the same
rule for one loaded task where a page needs it without a query).

Models, selectors, lamps, reminders and permissions all build on these; nothing else spells
out what "overdue" or "may lead review" means.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q


def lead_review_q(unit_ids: Iterable[int], prefix: str = "") -> Q:
    """Tasks whose first close-out review (牵头单位审核) belongs to one of ``unit_ids``: the lead
    unit's, or the owner unit's when the task has no lead unit."""
    ids = list(unit_ids)
    return Q(**{f"{prefix}lead_unit_id__in": ids}) | Q(
        **{f"{prefix}lead_unit__isnull": True, f"{prefix}owner_unit_id__in": ids}
    )


def lead_review_unit_id(task) -> int:
    """The unit whose leads give the first review of ``task`` (``lead_review_q`` for one task)."""
    return task.lead_unit_id or task.owner_unit_id
