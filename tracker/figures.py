"""The dashboard's figures of one day, judged from the tallies and kept with every change.

``TaskTally`` (``tracker.aggregates``) counts the tasks of every combination of the values a rule
reads, deadlines included: exact for any day, but at a million tasks ~430,000 rows, which the
all-organizations dashboard would sum on every request. What that dashboard shows *today* is far
smaller (``tracker.models.aggregates``): per (inspection, owner) a unit row's counts
(``GroupFigure``), per (inspection, type) the tasks by status and today's overdue, due soon, …
(``TypeFigure``), per (inspection, category) total, done and overdue (``CategoryFigure``).

They are judged for the day ``FigureDay`` names and kept in step with the tallies: every tally
delta (``tracker.aggregates._write``, in the action's transaction) is judged for that day and
added here; a group's oldest overdue deadline is recomputed from its tallies when an overdue
task leaves it. On the first read of a new day, or when the due-soon window
(``LAMP_YELLOW_DAYS``) changed, ``roll`` recomputes them from the tallies under a lock that waits
for running changes and holds new ones back meanwhile (Celery beat also rolls them just after
midnight, ``tracker.tasks.roll_figures``), so a reader never sees figures of another day.

The grouped sums over TaskTally that serve every other scope (a status, an owner, a category, a
deadline filter) live here too (``tally_groups``, ``tally_category_groups``): the same
judgement in SQL.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce

from tracker.choices import DONE_STATUSES, TaskStatus
from tracker.lamps import LAMP_ORDER, LampRules
from tracker.models import (
    CategoryFigure,
    FigureDay,
    GroupFigure,
    TaskTally,
    TypeFigure,
    local_today,
)
from tracker.rules import (
    FIELDS,
    TaskFields,
    basic_late_q,
    days_overdue,
    done_q,
    due_soon_q,
    has_no_deadline,
    is_basic_late,
    is_due_soon,
    is_overdue,
    is_report_due,
    no_deadline_q,
    overdue_q,
    report_due_q,
)

DUE_SOON_WINDOWS = (7, 30)

GROUP_COUNTS = (
    "total",
    "done",
    *(f"status_{s}" for s in TaskStatus.values),
    "overdue",
    "due_soon",
    "basic_late",
    "no_deadline",
    "report_due",
    *(f"due_{d}" for d in DUE_SOON_WINDOWS),
    "days_overdue",
)

# The tallies' columns, under the names the rules' Q builders and predicates read.
TALLY_FIELDS = TaskFields(
    status="status",
    deadline="deadline",
    task_type="task_type",
    report_due="report_due_on",
    owner="owner_unit_id",
)

STATUS_COLUMNS = tuple(f"status_{s}" for s in TaskStatus.values)
DAY_COUNTS = (
    "overdue",
    "due_soon",
    "basic_late",
    "no_deadline",
    "report_due",
    *(f"due_{d}" for d in DUE_SOON_WINDOWS),
)


@dataclass(frozen=True)
class Table:
    """One figure table: the tally columns it groups by and the judged counts it sums."""

    model: type
    key: tuple[str, ...]
    sums: tuple[str, ...]
    oldest: bool = False  # keeps overdue_days and the oldest overdue deadline

    @property
    def name(self) -> str:
        return self.model._meta.db_table


GROUPS = Table(
    GroupFigure,
    ("inspection_id", "owner_unit_id"),
    ("total", "done", "overdue", "due_soon", "basic_late", "overdue_days"),
    oldest=True,
)
TYPES = Table(
    TypeFigure, ("inspection_id", "task_type"), ("total", "done", *STATUS_COLUMNS, *DAY_COUNTS)
)
CATEGORIES = Table(CategoryFigure, ("inspection_id", "category_id"), ("total", "done", "overdue"))
TABLES = (GROUPS, TYPES, CATEGORIES)
# Not a table: the rows ``tally_groups`` reads from the tallies for the other filters, in the
# shape of ``tracker.selectors.scope_groups``.
SCOPE_GROUPS = Table(
    TaskTally,
    ("owner_unit_id", "inspection_id", "task_type"),
    tuple(c for c in GROUP_COUNTS if c != "days_overdue") + ("overdue_days",),
    oldest=True,
)


def judge(row, day: datetime.date, yellow_days: int, f: TaskFields = TALLY_FIELDS) -> dict:
    """The GROUP_COUNTS of ``n`` tasks (``row["n"]``) sharing the values in ``row`` (a dict
    holding the ``f`` names), as of ``day``; plus their oldest overdue deadline (their deadline
    when they are overdue)."""
    task = SimpleNamespace(
        **{name: row[name] for name in (f.status, f.deadline, f.task_type, f.report_due)}
    )
    n = row["n"]
    status = getattr(task, f.status)
    overdue = is_overdue(task, day, f)
    counts = {f"status_{s}": n if status == s else 0 for s in TaskStatus.values}
    counts.update(
        total=n,
        done=n * (status in DONE_STATUSES),
        overdue=n * overdue,
        due_soon=n * is_due_soon(task, day, yellow_days, f),
        basic_late=n * is_basic_late(task, day, f),
        no_deadline=n * has_no_deadline(task, f),
        report_due=n * is_report_due(task, day, f),
        days_overdue=n * days_overdue(task, day, f),
        oldest_deadline=getattr(task, f.deadline) if overdue else None,
        **{f"due_{d}": n * is_due_soon(task, day, d, f) for d in DUE_SOON_WINDOWS},
    )
    return counts


def counted(count, day: datetime.date, yellow_days: int, f: TaskFields) -> dict:
    """GROUP_COUNTS but days overdue as aggregates: ``count(q)`` for each rule's ``q`` (over
    the ``f`` columns, as of ``day``): ``Count("id", filter=q)`` over tasks, ``_n`` over
    tallies."""
    return {
        "total": count(None),
        "done": count(done_q(f)),
        **{f"status_{s}": count(Q(**{f.status: s})) for s in TaskStatus.values},
        "overdue": count(overdue_q(day, f)),
        "due_soon": count(due_soon_q(day, yellow_days, f)),
        "basic_late": count(basic_late_q(day, f)),
        "no_deadline": count(no_deadline_q(f)),
        "report_due": count(report_due_q(day, f)),
        **{f"due_{d}": count(due_soon_q(day, d, f)) for d in DUE_SOON_WINDOWS},
    }


def _text(values) -> str:
    return "|".join("" if v is None else str(v) for v in values)


# --- the day the figures are judged for --------------------------------------------------------


def current() -> tuple[datetime.date, int] | None:
    """(day, yellow days) the figures hold, or None before the first roll."""
    return FigureDay.objects.order_by().values_list("day", "yellow_days").first()


def wanted(day: datetime.date | None = None) -> tuple[datetime.date, int]:
    """(day, yellow days) the figures should hold: today's, under the settings' lamp rules."""
    return (day or local_today(), LampRules.from_settings().yellow_days)


def ready(day: datetime.date) -> bool:
    """Make the figures those of ``day`` (today) under today's rules, rolling them if needed;
    False when they cannot be (a day other than today: the caller reads the tallies)."""
    target = wanted()
    if day != target[0]:
        return False
    if current() != target:
        roll(*target)
    return True


def _lock_for_roll() -> None:
    """PostgreSQL: one roller at a time (the FigureDay table), then wait for every running change
    of the tallies to end and hold new ones back (SHARE conflicts with their ROW EXCLUSIVE). A
    change reads FigureDay only after writing its tallies, so it judges for the rolled day.
    SQLite runs one writing transaction at a time (IMMEDIATE), which is the same guarantee."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE tracker_figureday IN EXCLUSIVE MODE")
            cursor.execute("LOCK TABLE tracker_tasktally IN SHARE MODE")


