"""The top bar (tracker.templatetags.topbar) writes, for every role, page and language, the same
header the template of base.html wrote before it (kept below as OLD_HEADER), and links only what
the user may open."""

from __future__ import annotations

import re

import pytest
from django.template import RequestContext, engines
from django.urls import reverse, set_script_prefix
from django.utils import translation

from tracker import context_processors
from tracker.templatetags import topbar

pytestmark = pytest.mark.django_db

# templates/base.html's <header> before the top bar was written in Python.
OLD_HEADER = """{% load i18n %}{% get_current_language as LANGUAGE_CODE %}
  <header class="topbar">
    <a class="brand" href="{% url 'tracker:task_list' %}">{% trans "巡视巡察整改" %}</a>
    <nav class="mainnav" aria-label="{% trans '主导航' %}">
      {% if user.is_authenticated %}
        <a href="{% url 'tracker:task_list' %}" {% if request.resolver_match.url_name == 'task_list' %}aria-current="page"{% endif %}>{% trans "我的任务" %}</a>
        {% if nav_reviewer %}
        <a href="{% url 'tracker:review_queue' %}" {% if request.resolver_match.url_name == 'review_queue' %}aria-current="page"{% endif %}>{% trans "审核队列" %}{% if nav_reviews %} <span class="badge" aria-label="{% blocktrans count n=nav_reviews %}{{ n }} 项待审核{% plural %}{{ n }} 项待审核{% endblocktrans %}">{% if nav_reviews > badge_cap %}{{ badge_cap }}+{% else %}{{ nav_reviews }}{% endif %}</span>{% endif %}</a>
        {% endif %}
        <a href="{% url 'tracker:notification_list' %}" {% if request.resolver_match.url_name == 'notification_list' %}aria-current="page"{% endif %}>{% trans "通知" %}{% if nav_unread %} <span class="badge" aria-label="{% blocktrans count n=nav_unread %}{{ n }} 条未读{% plural %}{{ n }} 条未读{% endblocktrans %}">{% if nav_unread > badge_cap %}{{ badge_cap }}+{% else %}{{ nav_unread }}{% endif %}</span>{% endif %}</a>
        {% if nav_dashboard %}
        <a href="{% url 'tracker:dashboard' %}" {% if request.resolver_match.url_name == 'dashboard' %}aria-current="page"{% endif %}>{% trans "整改看板" %}</a>
        {% endif %}
        {% if nav_ledger_upload %}
        <a href="{% url 'tracker:ledger_upload' %}" {% if request.resolver_match.url_name == 'ledger_upload' or request.resolver_match.url_name == 'ledger_confirm' %}aria-current="page"{% endif %}>{% trans "台账导入" %}</a>
        {% endif %}
        {% if nav_rechecks %}
        <a href="{% url 'tracker:recheck_list' %}" {% if request.resolver_match.url_name|slice:":7" == 'recheck' %}aria-current="page"{% endif %}>{% trans "反向核查" %}</a>
        {% endif %}
        {% if nav_plan_upload %}
        <a href="{% url 'tracker:inspection_list' %}" {% if request.resolver_match.url_name in nav_inspection_pages %}aria-current="page"{% endif %}>{% trans "巡视巡察" %}</a>
        <a href="{% url 'tracker:ladder' %}" {% if request.resolver_match.url_name == 'ladder' %}aria-current="page"{% endif %}>{% trans "督办" %}</a>
        <a href="{% url 'tracker:plan_upload' %}" {% if request.resolver_match.url_name == 'plan_upload' or request.resolver_match.url_name == 'plan_confirm' %}aria-current="page"{% endif %}>{% trans "方案导入" %}</a>
        {% endif %}
      {% endif %}
      {% if user.is_staff %}<a href="{% url 'admin:index' %}">{% trans "管理后台" %}</a>{% endif %}
    </nav>
    <div class="tools">
      <form class="lang" method="post" action="{% url 'set_language' %}">{% csrf_token %}
        <input type="hidden" name="next" value="{{ request.get_full_path }}">
        {% get_available_languages as LANGUAGES %}
        <label class="visually-hidden" for="lang-select">{% trans "语言" %}</label>
        <select id="lang-select" name="language" onchange="this.form.submit()">
          {% for code, name in LANGUAGES %}<option value="{{ code }}" {% if code == LANGUAGE_CODE %}selected{% endif %}>{% if code == "zh-hans" %}中文{% else %}English{% endif %}</option>{% endfor %}
        </select>
        <noscript><button type="submit">{% trans "切换" %}</button></noscript>
      </form>
      {% if user.is_authenticated %}
        <a class="user" href="{% url 'password_change' %}" title="{% trans '修改密码' %}">{{ user.get_full_name|default:user.get_username }}</a>
        <a class="user-token" href="{% url 'api_token' %}">{% trans "接口令牌" %}</a>
        <form method="post" action="{% url 'logout' %}">{% csrf_token %}<button type="submit" class="link">{% trans "退出" %}</button></form>
      {% endif %}
    </div>
  </header>"""

HEADER = re.compile(r'<header class="topbar">.*?</header>', re.S)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

# Pages whose links the bar marks as the current one, and some it does not.
PAGES = [
    ("tracker:task_list", ()),
    ("tracker:notification_list", ()),
    ("tracker:review_queue", ()),
    ("tracker:dashboard", ()),
    ("tracker:ledger_upload", ()),
    ("tracker:recheck_list", ()),
    ("tracker:inspection_list", ()),
    ("tracker:inspection_new", ()),
    ("tracker:ladder", ()),
    ("tracker:plan_upload", ()),
    ("api_token", ()),
    ("password_change", ()),
]


