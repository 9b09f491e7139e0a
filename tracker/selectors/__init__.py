"""Read-side aggregates: the numbers that summaries, dashboards and exports show.

Everything here is a grouped query built on the one definition of each rule in
``tracker.rules``: over the tallies the actions keep (``TaskTally``, ``TaskDayTally``) when the
scope can be said on their columns, else over ``Task``; nothing loops over tasks in Python. For a past as-of day the dashboard's
figures are judged on the tasks as they stood at the end of that day, rebuilt from history
(``tracker.history_asof``).

Two parts read as jobs of their own: ``rankings`` (what a dashboard page lists first, cut in
SQL over a whole install) and ``trend`` (the weekly completion trend).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)

from tracker import figures
from tracker.choices import TaskStatus, TaskType
from tracker.figures import (
    DUE_SOON_WINDOWS,
    GROUP_COUNTS,
    TALLY_FIELDS,
    tally_category_groups,
    tally_groups,
)
from tracker.figures import _n as _n
from tracker.history_asof import fields_of, scope_as_of
from tracker.lamps import LAMP_ORDER, LampRules, lamp, lamp_aggregates
from tracker.models import (
    Inspection,
    Problem,
    Task,
    TaskTally,
    Unit,
    local_today,
)
from tracker.rules import (
    FIELDS,
    TaskFields,
    completion_rate,
    done_q,
    due_soon_q,
    is_done,
    is_overdue,
    no_contact_q,
    no_deadline_q,
    open_q,
    overdue_q,
    report_due_q,
)
from tracker.selectors import rankings
from tracker.selectors.rankings import INSPECTION_LABELS, UNCONTACTABLE_SHOWN
from tracker.selectors.trend import completion_history


def inspection_summaries(
    inspections: QuerySet[Inspection] | None = None, today: datetime.date | None = None
) -> dict:
    """Per inspection: organization, round, group, deadline, declared, and task counts.

    This is the stable shape of ``manage.py summary --json`` (see the README). A past
    ``today`` counts the tasks as they stood at the end of that day.
    """
    today = today or local_today()
    inspections = (
        (Inspection.objects.all() if inspections is None else inspections)
        .select_related("organization")
        .order_by("organization__name", "feedback_date", "pk")
    )
    by_inspection: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(TaskStatus.values, 0)
    )
    extra: dict[int, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "no_deadline": 0})
    if today >= local_today():
        # Today (or later): from the tallies the actions keep, whatever the number of tasks.
        f = TALLY_FIELDS
        tallies = TaskTally.objects.filter(inspection_id__in=inspections.values("pk")).order_by()
        for row in tallies.values("inspection_id", "status").annotate(n=_n()):
            by_inspection[row["inspection_id"]][row["status"]] = row["n"]
        counted = tallies.values("inspection_id").annotate(
            overdue=_n(overdue_q(today, f)), no_deadline=_n(no_deadline_q(f))
        )
    else:
        # A past day counts each task as it stood at the end of that day (history_asof).
        tasks, f = scope_as_of(Task.objects.filter(inspection__in=inspections).order_by(), today)
        for row in tasks.values("inspection_id", f.status).annotate(n=Count("id")):
            by_inspection[row["inspection_id"]][row[f.status]] = row["n"]
        counted = tasks.values("inspection_id").annotate(
            overdue=Count("id", filter=overdue_q(today, f)),
            no_deadline=Count("id", filter=no_deadline_q(f)),
        )
    for row in counted:
        extra[row["inspection_id"]] = {"overdue": row["overdue"], "no_deadline": row["no_deadline"]}

    rows = []
    totals = {"inspections": 0, "tasks": 0, "overdue": 0, "no_deadline": 0}
    for inspection in inspections:
        by_status = dict(by_inspection[inspection.pk])
        total = sum(by_status.values())
        done = by_status[TaskStatus.COMPLETED] + by_status[TaskStatus.CLOSED]
        declared_problems = inspection.declared.get("problems")
        rows.append(
            {
                "id": inspection.pk,
                "organization": inspection.organization.name,
                "round": inspection.round_name or None,
                "group": inspection.group or None,
                "feedback": inspection.feedback_date.isoformat()
                if inspection.feedback_date
                else None,
                "deadline": inspection.deadline.isoformat() if inspection.deadline else None,
                "declared": inspection.declared,
                "declared_gap": None if declared_problems is None else declared_problems - total,
                "tasks": {
                    "total": total,
                    "overdue": extra[inspection.pk]["overdue"],
                    "no_deadline": extra[inspection.pk]["no_deadline"],
                    "completion_rate": completion_rate(done, total),
                    "by_status": by_status,
                },
            }
        )
        totals["inspections"] += 1
        totals["tasks"] += total
        totals["overdue"] += extra[inspection.pk]["overdue"]
        totals["no_deadline"] += extra[inspection.pk]["no_deadline"]
    return {"as_of": today.isoformat(), "totals": totals, "inspections": rows}


# --- the supervisors' dashboard ------------------------------------------------------------
#
# Each function below is one grouped query (Count/Sum/Min with filter=) over the task queryset
# it is given: already narrowed to the user's scope by tracker.permissions and to the chosen
# scope by the TaskFilterSet. Python only walks the grouped rows (statuses, units, inspections,
# categories, weeks), never the tasks.
#
# They read the fields named by ``f`` (default: ``fields_of(tasks)``): the columns, or for a
# scope that ``dashboard()`` passed through ``scope_as_of`` (a past as-of day) the
# ``AS_OF_FIELDS`` annotations: the tasks that existed at the end of that day, with their
# status, deadline, owner, type and report date as they stood then.


def _days_overdue(today: datetime.date, f: TaskFields = FIELDS) -> Sum:
    late = ExpressionWrapper(
        Value(today, output_field=DateField()) - F(f.deadline), output_field=DurationField()
    )
    return Sum(late, filter=overdue_q(today, f))


def _days(value: datetime.timedelta | int | None) -> int:
    if value is None:
        return 0
    return value.days if isinstance(value, datetime.timedelta) else int(value)


def scope_groups(
    tasks: QuerySet[Task], today: datetime.date, rules: LampRules, f: TaskFields | None = None
) -> list[dict]:
    """One scan of the scope, grouped by (owner unit, inspection, type), every count filtered.

    Totals, units, inspections and types are folded from these group rows (at most units ×
    inspections × 3, far fewer than tasks), so a million tasks are read once, not four times.
    Rows are keyed ``owner_unit_id``, ``inspection_id`` and ``task_type`` (as of ``today``).
    """
    f = f or fields_of(tasks)
    if f != FIELDS:
        return _judged_groups(tasks, today, rules, f)
    aggregates = {f"status_{s}": Count("id", filter=Q(**{f.status: s})) for s in TaskStatus.values}
    aggregates.update(
        total=Count("id"),
        done=Count("id", filter=done_q(f)),
        no_deadline=Count("id", filter=no_deadline_q(f)),
        report_due=Count("id", filter=report_due_q(today, f)),
        days_overdue=_days_overdue(today, f),
        oldest_deadline=Min(f.deadline, filter=overdue_q(today, f)),
        **{f"due_{d}": Count("id", filter=due_soon_q(today, d, f)) for d in DUE_SOON_WINDOWS},
        **lamp_aggregates(today, rules, f),
    )
    rows = list(
        tasks.order_by().values(f.owner, "inspection_id", f.task_type).annotate(**aggregates)
    )
    for row in rows:
        row["days_overdue"] = _days(row["days_overdue"])
        row["owner_unit_id"] = row.pop(f.owner)
        row["task_type"] = row.pop(f.task_type)
    return rows


# A past day's values are rebuilt per task by correlated subqueries (tracker.history_asof), and
# SQL evaluates such a subquery once per mention: the ~20 filtered counts above would probe the
# history ~55 times per task. So the as-of scan groups by the rebuilt values themselves (each
# probed once per task) and each group is judged by the rules' Python form, which
# tests/test_rules.py holds equal to their Q form.
_JUDGED = ("status", "deadline", "task_type", "report_due")


def _judge(row: dict, today: datetime.date, rules: LampRules, f: TaskFields) -> dict:
    """The GROUP_COUNTS of ``row["n"]`` tasks that share the values in ``row``."""
    return figures.judge(row, today, rules.yellow_days, f)


def _judged_groups(
    tasks: QuerySet[Task], today: datetime.date, rules: LampRules, f: TaskFields
) -> list[dict]:
    """``scope_groups`` over as-of values: rows of the same shape, one per distinct (owner,
    inspection, type, status, deadline, report date), which ``_fold`` sums alike."""
    values = [getattr(f, name) for name in _JUDGED]
    rows = tasks.order_by().values(f.owner, "inspection_id", *values).annotate(n=Count("id"))
    return [
        {
            "owner_unit_id": row[f.owner],
            "inspection_id": row["inspection_id"],
            "task_type": row[f.task_type],
            **_judge(row, today, rules, f),
        }
        for row in rows
    ]


# --- the same figures from the tallies (tracker.models.aggregates, tracker.figures) ----------
#
# TaskTally holds one row per combination of (inspection, owner, category, type, status,
# deadline, report date) with its task count ``n``, kept by tracker.actions in the same
# transaction as each change; tracker.figures judges it into today's figures per (inspection,
# owner, type) and (inspection, category, type), kept alike. Every Count("id", filter=q) of the
# scan becomes Sum("n", filter=q) over the tallies, or a plain Sum over the figures.


def _fold(groups: list[dict], key: str | None) -> dict:
    """Sum group rows by ``key`` (None: one total); the oldest overdue deadline is the minimum.

    Rows already one per key (today's figures are summed by the database) are taken as they
    are; a row is copied only when a second one with its key comes (the rows are shared)."""
    folded: dict = {}
    copied: set = set()
    for row in groups:
        k = row[key] if key else None
        target = folded.get(k)
        if target is None:
            folded[k] = row
            continue
        if k not in copied:
            target = folded[k] = {f: target[f] for f in GROUP_COUNTS} | {
                "oldest_deadline": target["oldest_deadline"]
            }
            copied.add(k)
        for f in GROUP_COUNTS:
            target[f] += row[f]
        if row["oldest_deadline"] and (
            target["oldest_deadline"] is None or row["oldest_deadline"] < target["oldest_deadline"]
        ):
            target["oldest_deadline"] = row["oldest_deadline"]
    return folded


def _done(row: dict) -> int:
    return row["done"]


def _among(qs: QuerySet, ids) -> QuerySet:
    """``qs`` narrowed to ``ids`` by an IN list when it is short; a whole install's units or
    inspections cost more to send as thousands of parameters than to read, so then the table
    is read as is and the caller keeps what it needs."""
    return qs.filter(pk__in=list(ids)) if len(ids) <= 300 else qs


def dashboard_totals(
    tasks: QuerySet[Task],
    today: datetime.date,
    rules: LampRules,
    groups: list[dict] | None = None,
) -> dict:
    """Totals for the scope: by status, rate, overdue, due soon, no deadline, reports due."""
    groups = scope_groups(tasks, today, rules) if groups is None else groups
    row = _fold(groups, None).get(None) or dict.fromkeys(GROUP_COUNTS, 0)
    by_status = {s: row[f"status_{s}"] for s in TaskStatus.values}
    done = _done(row)
    return {
        "total": row["total"],
        "overdue": row["overdue"],
        "due_soon": row["due_soon"],
        "basic_late": row["basic_late"],
        "no_deadline": row["no_deadline"],
        "report_due": row["report_due"],
        **{f"due_{d}": row[f"due_{d}"] for d in DUE_SOON_WINDOWS},
        "by_status": by_status,
        "done": done,
        "basically_completed": by_status[TaskStatus.BASICALLY_COMPLETED],
        # 未完成 in notices: neither completed nor basically completed.
        "not_completed": by_status[TaskStatus.NOT_STARTED] + by_status[TaskStatus.IN_PROGRESS],
        "completion_rate": completion_rate(done, row["total"]),
        "lamp": lamp(row, rules),
    }


def unit_rows(
    tasks: QuerySet[Task],
    today: datetime.date,
    rules: LampRules,
    groups: list[dict] | None = None,
) -> list[dict]:
    """Per owner unit (责任主体): open, overdue, days overdue, due soon, light; red first."""
    groups = scope_groups(tasks, today, rules) if groups is None else groups
    folded = _fold(groups, "owner_unit_id")
    if all("name" in r for r in folded.values()):  # ranked figures come with their names
        names = {pk: r["name"] for pk, r in folded.items()}
    else:
        names = {
            pk: name
            for pk, name in _among(Unit.objects.all(), folded).values_list("pk", "name")
            if pk in folded
        }
    rows = []
    for unit_id, r in folded.items():
        oldest = r["oldest_deadline"]
        rows.append(
            {
                "id": unit_id,
                "name": names.get(unit_id, ""),
                "total": r["total"],
                "open": r["total"] - _done(r),
                "overdue": r["overdue"],
                "due_soon": r["due_soon"],
                "basic_late": r["basic_late"],
                "days_overdue": r["days_overdue"],
                "longest_overdue": (today - oldest).days if oldest else 0,
                "lamp": lamp(r, rules),
            }
        )
    rows.sort(
        key=lambda r: (LAMP_ORDER[r["lamp"]], -r["overdue"], -r["due_soon"], r["name"], r["id"])
    )
    return rows


def inspection_rows(
    tasks: QuerySet[Task],
    today: datetime.date,
    rules: LampRules,
    groups: list[dict] | None = None,
) -> list[dict]:
    """Per inspection: tracked versus declared, completion, overdue and its light; red first."""
    groups = scope_groups(tasks, today, rules) if groups is None else groups
    folded = _fold(groups, "inspection_id")
    rows = []
    fields = ("pk", *INSPECTION_LABELS)
    if all("declared" in r for r in folded.values()):  # ranked figures come with their labels
        labelled = [{"pk": pk, **r} for pk, r in folded.items()]
    else:
        labelled = figures.raw_values(_among(Inspection.objects.all(), folded).values(*fields))
    for inspection in labelled:
        r = folded.get(inspection["pk"])
        if r is None:
            continue
        declared = inspection["declared"] or {}
        if isinstance(declared, str):  # SQLite's JSON, read raw
            declared = json.loads(declared)
        declared = declared.get("problems")
        done = _done(r)
        org, round_name, group = (inspection[k] for k in fields[1:4])
        rows.append(
            {
                "id": inspection["pk"],
                "name": Inspection.label(org, round_name, group),
                "organization": org,
                "round": round_name,
                "group": group,
                "total": r["total"],
                "done": done,
                "overdue": r["overdue"],
                "due_soon": r["due_soon"],
                "declared": declared,
                "declared_gap": None if declared is None else declared - r["total"],
                "completion_rate": completion_rate(done, r["total"]),
                "lamp": lamp(r, rules),
            }
        )
    rows.sort(key=lambda r: (LAMP_ORDER[r["lamp"]], -r["overdue"], r["name"], r["id"]))
    return rows


def category_groups(
    tasks: QuerySet[Task], today: datetime.date, f: TaskFields | None = None
) -> list[dict]:
    """Per category id (``Task.category``): total, done and overdue, as of ``today``."""
    f = f or fields_of(tasks)
    if f == FIELDS:
        return list(
            tasks.order_by()
            .values("category_id")
            .annotate(
                total=Count("id"),
                done=Count("id", filter=done_q(f)),
                overdue=Count("id", filter=overdue_q(today, f)),
            )
        )
    # As of a past day: group by the rebuilt values, judge each group (see _judge).
    grouped = []
    rows = (
        tasks.order_by()
        .values("category_id", f.status, f.deadline, f.task_type)
        .annotate(n=Count("id"))
    )
    for row in rows:
        task = SimpleNamespace(**row)
        grouped.append(
            {
                "category_id": row["category_id"],
                "total": row["n"],
                "done": row["n"] * is_done(task, f),
                "overdue": row["n"] * is_overdue(task, today, f),
            }
        )
    return grouped


def category_rows(
    tasks: QuerySet[Task] | None,
    today: datetime.date,
    f: TaskFields | None = None,
    grouped: list[dict] | None = None,
) -> list[dict]:
    """Per category (方面): a leaf's top-level ancestor (its parent, or grandparent if deeper),
    stored on the task when it is created (``Task.category``), compared across inspections by
    its wording (read live: a renamed category shows at once)."""
    grouped = category_groups(tasks, today, f) if grouped is None else grouped
    titles = {}
    if not all("title" in r for r in grouped):  # a past day's cached counts: titles read now
        titles = dict(
            Problem.objects.filter(
                pk__in=[r["category_id"] for r in grouped if r["category_id"]]
            ).values_list("pk", "title")
        )
    # Categories are per inspection; offices compare them by their wording across inspections
    # (rows joined to their title by the query, today's, carry it; no category: "").
    by_title: dict[str, dict] = {}
    for r in grouped:
        if "title" in r:
            title = r["title"] or ""
        else:
            title = (titles.get(r["category_id"]) or "") if r["category_id"] else ""
        entry = by_title.setdefault(title, {"title": title, "total": 0, "done": 0, "overdue": 0})
        for field in ("total", "done", "overdue"):
            entry[field] += r[field]
    rows = sorted(by_title.values(), key=lambda r: (-r["total"], r["title"]))
    for row in rows:
        row["completion_rate"] = completion_rate(row["done"], row["total"])
    return rows


def type_rows(
    tasks: QuerySet[Task],
    today: datetime.date,
    rules: LampRules | None = None,
    groups: list[dict] | None = None,
) -> list[dict]:
    """Per type (立行立改 / 限期整改 / 长期坚持): totals, done, overdue, reports due."""
    rules = rules or LampRules.from_settings()
    groups = scope_groups(tasks, today, rules) if groups is None else groups
    folded = _fold(groups, "task_type")
    rows = []
    for value, label in TaskType.choices:
        r = folded.get(value) or dict.fromkeys(GROUP_COUNTS, 0)
        done = _done(r)
        rows.append(
            {
                "task_type": value,
                "label": label,
                "total": r["total"],
                "done": done,
                "overdue": r["overdue"],
                "report_due": r["report_due"],
                "completion_rate": completion_rate(done, r["total"]),
            }
        )
    return rows


def uncontactable_owner_rows(
    tasks: QuerySet[Task] | None, limit: int = UNCONTACTABLE_SHOWN, tally: Q | None = None
) -> list[dict]:
    """Owners of open tasks in ``tasks`` (a dashboard scope) nobody can be emailed at
    (``rules.no_contact_q``): ``{"id", "name", "organization", "open_tasks"}``, most open
    tasks first. Who can be emailed is a fact of now, so this reads today's owners and statuses
    whatever the as-of day; with ``tally`` (a Q over TaskTally) from the tallies (today's own
    dashboard takes them from its unit rows: ``uncontactable_among``)."""
    if tally is not None:
        rows = (
            TaskTally.objects.filter(tally)
            .filter(open_q(TALLY_FIELDS), no_contact_q("owner_unit"))
            .order_by()
            .values("owner_unit", "owner_unit__name", "owner_unit__organization__name")
            .annotate(open_tasks=_n())
            .filter(open_tasks__gt=0)
            .order_by("-open_tasks", "owner_unit__name", "owner_unit")[:limit]
        )
    else:
        rows = (
            tasks.open()
            .filter(no_contact_q("owner_unit"))
            .order_by()
            .values("owner_unit", "owner_unit__name", "owner_unit__organization__name")
            .annotate(open_tasks=Count("pk"))
            .order_by("-open_tasks", "owner_unit__name", "owner_unit")[:limit]
        )
    return [
        {
            "id": row["owner_unit"],
            "name": row["owner_unit__name"],
            "organization": row["owner_unit__organization__name"],
            "open_tasks": row["open_tasks"],
        }
        for row in rows
    ]


def uncontactable_among(units: list[dict], limit: int = UNCONTACTABLE_SHOWN) -> list[dict]:
    """``uncontactable_owner_rows`` from today's unit rows (``unit_rows``): the units with open
    tasks that nobody can be emailed at, one query over the units."""
    open_tasks = {u["id"]: u["open"] for u in units if u["open"]}
    rows = [
        {"id": pk, "name": name, "organization": org, "open_tasks": open_tasks[pk]}
        for pk, name, org in _among(Unit.objects.filter(no_contact_q()), open_tasks).values_list(
            "pk", "name", "organization__name"
        )
        if pk in open_tasks
    ]
    return rankings.most_open(rows, limit)


def dashboard_key(
    tasks: QuerySet[Task], today: datetime.date, rules: LampRules | None = None
) -> str:
    """The cache key of a past day's scanned figures: the exact SQL of the scoped, filtered
    queryset, the as-of day and the lamp rules.

    A past day's figures do not change with later work (history is append-only, a later change
    is undone from it, a later task is not counted), so they are cached; today's are read from
    the tallies (or, for scopes the tallies cannot express, scanned) on every request. What is
    cached holds only counts and ids: names and titles are read live, so a renamed unit shows
    at once."""
    rules = rules or LampRules.from_settings()
    sql, params = tasks.order_by().values("pk").query.sql_with_params()
    raw = repr((sql, params, today, rules))
    return "rectify:dashboard:" + hashlib.sha256(raw.encode()).hexdigest()


def dashboard(
    tasks: QuerySet[Task],
    today: datetime.date | None = None,
    *,
    tally: Q | None = None,
    day_tally: Q | None = None,
    figure: Q | None = None,
    use_cache: bool = True,
    key: str | None = None,
    shown: tuple[int, int] | None = None,
) -> dict:
    """Everything the dashboard shows for a scope.

    ``figure`` (a Q over the figure tables: the scope and the filters that can be said there)
    reads today's figures (``tracker.figures``): a few grouped queries over rows per
    (inspection, owner), (inspection, type) and (inspection, category), whatever the number of
    tasks. ``tally``
    (a Q over TaskTally: ``Access.tally_q() & TaskFilterSet.tally_q()``) reads them from the
    tallies for the other filters (a status, a category, a deadline rule) and for a later day;
    ``day_tally`` (the same over TaskDayTally, when the filters allow) the completion trend.
    Without them (unit members' scopes, filters the tallies cannot express) ``tasks`` is scanned.
    Either way nothing of today is cached, so a change shows at once.

    A past ``today`` shows the scope as it stood at the end of that day (``scope_as_of``):
    totals, lights, unit, inspection, category and type rows; the uncontactable units are a
    fact of now. Its counts are cached (they cannot change), its names read live.

    ``shown`` (units, inspections: how many rows the page lists) lets today's figures send only
    the rows among the first of each order (``rankings.UNIT_RANKINGS``, ``INSPECTION_RANKINGS``, ties
    included) with the counts over all of them (``unit_counts``, ``inspection_counts``); without
    it (the API) every row comes.
    """
    today = today or local_today()
    rules = LampRules.from_settings()
    now_tally = tally  # who can be emailed is a fact of now, whatever the day
    if tally is not None and today < local_today():
        tally = None  # a past day is rebuilt from history, which the tallies do not hold

    def counts() -> dict:
        history = completion_history(tasks, today, day_tally=day_tally)
        if tally is not None and figure is not None and figures.ready(today):
            if shown:
                return {
                    **rankings.ranked_figures(figure, today, rules, shown),
                    "categories": figures.figure_category_groups(figure),
                    "history": history,
                    "figures": True,
                }
            return {
                "groups": {
                    "owner_unit": figures.figure_rows(
                        figures.GROUPS, figure, "owner_unit_id", today
                    ),
                    "inspection": figures.figure_rows(
                        figures.TYPES, figure, "inspection_id", today
                    ),
                    "task_type": figures.figure_rows(figures.TYPES, figure, "task_type", today),
                },
                "categories": figures.figure_category_groups(figure),
                "history": history,
                "figures": True,
            }
        if tally is not None:
            groups = tally_groups(tally, today, rules)
            categories = tally_category_groups(tally, today)
        else:
            scope, f = scope_as_of(tasks, today)
            groups = scope_groups(scope, today, rules, f)
            categories = category_groups(scope, today, f)
        return {
            "groups": dict.fromkeys(("owner_unit", "inspection", "task_type"), groups),
            "categories": categories,
            "history": history,
        }

    if use_cache and tally is None and today < local_today():
        key = key or dashboard_key(tasks, today, rules)
        data = cache.get(key)
        if data is None:
            data = counts()
            cache.set(key, data, settings.RECTIFY.get("DASHBOARD_CACHE_SECONDS", 300))
    else:
        data = counts()
    groups = data["groups"]
    units = unit_rows(None, today, rules, groups["owner_unit"])
    inspections = inspection_rows(None, today, rules, groups["inspection"])
    if "uncontactable" in data:  # ranked: the units nobody can email, ranked apart
        no_contact = data["uncontactable"]
    elif data.get("figures"):  # today's unit rows are now's: who nobody can email, among them
        no_contact = uncontactable_among(units)
    else:
        no_contact = uncontactable_owner_rows(tasks, tally=now_tally)
    return {
        "as_of": today,
        "totals": dashboard_totals(None, today, rules, groups["task_type"]),
        "units": units,
        "unit_counts": data.get("unit_counts") or rankings.lamp_counts(units),
        "inspections": inspections,
        "inspection_counts": data.get("inspection_counts") or rankings.lamp_counts(inspections),
        "categories": category_rows(None, today, grouped=data["categories"]),
        "types": type_rows(None, today, rules, groups["task_type"]),
        "history": data["history"],
        "no_contact": no_contact,
        "rules": rules,
        "source": "figures" if data.get("figures") else "tallies" if tally is not None else "scan",
    }


def dashboard_for(access, filterset, shown: tuple[int, int] | None = None) -> dict:
    """``dashboard`` for a user's scope (``tracker.permissions.Access``) narrowed by a bound
    ``TaskFilterSet`` (built with ``as_of_values=True`` over ``access.tasks()``): the page and
    the API read the same figures the same way.

    Supervisors', observers' and administrators' scopes with the usual filters read today's
    figures or the tallies the actions keep (a few grouped queries at any volume); others scan
    their tasks."""
    scope = access.tally_q()
    tally = day_tally = figure = None
    if scope is not None:
        narrowed = filterset.tally_q()
        tally = None if narrowed is None else scope & narrowed
        narrowed = filterset.tally_q(day=True)
        day_tally = None if narrowed is None else scope & narrowed
        narrowed = filterset.figure_q()
        figure = None if narrowed is None else scope & narrowed
    return dashboard(
        filterset.qs,
        filterset.today(),
        tally=tally,
        day_tally=day_tally,
        figure=figure,
        shown=shown,
    )


# --- 屡巡屡犯 (recurring problems) ----------------------------------------------------------------


def repeat_count(tasks: QuerySet[Task]) -> int:
    """How many of ``tasks`` have a problem linked as a likely repeat of an earlier
    inspection's (``tracker.models.RepeatLink``): the dashboard's 屡巡屡犯 figure, scanned."""
    from django.db.models import Exists, OuterRef

    from tracker.models import RepeatLink

    linked = Exists(RepeatLink.objects.filter(problem_id=OuterRef("problem_id")))
    return tasks.order_by().filter(linked).count()


def _prefixed(q: Q, prefix: str) -> Q:
    """``q`` with every lookup read through ``prefix`` (a Q over tasks → over a relation)."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    out.children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1])
        for child in q.children
    ]
    return out


