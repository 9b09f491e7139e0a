"""Write a parsed notice into the database: one transaction per notice, through tracker.actions.

The parser (parser.py) turns text into plain data; this module is the only place that turns that
data into rows. What it does with one notice, inside one ``transaction.atomic()``:

1. the same content again (sha256 of the decoded text) → "skipped", nothing written;
2. per inspected organization: find it by core name (中共…委员会 = …党委 = 省… = 海南省…), else
   create it; find the inspection of that organization whose round, group, kind, period and
   feedback date do not contradict the notice, else create it; fill its blank facts (never erase);
3. walk the problem tree: a node whose folded title (``Problem.title_key``) matches a problem of
   the same inspection is that problem (the notice is added to its sources); other nodes are
   created. Categories (方面) are never tasks;
4. new leaf problems get a task through ``actions.create_task`` (owner = the organization's own
   unit, deadline = the inspection's, status from the notice). Matched leaves keep their task; a
   status the notice states moves it through ``actions.change_status``, unless the task is closed
   (已销号), the notice is older than one already applied to the problem, or a user set the status
   after the last import and the notice would move it backwards. Owner, measures, evidence and
   deadlines users set are never touched; a task that had no deadline only because the feedback
   date was unknown gets the inspection's deadline once a notice states that date.

Any error rolls the whole notice back.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from tracker import actions, rules
from tracker.choices import (
    KIND_WORDS,
    LEVEL_WORDS,
    NOTICE_STATUS_TO_TASK,
    DatePrecision,
    EventKind,
    EventSource,
    InspectionKind,
    Level,
    ProblemKind,
    TaskStatus,
    TaskType,
)
from tracker.importer.parser import (
    ParsedInspection,
    ParsedNotice,
    ParsedProblem,
    decode_notice,
    parse_notice,
    read_notice,
)
from tracker.importer.text import _place_variants, core_org_name, normalize_title, org_names_match
from tracker.models import (
    Inspection,
    NoticeReport,
    Organization,
    Problem,
    SourceNotice,
    Task,
    TaskEvent,
    Unit,
)

# A leaf problem the notice gives no status for: a progress notice reports work under way, so
# the task starts as 整改中 rather than 未启动 (nothing in the notice says it has not started).
DEFAULT_TASK_STATUS = TaskStatus.IN_PROGRESS

# Progress order, to tell a notice moving a task forward from one moving it back.
STATUS_RANK = {
    TaskStatus.NOT_STARTED: 0,
    TaskStatus.IN_PROGRESS: 1,
    TaskStatus.BASICALLY_COMPLETED: 2,
    TaskStatus.COMPLETED: 3,
    TaskStatus.CLOSED: 4,
}

# Events after which a task's status is what someone decided (not what a notice said).
_STATUS_EVENT_KINDS = (
    EventKind.CREATED,
    EventKind.STATUS,
    EventKind.REOPENED,
    EventKind.CLOSEOUT_APPROVED,
)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What importing one notice did (for the command's lines and summary, and the admin)."""

    file_name: str
    outcome: str  # "created" | "updated" | "skipped"
    notice_id: int | None = None
    inspections_created: int = 0
    inspections_matched: int = 0
    problems_created: int = 0
    problems_matched: int = 0
    tasks_created: int = 0
    statuses_changed: int = 0
    statuses_kept: int = 0
    deadlines_filled: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "file_name"}

    def describe(self) -> str:
        """One line on what importing the file did, in the active language."""
        if self.outcome == "skipped":
            return _("已跳过(已作为通报 %s 导入)") % self.notice_id
        outcome = {"created": _("已导入"), "updated": _("已更新")}.get(self.outcome, self.outcome)
        parts = [
            _("%(outcome)s:新建巡视巡察 %(new)d 个、并入已有 %(matched)d 个")
            % {
                "outcome": outcome,
                "new": self.inspections_created,
                "matched": self.inspections_matched,
            },
            _("新建任务 %d 项") % self.tasks_created,
            _("匹配已有问题 %d 个") % self.problems_matched,
            _("状态变更 %d 处") % self.statuses_changed,
        ]
        if self.statuses_kept:
            parts.append(_("保留用户所设状态 %d 处") % self.statuses_kept)
        if self.deadlines_filled:
            parts.append(_("补填时限 %d 处") % self.deadlines_filled)
        return ",".join(parts)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def content_sha256(text: str) -> str:
    """The identity of a notice: sha256 of its decoded text as UTF-8.

    For a UTF-8 file this is the file's own sha256; a GBK copy of the same notice is the same
    notice.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _partial_date(value: str | None) -> tuple[datetime.date | None, str]:
    """ "2021-09" → (2021-09-01, month); "2021-09-01" → (that day, day); None → (None, day)."""
    if not value:
        return None, DatePrecision.DAY
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 2:
        return datetime.date(parts[0], parts[1], 1), DatePrecision.MONTH
    return datetime.date(parts[0], parts[1], parts[2]), DatePrecision.DAY


def _span(day: datetime.date | None, precision: str, *, end: bool) -> datetime.date | None:
    """The last (end=True) or first day a partial date can stand for."""
    if day is None or precision != DatePrecision.MONTH:
        return day
    if not end:
        return day.replace(day=1)
    from tracker.models.inspections import month_end

    return month_end(day)


_PLACE_RE = re.compile(r"^([\u4e00-\u9fff]{2,4}?(?:省|自治区|自治州|市|县|区))")


def _specific_place(core: str) -> str:
    m = _PLACE_RE.match(core)
    return m.group(1) if m and len(core) - m.end() >= 3 else ""


# Pure function of two names; find_organization asks it for every (name, candidate name) pair of
# every notice, mostly the same pairs again, and each call folds both names several times.
@functools.lru_cache(maxsize=65536)
def same_organization(a: str, b: str) -> bool:
    """``org_names_match`` without its one false friend: two *different* named places.

    "省大数据管理局" is "海南省大数据管理局" (the province is implied), but "海州市财政局" is not
    "江宁市财政局" although both drop to "财政局".
    """
    if not org_names_match(a, b):
        return False
    pa, pb = _specific_place(core_org_name(a)), _specific_place(core_org_name(b))
    return not (pa and pb and pa != pb)


def _names(parsed: ParsedInspection) -> list[str]:
    return [parsed.organization, *parsed.aliases]


# --------------------------------------------------------------------------------------------
# Matching (read-only; the admin preview uses it too)
# --------------------------------------------------------------------------------------------


def find_organization(parsed: ParsedInspection) -> Organization | None:
    """The organization a notice section names, matched by core name and known aliases."""
    cores = {core_org_name(n) for n in _names(parsed)} - {""}
    if not cores:
        return None
    query = Q(name__in=_names(parsed)) | Q(core_name__in=cores)
    for core in cores:
        place = _PLACE_RE.match(core)
        tail = core[place.end() :] if place and len(core) - place.end() >= 3 else core
        query |= Q(core_name__endswith=tail)
    for org in Organization.objects.filter(query).order_by("pk"):
        known = [org.name, org.short_name, *org.aliases]
        if any(same_organization(a, b) for a in _names(parsed) for b in known if b):
            return org
    return None


def _conflicts(insp: Inspection, parsed: ParsedInspection) -> tuple[bool, int]:
    """(contradicts?, how many known facts agree) between a stored and a parsed inspection."""
    agree = 0
    if parsed.round and insp.round_name:
        if normalize_title(parsed.round) != normalize_title(insp.round_name):
            return True, 0
        agree += 1
    if parsed.group and insp.group:
        if normalize_title(parsed.group) != normalize_title(insp.group):
            return True, 0
        agree += 1
    parsed_kind = KIND_WORDS.get(parsed.kind or "")
    # 回头看 is a separate visit; other kinds are often left unstated, so only it can conflict.
    if parsed_kind and (parsed_kind == InspectionKind.RETURN_VISIT) != (
        insp.kind == InspectionKind.RETURN_VISIT
    ):
        return True, 0
    if parsed.feedback and insp.feedback_date:
        if abs((parsed.feedback - insp.feedback_date).days) > 31:
            return True, 0
        agree += 1
    start, sp = _partial_date(parsed.start)
    end, ep = _partial_date(parsed.end)
    lo_a = _span(start, sp, end=False) or _span(end, ep, end=False)
    hi_a = _span(end, ep, end=True) or _span(start, sp, end=True)
    lo_b = _span(insp.start_date, insp.start_precision, end=False) or _span(
        insp.end_date, insp.end_precision, end=False
    )
    hi_b = _span(insp.end_date, insp.end_precision, end=True) or _span(
        insp.start_date, insp.start_precision, end=True
    )
    if lo_a and hi_a and lo_b and hi_b:
        if hi_a < lo_b or hi_b < lo_a:
            return True, 0
        agree += 1
    return False, agree


def find_inspection(org: Organization, parsed: ParsedInspection) -> Inspection | None:
    """The inspection of ``org`` the notice section describes: none of the facts both know
    contradicts (round, group, 回头看, period overlap, feedback date); the best agreeing, then
    the latest, wins."""
    best: tuple[int, int, Inspection] | None = None
    for insp in Inspection.objects.filter(organization=org):
        conflict, agree = _conflicts(insp, parsed)
        if conflict:
            continue
        if best is None or (agree, insp.pk) > best[:2]:
            best = (agree, insp.pk, insp)
    return best[2] if best else None


def _problem_key(node: ParsedProblem | Problem) -> tuple[bool, str] | None:
    title = node.title
    key = normalize_title(title)[:255] if title else ""
    if not key:
        return None  # an untitled node never matches anything
    return (node.kind == ProblemKind.CATEGORY, key)


@dataclass
class InspectionPlan:
    """What importing one notice section would do (the admin preview shows it)."""

    parsed: ParsedInspection
    organization: Organization | None
    inspection: Inspection | None
    problems_matched: int = 0
    problems_new: int = 0
    tasks_new: int = 0


def plan_notice(parsed: ParsedNotice) -> list[InspectionPlan]:
    """Where each section of a parsed notice would go, without writing anything."""
    plans = []
    for section in parsed.inspections:
        org = find_organization(section)
        insp = find_inspection(org, section) if org else None
        plan = InspectionPlan(parsed=section, organization=org, inspection=insp)
        keys = set()
        if insp is not None:
            keys = {
                k
                for k in (_problem_key(p) for p in insp.problems.only("title", "kind").iterator())
                if k
            }
        used: set[tuple[bool, str]] = set()

        def walk(nodes: list[ParsedProblem], plan: InspectionPlan = plan, keys=keys, used=used):
            for node in nodes:
                key = _problem_key(node)
                if key and key in keys and key not in used:
                    used.add(key)
                    plan.problems_matched += 1
                else:
                    plan.problems_new += 1
                    if node.kind != ProblemKind.CATEGORY and not node.children:
                        plan.tasks_new += 1
                walk(node.children)

        walk(section.problems)
        plans.append(plan)
    return plans


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _advisory_locks(keys: Iterable[str]) -> None:
    """Take ``pg_advisory_xact_lock`` for each key (hashed to 64 bits), in sorted order."""
    ids = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
            )
            for key in keys
        }
    )
    if ids:
        with connection.cursor() as cursor:  # one round trip; the subquery fixes the order
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(k))"
                " FROM (SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS sorted_keys",
                [ids],
            )


class _NoticeWriter:
    def __init__(self, notice: SourceNotice, parsed: ParsedNotice, result: ImportResult):
        self.notice = notice
        self.parsed = parsed
        self.result = result
        self.actor = actions.Actor.system(EventSource.IMPORT, f"notice:{notice.pk}")
        self.reason = f"通报 {notice.file_name}" + (f"《{notice.title}》" if notice.title else "")
        self.owners: dict[int, Unit] = {}  # organization id → its own unit
        self.new_tasks: list[actions.NewTask] = []
        self.links: list[Any] = []  # Problem.sources rows
        self.reports: dict[int, NoticeReport] = {}
        self._locked = False
        # For 屡巡屡犯: which organizations the notice created, and its inspections of each.
        self.new_organizations: set[int] = set()
        self.inspections_of: dict[int, set[int]] = {}
        self.organization_of: dict[int, int] = {}
        self._first_lookup: tuple[ParsedInspection, Organization | None] | None = None

    # -- organizations and inspections ------------------------------------------------------
    def _lock_organizations(self) -> None:
        """On PostgreSQL, serialise notices about the same organization until commit.

        Two notices naming one new organization, imported at the same moment, would each find
        no organization and create one (a duplicate, or a raw "duplicate key" error when they
        spell it alike). So before looking anything up, each notice takes a transaction-level
        advisory lock per name variant it could be matched on (the core name with and without
        its place prefix, exactly what ``org_names_match`` compares), then one per existing
        organization it matches (so inspections are found or created one notice at a time).
        Each group is taken in sorted order, names before ids: two notices never wait on each
        other in a cycle. The second notice then reads the first one's committed rows.
        Elsewhere (SQLite) writers are serialised by the database, and ``import_parsed`` retries
        a notice that met a unique constraint.
        """
        if self._locked or connection.vendor != "postgresql":
            return
        self._locked = True
        names = {
            variant
            for section in self.parsed.inspections
            for name in _names(section)
            for variant in _place_variants(core_org_name(name))
            if variant
        }
        _advisory_locks(f"organization-name:{variant}" for variant in names)
        found = [find_organization(section) for section in self.parsed.inspections]
        _advisory_locks(f"organization:{org.pk}" for org in found if org is not None)
        # Nothing is written yet: the first section's lookup stands (later sections look
        # again, an earlier section may have created or renamed their organization).
        self._first_lookup = (self.parsed.inspections[0], found[0]) if found else None

    def organization(self, section: ParsedInspection) -> tuple[Organization, bool]:
        self._lock_organizations()
        if self._first_lookup is not None and self._first_lookup[0] is section:
            org = self._first_lookup[1]
            self._first_lookup = None
        else:
            org = find_organization(section)
        name = section.organization[:200]
        if org is None:
            org = Organization.objects.create(
                name=name,
                short_name=self._short_name(section, name),
                aliases=[a for a in dict.fromkeys(section.aliases) if a != name],
            )
            # The organization's own unit (本级), the default owner: one INSERT, no lookup.
            self.owners[org.pk] = Unit.objects.create(organization=org, is_self=True, name=name)
            return org, True
        known = {org.name, *org.aliases}
        changed = False
        if org.name in section.aliases and not Organization.objects.filter(name=name).exists():
            # The notice itself says the stored name is its short form (以下简称): take the
            # full name, keep the old one as an alias.
            org.aliases = [*org.aliases, org.name]
            org.name = name
            org.core_name = core_org_name(name)
            changed = True
        new_aliases = [a for a in dict.fromkeys(_names(section)) if a not in known and a != name]
        if new_aliases:
            org.aliases = [*org.aliases, *new_aliases]
            changed = True
        if not org.short_name:
            short = self._short_name(section, org.name)
            if short:
                org.short_name = short
                changed = True
        if changed:
            org.save(update_fields=["name", "core_name", "aliases", "short_name"])
        return org, False

    @staticmethod
    def _short_name(section: ParsedInspection, name: str) -> str:
        shorter = [a for a in section.aliases if len(a) < len(name)]
        return min(shorter, key=len)[:100] if shorter else ""

    def inspection(
        self, org: Organization, section: ParsedInspection, *, new_org: bool
    ) -> tuple[Inspection, bool]:
        insp = None if new_org else find_inspection(org, section)
        start, start_p = _partial_date(section.start)
        end, end_p = _partial_date(section.end)
        level = LEVEL_WORDS.get(section.level or "", Level.OTHER) if section.level else ""
        if insp is None:
            # Through the action, as the notice's system actor: the inspection's history starts
            # with the notice that made it.
            insp = actions.create_inspection(
                org,
                self.actor,
                level=level,
                term=(section.term or "")[:20],
                round_no=(section.round_no or "")[:20],
                round_name=(section.round or "")[:60],
                kind=KIND_WORDS.get(section.kind or "", InspectionKind.REGULAR),
                group=(section.group or "")[:60],
                start_date=start,
                start_precision=start_p,
                end_date=end,
                end_precision=end_p,
                feedback_date=section.feedback,
                feedback_precision=DatePrecision.DAY,
                declared=dict(section.declared),
            )
            return insp, True
        # Same inspection: fill what it does not know yet, never erase what it does; the
        # changes go through edit_inspection (a row of the inspection's history each).
        fields: list[str] = []
        stored_insp = insp
        insp = Inspection(
            **{f.attname: getattr(stored_insp, f.attname) for f in Inspection._meta.concrete_fields}
        )

        def fill(attr: str, value: Any) -> None:
            if value and not getattr(insp, attr):
                setattr(insp, attr, value)
                fields.append(attr)

        fill("level", level)
        fill("term", (section.term or "")[:20])
        fill("round_no", (section.round_no or "")[:20])
        fill("round_name", (section.round or "")[:60])
        fill("group", (section.group or "")[:60])
        if section.feedback and not insp.feedback_date:
            insp.feedback_date, insp.feedback_precision = section.feedback, DatePrecision.DAY
            fields += ["feedback_date", "feedback_precision"]
        for attr, day, precision in (("start", start, start_p), ("end", end, end_p)):
            stored = getattr(insp, f"{attr}_date")
            stored_p = getattr(insp, f"{attr}_precision")
            refines = (
                stored is not None
                and day is not None
                and stored_p == DatePrecision.MONTH
                and precision == DatePrecision.DAY
                and (stored.year, stored.month) == (day.year, day.month)
            )
            if day and (stored is None or refines):
                setattr(insp, f"{attr}_date", day)
                setattr(insp, f"{attr}_precision", precision)
                fields += [f"{attr}_date", f"{attr}_precision"]
        declared = self._merged_declared(insp, section)
        if declared != insp.declared:
            insp.declared = declared
            fields.append("declared")
        if fields:
            actions.edit_inspection(
                stored_insp, self.actor, **{name: getattr(insp, name) for name in fields}
            )
        return stored_insp, False

    def _merged_declared(self, insp: Inspection, section: ParsedInspection) -> dict:
        """Blank keys are filled; a key both know takes the newer notice's figure."""
        merged = dict(insp.declared)
        published = self.notice.published
        newest = (
            NoticeReport.objects.filter(inspection=insp)
            .exclude(notice=self.notice)
            .aggregate(m=Max("notice__published"))["m"]
        )
        is_newest = published is not None and (newest is None or published >= newest)
        for key, value in section.declared.items():
            if key not in merged or is_newest:
                merged[key] = value
        return merged

    # -- problems and tasks -----------------------------------------------------------------
    def problems(self, insp: Inspection, section: ParsedInspection, created: bool) -> None:
        existing: dict[tuple[bool, str], Problem] = {}
        next_order = 1
        if not created:
            for problem in insp.problems.select_related("task").order_by("order", "pk"):
                key = _problem_key(problem)
                if key and key not in existing:
                    existing[key] = problem
            next_order = (insp.problems.aggregate(m=Max("order"))["m"] or 0) + 1
        used: set[tuple[bool, str]] = set()
        org = insp.organization
        owner = self.owners.get(org.pk) or self.owners.setdefault(org.pk, org.self_unit())
        deadline = insp.deadline
        through = Problem.sources.through
        links = self.links
        new_leaves: list[tuple[Problem, ParsedProblem]] = []
        matched_leaves: list[tuple[Problem, ParsedProblem]] = []
        matched_ids: set[int] = set()

        # Numbered in reading order (depth first, as printed), but inserted level by level so
        # that parents have their ids before their children are inserted.
        reading_order: dict[int, int] = {}

        def number(nodes: list[ParsedProblem]) -> None:
            for node in nodes:
                reading_order[id(node)] = next_order + len(reading_order)
                number(node.children)

        number(section.problems)
        level: list[tuple[ParsedProblem, Problem | None]] = [(n, None) for n in section.problems]
        while level:
            to_create: list[tuple[ParsedProblem, Problem]] = []
            placed: list[tuple[ParsedProblem, Problem]] = []
            for node, parent in level:
                key = _problem_key(node)
                problem = existing.get(key) if key and key not in used else None
                if problem is not None:
                    used.add(key)
                    self.result.problems_matched += 1
                    matched_ids.add(problem.pk)
                    placed.append((node, problem))
                    continue
                problem = Problem(
                    inspection=insp,
                    parent=parent,
                    kind=ProblemKind.CATEGORY
                    if node.kind == ProblemKind.CATEGORY
                    else ProblemKind.PROBLEM,
                    label=(node.label or "")[:20],
                    order=reading_order[id(node)],
                    title=node.title,
                    title_key=normalize_title(node.title)[:255],
                    detail=node.detail,
                )
                to_create.append((node, problem))
            Problem.objects.bulk_create([p for _, p in to_create])
            self.result.problems_created += len(to_create)
            nxt: list[tuple[ParsedProblem, Problem | None]] = []
            for node, problem in [*placed, *to_create]:
                links.append(through(problem_id=problem.pk, sourcenotice_id=self.notice.pk))
                if node.kind != ProblemKind.CATEGORY and not node.children:
                    bucket = matched_leaves if problem.pk in matched_ids else new_leaves
                    bucket.append((problem, node))
                nxt.extend((child, problem) for child in node.children)
            level = nxt

        for problem, node in new_leaves:
            self._create_task(problem, node, owner, deadline)
        for problem, node in matched_leaves:
            try:
                task = problem.task
            except Task.DoesNotExist:
                task = None
            if task is None:
                self._create_task(problem, node, owner, deadline)
            else:
                self._update_task(task, problem, node)

    def _create_task(self, problem, node: ParsedProblem, owner, deadline) -> None:
        """Queue the task; ``write`` creates all of a notice's tasks in one actions call."""
        status = NOTICE_STATUS_TO_TASK.get(node.status or "", DEFAULT_TASK_STATUS)
        task_type = TaskType.LONG_TERM if node.status == "long_term" else None
        task_type = task_type or node.task_type or TaskType.DEADLINE
        self.new_tasks.append(
            actions.NewTask(
                problem=problem,
                owner_unit=owner,
                deadline=deadline,
                status=status,
                task_type=task_type,
                measures=tuple(node.measures),
            )
        )
        self.result.tasks_created += 1

    def _update_task(self, task: Task, problem: Problem, node: ParsedProblem) -> None:
        new = NOTICE_STATUS_TO_TASK.get(node.status or "")
        if new is None or new == task.status:
            return
        if task.status == TaskStatus.CLOSED:
            self.result.statuses_kept += 1  # closed out after review: only a reopen changes it
            return
        published = self.notice.published
        if (
            published is not None
            and problem.sources.exclude(pk=self.notice.pk).filter(published__gt=published).exists()
        ):
            self.result.statuses_kept += 1  # a newer notice already spoke about this problem
            return
        last = (
            TaskEvent.objects.filter(task=task, kind__in=_STATUS_EVENT_KINDS)
            .order_by("-id")
            .only("source")
            .first()
        )
        set_by_user = last is not None and last.source != EventSource.IMPORT
        if set_by_user and STATUS_RANK[new] < STATUS_RANK[task.status]:
            self.result.statuses_kept += 1  # never move back what a user moved forward
            return
        try:
            actions.change_status(task, new, self.actor, reason=self.reason)
        except actions.ActionError:
            self.result.statuses_kept += 1
            return
        self.result.statuses_changed += 1

    def fill_deadlines(self, insp: Inspection) -> None:
        """Tasks without a deadline only because the feedback date was unknown get it now."""
        deadline = insp.deadline
        if deadline is None:
            return
        # Open (tracker.rules) and without a date, never given one by hand: 长期坚持 included,
        # as a notice's tasks of every type get the inspection's deadline when created.
        tasks = Task.objects.filter(rules.open_q(), inspection=insp, deadline__isnull=True).exclude(
            events__kind=EventKind.DEADLINE
        )
        for task in tasks:
            actions.change_deadline(task, deadline, self.actor, reason=self.reason)
            self.result.deadlines_filled += 1

    def write(self) -> None:
        for section in self.parsed.inspections:
            org, new_org = self.organization(section)
            insp, created = self.inspection(org, section, new_org=new_org)
            if new_org:
                self.new_organizations.add(org.pk)
            self.inspections_of.setdefault(org.pk, set()).add(insp.pk)
            self.organization_of[insp.pk] = org.pk
            if created:
                self.result.inspections_created += 1
            else:
                self.result.inspections_matched += 1
            report = self.reports.get(insp.pk)
            if report is None:
                self.reports[insp.pk] = NoticeReport(
                    notice=self.notice,
                    inspection=insp,
                    organization_name=section.organization[:200],
                    declared=dict(section.declared),
                    published_problems=section.leaf_problems,
                )
            else:  # two sections of one notice about one inspection: one report
                report.declared = {**section.declared, **report.declared}
                report.published_problems += section.leaf_problems
            self.problems(insp, section, created)
            if not created:
                self.fill_deadlines(insp)
        # Written in bulk once per notice: reports, problem sources, and the new tasks (through
        # tracker.actions, so each still gets its own 'created' history event).
        NoticeReport.objects.bulk_create(self.reports.values())
        Problem.sources.through.objects.bulk_create(self.links, ignore_conflicts=True)
        if self.new_tasks:
            actions.create_tasks(self.new_tasks, self.actor)
            # 屡巡屡犯: the new problems against the organization's other inspections.
            # An organization this notice created has no other inspection to compare with,
            # unless the notice itself reports on two of its inspections.
            alone = {org for org, insps in self.inspections_of.items() if len(insps) == 1}
            alone &= self.new_organizations
            compared = [
                n.problem
                for n in self.new_tasks
                if self.organization_of[n.problem.inspection_id] not in alone
            ]
            if compared:
                actions.link_repeats(compared, self.actor)


