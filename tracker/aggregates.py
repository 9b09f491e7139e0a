"""Writing and checking the dashboard tallies (``tracker.models.aggregates``).

Every task row change passes through ``tracker.actions`` (``base._begin`` locks the task and
notes its ``key_of``; ``base._save`` calls ``move`` with the key before and after), and creating
tasks calls ``add``: so the tallies change in the same transaction as the tasks they count, and
a rolled-back change rolls its counts back with it. Each write is a portable upsert (SQLite and
PostgreSQL: ``INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n``) of rows sorted by
key, so two transactions moving counts between the same rows lock them in the same order and
never deadlock, and no count is read-modified-written in Python (none is lost).

``rebuild`` recomputes both tables from the tasks and their history (maintenance paths that
bypass the actions on purpose call it: ``load_demo``, ``generate_demo``); ``differences``
compares them with live counts (``manage.py check_aggregates``).
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from tracker import figures
from tracker.choices import DONE_STATUSES, EventKind, TaskType

# History kinds whose old/new values are statuses ('created' included: old value empty).
_STATUS_KINDS = (
    EventKind.CREATED,
    EventKind.STATUS,
    EventKind.CLOSEOUT_APPROVED,
    EventKind.CLOSEOUT_RETURNED,
    EventKind.REOPENED,
    EventKind.IMPORTED,
)


def _iso(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


@dataclass(frozen=True)
class DayKey:
    """A TaskDayTally group: what the completion trend can be narrowed by."""

    inspection_id: int
    owner_unit_id: int
    category_id: int | None
    task_type: str

    def text(self, day: datetime.date) -> str:
        return f"{day.isoformat()}|{self.inspection_id}|{self.owner_unit_id}|{self.category_id or ''}|{self.task_type}"


@dataclass(frozen=True)
class TallyKey:
    """A TaskTally group: every value a dashboard figure groups or judges a task by."""

    inspection_id: int
    owner_unit_id: int
    category_id: int | None
    task_type: str
    status: str
    deadline: datetime.date | None
    report_due_on: datetime.date | None

    @property
    def text(self) -> str:
        return "|".join(
            (
                str(self.inspection_id),
                str(self.owner_unit_id),
                str(self.category_id or ""),
                self.task_type,
                self.status,
                _iso(self.deadline),
                _iso(self.report_due_on),
            )
        )

    @property
    def day_key(self) -> DayKey:
        return DayKey(self.inspection_id, self.owner_unit_id, self.category_id, self.task_type)

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES


KEY_FIELDS = ("inspection_id", "owner_unit_id", "category_id", "task_type", "status")
KEY_FIELDS += ("deadline", "report_due_on")
# The Task fields (as passed to save(update_fields=...)) that change a TallyKey.
TASK_KEY_FIELDS = frozenset(
    {"inspection", "owner_unit", "category", "task_type", "status", "deadline", "report_due_on"}
    | set(KEY_FIELDS)
)
DAY_FIELDS = ("inspection_id", "owner_unit_id", "category_id", "task_type")


def key_of(task) -> TallyKey:
    """The tally key of a task (a model instance or a ``values()`` row).

    The dates are kept only where a rule reads them, so that tasks differing in nothing the
    dashboard can see share a row: every deadline rule (overdue, due soon, no deadline,
    basically completed but late) is about open tasks that are not 长期坚持, and the report
    date only about open 长期坚持 ones (``tracker.rules``). A done task's dates, a long-term
    task's deadline and another type's report date are stored as NULL."""
    get = task.get if isinstance(task, dict) else lambda name: getattr(task, name)
    values = {name: get(name) for name in KEY_FIELDS}
    open_ = values["status"] not in DONE_STATUSES
    long_term = values["task_type"] == TaskType.LONG_TERM
    if not open_ or long_term:
        values["deadline"] = None
    if not open_ or not long_term:
        values["report_due_on"] = None
    return TallyKey(**values)


def category_id_of(problem) -> int | None:
    """A leaf's category (方面): its parent, or its grandparent when deeper (the rule the
    dashboard has always grouped by, and ``TaskFilterSet.filter_category_title``'s)."""
    parent_id = problem.parent_id
    if parent_id is None:
        return None
    grandparent_id = type(problem).objects.values_list("parent_id", flat=True).get(pk=parent_id)
    return grandparent_id or parent_id


