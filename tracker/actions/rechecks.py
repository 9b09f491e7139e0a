"""反向核查 (re-checks of closed tasks): drawing a round's sample, assigning checkers, recording
outcomes. A 未到位 (failed) outcome reopens the task through ``reopen`` (回头看) with the
finding as its reason, in the same transaction; every outcome writes one RECHECK event on the
task (new value: the ``RecheckOutcome`` code), which unit scoring counts.

Who may: supervisors of the round's scope (``record_recheck``'s rule, "supervise", judged on
each task, and on the scope for drawing a round); observers see rounds and change nothing.

The sample (``draw``, a pure function): the scope's 已销号 tasks, grouped by owner unit (the
strata), units and tasks in primary-key order, then ``random.Random(seed)``:
- size: ``count``, or ``ceil(closed × percent / 100)``; at most every closed task;
- at least one per unit where possible: when the size reaches the number of units, every unit
  gets one task and the remaining places are shared in proportion to each unit's other closed
  tasks (largest remainder, ties to the smaller unit id), never more than a unit has; when the
  size is smaller than the number of units, that many units are drawn, one task each;
- within a unit the tasks are drawn without replacement: no task twice in a round.
The same seed over the same closed tasks gives the same sample.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.actions.base import (
    ActionError,
    Actor,
    _authorize,
    _begin,
    _bump,
    _refresh_caller,
    record_event,
)
from tracker.actions.closeout import reopen
from tracker.choices import EventKind, RecheckOutcome, RecheckState, TaskStatus
from tracker.models import (
    Inspection,
    Organization,
    RecheckItem,
    RecheckRound,
    Task,
)


def allocate(sizes: Sequence[int], n: int, rng: random.Random) -> list[int]:
    """How many of each stratum (``sizes``: its tasks, in stratum order) a sample of ``n`` takes:
    one each, then the rest in proportion to ``size - 1`` by largest remainder (ties to the
    earlier stratum); with fewer places than strata, ``n`` strata drawn with ``rng``, one each."""
    n = min(n, sum(sizes))
    strata = [i for i, size in enumerate(sizes) if size > 0]
    shares = [0] * len(sizes)
    if n <= 0 or not strata:
        return shares
    if n < len(strata):
        for i in rng.sample(strata, n):
            shares[i] = 1
        return shares
    for i in strata:
        shares[i] = 1
    rest = n - len(strata)
    spare = sum(sizes[i] - 1 for i in strata)
    if rest and spare:
        quotas = {i: rest * (sizes[i] - 1) / spare for i in strata}
        floors = {i: math.floor(q) for i, q in quotas.items()}
        left = rest - sum(floors.values())
        by_remainder = sorted(strata, key=lambda i: (-(quotas[i] - floors[i]), i))
        for i in strata:
            shares[i] += floors[i]
        for i in by_remainder[:left]:
            shares[i] += 1
    return shares


def sample_size(population: int, *, count: int | None, percent: int | None) -> int:
    if count is not None:
        return min(count, population)
    return min(population, math.ceil(population * percent / 100))


def draw(
    tasks: Sequence[tuple[int, int]], seed: int, *, count: int | None, percent: int | None
) -> list[tuple[int, int]]:
    """The sample of ``tasks`` ((task id, owner unit id) pairs): see the module's docstring."""
    by_unit: dict[int, list[int]] = defaultdict(list)
    for task_id, unit_id in sorted(tasks):
        by_unit[unit_id].append(task_id)
    units = sorted(by_unit)
    rng = random.Random(seed)
    n = sample_size(len(tasks), count=count, percent=percent)
    shares = allocate([len(by_unit[u]) for u in units], n, rng)
    chosen: list[tuple[int, int]] = []
    for unit_id, share in zip(units, shares, strict=True):
        chosen.extend((task_id, unit_id) for task_id in rng.sample(by_unit[unit_id], share))
    return sorted(chosen)


def _scope_probe(scope: Organization | Inspection) -> Task:
    """An unsaved task standing for the scope, for the "supervise" rule (as ``create_problem``
    judges an inspection): an inspection scope, or an organization scope."""
    if isinstance(scope, Inspection):
        return Task(inspection=scope)
    return Task(inspection=Inspection(organization=scope))


def closed_tasks(scope: Organization | Inspection):
    """The 已销号 tasks a round over ``scope`` draws from."""
    qs = Task.objects.filter(status=TaskStatus.CLOSED)
    if isinstance(scope, Inspection):
        return qs.filter(inspection=scope)
    return qs.filter(inspection__organization=scope)


