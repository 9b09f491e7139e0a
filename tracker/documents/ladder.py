"""A 督办 ladder document (督办通知书, 提醒书, 告诫书, 问责书) as a document model, rendered to DOCX in
the official format by ``tracker.documents.docx``: number line (发文字号), title, addressee, body
listing the overdue tasks with their deadlines and days overdue, the reply deadline, issuer and
date. Like the notice and the report, an official document is written in Chinese whatever the
reader's language.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from tracker.choices import LadderRung
from tracker.documents.model import Document, ListItem, Paragraph, Signature
from tracker.documents.notice import cn_date, one_line
from tracker.models import SupervisionDocument

# What each rung says before the list of tasks, and what it asks after it.
OPENINGS = {
    LadderRung.NOTICE: "经核查,你单位承担的下列巡视巡察反馈问题整改任务已超过整改时限,尚未完成整改。"
    "现予督办,请你单位高度重视,逐项分析原因,压实整改责任,加快推进整改。",
    LadderRung.REMINDER: "我办已就下列逾期整改任务向你单位发出督办通知书,截至目前仍未完成整改。"
    "现予提醒,请你单位主要负责同志和分管负责同志亲自研究部署,确保尽快整改到位。",
    LadderRung.WARNING: "下列逾期整改任务经督办、提醒,你单位仍未完成整改。现予告诫:"
    "请务必于回复期限前完成整改并书面报告;逾期仍未完成的,将依规依纪提请问责。",
    LadderRung.ACCOUNTABILITY: "下列逾期整改任务经督办、提醒、告诫,你单位仍未完成整改,"
    "整改责任落实不力。根据有关规定,拟启动问责程序,请你单位作出书面说明。",
}
CLOSINGS = {
    LadderRung.NOTICE: "请于{due}前将整改进展情况和下一步整改措施书面回复我办。",
    LadderRung.REMINDER: "请于{due}前将整改进展情况、未按期完成的原因和整改完成时限书面回复我办。",
    LadderRung.WARNING: "请于{due}前将整改完成情况书面报告我办,此为最后期限。",
    LadderRung.ACCOUNTABILITY: "请于{due}前将未按期完成整改的情况说明和责任人员名单书面报告我办。",
}


def ladder_title(document: SupervisionDocument) -> str:
    label = LadderRung(document.rung).label
    return f"关于{document.unit.name}巡视巡察整改任务逾期的{label}"


def ladder_items(tasks, day) -> list[dict]:
    """What a document issued on ``day`` lists about each task (stored with the document)."""
    return [
        {
            "task": task.pk,
            "title": f"{task.problem.label}{task.problem.title}",
            "deadline": task.deadline.isoformat() if task.deadline else None,
            "days_overdue": task.days_overdue(day),
        }
        for task in sorted(tasks, key=lambda t: (t.deadline, t.pk))
    ]


def build_ladder_document(document: SupervisionDocument) -> Document:
    """The document as issued: its tasks' deadlines and days overdue on the day of issue."""
    issued = timezone.localtime(document.issued_at).date()
    doc = Document(
        title=ladder_title(document),
        addressee=f"{document.unit.name}:",
        number=document.reference,
    )
    doc.add(Paragraph(OPENINGS[document.rung]))
    for index, item in enumerate(document.items, start=1):
        deadline = item.get("deadline")
        shown = cn_date(datetime.date.fromisoformat(deadline)) if deadline else "无"
        doc.add(
            ListItem(
                label=f"{index}.",
                text=f"{one_line(item['title'])}(整改时限:{shown},已逾期{item['days_overdue']}天)",
                depth=1,
            )
        )
    doc.add(Paragraph(CLOSINGS[document.rung].format(due=cn_date(document.reply_due))))
    doc.add(Signature(issuer=document.issuer_name, date=cn_date(issued)))
    return doc