# --- upserts ---------------------------------------------------------------------------------


def _upsert(
    table: str,
    columns: tuple[str, ...],
    sums: tuple[str, ...],
    rows: list[tuple],
    extra: str = "",
):
    """One INSERT … ON CONFLICT (key) DO UPDATE adding ``sums`` (and setting ``extra``, SQL);
    ``rows`` sorted by key (their first value), so concurrent writers take the row locks in the
    same order."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: r[0])
    cols = ("key", *columns, *sums)
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    updates = ", ".join(
        [*(f"{c} = {table}.{c} + excluded.{c}" for c in sums), *filter(None, [extra])]
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([one] * len(rows))} "  # noqa: S608  (model tables)
        f"ON CONFLICT (key) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for row in rows for v in row])


def _tally_rows(deltas: dict[TallyKey, int]) -> list[tuple]:
    return [(k.text, *(getattr(k, f) for f in KEY_FIELDS), n) for k, n in deltas.items() if n != 0]


def _day_rows(day: datetime.date, deltas: dict[DayKey, list[int]]) -> list[tuple]:
    return [
        (k.text(day), day, *(getattr(k, f) for f in DAY_FIELDS), c, d)
        for k, (c, d) in deltas.items()
        if c or d
    ]


def _write(tally: dict[TallyKey, int], days: dict[DayKey, list[int]]) -> None:
    # Always the task tallies first, then the day tallies, then the day's figures: one lock
    # order for every writer (and the figures' day is read after the tallies are written: see
    # tracker.figures.roll).
    _upsert("tracker_tasktally", KEY_FIELDS, ("n",), _tally_rows(tally))
    _upsert(
        "tracker_taskdaytally",
        ("day", *DAY_FIELDS),
        ("created", "done"),
        _day_rows(today(), days),
    )
    figures.apply(tally, _upsert)


def today() -> datetime.date:
    return timezone.localdate()


def move(old: TallyKey, new: TallyKey) -> None:
    """One task changed from ``old`` to ``new``: one count moves, and today's trend learns of
    a change of done-ness or of its (owner, type, inspection, category)."""
    if old == new:
        return
    days: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0])
    if old.day_key != new.day_key:
        days[old.day_key][0] -= 1
        days[new.day_key][0] += 1
        days[old.day_key][1] -= old.done
        days[new.day_key][1] += new.done
    elif old.done != new.done:
        days[new.day_key][1] += new.done - old.done
    _write({old: -1, new: 1}, days)


def add(keys: Iterable[TallyKey]) -> None:
    """New tasks with these keys: one upsert per distinct key (the importer's bulk create)."""
    counts = Counter(keys)
    days: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0])
    for key, n in counts.items():
        days[key.day_key][0] += n
        days[key.day_key][1] += n * key.done
    _write(dict(counts), days)


# --- rebuild and check -----------------------------------------------------------------------


def _models(apps):
    apps = apps or global_apps
    return (
        apps.get_model("tracker", "Task"),
        apps.get_model("tracker", "TaskEvent"),
        apps.get_model("tracker", "TaskTally"),
        apps.get_model("tracker", "TaskDayTally"),
        apps.get_model("tracker", "Problem"),
    )


def fill_categories(apps=None) -> int:
    """Set Task.category where it is missing but the problem has a category (tasks loaded from a
    fixture or written by COPY); returns how many tasks were filled."""
    Task, _e, _t, _d, Problem = _models(apps)
    filled = 0
    # Leaf under a top-level category: the parent; deeper: the grandparent.
    for depth_q, source in (
        (Q(problem__parent__isnull=False, problem__parent__parent__isnull=True), "parent"),
        (Q(problem__parent__parent__isnull=False), "grandparent"),
    ):
        missing = Task.objects.filter(depth_q, category__isnull=True)
        path = "problem__parent_id" if source == "parent" else "problem__parent__parent_id"
        groups = defaultdict(list)
        for pk, category_id in missing.values_list("pk", path).iterator(chunk_size=10_000):
            groups[category_id].append(pk)
        for category_id, pks in groups.items():
            for i in range(0, len(pks), 5000):
                filled += Task.objects.filter(pk__in=pks[i : i + 5000]).update(
                    category_id=category_id
                )
    return filled


