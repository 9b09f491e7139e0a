"""What a robot or webhook message says: the email digest's title and its tasks in markdown,
most urgent tier first, at most REMINDER_CHANNEL_MAX_ITEMS per tier (robots cap a message's
length); the weekly summary as the email's text. Same words (msgids) as the emails."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from tracker import emails
from tracker.models.reminders import TIER_ORDER, ReminderTier
from tracker.reminders.channels.http import Message


def _md(text: str) -> str:
    """Plain text that markdown would read as markup: brackets of a link, emphasis."""
    for char in "[]*_`":
        text = text.replace(char, " ")
    return text


def daily(
    day: datetime.date, items: list[dict], url_template: str, *, audience: dict, heading: str = ""
) -> Message:
    with translation.override(settings.LANGUAGE_CODE):
        return _daily(day, items, url_template, audience=audience, heading=heading)


def _daily(
    day: datetime.date, items: list[dict], url_template: str, *, audience: dict, heading: str
) -> Message:
    cap = settings.RECTIFY["REMINDER_CHANNEL_MAX_ITEMS"]
    by_tier: dict[str, list[dict]] = {}
    for item in items:
        by_tier.setdefault(item["tier"], []).append(item)
    counts = {tier: len(rows) for tier, rows in by_tier.items()}
    subject = render_to_string(
        "emails/reminder_digest_subject.txt",
        {
            "overdue": counts.get(ReminderTier.RED, 0) + counts.get(ReminderTier.ESCALATED, 0),
            "due_soon": counts.get(ReminderTier.YELLOW, 0) + counts.get(ReminderTier.GREEN, 0),
            "report_due": counts.get(ReminderTier.REPORT_DUE, 0),
            "no_contact": sum(1 for item in items if item["no_contact"]),
        },
    )
    title = " ".join(subject.split())
    if heading:
        title = f"{heading} {title}"
    words = emails._Words()  # the digest email's own row words
    lines: list[str] = []
    for tier in TIER_ORDER:
        rows = by_tier.get(tier, [])
        if not rows:
            continue
        count = _("%(n)s项") % {"n": len(rows)}
        lines.append(f"**{ReminderTier(tier).label}({count})**")
        for item in rows[:cap]:
            lines.append(f"- {_row(item, day, url_template, words)}")
        if len(rows) > cap:
            lines.append(_("……另有%(n)s项,请登录系统查看。") % {"n": len(rows) - cap})
        lines.append("")
    lines.append(f"[{settings.SITE_URL}/]({settings.SITE_URL}/)")
    structured = [
        {
            "task_id": item["task_id"],
            "tier": item["tier"],
            "title": item["title"],
            "unit": item["unit"],
            "deadline": item["deadline"].isoformat() if item["deadline"] else None,
            "report_due_on": item["report_due_on"].isoformat() if item["report_due_on"] else None,
            "url": url_template.format(id=item["task_id"]),
        }
        for item in items
    ]
    return Message(
        title=title,
        text="\n".join(lines),
        kind="daily",
        day=day.isoformat(),
        audience=audience,
        items=structured,
    )


def _row(item: dict, day: datetime.date, url_template: str, words) -> str:
    url = url_template.format(id=item["task_id"])
    line = f"[{_md(item['title'])}]({url}) {words.unit}:{_md(item['unit'])}"
    status = emails.deadline_status(item, day, words)
    if status is not None:
        line += f";{words.deadline}:{item['deadline'].isoformat()};{status}"
    elif item["report_due_on"]:
        line += ";" + words.report_due % {"d": item["report_due_on"].isoformat()}
    return line


def weekly(digest, url_template: str, *, audience: dict) -> Message:
    """The weekly summary: the email's subject and text, one paragraph per line."""
    email = emails.weekly_summary(digest, url_template)
    paragraphs = [line.rstrip() for line in email.body.splitlines() if line.strip()]
    return Message(
        title=email.subject,
        text="\n\n".join(paragraphs),
        kind="weekly",
        day=digest.day.isoformat(),
        audience=audience,
        items=[],
    )
