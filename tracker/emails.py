"""Emails, each built from three templates: ``<name>_subject.txt``, ``<name>.txt``, ``<name>.html``
under ``templates/emails/``. Rendered in the site language (Simplified Chinese by default),
whatever language the worker process happens to have active.
"""

from __future__ import annotations

import datetime
from html import escape
from types import SimpleNamespace

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tracker import rules
from tracker.choices import LadderRung, TaskStatus, TaskType
from tracker.models.reminders import TIER_ORDER, ReminderDigest, ReminderTier


def render(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) of ``emails/<name>``; the subject is one line."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        text = render_to_string(f"emails/{name}.txt", context)
        html = render_to_string(f"emails/{name}.html", context)
    return " ".join(subject.split()), text, html


def message(name: str, to: str, context: dict) -> EmailMultiAlternatives:
    subject, text, html = render(name, context)
    email = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    email.attach_alternative(html, "text/html")
    return email


class _Words:
    """The per-row words, translated once per digest rather than once per row (same msgids as
    the templates used to have)."""

    def __init__(self) -> None:
        self.unit = _("责任主体")
        self.deadline = _("整改时限")
        self.report = _("报告日期")
        self.no_contact = _("无联系人")
        self.overdue = _("已逾期%(n)s天")
        self.left = _("剩余%(n)s天")
        self.left_working = _("剩余%(n)s个工作日")
        self.report_due = _("%(d)s 起应报告进展")


def deadline_status(item: dict, day: datetime.date, words: _Words) -> str | None:
    """What a reminder row says of its deadline on ``day`` (已逾期N天, 剩余N天, 剩余N个工作日),
    judged by ``tracker.rules`` for the open task it was reminded as; None when it has no
    deadline that counts: none at all, or 长期坚持, which is never overdue (its periodic report
    is what falls due)."""
    task = SimpleNamespace(
        status=TaskStatus.IN_PROGRESS,
        deadline=item["deadline"],
        task_type=item.get("task_type") or TaskType.DEADLINE,
    )
    if task.deadline is None or task.task_type == TaskType.LONG_TERM:
        return None
    if rules.is_overdue(task, day):
        return words.overdue % {"n": rules.days_overdue(task, day)}
    if item.get("working_days_left") is not None:  # with REMINDER_WORKING_DAYS
        return words.left_working % {"n": item["working_days_left"]}
    return words.left % {"n": (task.deadline - day).days}


def _rows(rows: list[dict], day: datetime.date, url_template: str, words: _Words):
    """(text, html) of one section's rows, built in Python: a template tag per cell and a
    ``blocktrans`` per row made rendering most of a full-size sweep's time."""
    text: list[str] = []
    html: list[str] = []
    no_contact_html = f" <em>({escape(words.no_contact)})</em>"
    for item in rows:
        url = url_template.format(id=item["task_id"])
        report_on = item["report_due_on"]
        line = f"- {item['title']}\n  {words.unit}:{item['unit']}"
        status = deadline_status(item, day, words)
        if status is not None:
            shown = item["deadline"].isoformat()
            line += f";{words.deadline}:{shown};{status}"
        else:
            shown = "—"
            status = words.report_due % {"d": report_on.isoformat()} if report_on else ""
        if report_on:
            line += f";{words.report}:{report_on.isoformat()}"
        if item["no_contact"]:
            line += f";{words.no_contact}"
        text.append(f"{line}\n  {url}\n")
        html.append(
            f'<tr><td><a href="{escape(url)}">{escape(item["title"])}</a>'
            f"{no_contact_html if item['no_contact'] else ''}</td>"
            f"<td>{escape(item['unit'])}</td><td>{shown}</td><td>{escape(status)}</td></tr>\n"
        )
    return "".join(text), "".join(html)


