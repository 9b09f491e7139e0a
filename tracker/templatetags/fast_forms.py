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
from django.forms.models import ModelChoiceIterator
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django_filters.fields import ChoiceIterator as FilterChoiceIterator

from tracker.scope_choices import FrozenChoices

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


def _choices(bound: BoundField, widget: forms.ChoiceWidget):
    """The widget's choices; a model choice list over an empty queryset (the task list's
    narrowed inspection, unit and category selects) without running the ORM's iterator."""
    choices = widget.choices
    if isinstance(choices, ModelChoiceIterator) and choices.queryset.query.is_empty():
        empty = choices.field.empty_label
        return [] if empty is None else [("", empty)]
    return choices


# Rendered <option> lists, keyed by their (value, label) strings: a scope's organization list
# (hundreds of options) is escaped once per process, not on every page. Bounded: the oldest
# half is dropped when it is full.
_OPTIONS: dict[tuple, tuple[list[str], dict[str, int]]] = {}
_OPTIONS_MAX = 256


def _options(choices) -> tuple[list[str], dict[str, int]]:
    if isinstance(choices, FrozenChoices):
        # A scope's kept list (tracker.scope_choices): rendered once per language, no key built.
        language = get_language()
        rendered = choices.rendered.get(language)
        if rendered is None:
            rendered = choices.rendered[language] = _build_options(choices)
        return rendered
    key = _identity_key(choices)
    if key is None:
        return _build_options(choices)
    ids = (get_language(), *map(id, key))
    kept = _BY_IDENTITY.get(ids)
    if kept is not None and all(a is b for a, b in zip(kept[0], key, strict=True)):
        return kept[1]
    rendered = _build_options(choices)
    if len(_BY_IDENTITY) >= _OPTIONS_MAX:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[ids] = (key, rendered)
    return rendered


# Declared choice lists (a field's list, shared by every request's copy of the field:
# tracker.filtersets._copy_field) rendered once per language, found by the identity of the
# objects they are made of (kept alive here, so an id is never reused while its entry lives)
# rather than by a key of every value and translated label. Such lists are never changed in
# place; a list given anew (or a queryset's choices) is rendered by its values as before.
_BY_IDENTITY: dict[tuple, tuple[tuple, tuple[list[str], dict[str, int]]]] = {}


def _identity_key(choices) -> tuple | None:
    if type(choices) in (list, tuple):
        return (choices,)
    if isinstance(choices, FilterChoiceIterator):
        field = choices.field
        if type(choices.choices) in (list, tuple):
            return (choices.choices, field.empty_label, field.null_label, field.null_value)
    return None


