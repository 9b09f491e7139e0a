"""The filter and task forms are rendered by ``fast_field`` in Python; what it writes must be
what Django's widget templates write (same elements, attributes, values and selection)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.http import QueryDict

from tracker.filtersets import TaskFilterSet
from tracker.models import Task
from tracker.templatetags.fast_forms import fast_field


class _Shape(HTMLParser):
    """Elements with sorted attributes and stripped text: attribute order and whitespace
    between tags are the only differences allowed."""

    def __init__(self):
        super().__init__()
        self.items: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.items.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.items.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.items.append(("text", data.strip()))


def shape(html: str) -> list[tuple]:
    parser = _Shape()
    parser.feed(str(html))
    return parser.items


class NoteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="写清进展")
    due = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    kind = forms.ChoiceField(choices=[("a", "甲<"), ("b", "乙")])
    ticks = forms.MultipleChoiceField(
        choices=[(1, "一"), (2, "二")], widget=forms.CheckboxSelectMultiple, required=False
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=in_progress&status=closed&overdue=true&due_within=7&q=a%22b<&as_of=2026-11-02"
        "&sort=deadline&level=nowhere&uncategorized=false",
    ],
)
def test_the_filter_form_renders_as_django_would(query):
    filterset = TaskFilterSet(QueryDict(query), queryset=Task.objects.none())
    filterset.is_valid()
    for bound in filterset.form:
        assert shape(fast_field(bound)) == shape(bound.as_widget()), bound.name


@pytest.mark.parametrize(
    "data",
    [None, {"version": "3", "note": "一是<b>完成</b>", "kind": "b", "ticks": ["2"]}, {"note": ""}],
)
def test_task_page_widgets_render_as_django_would(data):
    form = NoteForm(data)
    if data is not None:
        form.is_valid()  # errors add aria-invalid, as in Django's own rendering
    for bound in form:
        assert shape(fast_field(bound)) == shape(bound.as_widget()), bound.name


def test_a_cached_option_list_keeps_each_pages_own_selection():
    # Given the same long choice list rendered for two filters (its options are cached)
    class OrgForm(forms.Form):
        org = forms.ChoiceField(choices=[(i, f"组织{i}") for i in range(300)], required=False)

    # When one page chose 7 and the next chose 8, then one chose nothing
    first, second, none = (OrgForm({"org": v}) for v in ("7", "8", ""))
    for form in (first, second, none):
        form.is_valid()

    # Then each shows its own selection, exactly as Django would
    for form in (first, second, none):
        assert shape(fast_field(form["org"])) == shape(form["org"].as_widget())
    assert str(fast_field(first["org"])).count(" selected") == 1
    assert " selected" not in str(fast_field(none["org"]))


def test_a_widget_subclass_with_its_own_template_is_left_to_django():
    class Fancy(forms.Select):
        template_name = "django/forms/widgets/radio.html"

    class FancyForm(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "甲")], widget=Fancy)

    bound = FancyForm()["pick"]
    assert str(fast_field(bound)) == str(bound.as_widget())


def test_the_filter_fields_carry_label_widget_and_errors():
    from tracker.templatetags.fast_forms import fast_filter_fields

    filterset = TaskFilterSet(QueryDict("due_within=x&q=<b>"), queryset=Task.objects.none())
    filterset.is_valid()
    html = str(fast_filter_fields(filterset.form))

    assert html.count('<div class="field">') == len(filterset.form.fields)
    assert '<label for="id_due_within">' in html
    [error] = filterset.form["due_within"].errors
    assert f'<span class="errorlist">{error}</span>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


@pytest.mark.django_db
def test_each_filter_form_has_fields_of_its_own(carol, org, inspection):
    # The form's fields are shallow copies (tracker.filtersets._copy_field): what one request
    # sets on its fields and widgets never reaches another request's form.
    from tracker.permissions import access_for

    access = access_for(carol)
    first = TaskFilterSet(QueryDict(), queryset=Task.objects.all(), access=access)
    first.form.fields["q"].widget.attrs["placeholder"] = "only mine"
    first.form.fields["status"].required = True
    first.form.fields["q"].validators.append(lambda value: None)
    first.narrow_choices(access)
    second = TaskFilterSet(QueryDict(), queryset=Task.objects.all(), access=None)
    fields = second.form.fields
    assert "placeholder" not in fields["q"].widget.attrs
    assert not fields["status"].required
    assert len(fields["q"].validators) == len(first.form.fields["q"].validators) - 1
    # an unscoped form keeps the declared empty querysets, not the first form's scoped ones
    assert not fields["organization"].queryset.exists()
    assert first.form.fields["organization"].queryset.exists()
    assert fields["organization"].widget is not first.form.fields["organization"].widget


def test_a_copied_fields_choices_read_the_copy():
    form = TaskFilterSet(QueryDict(), queryset=Task.objects.none()).form
    level = form.fields["level"]
    level.empty_label = "任意层级"
    assert list(level.widget.choices)[0] == ("", "任意层级")
    again = TaskFilterSet(QueryDict(), queryset=Task.objects.none()).form
    assert list(again.fields["level"].widget.choices)[0][1] != "任意层级"
    assert again.fields["unit"].widget.choices.field is again.fields["unit"]


def test_a_declared_choice_list_is_rendered_per_language_and_label():
    from django.utils import translation

    from tracker.templatetags.fast_forms import fast_filter_fields

    def level_select(empty_label=None, language="zh-hans"):
        form = TaskFilterSet(QueryDict(), queryset=Task.objects.none()).form
        if empty_label:
            form.fields["level"].empty_label = empty_label
        with translation.override(language):
            html = fast_filter_fields(form)
        return html.split('name="level"', 1)[1].split("</select>", 1)[0]

    assert '<option value="" selected>全部</option>' in level_select()
    assert '<option value="" selected>All</option>' in level_select(language="en")
    assert '<option value="" selected>任意层级</option>' in level_select("任意层级")
    assert '<option value="" selected>全部</option>' in level_select()


# What a page form's inside was as a template (the include each form of a page used), kept as
# the reference the Python tag must match.
FORM_FIELDS_TEMPLATE = """{% load fast_forms %}{% csrf_token %}
{{ form.non_field_errors }}
{% for field in form.hidden_fields %}{{ field|fast_field }}{% endfor %}
{% for field in form.visible_fields %}
  <div>
    <label for="{{ field.id_for_label }}">{{ field.label }}</label>
    {{ field|fast_field }}
    {% if field.help_text %}<div class="helptext">{{ field.help_text }}</div>{% endif %}
    {{ field.errors }}
  </div>
{% endfor %}"""


class CheckedNoteForm(NoteForm):
    def clean(self):
        raise forms.ValidationError("两项<不能>同时为空")


@pytest.mark.parametrize("form_class", [NoteForm, CheckedNoteForm])
@pytest.mark.parametrize("data", [None, {"version": "x", "note": "", "kind": "c"}, {"note": "好"}])
def test_a_page_forms_fields_render_as_the_template_did(rf, form_class, data):
    from django.middleware.csrf import get_token
    from django.template import engines

    # Given a page's form, fresh or bound with errors of its fields and of its own
    request = rf.get("/")
    get_token(request)
    form = form_class(data)
    if data is not None:
        form.is_valid()

    # When the tag writes it, and the template it replaced renders it
    django_engine = engines["django"]
    tag = django_engine.from_string("{% load fast_forms %}{% form_fields form %}")
    reference = django_engine.from_string(FORM_FIELDS_TEMPLATE)
    html = tag.render({"form": form}, request)

    # Then both write the same elements, attributes and text, the CSRF token included (masked
    # anew on each render)
    def unmasked(html):
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "name=csrf", html)

    assert shape(unmasked(html)) == shape(unmasked(reference.render({"form": form}, request)))
    assert 'name="csrfmiddlewaretoken" value="' in html
    if form_class is CheckedNoteForm and data is not None:
        assert "两项&lt;不能&gt;同时为空" in html