@transaction.atomic
def roll(day: datetime.date, yellow_days: int, force: bool = False) -> bool:
    """Recompute the figure tables from the tallies as of ``day``; False when another roll had
    already made them so (and not ``force``)."""
    _lock_for_roll()
    if not force and current() == (day, yellow_days):
        return False
    for table in TABLES:
        table.model.objects.all().delete()
        table.model.objects.bulk_create(
            [
                table.model(key=_text(row[k] for k in table.key), **row)
                for row in _judged(table, Q(), day, yellow_days)
            ],
            batch_size=5000,
        )
    FigureDay.objects.all().delete()
    FigureDay.objects.create(day=day, yellow_days=yellow_days)
    return True


def tidy() -> bool:
    """PostgreSQL, outside a transaction: VACUUM ANALYZE the figure tables. A roll rewrites
    every row and each change updates a few, so the small tables fill with dead rows that every
    dashboard read scans past until autovacuum gets to them (or never, where it is off); the
    nightly roll tidies them at once. False where there is nothing to do (SQLite, or inside a
    transaction, where VACUUM cannot run)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table.name}")
    return True


def _judged(table: Table, tally: Q, day: datetime.date, yellow_days: int) -> list[dict]:
    """The table's rows from the tallies matching ``tally``: grouped sums in SQL, and for the
    oldest overdue deadline and overdue_days one pass over the overdue tallies."""
    f = TALLY_FIELDS
    sums = counted(_n, day, yellow_days, f)
    scope = TaskTally.objects.filter(tally).order_by()
    asked = {c: sums[c] for c in table.sums if c != "overdue_days"}
    rows = {
        tuple(r[k] for k in table.key): r
        for r in scope.values(*table.key).annotate(**asked)
        if r["total"]
    }
    if table.oldest:
        for row in rows.values():
            row.update(overdue_days=0, oldest_deadline=None)
        late = scope.filter(overdue_q(day, f)).values(*table.key, "deadline").annotate(n=_n())
        for r in late:
            row = rows.get(tuple(r[k] for k in table.key))
            if row is None or not r["n"]:
                continue
            row["overdue_days"] += r["n"] * r["deadline"].toordinal()
            if row["oldest_deadline"] is None or r["deadline"] < row["oldest_deadline"]:
                row["oldest_deadline"] = r["deadline"]
    return list(rows.values())


# --- kept with every change --------------------------------------------------------------------


OLDEST_SQL = (
    "oldest_deadline = CASE WHEN {t}.oldest_deadline IS NULL "
    "OR excluded.oldest_deadline < {t}.oldest_deadline "
    "THEN excluded.oldest_deadline ELSE {t}.oldest_deadline END"
)


def apply(deltas: dict, upsert) -> None:
    """Add tally ``deltas`` (``aggregates.TallyKey`` → tasks gained or lost) to the figures,
    judged for the day they hold; called by ``tracker.aggregates._write`` after the tallies, in
    the same transaction.
    ``upsert`` is aggregates' portable ``INSERT … ON CONFLICT DO UPDATE`` (rows sorted by key)."""
    held = current()
    if held is None:
        return  # never rolled: the first read computes them
    day, yellow_days = held
    for table in TABLES:
        rows: dict[tuple, dict] = {}
        recheck: set[tuple] = set()
        for key, n in deltas.items():
            if not n:
                continue
            counts = judge(
                {
                    "status": key.status,
                    "deadline": key.deadline,
                    "task_type": key.task_type,
                    "report_due_on": key.report_due_on,
                    "n": n,
                },
                day,
                yellow_days,
            )
            counts["overdue_days"] = n * key.deadline.toordinal() if counts["overdue"] else 0
            group = tuple(getattr(key, k) for k in table.key)
            sums = rows.setdefault(group, dict.fromkeys(table.sums, 0) | {"oldest": None})
            for column in table.sums:
                sums[column] += counts[column]
            if table.oldest and counts["overdue"]:
                if n > 0:
                    if sums["oldest"] is None or key.deadline < sums["oldest"]:
                        sums["oldest"] = key.deadline
                else:
                    recheck.add(group)
        written = [
            (g, s)
            for g, s in rows.items()
            if any(s[c] for c in table.sums) or g in recheck or s["oldest"] is not None
        ]
        if table.oldest:
            upsert(
                table.name,
                (*table.key, "oldest_deadline"),
                table.sums,
                [(_text(g), *g, s["oldest"], *(s[c] for c in table.sums)) for g, s in written],
                extra=OLDEST_SQL.format(t=table.name),
            )
            for group in sorted(recheck, key=_text):
                _recheck_oldest(group, day)
        else:
            upsert(
                table.name,
                table.key,
                table.sums,
                [(_text(g), *g, *(s[c] for c in table.sums)) for g, s in written],
            )