def _build_options(choices) -> tuple[list[str], dict[str, int]]:
    key = tuple((str(value), str(label)) for value, label in choices)
    cached = _OPTIONS.get(key)
    if cached is None:
        html = [f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in key]
        where: dict[str, int] = {}
        for i, (value, _label) in enumerate(key):
            where.setdefault(value, i)
        if len(_OPTIONS) >= _OPTIONS_MAX:
            for old in list(_OPTIONS)[: _OPTIONS_MAX // 2]:
                _OPTIONS.pop(old, None)
        cached = _OPTIONS[key] = (html, where)
    return cached


def options_html(choices, chosen: str) -> str:
    """A choice list's ``<option>``s (kept rendered, as a select's) with ``chosen`` selected:
    for a select written by hand (the dashboard's scope chooser)."""
    html, where = _options(choices)
    i = where.get(chosen) if chosen else None
    if i is None:
        return "".join(html)
    return "".join([*html[:i], html[i].replace('">', '" selected>', 1), *html[i + 1 :]])


def _select(bound: BoundField, widget: forms.Select) -> str:
    chosen = _chosen(widget, bound.value())
    html, where = _options(_choices(bound, widget))
    if chosen:
        html = list(html)
        for value in chosen:
            i = where.get(value)
            if i is not None:  # as Django: the first option with the value is selected
                html[i] = html[i].replace('">', '" selected>', 1)
    return f"<select{_attrs(bound, widget, name=bound.html_name)}>{''.join(html)}</select>"


def _checkboxes(bound: BoundField, widget: forms.CheckboxSelectMultiple) -> str:
    chosen = _chosen(widget, bound.value())
    base_id = bound.auto_id or ""
    name = escape(bound.html_name)
    items = []
    for i, (value, label) in enumerate(_choices(bound, widget)):
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


def _plain(kind: type) -> type | None:
    """The Django widget class ``kind`` renders exactly as (itself, or a subclass such as
    AnyBooleanSelect that changes only its choices or attrs), or None: a subclass with its own
    templates or rendering goes through Django."""
    for base in (forms.Select, forms.NullBooleanSelect, forms.CheckboxSelectMultiple, *INPUTS):
        if kind is base:
            return base
    for base in (forms.NullBooleanSelect, forms.CheckboxSelectMultiple, *INPUTS, forms.Select):
        if (
            issubclass(kind, base)
            and kind.template_name == base.template_name
            and getattr(kind, "option_template_name", None)
            == getattr(base, "option_template_name", None)
            and getattr(kind, "allow_multiple_selected", False)
            == getattr(base, "allow_multiple_selected", False)
            and all(
                getattr(kind, name) is getattr(base, name)
                for name in ("render", "get_context", "format_value", "options", "optgroups")
                if hasattr(base, name)
            )
        ):
            return base
    return None


_PLAIN: dict[type, type | None] = {}


@register.filter
def fast_field(bound: BoundField) -> SafeString:
    """The field's widget as HTML, built in Python for plain selects, checkbox lists and text,
    number and date inputs; other widgets through Django's templates."""
    widget = bound.field.widget
    kind = type(widget)
    if kind not in _PLAIN:
        _PLAIN[kind] = _plain(kind)
    base = _PLAIN[kind]
    if base in (forms.Select, forms.NullBooleanSelect):
        return mark_safe(_select(bound, widget))  # noqa: S308 - every value escaped above
    if base is forms.CheckboxSelectMultiple:
        return mark_safe(_checkboxes(bound, widget))  # noqa: S308
    if base in INPUTS:
        return mark_safe(_input(bound, widget))  # noqa: S308
    if kind is forms.Textarea:
        return mark_safe(_textarea(bound, widget))  # noqa: S308
    return bound.as_widget()


@register.filter
def fast_filter_fields(form: forms.Form) -> SafeString:
    """Every field of a filter form as ``<div class="field">`` with its label, widget and
    errors (the task list's form), written in Python rather than a template loop."""
    out = []
    for bound in form:
        errors = bound.errors
        error = (
            f'<span class="errorlist">{" ".join(escape(str(e)) for e in errors)}</span>'
            if errors
            else ""
        )
        out.append(
            f'<div class="field"><label for="{escape(str(bound.id_for_label or ""))}">'
            f"{escape(str(bound.label))}</label>{fast_field(bound)}{error}</div>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value escaped above


@register.simple_tag(takes_context=True)
def form_fields(context, form: forms.Form) -> SafeString:
    """A page form's inside: the CSRF token, the form's own errors, its hidden fields, then each
    visible field as ``<div>`` with its label, widget, help text and errors. Written in Python:
    as a template it was an include per form and an error-list template per field, errors or
    not (a task page has up to five forms)."""
    out = [CsrfTokenNode().render(context)]
    errors = form.non_field_errors()
    if errors:
        out.append(str(errors))
    out += [fast_field(bound) for bound in form.hidden_fields()]
    for bound in form.visible_fields():
        out.append(
            f'<div><label for="{escape(str(bound.id_for_label or ""))}">'
            f"{conditional_escape(bound.label)}</label>{fast_field(bound)}"
        )
        if bound.help_text:
            out.append(f'<div class="helptext">{conditional_escape(bound.help_text)}</div>')
        errors = bound.errors
        if errors:
            out.append(str(errors))
        out.append("</div>")
    return mark_safe("\n".join(out))  # noqa: S308 - every value escaped above
