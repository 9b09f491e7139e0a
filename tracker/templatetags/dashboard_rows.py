"""The dashboard's long tables (units three times, inspections) written in Python.

A whole install's dashboard draws ~110 rows of 3–8 linked cells; through the template language
each cell's lookups and filters cost more than the figures behind them. These filters write the
same markup the template did (``tests/test_dashboard.py`` reads it), escaping every value.
"""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


def _rate(value) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _dash(value) -> str:
    return "—" if value is None else str(value)


@register.filter
def unit_lamp_rows(units: list[dict]) -> SafeString:
    """The 红黄绿灯 table's rows: light, unit, tasks, open, overdue, longest overdue, due soon,
    highest 督办 rung."""
    return format_html_join(
        "\n    ",
        '<tr class="lamp-{0}"><td><span class="lamp lamp-{0}">{1}</span></td><th scope="row">'
        '<a href="{2}">{3}</a></th><td><a href="{4}">{5}</a></td><td><a href="{6}">{7}</a></td>'
        '<td><a href="{8}">{9}</a></td><td><a href="{8}">{10}</a></td><td><a href="{11}">{12}</a>'
        '</td><td data-figure="ladder">{13}</td></tr>',
        (
            (
                u["lamp"],
                u["lamp_label"],
                u["links"]["dashboard"],
                u["name"],
                u["links"]["total"],
                intcomma(u["total"]),
                u["links"]["open"],
                intcomma(u["open"]),
                u["links"]["overdue"],
                intcomma(u["overdue"]),
                u["longest_overdue"],
                u["links"]["due_soon"],
                intcomma(u["due_soon"]),
                u.get("ladder") or "—",
            )
            for u in units
        ),
    )


@register.filter
def unit_overdue_rows(units: list[dict]) -> SafeString:
    """逾期排名 by overdue tasks: unit, overdue."""
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th><td><a href="{}">{}</a></td></tr>',
        ((u["name"], u["links"]["overdue"], intcomma(u["overdue"])) for u in units),
    )


@register.filter
def unit_days_rows(units: list[dict]) -> SafeString:
    """逾期排名 by days overdue: unit, days overdue in all, longest."""
    return format_html_join(
        "",
        '<tr><th scope="row">{0}</th><td><a href="{1}">{2}</a></td><td><a href="{1}">{3}</a>'
        "</td></tr>",
        (
            (u["name"], u["links"]["overdue"], intcomma(u["days_overdue"]), u["longest_overdue"])
            for u in units
        ),
    )


@register.filter
def inspection_rows(inspections: list[dict]) -> SafeString:
    """各次巡视巡察: light, inspection (with its documents for supervisors), declared, tracked,
    gap, done, rate, overdue."""
    labels = (gettext("通报"), gettext("文本"), gettext("整改报告"), gettext("问题与分工"))
    rows = []
    for i in inspections:
        links = i["links"]
        docs = ""
        if links.get("notice_docx"):
            docs = format_html(
                '<span class="doc-links"> · <a href="{}">{}</a> (<a href="{}">{}</a>) · '
                '<a href="{}">{}</a> · <a href="{}">{}</a></span>',
                links["notice_docx"],
                labels[0],
                links["notice_txt"],
                labels[1],
                links["report_docx"],
                labels[2],
                links["problems"],
                labels[3],
            )
        rows.append(
            format_html(
                '<tr class="lamp-{0}"><td><span class="lamp lamp-{0}">{1}</span></td>'
                '<th scope="row"><a href="{2}">{3}</a>{4}</th><td>{5}</td><td><a href="{6}">{7}'
                '</a></td><td>{8}</td><td><a href="{9}">{10}</a></td><td>{11}</td>'
                '<td><a href="{12}">{13}</a></td></tr>',
                i["lamp"],
                i["lamp_label"],
                links["dashboard"],
                i["name"],
                docs,
                _dash(i["declared"]),
                links["total"],
                intcomma(i["total"]),
                _dash(i["declared_gap"]),
                links["done"],
                intcomma(i["done"]),
                _rate(i["completion_rate"]),
                links["overdue"],
                intcomma(i["overdue"]),
            )
        )
    return SafeString("\n    ".join(rows))