def dashboard_repeats(access, filterset) -> int:
    """The 屡巡屡犯 figure of a dashboard: where the scope and filters can be said over the
    tallies' columns (which are the task's own), read from the links joined to their tasks, so
    the cost follows the number of links, not of tasks; otherwise ``repeat_count`` scans."""
    from tracker.models import RepeatLink

    scope = access.tally_q()
    narrowed = filterset.tally_q() if scope is not None else None
    if narrowed is None:
        return repeat_count(filterset.qs)
    q = _prefixed(scope & narrowed, "problem__task__")
    return RepeatLink.objects.filter(q).order_by().values("problem_id").distinct().count()


def repeat_links_for(task: Task, access) -> list[dict]:
    """The task's 屡巡屡犯 links both ways, for its page: the other problem (with its
    inspection), the score, whether the other one is the earlier, and only what the viewer
    (``tracker.permissions.Access``) may see: the other problem's title and inspection when they
    may read that problem, a link when they may open its task. Three queries at most."""
    from tracker.models import RepeatLink

    links = (
        RepeatLink.objects.filter(
            Q(problem_id=task.problem_id) | Q(earlier_problem_id=task.problem_id)
        )
        .select_related(
            "problem__inspection__organization", "earlier_problem__inspection__organization"
        )
        .order_by("-score", "pk")
    )
    rows = []
    for link in links:
        earlier = link.problem_id == task.problem_id  # the other one is the earlier problem
        other = link.earlier_problem if earlier else link.problem
        rows.append({"score": link.score, "other": other, "earlier": earlier, "task_id": None})
    if rows:
        ids = [r["other"].pk for r in rows]
        readable = set(access.problems().filter(pk__in=ids).values_list("pk", flat=True))
        tasks = dict(access.tasks().filter(problem_id__in=ids).values_list("problem_id", "pk"))
        for row in rows:
            row["visible"] = row["other"].pk in readable
            row["task_id"] = tasks.get(row["other"].pk)
    return rows
