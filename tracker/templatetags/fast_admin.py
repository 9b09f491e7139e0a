"""The admin changelist's rows written once per column rather than once per cell.

Django's ``items_for_result`` resolves every cell from scratch: the field lookup, the choice
list turned into a dict, the change URL (a ``reverse`` and the preserved filters parsed and
re-encoded), the boolean icon's static URL. On the task changelist that was a third of the
page's CPU. ``fast_result_list`` resolves each column once per page and writes the same cells
(tag, class, link, value); a changelist with editable rows or in a popup keeps Django's.
"""

from __future__ import annotations

import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _boolean_icon,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    result_list,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_MARKER = 2**62  # a primary key no row has, replaced by each row's in the change URL


class _Column:
    """One ``list_display`` entry, resolved for the page."""

    def __init__(self, cl, index: int, name, first: bool, empty):
        self.name = name
        self.field = None
        try:
            field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
        classes = [f"field-{_coerce_field_name(name, index)}"]
        self.choices = None
        if field is not None and not field.auto_created:
            self.field = field
            if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
                classes.append("nowrap")
            if getattr(field, "flatchoices", None):
                try:
                    self.choices = dict(field.flatchoices)
                except TypeError:  # list-like choices: Django's own code per cell
                    self.choices = None
        self.classes = classes
        self.empty = empty
        self.link = self._links(cl, name, first)

    @staticmethod
    def _links(cl, name, first: bool) -> bool:
        if cl.list_display_links is None:
            return False
        if first and not cl.list_display_links:
            return True
        return name in cl.list_display_links

    def value(self, cl, result, icons: dict) -> tuple[str, list[str]]:
        """The cell's shown value and classes, as ``items_for_result`` computes them."""
        classes = self.classes
        field = self.field
        if field is not None:
            value = getattr(result, self.name)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if isinstance(field.remote_field, models.ManyToOneRel):
                return (self.empty if value is None else value), classes
            if self.choices is not None:
                return self.choices.get(value, self.empty), classes
            return display_for_field(value, field, self.empty, avoid_link=self.link), classes
        try:
            _f, attr, value = lookup_field(self.name, result, cl.model_admin)
        except ObjectDoesNotExist:
            return self.empty, classes
        empty = getattr(attr, "empty_value_display", self.empty)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        if isinstance(value, (datetime.date, datetime.time)):
            classes = [*classes, "nowrap"]
        if boolean and (value is None or type(value) is bool):
            if value not in icons:  # one static() lookup per icon and page
                icons[value] = _boolean_icon(value)
            return icons[value], classes
        return display_for_value(value, empty, boolean), classes


def fast_results(cl) -> list[ResultList]:
    """Each row of the page as one ResultList holding the row's cells, the HTML that
    ``django.contrib.admin.templatetags.admin_list.results`` writes."""
    empty = cl.model_admin.get_empty_value_display()
    columns = []
    first = True
    for index, name in enumerate(cl.list_display):
        column = _Column(cl, index, name, first, empty)
        if column.link:
            first = False
        columns.append(column)
    try:
        marked = cl.url_for_result(type("Row", (), {cl.pk_attname: _MARKER})())
    except NoReverseMatch:
        url_parts = None
    else:
        marked = add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, marked
        )
        url_parts = marked.split(str(_MARKER), 1)
    icons: dict = {}
    rows = []
    for result in cl.result_list:
        cells = []
        seen_link = False
        for column in columns:
            shown, classes = column.value(cl, result, icons)
            row_class = mark_safe(f' class="{" ".join(classes)}"')  # noqa: S308 - names
            if column.link:
                tag = "td" if seen_link else "th"
                seen_link = True
                if url_parts is None:
                    inner = shown
                else:
                    pk = getattr(result, cl.pk_attname)
                    url = f"{url_parts[0]}{pk}{url_parts[1]}"
                    inner = format_html('<a href="{}">{}</a>', url, shown)
                cells.append(format_html("<{}{}>{}</{}>", tag, row_class, inner, tag))
            else:
                cells.append(format_html("<td{}>{}</td>", row_class, shown))
        rows.append(ResultList(None, [mark_safe("".join(cells))]))  # noqa: S308 - escaped above
    return rows


def _fast_result_list(cl):
    """``result_list``'s context, the rows from ``fast_results`` when the changelist has no
    editable rows, no popup and no ``to_field`` (the cases only Django's code handles)."""
    if cl.formset or cl.is_popup or cl.to_field:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": fast_results(cl),
    }


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=_fast_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