def normalized(html: str) -> str:
    """The header as a browser reads it: any run of whitespace is one space, none before '>',
    and the CSRF token (masked anew for every form) left out."""
    html = TOKEN.sub('name="csrfmiddlewaretoken" value="…"', html)
    return re.sub(r"\s+>", ">", re.sub(r"\s+", " ", html)).strip()


def old_header(request, language: str) -> str:
    template = engines["django"].from_string(OLD_HEADER)
    with translation.override(language):
        return HEADER.search(template.template.render(RequestContext(request, {}))).group(0)


def page_header(client, url: str, language: str) -> tuple[str, object]:
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
    if response.status_code == 302:
        return "", response
    return HEADER.search(response.content.decode()).group(0), response


@pytest.fixture
def personas(alice, bob, carol, dave, mallory, admin_user):
    mallory.first_name, mallory.last_name = '<b>"M&M"</b>', "'"
    mallory.save()
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "mallory": mallory,
        "admin": admin_user,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dave", "mallory", "admin"])
def test_the_bar_is_the_templates_for_every_role_page_and_language(
    client, personas, persona, language
):
    client.force_login(personas[persona])
    compared = 0
    for name, args in PAGES:
        url = reverse(name, args=args) + '?next=<"x">&q=%E4%B8%AD'
        new, response = page_header(client, url, language)
        if not new:
            continue
        assert normalized(new) == normalized(old_header(response.wsgi_request, language)), url
        compared += 1
    assert compared >= 3


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_visitor_gets_the_templates_bar_without_links(client, language):
    new, response = page_header(client, reverse("login"), language)
    assert normalized(new) == normalized(old_header(response.wsgi_request, language))
    assert "mainnav" in new and reverse("tracker:notification_list") not in new
    assert 'class="user"' not in new and reverse("logout") not in new


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("unread", "reviews"), [(1, 1), (2, 0), (0, 7), (100, 100)])
def test_the_badges_read_as_the_template_wrote_them(
    client, bob, monkeypatch, language, unread, reviews
):
    # Given bob (a lead: a reviewer) with some unread notifications and reviews waiting
    def counts(request, reviewer, cap):
        return {"unread": unread, "closeouts": reviews, "extensions": 0}

    monkeypatch.setattr(context_processors, "badge_counts", counts)
    client.force_login(bob)
    new, response = page_header(client, reverse("tracker:task_list"), language)
    assert normalized(new) == normalized(old_header(response.wsgi_request, language))
    if unread == 100:  # past the cap: "99+"
        assert ">99+</span>" in new
    if language == "en" and unread == 2:
        assert 'aria-label="2 unread"' in new


def links(html: str) -> set[str]:
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', nav))


def test_links_appear_only_for_those_allowed(client, personas):
    def seen(persona):
        client.force_login(personas[persona])
        return links(page_header(client, reverse("tracker:task_list"), "zh-hans")[0])

    everyone = {reverse("tracker:task_list"), reverse("tracker:notification_list")}
    reviews = reverse("tracker:review_queue")
    dashboard, ledger = reverse("tracker:dashboard"), reverse("tracker:ledger_upload")
    rechecks = reverse("tracker:recheck_list")
    supervising = {
        reverse(n) for n in ("tracker:inspection_list", "tracker:ladder", "tracker:plan_upload")
    }
    admin = reverse("admin:index")
    assert seen("mallory") == everyone
    assert seen("alice") == everyone | {dashboard, ledger}
    assert reviews in seen("bob") and not supervising & seen("bob")
    assert supervising | {reviews, dashboard, ledger} <= seen("carol") and admin not in seen(
        "carol"
    )
    assert rechecks in seen("carol") and rechecks in seen("dave") and rechecks not in seen("bob")
    assert dashboard in seen("dave") and not (supervising | {reviews, ledger}) & seen("dave")
    assert supervising | {reviews, admin} <= seen("admin")


def test_a_name_and_a_path_are_escaped(client, personas):
    client.force_login(personas["mallory"])
    html, _ = page_header(client, reverse("tracker:task_list") + '?q="><script>', "zh-hans")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;&quot;M&amp;M&quot;&lt;/b&gt;" in html


def test_the_urls_follow_a_script_prefix(client, alice):
    # Given the site served under /sub/ (the prefix a WSGI server's SCRIPT_NAME sets)
    client.force_login(alice)
    client.get(reverse("tracker:task_list"))  # the bar built for "/" first
    set_script_prefix("/sub/")
    try:
        response = client.get(reverse("tracker:task_list").removeprefix("/sub"))
    finally:
        set_script_prefix("/")
    html = HEADER.search(response.content.decode()).group(0)
    assert 'href="/sub/"' in html and 'action="/sub/i18n/setlang/"' in html
    # and without it the URLs are the site's own again
    assert topbar.urls()["tracker:task_list"] == "/"


def test_the_badges_follow_new_work_and_a_new_role(client, alice, mallory, org, finance_task):
    from tests import factories
    from tracker import actions
    from tracker.choices import EventSource, ScopeRole
    from tracker.models import ScopeAssignment

    # Given mallory, without a role: no review link, no badge
    client.force_login(mallory)
    html, _ = page_header(client, reverse("tracker:task_list"), "zh-hans")
    assert reverse("tracker:review_queue") not in html and "badge" not in html
    # When alice asks to close a task out and mallory becomes the organization's supervisor
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(
        finance_task,
        actions.Actor.of(alice, EventSource.USER),
        summary="已完成",
        no_evidence_reason="线下",
    )
    ScopeAssignment.objects.create(user=mallory, role=ScopeRole.SUPERVISOR, organization=org)
    # Then her next page counts the request waiting for her review
    html, _ = page_header(client, reverse("tracker:task_list"), "zh-hans")
    assert 'aria-label="1 项待审核"' in html
