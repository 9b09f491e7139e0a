"""The English translation: Chinese by default, English after the language switch, and a
catalogue that stays complete as strings are added.

The catalogue checks read locale/en/LC_MESSAGES/django.po with a small reader below (no extra
dependency) and the compiled django.mo with the standard library's gettext.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

PO_PATH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
HOW_TO_FIX = (
    "run scripts/update_translations.sh, translate the empty and fuzzy entries in "
    "locale/en/LC_MESSAGES/django.po, then run scripts/update_translations.sh --compile-only"
)


# --- a tiny .po reader ------------------------------------------------------------------------


@dataclass
class Entry:
    """One catalogue entry: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], flags."""

    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def translations(self) -> list[str]:
        return [v for k, v in sorted(self.fields.items()) if k.startswith("msgstr")]


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


def read_po(path: Path) -> list[Entry]:
    """Parse the entries of a .po file (obsolete "#~" entries are skipped, like msgfmt does)."""
    entries: list[Entry] = []
    current: Entry | None = None
    key = ""
    flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
        elif not line or line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert current is not None, f"{path}:{number}: continuation without a keyword"
            current.fields[key] += ast.literal_eval(line)
        else:
            match = _KEYWORD.match(line)
            assert match, f"{path}:{number}: unreadable line {raw!r}"
            key, value = match.group(1), ast.literal_eval(match.group(2))
            if key in ("msgctxt", "msgid") and (
                current is None or "msgstr" in "".join(current.fields)
            ):
                current = Entry(line=number, flags=flags)
                entries.append(current)
                flags = set()
            current.fields[key] = value
    return entries


def catalogue() -> list[Entry]:
    """The translatable entries (the header, msgid "", is metadata)."""
    return [entry for entry in read_po(PO_PATH) if entry.msgid]


# --- pages in both languages -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _restore_language():
    """Requests activate their language for the whole thread; later tests expect the default."""
    before = translation.get_language()
    yield
    translation.activate(before)


def switch_to_english(client, next_url: str) -> None:
    """What the language picker in templates/base.html does."""
    response = client.post(reverse("set_language"), {"language": "en", "next": next_url})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_the_login_page_is_chinese_by_default(client):
    # Given a visitor whose browser states no language preference
    # When they open the login page
    page = client.get(reverse("login")).content.decode()
    # Then it speaks Chinese
    assert '<html lang="zh-hans">' in page
    assert "用户名" in page and "密码" in page and "登录" in page
    assert "Username" not in page


@pytest.mark.django_db
def test_the_login_page_speaks_english_after_switching_language(client):
    # Given a visitor on the login page who picks English in the language switcher
    switch_to_english(client, reverse("login"))
    # When the login page is shown again
    page = client.get(reverse("login")).content.decode()
    # Then it is in English, with English selected in the switcher
    assert '<html lang="en">' in page
    assert "Username" in page and "Password" in page and "Log in" in page
    assert "Inspection Rectification" in page
    assert "用户名" not in page and "巡视巡察整改" not in page
    assert '<option value="en" selected>' in page


@pytest.mark.django_db
def test_a_failed_login_is_explained_in_english(client, alice):
    # Given alice has switched to English
    switch_to_english(client, reverse("login"))
    # When she mistypes her password
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    # Then the error is in English
    assert "Incorrect username or password. Please try again." in response.content.decode()


@pytest.mark.django_db
def test_the_admin_index_is_chinese_by_default(admin_client):
    # Given an administrator who has not chosen a language
    # When they open the admin index
    page = admin_client.get(reverse("admin:index")).content.decode()
    # Then the site titles and the model names are Chinese
    assert "巡视巡察整改管理" in page and "数据管理" in page
    assert "整改任务" in page and "销号申请" in page
    assert "Rectification task" not in page


@pytest.mark.django_db
def test_the_admin_index_speaks_english_from_the_language_cookie(admin_client):
    # Given an administrator whose language cookie says English
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # When they open the admin index
    page = admin_client.get(reverse("admin:index")).content.decode()
    # Then our titles, the app and the model names are English, and so is Django's own chrome
    assert "Inspection rectification management" in page and "Data management" in page
    assert "Rectification task" in page and "Close-out request" in page
    assert "Extension request" in page and "Party organization" in page
    assert "Site administration" not in page  # our index_title replaces Django's default
    assert "Log out" in page
    assert "整改任务" not in page and "数据管理" not in page


@pytest.mark.django_db
def test_a_task_page_speaks_english_after_switching(client, alice, finance_task):
    # Given alice, clerk of 财政局, switches to English on her task's page
    client.force_login(alice)
    url = reverse("tracker:task_detail", args=[finance_task.pk])
    switch_to_english(client, url)
    # When the page comes back
    page = client.get(url).content.decode()
    # Then labels and the status choice are English (the task's own text stays Chinese)
    assert "财政资金监管不到位" in page
    assert "Responsible units" in page and "Rectification measures" in page
    with translation.override("en"):
        assert finance_task.get_status_display() in page
    assert "Request close-out" in page
    assert "申请销号" not in page


# --- the catalogue ---------------------------------------------------------------------------


def test_the_po_reader_understands_plurals_contexts_flags_and_wrapped_lines(tmp_path):
    # Given a catalogue with each construct makemessages writes
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgctxt "plural"\nmsgid "整改任务"\nmsgstr "Tasks"\n\n'
        '#, fuzzy, python-format\nmsgid "%(n)s项"\nmsgid_plural "%(n)s项"\n'
        'msgstr[0] "%(n)s item"\nmsgstr[1] ""\n\n'
        'msgid ""\n"长的"\n"字符串"\nmsgstr ""\n"A long "\n"string"\n\n'
        '#~ msgid "旧的"\n#~ msgstr "Old"\n',
        encoding="utf-8",
    )
    # When it is read
    header, task, items, long = read_po(po)
    # Then every field, flag and continuation line is where it belongs
    assert header.msgid == "" and header.translations == ["Language: en\n"]
    assert task.fields["msgctxt"] == "plural" and task.translations == ["Tasks"]
    assert items.flags == {"fuzzy", "python-format"}
    assert items.translations == ["%(n)s item", ""]
    assert long.msgid == "长的字符串" and long.translations == ["A long string"]


def test_every_message_has_an_english_translation():
    # Given the English catalogue
    entries = catalogue()
    assert len(entries) > 400, "the catalogue looks truncated"
    # Then no entry is untranslated or fuzzy (a fuzzy translation is ignored by gettext)
    untranslated = [e.msgid for e in entries if not all(t.strip() for t in e.translations)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not untranslated, (
        f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}; {HOW_TO_FIX}"
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}; {HOW_TO_FIX}"
    header = read_po(PO_PATH)[0]
    assert "fuzzy" not in header.flags, f"the header is marked fuzzy; {HOW_TO_FIX}"


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def test_translations_keep_the_placeholders_of_their_source():
    # A dropped or renamed %(name)s shows wrong text, or raises KeyError when the string is formatted.
    wrong = []
    for entry in catalogue():
        sources = {entry.msgid, entry.fields.get("msgid_plural", entry.msgid)}
        wanted = [sorted(_PLACEHOLDER.findall(source)) for source in sources]
        for text in entry.translations:
            if text and sorted(_PLACEHOLDER.findall(text)) not in wanted:
                wrong.append((entry.msgid, text))
    assert not wrong, f"placeholders differ: {wrong[:5]}"


def test_the_compiled_catalogue_matches_the_po_file():
    # Given the committed django.mo (fresh machines may lack msgfmt, so it is not built on start)
    assert MO_PATH.exists(), f"{MO_PATH} is missing; {HOW_TO_FIX}"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # Then it translates every msgid of the .po file exactly as the .po says
    stale = []
    for entry in catalogue():
        if "msgctxt" in entry.fields:
            got = compiled.pgettext(entry.fields["msgctxt"], entry.msgid)
        elif "msgid_plural" in entry.fields:
            got = compiled.ngettext(entry.msgid, entry.fields["msgid_plural"], 1)
        else:
            got = compiled.gettext(entry.msgid)
        if got != entry.translations[0]:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is out of date for {stale[:5]}; {HOW_TO_FIX}"


def test_a_browser_asking_for_english_still_gets_chinese_until_the_user_switches(client):
    """zh-hans is the default whatever the browser's Accept-Language; English is a choice."""
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in page


