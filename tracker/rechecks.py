"""Reading re-check rounds (反向核查) for their pages, and their XLSX export (text cells kept text
by ``tracker.spreadsheet``). Writes are ``tracker.actions.rechecks``."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker import spreadsheet
from tracker.choices import RecheckOutcome
from tracker.models import RecheckItem, RecheckRound


def round_rows(rounds: QuerySet[RecheckRound]) -> list[RecheckRound]:
    """The rounds, newest first, each with its item, checked and failed counts."""
    return list(
        rounds.select_related("organization", "inspection__organization", "created_by")
        .annotate(
            n_items=Count("items"),
            n_checked=Count("items", filter=~Q(items__outcome="")),
            n_failed=Count("items", filter=Q(items__outcome=RecheckOutcome.FAILED)),
        )
        .order_by("-created_at", "-pk")
    )


def round_items(round_: RecheckRound) -> list[RecheckItem]:
    return list(
        round_.items.select_related(
            "unit", "task__problem", "task__inspection", "checker", "recorded_by", "evidence"
        ).order_by("unit__name", "unit_id", "task_id")
    )


def summary(items: list[RecheckItem]) -> dict[str, int]:
    return {
        "total": len(items),
        "confirmed": sum(1 for i in items if i.outcome == RecheckOutcome.CONFIRMED),
        "failed": sum(1 for i in items if i.outcome == RecheckOutcome.FAILED),
        "pending": sum(1 for i in items if not i.outcome),
    }


def export_rows(round_: RecheckRound) -> list[list]:
    rows = []
    for n, item in enumerate(round_items(round_), 1):
        task = item.task
        when = (
            timezone.localtime(item.checked_at).strftime("%Y-%m-%d %H:%M")
            if item.checked_at
            else ""
        )
        rows.append(
            [
                n,
                item.unit.name,
                task.pk,
                f"{task.problem.label}{task.problem.title}",
                str(task.inspection),
                item.checker.get_username() if item.checker else "",
                item.get_outcome_display() if item.outcome else _("待核查"),
                item.findings,
                item.evidence.original_name if item.evidence else "",
                when,
            ]
        )
    return rows


def export_xlsx(round_: RecheckRound) -> bytes:
    size = f"{round_.percent}%" if round_.percent is not None else str(round_.count)
    facts = [_("核查批次"), round_.name, _("核查范围"), str(round_.scope), _("随机种子"),
             str(round_.seed), _("抽取"), size]  # fmt: skip
    headers = [_("序号"), _("责任主体"), _("任务编号"), _("问题"), _("巡视巡察"), _("核查人"),
               _("核查结果"), _("核查情况"), _("佐证材料"), _("核查时间")]  # fmt: skip
    return spreadsheet.table_xlsx(_("反向核查"), headers, export_rows(round_), lead=facts)