def reminder_digest(
    digest: ReminderDigest,
    items: list[dict],
    url_template: str,
    counts: dict[str, int] | None = None,
    no_contact: int | None = None,
) -> EmailMultiAlternatives:
    """The daily digest: every task of the recipient today, grouped by tier, most urgent first.

    Each section lists at most REMINDER_DIGEST_MAX_ITEMS tasks (its count stays exact) so that a
    principal with hundreds of overdue items still gets a readable email with a link to the rest.
    ``items`` may carry only the listed rows when ``counts`` ({tier: n}) gives the full counts.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _reminder_digest(digest, items, url_template, counts, no_contact)


def _reminder_digest(
    digest: ReminderDigest,
    items: list[dict],
    url_template: str,
    counts: dict[str, int] | None = None,
    no_contact: int | None = None,
) -> EmailMultiAlternatives:
    cap = settings.RECTIFY["REMINDER_DIGEST_MAX_ITEMS"]
    by_tier: dict[str, list[dict]] = {}
    for item in items:
        by_tier.setdefault(item["tier"], []).append(item)
    if counts is None:
        counts = {tier: len(rows) for tier, rows in by_tier.items()}
    if no_contact is None:
        no_contact = sum(1 for item in items if item["no_contact"])
    words = _Words()
    sections = []
    for tier in TIER_ORDER:
        count = counts.get(tier, 0)
        if not count:
            continue
        shown = by_tier.get(tier, [])[:cap]
        text, html = _rows(shown, digest.day, url_template, words)
        sections.append(
            {
                "tier": str(tier),
                "label": ReminderTier(tier).label,
                "count": count,
                "text_rows": text,
                "html_rows": mark_safe(html),  # noqa: S308 — every value escaped in _rows
                "more": count - len(shown),
            }
        )
    overdue = counts.get(ReminderTier.RED, 0) + counts.get(ReminderTier.ESCALATED, 0)
    context = {
        "day": digest.day,
        "recipient": digest.recipient,
        "sections": sections,
        "total": sum(counts.values()),
        "overdue": overdue,
        "escalated": counts.get(ReminderTier.ESCALATED, 0),
        "due_soon": counts.get(ReminderTier.YELLOW, 0) + counts.get(ReminderTier.GREEN, 0),
        "report_due": counts.get(ReminderTier.REPORT_DUE, 0),
        "unacknowledged": counts.get(ReminderTier.UNACKNOWLEDGED, 0),
        "no_contact": no_contact,
        "site_url": settings.SITE_URL,
    }
    return message("reminder_digest", digest.recipient, context)


def weekly_summary(digest: ReminderDigest, url_template: str) -> EmailMultiAlternatives:
    """The weekly summary for a supervisor: counts, red units, the longest overdue tasks."""
    payload = digest.payload
    context = {
        "day": digest.day,
        "counts": payload.get("counts", {}),
        "red_units": payload.get("red_units", []),
        "ladder": [
            {**row, "rung_label": LadderRung(row["rung"]).label}
            for row in payload.get("ladder", [])
            if row.get("rung") in LadderRung.values
        ],
        "ladder_url": f"{settings.SITE_URL}/ladder/",
        "longest": [
            {**row, "url": url_template.format(id=row["id"])} for row in payload.get("longest", [])
        ],
        "site_url": settings.SITE_URL,
    }
    return message("weekly_summary", digest.recipient, context)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def ladder_document(document, to: str, filename: str, docx: bytes) -> EmailMultiAlternatives:
    """A 督办 document to one recipient, its DOCX attached, with a link to its page (where the
    unit replies)."""
    from django.urls import reverse

    context = {
        "document": document,
        "rung": LadderRung(document.rung).label,
        "reference": document.reference,
        "unit": document.unit.name,
        "items": document.items,
        "reply_due": document.reply_due,
        "issuer": document.issuer_name,
        "url": settings.SITE_URL + reverse("tracker:ladder_document", args=[document.pk]),
    }
    email = message("ladder_document", to, context)
    email.attach(filename, docx, DOCX_TYPE)
    return email