def _recheck_oldest(group: tuple, day: datetime.date) -> None:
    """An overdue task left this (inspection, owner): its oldest overdue deadline from its
    tallies (an indexed lookup; the group's figure row is already locked by this transaction)."""
    inspection_id, owner_unit_id = group
    oldest = (
        TaskTally.objects.filter(
            overdue_q(day, TALLY_FIELDS),
            inspection_id=inspection_id,
            owner_unit_id=owner_unit_id,
            n__gt=0,
        )
        .order_by()
        .aggregate(oldest=Min("deadline"))["oldest"]
    )
    GroupFigure.objects.filter(key=_text(group)).update(oldest_deadline=oldest)


def differences() -> list[str]:
    """Where the figures differ from the tasks judged for the figures' day (one line each;
    empty: they agree, or they were never rolled)."""
    from tracker.models import Task

    held = current()
    if held is None:
        return []
    day, yellow_days = held
    out = []
    for table in TABLES:
        live = {}
        for row in _live(table, Task.objects.all(), day, yellow_days):
            live[_text(row[k] for k in table.key)] = row
        columns = (*table.sums, *(("oldest_deadline",) if table.oldest else ()))
        stored = {
            r["key"]: r
            for r in table.model.objects.values("key", *columns)
            if any(r[c] for c in table.sums) or r.get("oldest_deadline")
        }
        for key in sorted(live.keys() | stored.keys()):
            a, b = stored.get(key, {}), live.get(key, {})
            diff = {
                c: (a.get(c) or 0, b.get(c) or 0)
                for c in columns
                if (a.get(c) or 0) != (b.get(c) or 0)
            }
            if diff:
                out.append(f"{table.model.__name__} {key} ({day}): stored/live {diff}")
    return out