@transaction.atomic
def draw_recheck_sample(
    scope: Organization | Inspection,
    actor: Actor,
    *,
    seed: int,
    name: str,
    count: int | None = None,
    percent: int | None = None,
) -> RecheckRound:
    """A new round over ``scope`` with its sample (stratified by owner unit, seeded)."""
    if not isinstance(scope, Organization | Inspection):
        raise TypeError("a re-check round samples an organization or an inspection")
    _authorize(actor, "record_recheck", _scope_probe(scope))
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写核查批次名称。"))
    if (count is None) == (percent is None):
        raise ActionError(_("请填写抽取比例或抽取数量(二选一)。"))
    if count is not None and count < 1:
        raise ActionError(_("抽取数量至少为 1。"))
    if percent is not None and not 1 <= percent <= 100:
        raise ActionError(_("抽取比例须为 1 至 100 之间的整数。"))
    population = list(closed_tasks(scope).order_by("pk").values_list("pk", "owner_unit_id"))
    if not population:
        raise ActionError(_("范围内没有已销号的任务。"))
    chosen = draw(population, seed, count=count, percent=percent)
    round_ = RecheckRound.objects.create(
        name=name[:200],
        organization=scope if isinstance(scope, Organization) else None,
        inspection=scope if isinstance(scope, Inspection) else None,
        seed=seed,
        count=count,
        percent=percent,
        population=len(population),
        created_by=actor.user,
    )
    RecheckItem.objects.bulk_create(
        [RecheckItem(round=round_, task_id=task_id, unit_id=unit_id) for task_id, unit_id in chosen]
    )
    return round_


def _locked_item(item: RecheckItem) -> RecheckItem:
    return (
        RecheckItem.objects.select_for_update(of=("self",))
        .select_related("round", "task__inspection")
        .get(pk=item.pk)
    )


@transaction.atomic
def assign_checker(item: RecheckItem, user, actor: Actor) -> RecheckItem:
    """Name who checks the item (or nobody, with None). The checker must be able to see the task
    and must not belong to one of its units: nobody re-checks their own unit's work."""
    from tracker.permissions import Access

    locked = _locked_item(item)
    _authorize(actor, "record_recheck", locked.task)
    if locked.outcome:
        raise ActionError(_("该事项已记录核查结果。"))
    if user is not None:
        access = Access(user)
        if not user.is_active or not access.tasks().filter(pk=locked.task_id).exists():
            raise ActionError(_("核查人须能查看该任务。"))
        if access.is_task_unit_member(locked.task):
            raise ActionError(_("核查人不能是该任务责任单位的成员。"))
    locked.checker = user
    locked.save(update_fields=["checker"])
    item.checker = user
    return item


@transaction.atomic
def record_recheck(
    item: RecheckItem, actor: Actor, outcome: str, findings: str = "", file=None
) -> RecheckItem:
    """Record the item's outcome once: 确认到位, or 未到位 with findings (required), which reopens
    the task with the findings as the reason. Optional evidence joins the task's evidence."""
    from tracker.actions.progress import _evidence

    locked = _locked_item(item)
    task = _begin(locked.task, actor, "record_recheck", None)
    if locked.outcome:
        raise ActionError(_("该事项已记录核查结果。"))
    if outcome not in RecheckOutcome.values:
        raise ActionError(_("未知的核查结果:%s") % outcome)
    findings = (findings or "").strip()
    if outcome == RecheckOutcome.FAILED and not findings:
        raise ActionError(_("核查未到位须填写核查情况。"))
    if file is not None:
        locked.evidence = _evidence(task, file, actor, _("反向核查:%s") % locked.round.name)
    if outcome == RecheckOutcome.FAILED and task.status == TaskStatus.CLOSED:
        reopen(task, actor, reason=findings)  # 回头看: back to 整改中, the close-out marked
    else:
        _bump(task)
    record_event(task, EventKind.RECHECK, actor, new=outcome, reason=findings)
    locked.outcome = outcome
    locked.findings = findings
    locked.recorded_by = actor.user
    locked.checked_at = timezone.now()
    locked.save(update_fields=["outcome", "findings", "evidence", "recorded_by", "checked_at"])
    round_ = locked.round
    if not round_.items.filter(outcome="").exists():
        RecheckRound.objects.filter(pk=round_.pk).update(state=RecheckState.DONE)
    cached = item._state.fields_cache.get("task")
    if cached is not None:
        _refresh_caller(cached, task)
    item.__dict__.update(
        {
            k: getattr(locked, k)
            for k in ("outcome", "findings", "evidence_id", "recorded_by_id", "checked_at")
        }
    )
    return item
