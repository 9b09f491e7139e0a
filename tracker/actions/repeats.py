"""屡巡屡犯 (recurring problems): linking a problem of a later inspection to the problem of an
earlier inspection of the same organization that it reads like (``tracker.similarity``).

Which inspection is earlier is decided by feedback date (反馈日期); an inspection without one is
compared with none. Each leaf problem (one with a task) of the later inspection is linked to at
most one problem per earlier inspection: the most similar one, if at least
``RECTIFY["REPEAT_SIMILARITY"]`` similar. Both directions are looked at, so the links do not
depend on the order in which notices or plans arrive.

``link_repeats`` runs inside the transaction that created the problems (notice import, plan
import, a problem added in the app), with that change's actor: a link is a consequence of
creating problems, not a change with a rule of its own. Each new link writes one REPEAT event on
the later problem's task (new value: the score; reason: the earlier inspection).
``recompute_repeats`` (``manage.py find_repeats``) does the same for existing data and also
removes links that no longer reach the threshold; run again, it changes nothing. Rewording a
problem (``edit_problem``) runs it for that problem's inspection, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tracker.actions.base import Actor, record_event
from tracker.choices import EventKind
from tracker.models import Inspection, Problem, RepeatLink, Task
from tracker.similarity import comparable_title, matches


def threshold() -> float:
    return float(settings.RECTIFY.get("REPEAT_SIMILARITY", 0.6))


def _best_pairs(inspection_ids: set[int]) -> dict[tuple[int, int], float]:
    """(later problem id, earlier problem id) → score, for every pair of inspections of the same
    organizations where one of the two is in ``inspection_ids``."""
    # One query for the dated inspections of the organizations concerned.
    orgs = Inspection.objects.filter(pk__in=inspection_ids).values("organization_id")
    dated = list(
        Inspection.objects.filter(organization_id__in=orgs, feedback_date__isnull=False)
        .order_by()
        .values_list("pk", "feedback_date", "organization_id")
    )
    feedback = {pk: day for pk, day, _org in dated}
    organization = {pk: org for pk, _day, org in dated}
    if len(dated) == len(set(organization.values())):
        return {}  # one dated inspection per organization: nothing to compare with
    leaves: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = (
        Task.objects.filter(inspection_id__in=feedback)
        .order_by("inspection_id", "problem_id")
        .values_list("inspection_id", "problem_id", "problem__title")
    )
    for inspection_id, problem_id, title in rows:
        leaves[inspection_id].append((problem_id, comparable_title(title)))
    limit = threshold()
    pairs: dict[tuple[int, int], float] = {}
    for later, later_day in feedback.items():
        for earlier, earlier_day in feedback.items():
            if earlier_day >= later_day or organization[earlier] != organization[later]:
                continue
            if later not in inspection_ids and earlier not in inspection_ids:
                continue
            choices = leaves.get(earlier, [])
            titles = [title for _pk, title in choices]
            for problem_id, title in leaves.get(later, []):
                found = matches(title, titles, limit) if titles else []
                if found:
                    index, score = found[0]
                    pairs[(problem_id, choices[index][0])] = round(score, 4)
    return pairs


def _write(pairs: dict[tuple[int, int], float], actor: Actor, *, prune_ids: set[int] | None):
    """Create the missing links (each with its REPEAT event), refresh changed scores, and with
    ``prune_ids`` (inspections) delete their links that are no longer among ``pairs``."""
    touched = {pk for pair in pairs for pk in pair}
    existing_q = RepeatLink.objects.filter(problem_id__in=touched) if touched else None
    existing: dict[tuple[int, int], RepeatLink] = {}
    if existing_q is not None:
        existing = {(link.problem_id, link.earlier_problem_id): link for link in existing_q}
    removed = 0
    if prune_ids is not None:
        stale = RepeatLink.objects.filter(
            problem__inspection_id__in=prune_ids
        ) | RepeatLink.objects.filter(earlier_problem__inspection_id__in=prune_ids)
        for link in stale:
            if (link.problem_id, link.earlier_problem_id) not in pairs:
                link.delete()
                removed += 1
    new = [pair for pair in sorted(pairs) if pair not in existing]
    changed = [
        link for pair, link in existing.items() if pair in pairs and link.score != pairs[pair]
    ]
    for link in changed:
        link.score = pairs[(link.problem_id, link.earlier_problem_id)]
        link.save(update_fields=["score"])
    if not new:
        return [], removed
    problems = Problem.objects.select_related("inspection", "task").in_bulk(
        {pk for pair in new for pk in pair}
    )
    links = RepeatLink.objects.bulk_create(
        [RepeatLink(problem_id=p, earlier_problem_id=e, score=pairs[(p, e)]) for p, e in new]
    )
    for link in links:
        later, earlier = problems[link.problem_id], problems[link.earlier_problem_id]
        record_event(
            later.task,
            EventKind.REPEAT,
            actor,
            new=f"{link.score:.2f}",
            # The inspection only: the earlier problem's title is shown on the page to those who
            # may read it, while the timeline is read by everyone who sees this task.
            reason=_("与%(inspection)s反馈的问题相似") % {"inspection": earlier.inspection},
        )
    return links, removed


def link_repeats(problems: Iterable[Problem], actor: Actor) -> list[RepeatLink]:
    """Link the new ``problems`` (and whatever else of their inspections now pairs up) to the
    problems of the same organization's earlier and later inspections they read like. Called
    by the code that created them, in its transaction (no savepoint of its own), with its
    actor; one query when the organization has no other dated inspection."""
    inspection_ids = {p.inspection_id for p in problems}
    if not inspection_ids:
        return []
    with transaction.atomic(savepoint=False):
        links, _removed = _write(_best_pairs(inspection_ids), actor, prune_ids=None)
    return links


@transaction.atomic
def recompute_repeats(inspections: Iterable[Inspection] | None, actor: Actor) -> tuple[int, int]:
    """Recompute the links of ``inspections`` (all when None) against the rest of their
    organizations: missing links are created with their events, scores refreshed, links under
    the threshold removed. Returns (created, removed); a second run returns (0, 0)."""
    if inspections is None:
        ids = set(Inspection.objects.values_list("pk", flat=True))
    else:
        ids = {i.pk for i in inspections}
    links, removed = _write(_best_pairs(ids), actor, prune_ids=ids)
    return len(links), removed