def _live(table: Table, tasks, day: datetime.date, yellow_days: int) -> list[dict]:
    """The table's rows counted from the tasks themselves (for ``differences``)."""
    f = FIELDS
    sums = counted(lambda q: Count("id", filter=q), day, yellow_days, f)
    asked = {c: sums[c] for c in table.sums if c != "overdue_days"}
    if table.oldest:
        asked["oldest_deadline"] = Min("deadline", filter=overdue_q(day, f))
    rows = list(tasks.order_by().values(*table.key).annotate(**asked))
    if table.oldest:
        late = (
            tasks.filter(overdue_q(day, f))
            .order_by()
            .values(*table.key, "deadline")
            .annotate(n=Count("id"))
        )
        by_key = {tuple(r[k] for k in table.key): r for r in rows}
        for row in rows:
            row["overdue_days"] = 0
        for r in late:
            by_key[tuple(r[k] for k in table.key)]["overdue_days"] += (
                r["n"] * r["deadline"].toordinal()
            )
    return rows


# --- reading -----------------------------------------------------------------------------------


def raw_values(qs, dates: tuple[str, ...] = ()) -> list[dict]:
    """A ``values()`` queryset's rows as dicts, without Django's per-value converters (a whole
    install's dashboard reads thousands of grouped rows, where they cost more than the query):
    the ``dates`` columns as
    dates (SQLite gives text). Sums of bigints must be cast to bigint by the caller
    (PostgreSQL's is numeric)."""
    try:
        sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    except EmptyResultSet:  # a filter that matches nothing (an empty scope)
        return []
    return _fetch(qs.db, sql, params, dates)