def live_tallies(apps=None) -> dict[str, tuple[TallyKey, int]]:
    Task = _models(apps)[0]
    out: dict[str, tuple[TallyKey, int]] = {}
    for row in Task.objects.order_by().values(*KEY_FIELDS).annotate(n=Count("id")).iterator():
        key = key_of(row)  # several rows may share a key (dates no rule reads are dropped)
        out[key.text] = (key, out.get(key.text, (key, 0))[1] + row["n"])
    return out


def _replay(task: dict, events: list) -> dict[tuple[datetime.date, DayKey], list[int]]:
    """A task's trend deltas, from its history: each change of done-ness on the day it
    happened, under the (owner, type) the task had then (undone from the later events)."""
    owner, task_type = task["owner_unit_id"], task["task_type"]
    for kind, old, _new, _at in reversed(events):
        if kind == EventKind.OWNER:
            owner = int(old) if old else owner
        elif kind == EventKind.TYPE:
            task_type = old or task_type
    out: dict[tuple[datetime.date, DayKey], list[int]] = defaultdict(lambda: [0, 0])
    tz = timezone.get_current_timezone()
    done = False
    created = False

    def key() -> DayKey:
        return DayKey(task["inspection_id"], owner, task["category_id"], task_type)

    for kind, old, new, at in events:
        day = timezone.localtime(at, tz).date()
        if kind == EventKind.CREATED:
            created = True
            out[(day, key())][0] += 1
        if kind in _STATUS_KINDS:
            became = new in DONE_STATUSES and old not in DONE_STATUSES
            ceased = old in DONE_STATUSES and new not in DONE_STATUSES
            out[(day, key())][1] += became - ceased
            done = (done or became) and not ceased
        elif kind in (EventKind.OWNER, EventKind.TYPE):
            before = key()
            if kind == EventKind.OWNER:
                owner = int(new) if new else owner
            else:
                task_type = new or task_type
            if created and key() != before:
                out[(day, before)][0] -= 1
                out[(day, before)][1] -= done
                out[(day, key())][0] += 1
                out[(day, key())][1] += done
    if not created:  # no 'created' event (should not happen): counted from its creation day
        out[(timezone.localtime(task["created_at"], tz).date(), key())][0] += 1
    return out


def live_day_tallies(apps=None) -> dict[str, tuple[DayKey, datetime.date, int, int]]:
    """The trend rebuilt from the tasks and their history, keyed like TaskDayTally."""
    Task, TaskEvent, *_ = _models(apps)
    kinds = (*_STATUS_KINDS, EventKind.OWNER, EventKind.TYPE)
    events = (
        TaskEvent.objects.filter(kind__in=kinds)
        .order_by("task_id", "created_at", "id")
        .values_list("task_id", "kind", "old_value", "new_value", "created_at")
        .iterator(chunk_size=20_000)
    )
    tasks = (
        Task.objects.order_by("pk")
        .values("pk", "created_at", *DAY_FIELDS)
        .iterator(chunk_size=20_000)
    )
    totals: dict[tuple[datetime.date, DayKey], list[int]] = defaultdict(lambda: [0, 0])
    pending = next(events, None)
    for task in tasks:
        while pending is not None and pending[0] < task["pk"]:
            pending = next(events, None)
        mine = []
        while pending is not None and pending[0] == task["pk"]:
            mine.append(pending[1:])
            pending = next(events, None)
        for k, (c, d) in _replay(task, mine).items():
            totals[k][0] += c
            totals[k][1] += d
    return {key.text(day): (key, day, c, d) for (day, key), (c, d) in totals.items() if c or d}


