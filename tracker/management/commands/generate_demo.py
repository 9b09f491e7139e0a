"""``manage.py generate_demo --tasks 1000000 --units 2000 --inspections 1000``: realistic volume.

Builds organizations (ten units each), inspections with feedback dates over the last two years,
categories (方面), one leaf problem and one task per requested task, a measure per task, and a
history for every task: the 'created' event and the status moves that led to its current status,
spread between feedback and today. The dashboard's completion-over-time chart reads exactly
this history, so the generated data behaves like real data.

On PostgreSQL the big tables are written with COPY in batches (a million tasks take a few
minutes on two cores); on other databases with ``bulk_create``. Primary keys are assigned here
and the sequences moved past them afterwards, so the run is additive and repeatable: each run
tags its organization names, and ``--seed`` makes the content reproducible.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import time
from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from tracker import aggregates, scope_choices
from tracker.choices import (
    EventKind,
    EventSource,
    Level,
    ProblemKind,
    ScopeRole,
    TaskStatus,
    TaskType,
)
from tracker.importer.text import normalize_title
from tracker.models import (
    Inspection,
    Measure,
    Organization,
    Problem,
    ScopeAssignment,
    Task,
    TaskEvent,
    Unit,
)
from tracker.models.inspections import add_months

UNIT_NAMES = [
    "办公室",
    "组织部",
    "宣传部",
    "财政局",
    "规划局",
    "教育局",
    "卫健委",
    "住建局",
    "自然资源局",
    "审计局",
    "人社局",
    "交通局",
    "农业农村局",
    "生态环境局",
]
CATEGORIES = [
    "关于贯彻落实党的路线方针政策和党中央决策部署方面",
    "关于落实全面从严治党战略部署方面",
    "关于落实新时代党的组织路线方面",
    "关于落实巡视整改和主题教育整改方面",
    "关于落实中央八项规定精神方面",
    "关于意识形态工作责任制落实方面",
]
PROBLEMS = [
    "落实主体责任不到位",
    "财政资金监管不到位",
    "规划审批把关不严",
    "干部选拔任用程序不规范",
    "基层党组织建设薄弱",
    "形式主义官僚主义问题仍然存在",
    "违规发放津贴补贴",
    "重点领域廉政风险防控不力",
    "意识形态阵地管理不严",
    "巡视整改成果运用不够",
]
MEASURES = ["一是建立问题台账,逐项明确责任人", "二是完善制度,堵塞管理漏洞"]

# Where generated tasks end up: the share of each final status by how far past feedback they are.
STATUS_PATH = [
    TaskStatus.NOT_STARTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BASICALLY_COMPLETED,
    TaskStatus.COMPLETED,
    TaskStatus.CLOSED,
]


def _label(status: str) -> str:
    # The same value tracker.actions writes into history: the code.
    return str(status)


class Command(BaseCommand):
    help = "Generate realistic demo data at volume (tasks with history), fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tasks", type=int, default=10_000)
        parser.add_argument("--units", type=int, default=200)
        parser.add_argument("--inspections", type=int, default=100)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--batch", type=int, default=50_000, help="rows per COPY batch")
        parser.add_argument(
            "--supervisor",
            default="supervisor",
            help="username of a supervisor over everything (created if missing; '' to skip)",
        )
        parser.add_argument("--password", default="rectify-demo")

    def handle(self, *args, **opts) -> None:
        started = time.monotonic()
        for model, columns in (
            (Problem, PROBLEM_COLUMNS),
            (Task, TASK_COLUMNS),
            (TaskEvent, EVENT_COLUMNS),
            (Measure, MEASURE_COLUMNS),
        ):
            _check_columns(model, columns)
        rng = random.Random(opts["seed"])
        n_tasks, n_units, n_insp = opts["tasks"], max(opts["units"], 1), opts["inspections"]
        n_insp = max(1, min(n_insp, n_tasks or 1))
        tag = f"{rng.randrange(16**6):06x}"
        today = timezone.localdate()
        self.batch = opts["batch"]

        with transaction.atomic():
            units_by_org = self._orgs_and_units(rng, tag, n_units)
            inspections = self._inspections(rng, units_by_org, n_insp, today)
            categories = self._categories(rng, inspections)
        self._log(
            f"{len(units_by_org)} organizations, {n_units} units, {len(inspections)} "
            f"inspections, {sum(len(c) for c in categories.values())} categories",
            started,
        )
        with transaction.atomic():
            counts = self._tasks(rng, inspections, units_by_org, categories, n_tasks, today)
        self._log(
            f"{counts['tasks']} tasks, {counts['events']} history events, "
            f"{counts['measures']} measures",
            started,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("tracker_problem", "tracker_task", "tracker_taskevent"):
                    cursor.execute(f"ANALYZE {table}")
        # COPY bypasses tracker.actions: count the new tasks into the dashboard tallies.
        tallied = aggregates.rebuild()
        self._log(f"{tallied['tallies']} tallies, {tallied['day_tallies']} day tallies", started)
        if opts["supervisor"]:
            self._supervisor(opts["supervisor"], opts["password"])
        # Organizations and inspections were bulk-created (no signals): the kept choice lists of
        # a running server are stale.
        scope_choices.changed()
        self._log("done", started)

    def _log(self, message: str, started: float) -> None:
        self.stdout.write(f"[{time.monotonic() - started:7.1f}s] {message}")

    # --- small tables: ORM bulk_create -------------------------------------------------------

    def _orgs_and_units(self, rng: random.Random, tag: str, n_units: int) -> dict[int, list[int]]:
        per_org = 10
        n_orgs = max(1, (n_units + per_org - 1) // per_org)
        orgs = Organization.objects.bulk_create(
            [
                Organization(name=f"中共演示{tag}第{i:04d}委员会", core_name=f"演示{tag}第{i:04d}")
                for i in range(1, n_orgs + 1)
            ]
        )
        units = []
        remaining = n_units
        for org in orgs:
            take = min(per_org, remaining)
            remaining -= take
            for j in range(take):
                if j == 0:
                    units.append(Unit(organization=org, name=org.name, is_self=True))
                else:
                    name = UNIT_NAMES[(j - 1) % len(UNIT_NAMES)]
                    units.append(Unit(organization=org, name=f"{name}{j:02d}"))
        units = Unit.objects.bulk_create(units, batch_size=2000)
        by_org: dict[int, list[int]] = {}
        for unit in units:
            by_org.setdefault(unit.organization_id, []).append(unit.pk)
        return by_org

    def _inspections(
        self,
        rng: random.Random,
        units_by_org: dict[int, list[int]],
        n: int,
        today: datetime.date,
    ) -> list[Inspection]:
        org_ids = list(units_by_org)
        rows = []
        for i in range(n):
            feedback = today - datetime.timedelta(days=rng.randint(15, 730))
            rows.append(
                Inspection(
                    organization_id=org_ids[i % len(org_ids)],
                    level=rng.choice([Level.PROVINCIAL, Level.CITY, Level.COUNTY]),
                    term="十五届",
                    round_no=f"第{i % 9 + 1}轮",
                    round_name=f"十五届省委第{i % 9 + 1}轮",
                    group=f"第{i % 12 + 1}巡视组",
                    feedback_date=feedback,
                    start_date=feedback - datetime.timedelta(days=90),
                    end_date=feedback - datetime.timedelta(days=30),
                )
            )
        return Inspection.objects.bulk_create(rows, batch_size=1000)

    def _categories(
        self, rng: random.Random, inspections: list[Inspection]
    ) -> dict[int, list[int]]:
        rows = []
        for inspection in inspections:
            for k, title in enumerate(rng.sample(CATEGORIES, rng.randint(3, len(CATEGORIES)))):
                rows.append(
                    Problem(
                        inspection=inspection,
                        kind=ProblemKind.CATEGORY,
                        label=f"({'一二三四五六'[k]})",
                        order=k * 100_000,
                        title=title,
                    )
                )
        # bulk_create skips save(), so set the matching key here.
        for row in rows:
            row.title_key = normalize_title(row.title)[:255]
        rows = Problem.objects.bulk_create(rows, batch_size=5000)
        by_inspection: dict[int, list[int]] = {}
        for row in rows:
            by_inspection.setdefault(row.inspection_id, []).append(row.pk)
        return by_inspection

    # --- the big tables ----------------------------------------------------------------------

    def _tasks(
        self,
        rng: random.Random,
        inspections: list[Inspection],
        units_by_org: dict[int, list[int]],
        categories: dict[int, list[int]],
        n_tasks: int,
        today: datetime.date,
    ) -> dict[str, int]:
        problem_id = self._next_id(Problem)
        task_id = self._next_id(Task)
        event_id = self._next_id(TaskEvent)
        measure_id = self._next_id(Measure)
        title_keys = {t: normalize_title(t) for t in PROBLEMS}
        now = timezone.now()
        tz = timezone.get_current_timezone()
        counts = {"tasks": 0, "events": 0, "measures": 0}
        declared_updates = []

        problems, tasks, events, measures = [], [], [], []
        per_insp = [n_tasks // len(inspections)] * len(inspections)
        for i in range(n_tasks - sum(per_insp)):
            per_insp[i] += 1

        for inspection, count in zip(inspections, per_insp, strict=True):
            deadline = add_months(inspection.feedback_date, 2)
            unit_ids = units_by_org[inspection.organization_id]
            cats = categories[inspection.pk]
            feedback_at = datetime.datetime.combine(
                inspection.feedback_date, datetime.time(9), tzinfo=tz
            )
            # Notices sometimes declare more problems than they print (涉密, privacy…).
            declared_updates.append((inspection.pk, count + rng.choice([0, 0, 0, 1, 2])))
            for k in range(count):
                title = PROBLEMS[k % len(PROBLEMS)]
                problems.append(
                    (
                        problem_id,
                        inspection.pk,
                        cats[k % len(cats)],
                        ProblemKind.PROBLEM,
                        f"{k + 1}.",
                        k + 1,
                        f"{title}(第{k + 1}项)",
                        f"{title_keys[title]}第{k + 1}项",
                        "",
                        "",  # published (Problem.withheld)
                    )
                )
                task_type = rng.choices(
                    [TaskType.DEADLINE, TaskType.IMMEDIATE, TaskType.LONG_TERM], [70, 20, 10]
                )[0]
                age = (today - inspection.feedback_date).days
                # Older inspections are further along: the final status drifts up with age.
                progress = min(4, int(rng.random() * (1 + age / 120)) + rng.randint(0, 1))
                status = STATUS_PATH[progress]
                task_deadline = deadline if rng.random() > 0.02 else None
                original = None
                if task_deadline and rng.random() < 0.05:
                    original = task_deadline
                    task_deadline = task_deadline + datetime.timedelta(days=rng.randint(10, 60))
                report_due = (
                    today + datetime.timedelta(days=rng.randint(-20, 90))
                    if task_type == TaskType.LONG_TERM
                    else None
                )
                # The status path, one event per step, spread between feedback and now.
                span = max(1.0, (now - feedback_at).total_seconds())
                stamps = sorted(rng.random() * span for _ in range(progress))
                moments = [feedback_at + datetime.timedelta(seconds=s) for s in stamps]
                events.append(
                    (
                        event_id,
                        task_id,
                        EventKind.CREATED,
                        "",
                        _label(TaskStatus.NOT_STARTED),
                        "",
                        None,
                        EventSource.SYSTEM,
                        "generate_demo",
                        feedback_at,
                    )
                )
                event_id += 1
                for step, moment in enumerate(moments, start=1):
                    events.append(
                        (
                            event_id,
                            task_id,
                            EventKind.STATUS,
                            _label(STATUS_PATH[step - 1]),
                            _label(STATUS_PATH[step]),
                            "",
                            None,
                            EventSource.SYSTEM,
                            "generate_demo",
                            moment,
                        )
                    )
                    event_id += 1
                changed = moments[-1] if moments else feedback_at
                tasks.append(
                    (
                        task_id,
                        problem_id,
                        inspection.pk,
                        cats[k % len(cats)],  # the problem's parent, a top-level category
                        unit_ids[rng.randrange(len(unit_ids))],
                        unit_ids[0] if rng.random() < 0.3 else None,
                        "",
                        None,
                        task_type,
                        status,
                        task_deadline,
                        original,
                        report_due,
                        "",
                        changed,
                        changed if status == TaskStatus.CLOSED else None,
                        None,  # assigned_at: generated like an import, never waiting for 签收
                        None,  # acknowledged_at
                        1 + progress,
                        feedback_at,
                        changed,
                    )
                )
                measures.append(
                    (measure_id, task_id, 1, MEASURES[0], progress >= 3, None, False, "")
                )
                measure_id += 1
                problem_id += 1
                task_id += 1
                if len(tasks) >= self.batch:
                    self._flush(problems, tasks, events, measures, counts)
        self._flush(problems, tasks, events, measures, counts)
        for table_model in (Problem, Task, TaskEvent, Measure):
            self._reset_sequence(table_model)
        for pk, declared in declared_updates:
            Inspection.objects.filter(pk=pk).update(declared={"problems": declared})
        return counts

    def _flush(self, problems, tasks, events, measures, counts) -> None:
        self._copy(Problem, PROBLEM_COLUMNS, problems)
        self._copy(Task, TASK_COLUMNS, tasks)
        self._copy(TaskEvent, EVENT_COLUMNS, events)
        self._copy(Measure, MEASURE_COLUMNS, measures)
        counts["tasks"] += len(tasks)
        counts["events"] += len(events)
        counts["measures"] += len(measures)
        for rows in (problems, tasks, events, measures):
            rows.clear()

    def _copy(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if connection.vendor != "postgresql":
            attnames = {f.column: f.attname for f in model._meta.concrete_fields}
            objs = [
                model(**{attnames[c]: v for c, v in zip(columns, row, strict=True)}) for row in rows
            ]
            # TaskEvent.save refuses edits, bulk_create is a plain INSERT.
            model.objects.bulk_create(objs, batch_size=2000)
            return
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_value(v) for v in row))
            buffer.write("\n")
        table = model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in columns)
        # Table and column names come from the models, never from input.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            copy.write(buffer.getvalue())

    def _next_id(self, model: type[models.Model]) -> int:
        return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1

    def _reset_sequence(self, model: type[models.Model]) -> None:
        if connection.vendor != "postgresql":
            return
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  (model table)
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )

    def _supervisor(self, username: str, password: str) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        if created:
            user.set_password(password)
            user.save()
        ScopeAssignment.objects.get_or_create(
            user=user, role=ScopeRole.SUPERVISOR, all_organizations=True
        )
        self.stdout.write(f"Supervisor over everything: {username} (password: {password})")


def _copy_value(value) -> str:
    """COPY text format; generated text never holds tabs, newlines or backslashes."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