def import_parsed(
    parsed: ParsedNotice,
    text: str,
    *,
    file_name: str,
    user: AbstractBaseUser | None = None,
) -> ImportResult:
    """Write one parsed notice in one transaction; the same text again is skipped."""
    from tracker.permissions import access_for

    # A person who starts an import must be allowed to (the changes themselves are made by the
    # named system actor of the notice); without a user it is a management command's run.
    if user is not None and user.is_authenticated and not access_for(user).may_import_notices:
        raise actions.NotAllowed(_("您没有权限导入通报。"))
    sha = content_sha256(text)
    file_name = os.path.basename(file_name)[:255]
    existing = SourceNotice.objects.filter(sha256=sha).values_list("pk", flat=True).first()
    if existing is not None:
        return ImportResult(file_name=file_name, outcome="skipped", notice_id=existing)
    for attempt in range(_ATTEMPTS):
        try:
            return _import_once(parsed, text, sha, file_name=file_name, user=user)
        except IntegrityError:
            # Someone imported the same notice at the same moment: theirs stands.
            existing = SourceNotice.objects.filter(sha256=sha).values_list("pk", flat=True).first()
            if existing is not None:
                return ImportResult(file_name=file_name, outcome="skipped", notice_id=existing)
            # Another notice created a row this one was about to create (an organization, its
            # own unit, an inspection) and committed first: run again, it now finds that row.
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# A notice that met a unique constraint because a concurrent import created the same row first
# is run again this many times in all (on PostgreSQL the advisory locks make it rare).
_ATTEMPTS = 3