@transaction.atomic
def rebuild(apps=None) -> dict[str, int]:
    """Recompute both tables from the tasks (and the trend from history); zero rows dropped.

    Locks both tables (PostgreSQL) so that no action writes a count in between."""
    Task, _e, TaskTally, TaskDayTally, _p = _models(apps)
    fill_categories(apps)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE tracker_tasktally, tracker_taskdaytally IN EXCLUSIVE MODE")
    TaskTally.objects.all().delete()
    TaskDayTally.objects.all().delete()
    tallies = live_tallies(apps)
    TaskTally.objects.bulk_create(
        [
            TaskTally(key=text, n=n, **{f: getattr(k, f) for f in KEY_FIELDS})
            for text, (k, n) in tallies.items()
        ],
        batch_size=5000,
    )
    days = live_day_tallies(apps)
    TaskDayTally.objects.bulk_create(
        [
            TaskDayTally(
                key=text, day=day, created=c, done=d, **{f: getattr(k, f) for f in DAY_FIELDS}
            )
            for text, (k, day, c, d) in days.items()
        ],
        batch_size=5000,
    )
    if apps is None:  # not from a migration: today's figures and the cached trend follow
        figures.roll(*figures.wanted(), force=True)
        _bump_trend_generation()
    return {"tallies": len(tallies), "day_tallies": len(days)}


# The cache key whose value the completion trend's cached past days are keyed by
# (tracker.selectors.trend._day_tally_per_day): a rebuild rewrites past days, so it changes the value.
TREND_GENERATION_KEY = "rectify:trend-generation"


def _bump_trend_generation() -> None:
    from django.core.cache import cache

    transaction.on_commit(lambda: cache.set(TREND_GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def differences(apps=None) -> list[str]:
    """Where the tallies differ from live counts, one line each (empty: they agree).

    TaskTally must equal the tasks grouped by key; TaskDayTally's running sums over all days
    must equal, per (inspection, owner, category, type), the tasks there and the done ones; and
    its per-day rows must equal the trend rebuilt from history."""
    Task, _e, TaskTally, TaskDayTally, _p = _models(apps)
    out = []
    live = {text: n for text, (_k, n) in live_tallies(apps).items()}
    stored = dict(TaskTally.objects.exclude(n=0).values_list("key", "n"))
    for text in sorted(live.keys() | stored.keys()):
        if live.get(text, 0) != stored.get(text, 0):
            out.append(f"TaskTally {text}: stored {stored.get(text, 0)}, live {live.get(text, 0)}")
    done = list(DONE_STATUSES)
    live_groups = {
        DayKey(*(r[f] for f in DAY_FIELDS)): (r["n"], r["done"])
        for r in Task.objects.order_by()
        .values(*DAY_FIELDS)
        .annotate(n=Count("id"), done=Count("id", filter=Q(status__in=done)))
    }
    stored_groups = {
        DayKey(*(r[f] for f in DAY_FIELDS)): (r["c"] or 0, r["d"] or 0)
        for r in TaskDayTally.objects.order_by()
        .values(*DAY_FIELDS)
        .annotate(c=Sum("created"), d=Sum("done"))
    }
    for key in sorted(
        live_groups.keys() | stored_groups.keys(), key=lambda k: k.text(datetime.date.min)
    ):
        a, b = stored_groups.get(key, (0, 0)), live_groups.get(key, (0, 0))
        if a != b:
            out.append(
                f"TaskDayTally {key.text(datetime.date.min)[11:]} (all days): stored "
                f"{a[0]} tasks, {a[1]} done; live {b[0]} tasks, {b[1]} done"
            )
    live_days = {text: (c, d) for text, (_k, _day, c, d) in live_day_tallies(apps).items()}
    stored_days = {
        key: (c, d)
        for key, c, d in TaskDayTally.objects.exclude(created=0, done=0).values_list(
            "key", "created", "done"
        )
    }
    for text in sorted(live_days.keys() | stored_days.keys()):
        a, b = stored_days.get(text, (0, 0)), live_days.get(text, (0, 0))
        if a != b:
            out.append(f"TaskDayTally {text}: stored {a}, from history {b}")
    if apps is None:
        out.extend(figures.differences())
    return out