def _fetch(db: str, sql: str, params, dates: tuple[str, ...] = ()) -> list[dict]:
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    out = [dict(zip(names, row, strict=True)) for row in rows]
    for name in dates:
        for item in out:
            if isinstance(item[name], str):
                item[name] = datetime.date.fromisoformat(item[name])
    return out


def _summed(table: Table, q: Q, by: str | None, having_rows: bool = False):
    """SQL and parameters of ``table``'s rows matching ``q`` summed by ``by`` (None: one
    total; ``having_rows``: groups with tasks only), or None when ``q`` matches nothing.

    Django compiles the filtered columns (the scope's joins and conditions); the sums are
    written here: a dozen ``Coalesce(Sum())`` expressions cost the ORM five times the plain
    columns' compilation, and the dashboard sums three tables per request."""
    columns = ((by,) if by else ()) + table.sums + (("oldest_deadline",) if table.oldest else ())
    base = table.model.objects.filter(q).order_by().values(*columns)
    try:
        sql, params = base.query.get_compiler(using=base.db).as_sql()
    except EmptyResultSet:  # a filter that matches nothing (an empty scope)
        return None
    sums = [
        # A sum of bigints is numeric in PostgreSQL: cast back.
        f"CAST(SUM(s.{c}) AS BIGINT) AS {c}" if c == "overdue_days" else f"SUM(s.{c}) AS {c}"
        for c in table.sums
    ]
    if not by:  # no group: a sum over no rows is NULL
        sums = [f"COALESCE(SUM(s.{c}), 0) AS {c}" for c in table.sums]
    if table.oldest:
        sums.append("MIN(s.oldest_deadline) AS oldest")
    grouped = f" GROUP BY s.{by}" if by else ""
    having = " HAVING SUM(s.total) > 0" if having_rows else ""
    select = ", ".join([*((f"s.{by}",) if by else ()), *sums])
    # Column names from the table definition, values as the compiled query's parameters.
    summed = f"SELECT {select} FROM ({sql}) s{grouped}{having}"  # noqa: S608
    return summed, params, base.db


def _shaped(
    table: Table, rows, by: str | None, day: datetime.date, keep: tuple[str, ...] = ()
) -> list[dict]:
    """Summed rows in the shape of ``scope_groups`` rows (GROUP_COUNTS and ``oldest_deadline``)
    so ``tracker.selectors``' folds read them alike; counts the table does not keep are 0;
    ``keep``: other columns copied as they are."""
    ordinal = day.toordinal()
    zero = dict.fromkeys(GROUP_COUNTS, 0) | {"oldest_deadline": None}
    out = []
    for row in rows:
        if not row["total"]:
            continue
        shaped = zero | {c: row[c] for c in table.sums}
        if table.oldest:
            shaped["days_overdue"] = row["overdue"] * ordinal - shaped.pop("overdue_days")
            shaped["oldest_deadline"] = row["oldest"]
        if by:
            shaped[by] = row[by]
        for name in keep:
            shaped[name] = row[name]
        out.append(shaped)
    return out


def figure_rows(table: Table, q: Q, by: str | None, day: datetime.date) -> list[dict]:
    """``table``'s rows matching ``q`` summed by ``by`` (None: one total), shaped like
    ``scope_groups`` rows (GROUP_COUNTS and ``oldest_deadline``) so ``tracker.selectors``' folds
    read them alike; counts the table does not keep are 0."""
    summed = _summed(table, q, by)
    if summed is None:
        return []
    sql, params, db = summed
    return _shaped(table, _fetch(db, sql, params, ("oldest",) if table.oldest else ()), by, day)


@dataclass(frozen=True)
class Ranking:
    """One order a dashboard table shows its first rows in: columns of a summed row (``-`` for
    descending; ``lamp`` for the light, red first; ``days_overdue``; ``open``), and the columns
    (or flags, see ``ranked_figure_rows``) that must be positive for a row to be listed at all."""

    order: tuple[str, ...]
    positive: tuple[str, ...] = ()