def _import_once(
    parsed: ParsedNotice, text: str, sha: str, *, file_name: str, user: AbstractBaseUser | None
) -> ImportResult:
    result = ImportResult(file_name=file_name, outcome="updated", warnings=list(parsed.warnings))
    # One transaction per attempt.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # COMMIT returns without waiting for the WAL flush (an fsync per notice). Safe
            # here: it cannot corrupt or half-apply a notice; a crash of the database server
            # itself can only lose the notices committed in the last ~0.6 s (3 x
            # wal_writer_delay) - any later synchronous commit, e.g. a user's edit, flushes
            # them too. The import is idempotent by sha256, so a lost notice (no
            # SourceNotice row) is simply imported again. SET LOCAL ends with the transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        notice = SourceNotice.objects.create(
            file_name=file_name,
            sha256=sha,
            title=(parsed.title or "")[:300],
            issuer=(parsed.issuer or "")[:200],
            published=parsed.published,
            raw_text=text,
            warnings=list(parsed.warnings),
            imported_by=user if user is not None and user.is_authenticated else None,
        )
        result.notice_id = notice.pk
        _NoticeWriter(notice, parsed, result).write()
    if result.inspections_created or result.problems_created or result.tasks_created:
        result.outcome = "created"
    return result


def import_text(text: str, *, file_name: str, user: AbstractBaseUser | None = None) -> ImportResult:
    """Parse and import decoded notice text (raises NoticeParseError before writing anything)."""
    parsed = parse_notice(text, name=file_name)
    return import_parsed(parsed, text, file_name=file_name, user=user)


def import_bytes(
    data: bytes, *, file_name: str, user: AbstractBaseUser | None = None
) -> ImportResult:
    """Decode (UTF-8 or GB18030), parse and import the bytes of an uploaded notice."""
    return import_text(decode_notice(data, name=file_name), file_name=file_name, user=user)


def import_file(
    path: str | os.PathLike[str], *, name: str | None = None, user: AbstractBaseUser | None = None
) -> ImportResult:
    """Read, parse and import one notice file."""
    label = name or os.fspath(path)
    text = read_notice(path, name=label)
    return import_text(text, file_name=label, user=user)


__all__ = [
    "DEFAULT_TASK_STATUS",
    "ImportResult",
    "InspectionPlan",
    "content_sha256",
    "find_inspection",
    "find_organization",
    "import_bytes",
    "import_file",
    "import_parsed",
    "import_text",
    "plan_notice",
    "same_organization",
]