def test_the_login_protection_admin_speaks_chinese(admin_client):
    """django-axes ships no Chinese: locale/zh_Hans carries its strings."""
    html = admin_client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "登录失败计数" in html and "access attempts" not in html


# What makemessages extracts (scripts/update_translations.sh runs it with these ignores), read
# here without xgettext: Python calls by keyword (ast), templates through Django's own templatize.
SOURCE_DIRS_IGNORED = {".venv", "var", "bench", "tests", "static", "locale", "node_modules"}
_KEYWORDS = {
    # keyword: (index of msgctxt or None, index of msgid)
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
_TEMPLATE_CALL = re.compile(r"\b(gettext|ngettext|pgettext|npgettext)\(")
_TEMPLATE_LITERAL = re.compile(r"""\s*u('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*,?""")


def _source_files(suffixes: tuple[str, ...]):
    root = Path(settings.BASE_DIR)
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.suffix in suffixes and not SOURCE_DIRS_IGNORED & set(parts) and path.is_file():
            yield path


def python_messages(source: str) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _KEYWORDS:
            continue
        context, msgid = _KEYWORDS[name]
        args = node.args
        if len(args) <= msgid or not all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[: msgid + 1]
        ):
            continue  # a variable or a call: nothing to extract, as xgettext
        found.add((args[context].value if context is not None else None, args[msgid].value))
    return found


