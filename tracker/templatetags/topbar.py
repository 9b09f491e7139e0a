"""The top bar of templates/base.html, written in Python.

Through the template language the bar cost every page ~30 ``{% trans %}``, ~15 ``{% url %}``
and as many ``{% if %}`` tags. Here the links' markup is built once per process for each
(language, URL prefix, current page, set of links the user sees) and kept; a request only adds
its badge counts, its CSRF token, its path and the user's name, each escaped. The URLs are
reversed once per process and URL prefix (the tracker's URLs do not depend on the language).

``{% topbar_start %}`` writes the header up to the end of the main links (the template's
``{% block nav %}`` follows it), ``{% topbar_end %}`` the rest: the admin link, the language
picker and the user's links.
"""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop, ngettext

from tracker.context_processors import BADGE_CAP

register = template.Library()

# The pages that mark the 巡视巡察 link as the current one (base.html's nav_inspection_pages).
INSPECTION_PAGES = frozenset(
    {"inspection_list", "inspection_new", "inspection_edit", "inspection_problems", "problem_edit"}
)

# The links of the bar, in order: (flag that shows it, URL name, label, pages marking it
# current). Flag None: every signed-in user. "reviews" and "unread" carry a badge.
LINKS = (
    (None, "tracker:task_list", gettext_noop("我的任务"), frozenset({"task_list"})),
    ("reviewer", "tracker:review_queue", gettext_noop("审核队列"), frozenset({"review_queue"})),
    (None, "tracker:notification_list", gettext_noop("通知"), frozenset({"notification_list"})),
    ("dashboard", "tracker:dashboard", gettext_noop("整改看板"), frozenset({"dashboard"})),
    (
        "ledger",
        "tracker:ledger_upload",
        gettext_noop("台账导入"),
        frozenset({"ledger_upload", "ledger_confirm"}),
    ),
    (
        "rechecks",
        "tracker:recheck_list",
        gettext_noop("反向核查"),
        None,
    ),  # any page whose name starts "recheck"
    ("plan", "tracker:inspection_list", gettext_noop("巡视巡察"), INSPECTION_PAGES),
    ("plan", "tracker:ladder", gettext_noop("督办"), frozenset({"ladder"})),
    (
        "plan",
        "tracker:plan_upload",
        gettext_noop("方案导入"),
        frozenset({"plan_upload", "plan_confirm"}),
    ),
)

# Every URL the bar links, reversed once per process (and URL prefix).
URL_NAMES = (
    *(name for _flag, name, _label, _pages in LINKS),
    "admin:index",
    "set_language",
    "password_change",
    "api_token",
    "logout",
)

# The bar's other words (marked here: makemessages does not read inside f-strings).
TEXTS = {
    "brand": gettext_noop("巡视巡察整改"),
    "nav": gettext_noop("主导航"),
    "admin": gettext_noop("管理后台"),
    "language": gettext_noop("语言"),
    "switch": gettext_noop("切换"),
    "password": gettext_noop("修改密码"),
    "token": gettext_noop("接口令牌"),
    "logout": gettext_noop("退出"),
}

REVIEWS_SLOT = "\x00reviews\x00"
UNREAD_SLOT = "\x00unread\x00"


@functools.cache
def _urls(prefix: str, urlconf) -> dict[str, str]:
    return {name: escape(reverse(name)) for name in URL_NAMES}


def urls() -> dict[str, str]:
    """The bar's URLs (escaped), for the current URL prefix and URLconf."""
    return _urls(get_script_prefix(), get_urlconf())


def _current(name: str, pages: frozenset | None, url_name: str | None) -> bool:
    if url_name is None:
        return False
    if pages is None:
        return url_name[:7] == "recheck"
    return url_name in pages


@functools.cache
def _start(
    language: str, prefix: str, urlconf, url_name: str | None, signed_in: bool, flags: frozenset
) -> tuple[str, ...]:
    """The header up to the end of the main links, split around the badges' slots."""
    u = _urls(prefix, urlconf)
    t = {key: escape(gettext(text)) for key, text in TEXTS.items()}
    out = [
        '<header class="topbar">\n',
        f'<a class="brand" href="{u["tracker:task_list"]}">{t["brand"]}</a>\n',
        f'<nav class="mainnav" aria-label="{t["nav"]}">\n',
    ]
    if signed_in:
        labels = {name: escape(gettext(label)) for _flag, name, label, _pages in LINKS}
        for flag, name, _label, pages in LINKS:
            if flag is not None and flag not in flags:
                continue
            current = ' aria-current="page"' if _current(name, pages, url_name) else ""
            badge = {"tracker:review_queue": REVIEWS_SLOT, "tracker:notification_list": UNREAD_SLOT}
            out.append(f'<a href="{u[name]}"{current}>{labels[name]}{badge.get(name, "")}</a>\n')
    return tuple("".join(out).replace(UNREAD_SLOT, REVIEWS_SLOT).split(REVIEWS_SLOT))