def _lamp_sql(rules: LampRules) -> str:
    """``tracker.lamps.lamp`` over a summed row's columns, as its LAMP_ORDER (0 red, 1 yellow,
    2 green); tests/test_dashboard_ranked.py holds the two equal."""
    basic = " WHEN basic_late > 0 THEN 1" if rules.yellow_basic_late else ""
    return (
        f"CASE WHEN overdue >= {int(rules.red_overdue)} THEN 0"
        f" WHEN overdue > 0 OR due_soon > 0 THEN 1{basic} ELSE 2 END"
    )


def ranked_figure_rows(
    table: Table,
    q: Q,
    by: str,
    day: datetime.date,
    rules: LampRules,
    rankings: tuple[Ranking, ...],
    limits: tuple[int, ...],
    flags: dict | None = None,
    labels=None,
) -> tuple[list[dict], dict]:
    """``figure_rows(table, q, by, day)`` cut in SQL to the rows among the first of any of
    ``rankings`` (as many as its ``limits``), ties at the cut included (so the caller's own sort
    of them, with its last tie-breaker, picks the same first rows as a sort of all of them
    would), and what is counted over all rows: ``{"count", "red", "yellow", "green"}``.
    ``flags`` names querysets of ``by``'s ids (``values("pk")``): each row gets the name as a
    column, 1 when its ``by`` is among them, which a ranking may ask to be positive.
    ``labels`` (a ``values("pk", …)`` queryset of ``by``'s model) adds its columns to the rows
    kept (names read with the figures, not by another query).

    A whole install's dashboard shows 20 of 2,000 units and 50 of 1,000 inspections: the
    thousands of rows are summed and ranked by the database, and only ~100 cross to Python."""
    dates = ("oldest",) if table.oldest else ()
    summed = _summed(table, q, by, having_rows=True)
    if summed is None:
        return [], {"count": 0, "red": 0, "yellow": 0, "green": 0}
    sql, params, db = summed
    # The values derived per row, named for the rankings and the lamp counts.
    derived = {"lamp": "d_lamp", "open": "d_open"}
    columns = [f"{_lamp_sql(rules)} AS d_lamp", "(total - done) AS d_open"]
    if table.oldest:
        derived["days_overdue"] = "d_days"
        columns.append(f"(overdue * {day.toordinal()} - overdue_days) AS d_days")
    flag_params = []
    for name, ids in (flags or {}).items():
        ids_sql, ids_params = ids.query.get_compiler(using=db).as_sql()
        columns.append(f"CASE WHEN s.{by} IN ({ids_sql}) THEN 1 ELSE 0 END AS {name}")
        flag_params.extend(ids_params)
    # The summed rows with their derived values, computed once and read by every part below
    # (PostgreSQL would otherwise inline the expressions into each reading).
    materialized = " MATERIALIZED" if connections[db].vendor == "postgresql" else ""
    with_f = f"WITH f AS{materialized} (SELECT s.*, {', '.join(columns)} FROM ({sql}) s) "  # noqa: S608

    def key(name: str) -> str:
        """A ranking column as a value to sort ascending (descending ones negated)."""
        bare = name.lstrip("-")
        expr = derived.get(bare, bare)
        return f"-({expr})" if name.startswith("-") else expr

    # A row ranks within the first ``limit`` of an order (RANK() <= limit: ties at the cut
    # kept) exactly when its key is at most the key of the row at place ``limit``: found by a
    # bounded sort (top-N) per order instead of sorting every row per order. A row not
    # positive where the ranking asks is not in the ranking at all.
    cuts, keep = [], []
    for i, (ranking, limit) in enumerate(zip(rankings, limits, strict=True)):
        keys = [key(c) for c in ranking.order]
        listed = " AND ".join(f"{derived.get(c, c)} > 0" for c in ranking.positive) or "1 = 1"
        cut_columns = ", ".join(f"{k} AS k{j}" for j, k in enumerate(keys))
        cuts.append(
            f" LEFT JOIN (SELECT {cut_columns} FROM f WHERE {listed}"  # noqa: S608
            f" ORDER BY {', '.join(keys)} LIMIT 1 OFFSET {int(limit) - 1}) c{i} ON 1 = 1"
        )
        at_most = f"{keys[-1]} <= c{i}.k{len(keys) - 1}"
        for j in range(len(keys) - 2, -1, -1):
            at_most = f"{keys[j]} < c{i}.k{j} OR ({keys[j]} = c{i}.k{j} AND ({at_most}))"
        keep.append(f"({listed} AND (c{i}.k0 IS NULL OR {at_most}))")
    lamps = ", ".join(
        f"SUM(CASE WHEN d_lamp = {order} THEN 1 ELSE 0 END) AS n_{lamp}"
        for lamp, order in LAMP_ORDER.items()
    )
    # Column names and integers written here, values as the compiled queries' parameters.
    outer = (
        f"SELECT f.*, n.* FROM f CROSS JOIN (SELECT COUNT(*) AS n_count, {lamps} FROM f) n"  # noqa: S608
        f"{''.join(cuts)} WHERE {' OR '.join(keep)}"
    )
    outer_params = [*flag_params, *params]
    label_names: tuple[str, ...] = ()
    if labels is not None:
        labels_sql, labels_params = labels.query.get_compiler(using=db).as_sql()
        label_names = tuple(n for n in labels.query.values_select if n != "pk")
        outer = f"SELECT k.*, l.* FROM ({outer}) k LEFT JOIN ({labels_sql}) l ON l.pk = k.{by}"  # noqa: S608
        outer_params += labels_params
    rows = _fetch(db, with_f + outer, outer_params, dates)
    counts = dict.fromkeys(("count", *LAMP_ORDER), 0)
    if rows:
        counts = {name: int(rows[0][f"n_{name}"]) for name in counts}
    return _shaped(table, rows, by, day, (*(flags or ()), *label_names)), counts