PROBLEM_COLUMNS = (
    "id",
    "inspection_id",
    "parent_id",
    "kind",
    "label",
    "order",
    "title",
    "title_key",
    "detail",
    "withheld",
)
TASK_COLUMNS = (
    "id",
    "problem_id",
    "inspection_id",
    "category_id",
    "owner_unit_id",
    "lead_unit_id",
    "lead_leader_name",
    "lead_leader_id",
    "task_type",
    "status",
    "deadline",
    "original_deadline",
    "report_due_on",
    "progress",
    "status_changed_at",
    "closed_at",
    "assigned_at",
    "acknowledged_at",
    "version",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "id",
    "task_id",
    "kind",
    "old_value",
    "new_value",
    "reason",
    "actor_id",
    "source",
    "source_ref",
    "created_at",
)
MEASURE_COLUMNS = (
    "id",
    "task_id",
    "order",
    "text",
    "done",
    "done_at",
    "not_applicable",
    "na_reason",
)


def _check_columns(model: type[models.Model], columns: Iterable[str]) -> None:
    """Fail loudly when a model gained a column that COPY would leave out."""
    actual = {f.column for f in model._meta.concrete_fields}
    if actual != set(columns):
        raise RuntimeError(
            f"generate_demo is out of date for {model.__name__}: {sorted(actual ^ set(columns))}"
        )