def _count(value) -> int:
    """A badge's count (the context processor's lazy number; absent: 0)."""
    return value + 0 if value else 0  # + 0: the int a SimpleLazyObject wraps


def _badge(n, cap: int, label: str) -> str:
    """`` <span class="badge" aria-label="…">n</span>``, or nothing for 0 (as base.html did)."""
    shown = f"{cap}+" if n > cap else str(n)
    return f' <span class="badge" aria-label="{escape(label)}">{escape(shown)}</span>'


@register.simple_tag(takes_context=True)
def topbar_start(context) -> SafeString:
    """``<header class="topbar">``, the brand and the links this user sees, with badges."""
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match is not None else None
    flags = frozenset()
    if signed_in:
        flags = frozenset(
            flag
            for flag, key in (
                ("reviewer", "nav_reviewer"),
                ("dashboard", "nav_dashboard"),
                ("ledger", "nav_ledger_upload"),
                ("rechecks", "nav_rechecks"),
                ("plan", "nav_plan_upload"),
            )
            if context.get(key)
        )
    pieces = _start(
        translation.get_language(), get_script_prefix(), get_urlconf(), url_name, signed_in, flags
    )
    if not signed_in:
        return mark_safe(pieces[0])  # noqa: S308 - built from escaped parts
    cap = context.get("badge_cap", BADGE_CAP)
    if "reviewer" in flags:
        n = _count(context.get("nav_reviews"))
        label = ngettext("%(n)s 项待审核", "%(n)s 项待审核", n) % {"n": n}
        reviews = _badge(n, cap, label) if n else ""
        first, middle, last = pieces
        unread = _unread(context, cap)
        return mark_safe(f"{first}{reviews}{middle}{unread}{last}")  # noqa: S308 - escaped
    first, last = pieces
    return mark_safe(f"{first}{_unread(context, cap)}{last}")  # noqa: S308 - escaped


def _unread(context, cap: int) -> str:
    n = _count(context.get("nav_unread"))
    if not n:
        return ""
    return _badge(n, cap, ngettext("%(n)s 条未读", "%(n)s 条未读", n) % {"n": n})


@functools.cache
def _end(language: str, prefix: str, urlconf, staff: bool, signed_in: bool) -> tuple[str, ...]:
    """The rest of the header, split around the CSRF tokens, the path and the user's name."""
    u = _urls(prefix, urlconf)
    t = {key: escape(gettext(text)) for key, text in TEXTS.items()}
    options = "".join(
        f'<option value="{escape(code)}"{" selected" if code == language else ""}>'
        f"{'中文' if code == 'zh-hans' else 'English'}</option>"
        for code, _name in settings.LANGUAGES
    )
    admin = f'<a href="{u["admin:index"]}">{t["admin"]}</a>\n' if staff else ""
    pieces = [
        f"{admin}</nav>\n"
        '<div class="tools">\n'
        f'<form class="lang" method="post" action="{u["set_language"]}">',
        # csrf token
        '\n<input type="hidden" name="next" value="',
        # path
        '">\n'
        f'<label class="visually-hidden" for="lang-select">{t["language"]}</label>\n'
        f'<select id="lang-select" name="language" onchange="this.form.submit()">\n'
        f"{options}\n</select>\n"
        f'<noscript><button type="submit">{t["switch"]}</button></noscript>\n'
        "</form>\n",
    ]
    if signed_in:
        pieces[-1] += f'<a class="user" href="{u["password_change"]}" title="{t["password"]}">'
        # user's name
        pieces.append(
            "</a>\n"
            f'<a class="user-token" href="{u["api_token"]}">{t["token"]}</a>\n'
            f'<form method="post" action="{u["logout"]}">'
        )
        # csrf token
        pieces.append(f'<button type="submit" class="link">{t["logout"]}</button></form>\n')
    pieces[-1] += "</div>\n</header>"
    return tuple(pieces)


@register.simple_tag(takes_context=True)
def topbar_end(context) -> SafeString:
    """The admin link (staff), the language picker and the signed-in user's links."""
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    staff = bool(user is not None and getattr(user, "is_staff", False))
    pieces = _end(translation.get_language(), get_script_prefix(), get_urlconf(), staff, signed_in)
    csrf = CsrfTokenNode().render(context)
    path = escape(request.get_full_path()) if request is not None else ""
    if not signed_in:
        return mark_safe(f"{pieces[0]}{csrf}{pieces[1]}{path}{pieces[2]}")  # noqa: S308
    name = escape(user.get_full_name() or user.get_username())
    return mark_safe(  # noqa: S308 - every value escaped above
        f"{pieces[0]}{csrf}{pieces[1]}{path}{pieces[2]}{name}{pieces[3]}{csrf}{pieces[4]}"
    )


def _clear(**kwargs) -> None:
    """A test changing URLs, languages or prefixes gets the bar built anew."""
    _urls.cache_clear()
    _start.cache_clear()
    _end.cache_clear()


setting_changed.connect(_clear)
