"""The progress notice (整改进展情况的通报) of one inspection, built from the ORM.

What it says, in the order the published notices say it (the seeds in ``seeds/``):

- an opening paragraph: who inspected whom, when, and when the findings were fed back;
- the totals computed from the tracked tasks ("反馈的N个问题,目前已完成X个、基本完成Y个、
  未完成Z个", 已销号 counting as 已完成, 未完成 being neither 已完成 nor 基本完成) and the
  completion rate; the outcomes the office records (``InspectionOutcome``);
- the problem tree: each category (方面) and problem, with the status printed in brackets after
  a problem ("1.问题标题。(已完成)") and what was done (measures, progress);
- problems withheld from publication (涉密, privacy, ongoing cases) are counted, never printed;
- a contact line ("联系电话:…") and the signature.

The text rendering of this document is read back by ``tracker.importer.parser.parse_notice``
to the same problem tree, statuses and totals (``tests/test_documents.py``).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from tracker.choices import (
    DONE_STATUSES,
    KIND_WORDS,
    LEVEL_WORDS,
    DatePrecision,
    ProblemKind,
    TaskStatus,
    TaskType,
)
from tracker.documents.model import Document, Heading, ListItem, Paragraph, Signature
from tracker.models import Inspection, InspectionOutcome, Problem, Task, local_today

CN_DIGITS = "零一二三四五六七八九"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# Status words as the notices print them (the parser folds them back: shared/seeds/README.md).
STATUS_COMPLETED = "已完成"
STATUS_BASIC = "基本完成"
STATUS_NOT_COMPLETED = "未完成"
STATUS_LONG_TERM = "长期坚持"

# How each outcome kind is stated: (words before the number, unit after it). The phrasing is
# the one the importer reads (``tracker.importer.parser._DECLARED``).
OUTCOME_PHRASES: dict[str, tuple[str, str]] = {
    "cases_filed": ("立案", "件"),
    "party_discipline": ("给予党纪处分", "人"),
    "government_discipline": ("政务处分", "人"),
    "organizational_handling": ("组织处理", "人"),
    "admonishment": ("诫勉", "人"),
    "education_reminder": ("教育提醒", "人"),
    "accountability": ("问责", "人"),
    "institutions": ("建立完善制度", "项"),
    "funds_returned_wan_yuan": ("清退收缴资金", "万元"),
    "losses_recovered_wan_yuan": ("挽回经济损失", "万元"),
}
# Outcomes about people are one clause ("给予党纪处分2人、政务处分1人…"); the others one each.
_PEOPLE = (
    "party_discipline",
    "government_discipline",
    "organizational_handling",
    "admonishment",
    "education_reminder",
    "accountability",
)


# --------------------------------------------------------------------------------------------
# Small formatting helpers (no ORM)
# --------------------------------------------------------------------------------------------


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一, 99 → 九十九 (labels go no further)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    if n >= 100:
        return str(n)
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")


def item_label(depth: int, n: int) -> str:
    """The label of the n-th item (from 1) at a depth of the tree: （一） > 1. > （1） > ①."""
    if depth <= 0:
        return f"（{cn_number(n)}）"
    if depth == 1:
        return f"{n}."
    if depth == 2:
        return f"（{n}）"
    return CIRCLED[n - 1] if n <= len(CIRCLED) else f"{n})"


def cn_date(day: datetime.date | None, precision: str = DatePrecision.DAY) -> str:
    if day is None:
        return ""
    if precision == DatePrecision.MONTH:
        return f"{day.year}年{day.month}月"
    return f"{day.year}年{day.month}月{day.day}日"


def format_decimal(value: Decimal | int | float) -> str:
    """12.6000 → 12.6, 2.0000 → 2."""
    text = format(Decimal(value).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def one_line(text: str) -> str:
    """Text as one paragraph: line breaks and runs of spaces folded away."""
    return "".join(part.strip() for part in (text or "").splitlines()).strip()


_TRAILING_RE = re.compile(r"[\s\u3002\uff1b;\uff0c,\u3001\uff1a:]+$")  # 。；;，,、：:


def trim(text: str) -> str:
    """Text without the punctuation and spaces it ends with."""
    return _TRAILING_RE.sub("", text.strip())


def close_sentence(text: str) -> str:
    """Text ending in one full stop (or the 。!?” it already ends with)."""
    text = trim(text)
    return (
        text
        if text.endswith(("\u3002", "!", "?", "\uff01", "\uff1f", "\u201d"))
        else text + "\u3002"
    )


def status_word(task: Task) -> str:
    """The word printed after a problem: 已销号 counts as 已完成; an open 长期坚持 item is 长期坚持;
    anything else neither completed nor basically completed is 未完成."""
    if task.status in DONE_STATUSES:
        return STATUS_COMPLETED
    if task.status == TaskStatus.BASICALLY_COMPLETED:
        return STATUS_BASIC
    if task.task_type == TaskType.LONG_TERM:
        return STATUS_LONG_TERM
    return STATUS_NOT_COMPLETED


# --------------------------------------------------------------------------------------------
# Facts read from the ORM
# --------------------------------------------------------------------------------------------


@dataclass
class Totals:
    problems: int = 0
    completed: int = 0
    basically_completed: int = 0
    withheld: int = 0

    @property
    def not_completed(self) -> int:
        return self.problems - self.completed - self.basically_completed

    @property
    def rate(self) -> str | None:
        if not self.problems:
            return None
        return f"{Decimal(100 * self.completed) / Decimal(self.problems):.2f}"


@dataclass
class Node:
    """A problem-tree node as the builders walk it (categories, problems; leaves carry the task)."""

    problem: Problem
    task: Task | None
    children: list[Node] = field(default_factory=list)

    @property
    def is_category(self) -> bool:
        return self.problem.kind == ProblemKind.CATEGORY

    def leaves(self) -> Iterable[Node]:
        if not self.children:
            if not self.is_category:
                yield self
            return
        for child in self.children:
            yield from child.leaves()


@dataclass
class Facts:
    """Everything a notice or report of one inspection states, read once from the ORM."""

    inspection: Inspection
    word: str  # 巡视 or 巡察
    roots: list[Node]
    tasks: list[Task]
    totals: Totals
    outcomes: dict[str, Decimal]
    withheld: frozenset[int]

    @property
    def organization(self) -> str:
        return self.inspection.organization.name

    @property
    def group(self) -> str:
        insp = self.inspection
        if insp.group:
            return insp.group
        level = _level_word(insp)
        return f"{level}{self.word}组" if level else f"{self.word}组"


def _level_word(insp: Inspection) -> str:
    for word, code in LEVEL_WORDS.items():
        if insp.level == code:
            return word
    for word in LEVEL_WORDS:
        if insp.group.startswith(word) or insp.round_name.find(word) >= 0:
            return word
    return ""


def _kind_word(insp: Inspection) -> str:
    for word, code in KIND_WORDS.items():
        if insp.kind == code:
            return word
    return ""


def inspection_word(insp: Inspection) -> str:
    """巡视 (central and provincial committees) or 巡察 (city and county ones)."""
    for text in (insp.group, insp.round_name):
        if "巡察" in text:
            return "巡察"
        if "巡视" in text:
            return "巡视"
    return "巡视" if _level_word(insp) in ("中央", "省委") else "巡察"


def collect(inspection: Inspection, withheld: Iterable[int] = ()) -> Facts:
    """Read an inspection's problem tree, tasks and outcomes (a handful of queries).

    Withheld: the problems marked so (``Problem.withheld``) and those ``withheld`` names."""
    problems = list(
        Problem.objects.filter(inspection=inspection).order_by("order", "pk").select_related()
    )
    withheld_ids = frozenset(int(pk) for pk in withheld) | {p.pk for p in problems if p.withheld}
    tasks = {
        t.problem_id: t
        for t in Task.objects.filter(inspection=inspection)
        .select_related("lead_unit", "owner_unit")
        .prefetch_related("measures", "responsible_units")
    }
    nodes = {p.pk: Node(p, tasks.get(p.pk)) for p in problems}
    roots: list[Node] = []
    for p in problems:
        parent = nodes.get(p.parent_id) if p.parent_id else None
        (parent.children if parent else roots).append(nodes[p.pk])
    totals = Totals()
    for task in tasks.values():
        totals.problems += 1
        if task.status in DONE_STATUSES:
            totals.completed += 1
        elif task.status == TaskStatus.BASICALLY_COMPLETED:
            totals.basically_completed += 1
    hidden = _hidden_ids(roots, withheld_ids)
    totals.withheld = sum(1 for pid in hidden if pid in tasks)
    outcomes: dict[str, Decimal] = defaultdict(Decimal)
    for row in InspectionOutcome.objects.filter(inspection=inspection).order_by():
        outcomes[row.kind] += row.value
    ordered = {k: outcomes[k] for k in OUTCOME_PHRASES if k in outcomes}
    return Facts(
        inspection=inspection,
        word=inspection_word(inspection),
        roots=roots,
        tasks=list(tasks.values()),
        totals=totals,
        outcomes=ordered,
        withheld=frozenset(hidden),
    )


def _hidden_ids(roots: list[Node], withheld: frozenset[int]) -> set[int]:
    """Problem ids not printed: the withheld ones with their subtrees, and any parent whose
    leaves are all withheld (a category with nothing left to show)."""
    hidden: set[int] = set()

    def walk(node: Node, inherited: bool) -> bool:
        """True when the node is hidden."""
        gone = inherited or node.problem.pk in withheld
        if node.children:
            results = [walk(child, gone) for child in node.children]
            gone = gone or all(results)
        if gone:
            hidden.add(node.problem.pk)
        return gone

    for root in roots:
        walk(root, False)
    return hidden


def contact_line(contact: str | None) -> str:
    """The contact line, from the parameter or the ``NOTICE_CONTACT`` setting; empty if none."""
    if contact is None:
        contact = getattr(settings, "RECTIFY", {}).get("NOTICE_CONTACT", "") or getattr(
            settings, "NOTICE_CONTACT", ""
        )
    contact = (contact or "").strip()
    if not contact:
        return ""
    if contact.startswith(("联系电话", "联系方式", "电话")):
        return close_sentence(contact)
    return close_sentence(f"联系电话：{contact}")


# --------------------------------------------------------------------------------------------
# Sentences shared by the notice and the report
# --------------------------------------------------------------------------------------------


def opening(facts: Facts) -> str:
    """Who inspected whom, when, and the feedback date, as the notices put it."""
    insp = facts.inspection
    word = facts.word
    level = _level_word(insp)
    org = facts.organization
    kind = _kind_word(insp)
    parts = [f"根据{level or '上级'}统一部署,"]
    start = cn_date(insp.start_date, insp.start_precision)
    end = cn_date(insp.end_date, insp.end_precision)
    if start and end:
        if insp.end_date and insp.start_date and insp.end_date.year == insp.start_date.year:
            end = end[len(f"{insp.end_date.year}年") :]
        parts.append(f"{start}至{end},")
    parts.append(f"{facts.group}对{org}开展了{kind}{word}。")
    if insp.feedback_date:
        feedback = cn_date(insp.feedback_date, insp.feedback_precision)
        parts.append(f"{feedback},{facts.group}向{org}反馈了{word}意见。")
    parts.append(f"按照{word}工作有关要求,现将{word}整改进展情况予以公布。")
    return "".join(parts)


def totals_sentence(facts: Facts) -> str:
    t = facts.totals
    text = (
        f"{facts.group}反馈的{t.problems}个问题,目前已完成{t.completed}个、"
        f"基本完成{t.basically_completed}个、未完成{t.not_completed}个"
    )
    if t.rate is not None:
        text += f",整改完成率为{t.rate}%"
    return text + "。"


def withheld_sentence(facts: Facts) -> str:
    n = facts.totals.withheld
    if not n:
        return ""
    return f"另有{n}项问题因涉及国家秘密、个人隐私或正在办理的案件,其整改情况不予公开。"


def outcomes_sentence(facts: Facts) -> str:
    if not facts.outcomes:
        return ""
    clauses: list[str] = []
    people: list[str] = []
    for key, value in facts.outcomes.items():
        words, unit = OUTCOME_PHRASES[key]
        phrase = f"{words}{format_decimal(value)}{unit}"
        if key in _PEOPLE:
            if people and key == "party_discipline":
                phrase = phrase.removeprefix("给予")
            people.append(phrase)
            continue
        if people:
            clauses.append("、".join(people))
            people = []
        clauses.append(phrase)
    if people:
        clauses.append("、".join(people))
    return f"在{facts.word}整改中," + ";".join(clauses) + "。"


def done_text(node: Node) -> tuple[str, str]:
    """(measures, progress) of a leaf as one line each: the task's measures in order and its
    progress text (the problem's own detail from a notice when nothing was recorded since)."""
    task = node.task
    measures = ""
    if task is not None:
        texts = [one_line(m.text) for m in task.measures.all() if one_line(m.text)]
        measures = measure_list(texts)
    progress = one_line(task.progress) if task is not None and task.progress else ""
    if not progress and not measures:
        # Nothing recorded in the app: the problem's own text from the notice it came from
        # (when the notice listed measures, they are the measures above).
        progress = one_line(node.problem.detail)
    return measures, progress


_ORDINAL_RE = re.compile(r"^[一二三四五六七八九十]{1,3}是")


def measure_list(texts: list[str]) -> str:
    """Measures as the notices list them: "一是…;二是…" (an ordinal added where missing)."""
    out = []
    for n, text in enumerate(texts, 1):
        text = trim(text)
        out.append(text if _ORDINAL_RE.match(text) else f"{cn_number(n)}是{text}")
    return ";".join(out)


def problem_items(facts: Facts, doc: Document, *, body, numbered_from_depth: int = 0) -> list[Node]:
    """Append the printed problem tree to ``doc``; ``body(node)`` adds what follows a leaf.

    Returns the leaves printed, in order."""
    printed: list[Node] = []

    def walk(nodes: list[Node], depth: int) -> None:
        n = 0
        for node in nodes:
            if node.problem.pk in facts.withheld:
                continue
            n += 1
            label = item_label(depth + numbered_from_depth, n)
            title = trim(one_line(node.problem.title))
            if node.is_category:
                doc.add(ListItem(label, title, depth=depth, category=True))
            elif node.children:
                doc.add(ListItem(label, title + "。", depth=depth))
            else:
                status = status_word(node.task) if node.task is not None else None
                doc.add(ListItem(label, title + "。", depth=depth, status=status))
                printed.append(node)
                body(node)
            walk(node.children, depth + 1)

    walk(facts.roots, 0)
    return printed


# --------------------------------------------------------------------------------------------
# The notice
# --------------------------------------------------------------------------------------------


def notice_title(facts: Facts) -> str:
    insp = facts.inspection
    what = f"{insp.round_name}{facts.word}" if insp.round_name else facts.word
    return f"{facts.organization}关于{what}整改进展情况的通报"


def build_notice(
    inspection: Inspection,
    *,
    withheld: Iterable[int] = (),
    contact: str | None = None,
    date: datetime.date | None = None,
) -> Document:
    """The progress notice of ``inspection`` as a document model.

    ``withheld``: ids of problems not to publish (涉密, privacy, ongoing cases): counted in the
    totals, not printed (a category whose problems are all withheld is not printed either).
    ``contact``: the contact line's text (default: the ``NOTICE_CONTACT`` setting).
    ``date``: the date under the signature (default: today).
    """
    facts = collect(inspection, withheld)
    word = facts.word
    doc = Document(title=notice_title(facts))
    doc.add(Paragraph(opening(facts)))
    doc.add(Heading("一、", f"{word}整改工作总体情况"))
    summary = totals_sentence(facts) + withheld_sentence(facts) + outcomes_sentence(facts)
    doc.add(Paragraph(summary))
    doc.add(Heading("二、", f"{word}反馈问题整改落实情况"))

    def body(node: Node) -> None:
        measures, progress = done_text(node)
        if measures:
            doc.add(Paragraph(close_sentence(f"整改措施：{measures}")))
        if progress:
            doc.add(Paragraph(close_sentence(f"整改进展：{progress}")))

    problem_items(facts, doc, body=body)
    closing = f"欢迎广大干部群众对{word}整改落实情况进行监督。"
    line = contact_line(contact)
    doc.add(Paragraph(closing + line))
    doc.add(Signature(facts.organization, cn_date(date or local_today())))
    return doc