def template_messages(source: str) -> set[tuple[str | None, str]]:
    from django.utils.translation.template import templatize

    found = set()
    code = templatize(source)
    for call in _TEMPLATE_CALL.finditer(code):
        literals, position = [], call.end()
        while match := _TEMPLATE_LITERAL.match(code, position):
            literals.append(ast.literal_eval(match.group(1)))
            position = match.end()
        if call.group(1).startswith("p"):
            found.add((literals[0], literals[1]))
        elif literals:
            found.add((None, literals[0]))
    return found


def test_the_extraction_reads_python_and_templates_as_makemessages_does():
    assert python_messages(
        "from django.utils.translation import gettext as _, pgettext\n"
        "_('一'); pgettext('ctx', '二'); self.gettext_lazy('三'); _(name); ngettext('%s 项', 'p', n)"
    ) == {(None, "一"), ("ctx", "二"), (None, "三"), (None, "%s 项")}
    assert template_messages(
        "{% load i18n %}{% translate '一' %}{% translate \"it's\" %}"
        "{% blocktranslate count n=x %}{{ n }} 项{% plural %}{{ n }} 项{% endblocktranslate %}"
        '{% translate "名" context "人" %}'
    ) == {(None, "一"), (None, "it's"), (None, "%(n)s 项"), ("人", "名")}


def test_every_string_marked_for_translation_is_in_the_catalogue():
    # Given every message the Python code and the templates mark for translation
    marked: dict[tuple[str | None, str], str] = {}
    for path in _source_files((".py",)):
        for message in python_messages(path.read_text(encoding="utf-8")):
            marked.setdefault(message, str(path.relative_to(settings.BASE_DIR)))
    for path in _source_files((".html", ".txt")):
        for message in template_messages(path.read_text(encoding="utf-8")):
            marked.setdefault(message, str(path.relative_to(settings.BASE_DIR)))
    assert len(marked) > 400, "the extraction found too little"
    # Then each has an entry in the English catalogue (a string added without running
    # makemessages would show Chinese to an English user, and no other test would notice)
    known = {(e.fields.get("msgctxt"), e.msgid) for e in catalogue()}
    missing = sorted(
        (where, msgid) for (ctx, msgid), where in marked.items() if (ctx, msgid) not in known
    )
    assert not missing, f"{len(missing)} not in the catalogue, e.g. {missing[:5]}; {HOW_TO_FIX}"
