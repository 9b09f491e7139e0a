"""The rectification report (整改报告) to the inspection group, built from the ORM.

Due two months after feedback (巡视工作条例). The same facts as the notice (opening, totals,
outcomes, the problem tree with statuses), and for each problem its measures (with their state),
lead leader, lead and responsible units, deadline and progress; then the items not yet completed,
each with its plan (the measures still open) and its deadline (the extended one where an
extension was approved, with the original on record). The report goes to the group, not the
public: nothing is withheld.
"""

from __future__ import annotations

import datetime

from django.conf import settings

from tracker.choices import DONE_STATUSES, TaskType
from tracker.documents.model import Document, Heading, ListItem, Paragraph, Signature
from tracker.documents.notice import (
    Facts,
    Node,
    close_sentence,
    cn_date,
    collect,
    item_label,
    measure_list,
    one_line,
    opening,
    outcomes_sentence,
    problem_items,
    status_word,
    totals_sentence,
    trim,
)
from tracker.models import Inspection, Task, local_today


def report_title(facts: Facts) -> str:
    insp = facts.inspection
    what = f"{insp.round_name}{facts.word}" if insp.round_name else facts.word
    return f"{facts.organization}关于{what}反馈意见整改情况的报告"


def _units(task: Task) -> tuple[str, str]:
    lead = task.lead_unit.name if task.lead_unit_id else task.owner_unit.name
    responsible = "、".join(u.name for u in task.responsible_units.all())
    return lead, responsible


def _measure_states(task: Task) -> str:
    texts = []
    for m in task.measures.all():
        text = trim(one_line(m.text))
        if not text:
            continue
        if m.not_applicable:
            state = "不适用" + (f":{one_line(m.na_reason)}" if m.na_reason.strip() else "")
        else:
            state = "已完成" if m.done else "推进中"
        texts.append(f"{text}({state})")
    return measure_list(texts)


def deadline_text(task: Task) -> str:
    """The deadline as the report states it: 长期坚持 with its next report, the new deadline
    after an approved extension with the original one, or the deadline; 时限待定 without one."""
    if task.task_type == TaskType.LONG_TERM:
        days = settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
        text = f"长期坚持,每{days}天报告一次进展"
        if task.report_due_on:
            text += f"(下次报告{cn_date(task.report_due_on)})"
        return text
    if task.deadline is None:
        return "时限待定"
    if task.original_deadline and task.original_deadline != task.deadline:
        return f"{cn_date(task.deadline)}前(原定{cn_date(task.original_deadline)},经批准延期)"
    return f"{cn_date(task.deadline)}前"


def build_report(inspection: Inspection, *, date: datetime.date | None = None) -> Document:
    """The rectification report of ``inspection`` as a document model."""
    facts = collect(inspection)
    word = facts.word
    doc = Document(title=report_title(facts), addressee=f"{facts.group}：")
    intro = opening(facts).replace(
        f"现将{word}整改进展情况予以公布。", f"现将{word}整改情况报告如下。"
    )
    doc.add(Paragraph(intro))
    doc.add(Heading("一、", "整改工作总体情况"))
    doc.add(Paragraph(totals_sentence(facts) + outcomes_sentence(facts)))
    doc.add(Heading("二、", "反馈问题整改落实情况"))

    def body(node: Node) -> None:
        task = node.task
        if task is None:
            return
        measures = _measure_states(task)
        if measures:
            doc.add(Paragraph(close_sentence(f"整改措施：{measures}")))
        lead, responsible = _units(task)
        duty = []
        if task.lead_leader_name:
            duty.append(f"牵头领导：{task.lead_leader_name}")
        duty.append(f"牵头单位：{lead}")
        if responsible:
            duty.append(f"责任单位：{responsible}")
        duty.append(f"整改时限：{deadline_text(task)}")
        doc.add(Paragraph(close_sentence(";".join(duty))))
        progress = one_line(task.progress) or (
            one_line(node.problem.detail) if not measures else ""
        )
        if progress:
            doc.add(Paragraph(close_sentence(f"整改进展：{progress}")))

    leaves = problem_items(facts, doc, body=body)

    open_leaves = [n for n in leaves if n.task is not None and n.task.status not in DONE_STATUSES]
    doc.add(Heading("三、", "尚未完成的整改事项及下一步安排"))
    if not open_leaves:
        doc.add(Paragraph("反馈问题已全部完成整改。"))
    for n, node in enumerate(open_leaves, 1):
        task = node.task
        title = trim(one_line(node.problem.title))
        doc.add(ListItem(item_label(1, n), title + "。", depth=1, status=status_word(task)))
        plan = [
            one_line(m.text)
            for m in task.measures.all()
            if not m.done and not m.not_applicable and one_line(m.text)
        ]
        if plan:
            doc.add(Paragraph(close_sentence(f"下一步措施：{measure_list(plan)}")))
        elif task.progress:
            doc.add(Paragraph(close_sentence(f"下一步措施：{one_line(task.progress)}")))
        lead, _responsible = _units(task)
        doc.add(Paragraph(close_sentence(f"完成时限：{deadline_text(task)};牵头单位：{lead}")))
    doc.add(
        Paragraph(
            f"对尚未完成的事项,将按照既定时限持续推进,逐项对账销号;对长期坚持的事项,"
            f"定期报告进展,确保{word}整改取得实效。"
        )
    )
    repeats = repeat_items(inspection)
    if repeats:
        doc.add(Heading("四、", "屡巡屡犯问题"))
        doc.add(
            Paragraph(
                f"经与此前巡视巡察反馈的问题比对,以下{len(repeats)}个问题与此前反馈的问题相似,"
                "属于屡巡屡犯问题,将作为整改重点,深挖根源、建章立制,防止再次发生。"
            )
        )
        for n, (link, title) in enumerate(repeats, 1):
            earlier = link.earlier_problem
            insp = earlier.inspection
            when = (
                f"{cn_date(insp.feedback_date, insp.feedback_precision)}反馈"
                if insp.feedback_date
                else "反馈"
            )
            doc.add(ListItem(item_label(1, n), title + "。", depth=1))
            doc.add(
                Paragraph(
                    close_sentence(
                        f"{insp.group or insp.round_name or insp}于{when}的问题："
                        f"{trim(one_line(earlier.title))}(相似度{link.score:.2f})"
                    )
                )
            )
    doc.add(Signature(facts.organization, cn_date(date or local_today())))
    return doc


def repeat_items(inspection: Inspection) -> list:
    """The inspection's likely repeats (屡巡屡犯), in the problems' order: (link, title)."""
    from tracker.models import RepeatLink

    links = (
        RepeatLink.objects.filter(problem__inspection=inspection)
        .select_related("problem", "earlier_problem__inspection")
        .order_by("problem__order", "problem_id", "-score", "earlier_problem_id")
    )
    return [(link, trim(one_line(link.problem.title))) for link in links]
