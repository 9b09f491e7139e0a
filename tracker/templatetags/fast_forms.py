"""Filter-form fields rendered without a template per widget and per option.

Django renders every widget, and every option of a ``<select>`` or checkbox list, through its
own small template: the task list's filter form (17 fields, a select of a few hundred
organizations) cost ~10 ms of CPU per request that way. These renderers write the same markup
(name, id, attributes, value, selection, required) in Python; any other widget renders as usual.
"""

from __future__ import annotations

from html import escape

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

INPUTS = (forms.TextInput, forms.NumberInput, forms.DateInput, forms.EmailInput, forms.HiddenInput)


def _attrs(bound: BoundField, widget: forms.Widget, **first) -> str:
    """The attributes Django's own rendering gives (``BoundField.as_widget``: required,
    disabled, aria-invalid and aria-describedby from the field, the widget's attrs, the id)."""
    attrs = widget.build_attrs(widget.attrs, bound.build_widget_attrs({}, widget))
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    # In Django's order (type, name, value, then the rest), which pages and tests may rely on;
    # flatatt would sort them. True is a bare attribute, False and None leave it out.
    return "".join(
        f" {key}" if value is True else f' {key}="{escape(str(value))}"'
        for key, value in {**first, **attrs}.items()
        if value is not False and value is not None
    )


def _chosen(widget: forms.Widget, value) -> set[str]:
    formatted = widget.format_value(value)  # a list for Select, one string for NullBooleanSelect
    if formatted is None:
        return set()
    return {formatted} if isinstance(formatted, str) else {str(v) for v in formatted}


def _select(bound: BoundField, widget: forms.Select) -> str:
    chosen = _chosen(widget, bound.value())
    options = "".join(
        f'<option value="{escape(str(value))}"'
        f"{' selected' if str(value) in chosen else ''}>{escape(str(label))}</option>"
        for value, label in widget.choices
    )
    return f"<select{_attrs(bound, widget, name=bound.html_name)}>{options}</select>"


def _checkboxes(bound: BoundField, widget: forms.CheckboxSelectMultiple) -> str:
    chosen = _chosen(widget, bound.value())
    base_id = bound.auto_id or ""
    name = escape(bound.html_name)
    items = []
    for i, (value, label) in enumerate(widget.choices):
        box_id = f"{base_id}_{i}"
        for_attr = f' for="{box_id}"' if base_id else ""
        id_attr = f' id="{box_id}"' if base_id else ""
        checked = " checked" if str(value) in chosen else ""
        items.append(
            f'<div><label{for_attr}><input type="checkbox" name="{name}"'
            f' value="{escape(str(value))}"{id_attr}{checked}> {escape(str(label))}</label></div>'
        )
    id_attr = f' id="{base_id}"' if base_id else ""
    return f"<div{id_attr}>{''.join(items)}</div>"


def _input(bound: BoundField, widget: forms.Input) -> str:
    value = widget.format_value(bound.value())
    first = {"type": widget.input_type, "name": bound.html_name}
    if value is not None:
        first["value"] = str(value)
    return f"<input{_attrs(bound, widget, **first)}>"


def _textarea(bound: BoundField, widget: forms.Textarea) -> str:
    value = widget.format_value(bound.value())
    return f"<textarea{_attrs(bound, widget, name=bound.html_name)}>\n{escape(str(value)) if value else ''}</textarea>"


@register.filter
def fast_field(bound: BoundField) -> SafeString:
    """The field's widget as HTML, built in Python for plain selects, checkbox lists and text,
    number and date inputs; other widgets through Django's templates."""
    widget = bound.field.widget
    kind = type(widget)
    if kind in (forms.Select, forms.NullBooleanSelect):
        return mark_safe(_select(bound, widget))  # noqa: S308 - every value escaped above
    if kind is forms.CheckboxSelectMultiple:
        return mark_safe(_checkboxes(bound, widget))  # noqa: S308
    if kind in INPUTS:
        return mark_safe(_input(bound, widget))  # noqa: S308
    if kind is forms.Textarea:
        return mark_safe(_textarea(bound, widget))  # noqa: S308
    return bound.as_widget()