def figure_category_groups(q: Q) -> list[dict]:
    """``tally_category_groups`` from CategoryFigure rows matching ``q``, summed by the
    categories' wording (what ``category_rows`` compares them by; no category: "")."""
    summed = _summed(CATEGORIES, q, "category__title")
    if summed is None:
        return []
    sql, params, db = summed
    # A missing title and an empty one are both "" (category_rows sums rows by their title).
    return [
        {"title": r["category__title"] or "", "category_id": None}
        | {c: r[c] for c in CATEGORIES.sums}
        for r in _fetch(db, sql, params)
        if r["total"]
    ]


# --- the same judgement in SQL over TaskTally (any scope the figures cannot say) --------------


def _n(q: Q | None = None) -> Coalesce:
    return Coalesce(Sum("n", filter=q), 0)


def tally_groups(tally: Q, today: datetime.date, rules: LampRules) -> list[dict]:
    """``scope_groups`` from the tallies matching ``tally`` (a Q over TaskTally): the figures'
    own judgement (``_judged``) per (owner, inspection, type), days overdue from the deadlines'
    day numbers."""
    ordinal = today.toordinal()
    rows = _judged(SCOPE_GROUPS, tally, today, rules.yellow_days)
    for row in rows:
        row["days_overdue"] = row["overdue"] * ordinal - row.pop("overdue_days")
    return rows


def tally_category_groups(
    tally: Q, today: datetime.date, by: tuple[str, ...] | None = None
) -> list[dict]:
    """``category_groups`` from the tallies matching ``tally``, with each category's title
    (read now), or grouped by ``by`` (columns only)."""
    f = TALLY_FIELDS
    grouped = TaskTally.objects.filter(tally).order_by()
    grouped = (
        grouped.values(*by) if by else grouped.values("category_id", title=F("category__title"))
    )
    rows = grouped.annotate(total=_n(), done=_n(done_q(f)), overdue=_n(overdue_q(today, f)))
    return [r for r in rows if r["total"]]
