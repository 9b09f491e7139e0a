"""The dashboard's long tables (units three times, inspections, the trend, the units nobody
can email) written in Python.

A whole install's dashboard draws ~200 rows of 3–8 linked cells; through the template language
each cell's lookups and filters cost more than the figures behind them, and even
``format_html`` (a lazy-aware escape per argument) is most of what is left. These filters write
the same markup the template did (``tests/test_dashboard.py`` reads it): every text and URL
through ``html.escape`` (the same five characters as Django's ``escape``), numbers grouped as
``intcomma`` groups them in the active language (by threes: zh-hans and en alike).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


def _rate(value) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _dash(value) -> str:
    return "—" if value is None else str(value)


def _grouped():
    """``intcomma`` for ints in the active language: its thousands separator, by threes."""
    separator = get_format("THOUSAND_SEPARATOR")
    if separator == ",":
        return "{:,}".format
    return lambda n: f"{n:,}".replace(",", separator)


def _text(value) -> str:
    return escape(str(value))


def _safe(rows: list[str], joiner: str) -> SafeString:
    return mark_safe(joiner.join(rows))  # noqa: S308 - every value above went through escape


@register.filter
def unit_lamp_rows(units: list[dict]) -> SafeString:
    """The 红黄绿灯 table's rows: light, unit, tasks, open, overdue, longest overdue, due soon,
    highest 督办 rung."""
    n = _grouped()
    rows = []
    for u in units:
        links = u["links"]
        lamp = _text(u["lamp"])
        overdue = _text(links["overdue"])
        rows.append(
            f'<tr class="lamp-{lamp}"><td><span class="lamp lamp-{lamp}">'
            f'{_text(u["lamp_label"])}</span></td><th scope="row">'
            f'<a href="{_text(links["dashboard"])}">{_text(u["name"])}</a></th>'
            f'<td><a href="{_text(links["total"])}">{n(u["total"])}</a></td>'
            f'<td><a href="{_text(links["open"])}">{n(u["open"])}</a></td>'
            f'<td><a href="{overdue}">{n(u["overdue"])}</a></td>'
            f'<td><a href="{overdue}">{_text(u["longest_overdue"])}</a></td>'
            f'<td><a href="{_text(links["due_soon"])}">{n(u["due_soon"])}</a>'
            f'</td><td data-figure="ladder">{_text(u.get("ladder") or "—")}</td></tr>'
        )
    return _safe(rows, "\n    ")


@register.filter
def unit_overdue_rows(units: list[dict]) -> SafeString:
    """逾期排名 by overdue tasks: unit, overdue."""
    n = _grouped()
    return _safe(
        [
            f'<tr><th scope="row">{_text(u["name"])}</th><td><a href="'
            f'{_text(u["links"]["overdue"])}">{n(u["overdue"])}</a></td></tr>'
            for u in units
        ],
        "",
    )


@register.filter
def unit_days_rows(units: list[dict]) -> SafeString:
    """逾期排名 by days overdue: unit, days overdue in all, longest."""
    n = _grouped()
    rows = []
    for u in units:
        overdue = _text(u["links"]["overdue"])
        rows.append(
            f'<tr><th scope="row">{_text(u["name"])}</th><td><a href="{overdue}">'
            f'{n(u["days_overdue"])}</a></td><td><a href="{overdue}">'
            f"{_text(u['longest_overdue'])}</a></td></tr>"
        )
    return _safe(rows, "")


@register.filter
def inspection_rows(inspections: list[dict]) -> SafeString:
    """各次巡视巡察: light, inspection (with its documents for supervisors), declared, tracked,
    gap, done, rate, overdue."""
    labels = [_text(gettext(label)) for label in ("通报", "文本", "整改报告", "问题与分工")]
    n = _grouped()
    rows = []
    for i in inspections:
        links = i["links"]
        docs = ""
        if links.get("notice_docx"):
            docs = (
                f'<span class="doc-links"> · <a href="{_text(links["notice_docx"])}">'
                f'{labels[0]}</a> (<a href="{_text(links["notice_txt"])}">{labels[1]}</a>) · '
                f'<a href="{_text(links["report_docx"])}">{labels[2]}</a> · '
                f'<a href="{_text(links["problems"])}">{labels[3]}</a></span>'
            )
        lamp = _text(i["lamp"])
        rows.append(
            f'<tr class="lamp-{lamp}"><td><span class="lamp lamp-{lamp}">'
            f'{_text(i["lamp_label"])}</span></td><th scope="row"><a href="'
            f'{_text(links["dashboard"])}">{_text(i["name"])}</a>{docs}</th>'
            f'<td>{_text(_dash(i["declared"]))}</td><td><a href="{_text(links["total"])}">'
            f"{n(i['total'])}</a></td><td>{_text(_dash(i['declared_gap']))}</td>"
            f'<td><a href="{_text(links["done"])}">{n(i["done"])}</a></td>'
            f'<td>{_rate(i["completion_rate"])}</td><td><a href="{_text(links["overdue"])}">'
            f"{n(i['overdue'])}</a></td></tr>"
        )
    return _safe(rows, "\n    ")


@register.filter
def history_rows(history: list[dict]) -> SafeString:
    """完成率变化: week end, tasks, done, rate."""
    n = _grouped()
    return _safe(
        [
            f'<tr><th scope="row">{row["week_end"].isoformat()}</th><td>{n(row["total"])}</td>'
            f"<td>{n(row['done'])}</td><td>{_rate(row['completion_rate'])}</td></tr>"
            for row in history
        ],
        "",
    )


@register.filter
def nocontact_rows(units: list[dict]) -> SafeString:
    """无联系人的单位: unit, organization, open tasks."""
    n = _grouped()
    return _safe(
        [
            f'<tr><th scope="row">{_text(u["name"])}</th><td>{_text(u["organization"])}</td>'
            f'<td><a href="{_text(u["links"]["open"])}" data-figure="no_contact_open">'
            f"{n(u['open_tasks'])}</a></td></tr>"
            for u in units
        ],
        "\n    ",
    )
