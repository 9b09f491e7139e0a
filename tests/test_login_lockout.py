"""Stories of guessing passwords: the workspace login and the admin login throttle and lock out
by username and by address (django-axes, rectify/accounts.py), say so in the user's language,
and an administrator can release a lock.

Every login here goes through the real login views with the test client; each client stands
for one machine (REMOTE_ADDR). Defaults: 5 failures lock a username, 20 an address, for 30
minutes.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tests.conftest import PASSWORD
from tests.test_i18n import _restore_language, switch_to_english  # noqa: F401 - autouse fixture

MALLORY_ADDRESS = "203.0.113.66"
ALICE_ADDRESS = "198.51.100.10"
LOCKED_ZH = "登录失败次数过多,为保护账户安全,登录已暂停 30 分钟。"
LOCKED_EN = "Too many failed logins: to protect the account, logging in is paused for 30 minutes."
WRONG_ZH = "用户名或密码不正确,请重试。"

pytestmark = pytest.mark.django_db


def machine(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(client: Client, username: str, password: str, *, url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def logged_in_as(client: Client) -> str | None:
    """Who the workspace thinks this client is (None: sent to the login page)."""
    response = client.get(reverse("tracker:task_list"))
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
        return None
    assert response.status_code == 200
    return response.wsgi_request.user.get_username()


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in(alice):
    # Given mallory, at her own machine, guessing alice's password 30 times
    mallory = machine(MALLORY_ADDRESS)
    answers = [log_in(mallory, "alice", f"guess-{n}") for n in range(30)]
    # Then the first four are told the password is wrong, and from the fifth on the login is
    # locked (HTTP 429, in Chinese)
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert all(WRONG_ZH in a.content.decode() for a in answers[:4])
    assert {a.status_code for a in answers[4:]} == {429}
    assert LOCKED_ZH in answers[-1].content.decode()
    assert answers[-1]["Retry-After"] == "1800"
    # When mallory tries the right password at last
    response = log_in(mallory, "alice", PASSWORD)
    # Then it is refused like the others and nobody is logged in
    assert response.status_code == 429 and LOCKED_ZH in response.content.decode()
    assert logged_in_as(mallory) is None
    # And alice herself, at another machine, is refused too while the lock lasts: the lock is
    # on her username, from any address
    alice_machine = machine(ALICE_ADDRESS)
    page = log_in(alice_machine, "alice", PASSWORD)
    assert page.status_code == 429
    body = page.content.decode()
    assert '<html lang="zh-hans">' in body and LOCKED_ZH in body and "联系管理员" in body
    assert logged_in_as(alice_machine) is None


def test_the_lockout_page_speaks_english_to_an_english_user(alice):
    # Given alice's username is locked after five wrong passwords
    mallory = machine(MALLORY_ADDRESS)
    for n in range(5):
        log_in(mallory, "alice", f"guess-{n}")
    # When alice, who uses the English UI, logs in with the right password
    alice_machine = machine(ALICE_ADDRESS)
    switch_to_english(alice_machine, reverse("login"))
    response = log_in(alice_machine, "alice", PASSWORD)
    # Then she is told in English why
    body = response.content.decode()
    assert response.status_code == 429
    assert '<html lang="en">' in body and LOCKED_EN in body
    assert "登录" not in body.split("<body>", 1)[1].split('<select id="lang-select"')[0]


def test_the_admin_login_locks_out_the_same_way(admin_user):
    # Given mallory guessing the administrator's password on the admin login page
    mallory = machine(MALLORY_ADDRESS)
    admin_login = reverse("admin:login")
    answers = [log_in(mallory, "admin", f"guess-{n}", url=admin_login) for n in range(30)]
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert {a.status_code for a in answers[4:]} == {429}
    # When the administrator then types the right password there, from another machine
    admin_machine = machine(ALICE_ADDRESS)
    response = log_in(admin_machine, "admin", "password", url=admin_login)
    # Then it is refused with the Chinese lockout page, and the admin stays closed
    assert response.status_code == 429 and LOCKED_ZH in response.content.decode()
    assert admin_machine.get(reverse("admin:index")).status_code == 302


def test_an_administrator_releases_the_lock_in_the_admin(alice, admin_client):
    # Given alice is locked out by mallory's guesses
    mallory = machine(MALLORY_ADDRESS)
    for n in range(30):
        log_in(mallory, "alice", f"guess-{n}")
    alice_machine = machine(ALICE_ADDRESS)
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 429
    # When an administrator opens 登录保护 → access attempts in the admin
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "登录保护" in index
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist, {"q": "alice"})
    assert page.status_code == 200
    attempts = list(page.context["cl"].queryset)
    assert [(a.username, a.ip_address) for a in attempts] == [("alice", MALLORY_ADDRESS)]
    assert attempts[0].failures_since_start == 5  # refused tries while locked are not counted
    # and deletes alice's attempts
    response = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302
    # Then alice logs in with her password
    response = log_in(alice_machine, "alice", PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(alice_machine) == "alice"


def test_a_lock_record_is_named_in_the_administrators_language(alice, admin_client):
    # Given alice locked out by mallory's guesses
    mallory = machine(MALLORY_ADDRESS)
    for n in range(6):
        log_in(mallory, "alice", f"guess-{n}")
    from axes.models import AccessAttempt, AccessLog

    attempt = AccessAttempt.objects.get(username="alice")
    # When an administrator opens the record in the admin, in Chinese and then in English
    url = reverse("admin:axes_accessattempt_change", args=[attempt.pk])
    chinese = admin_client.get(url).content.decode()
    switch_to_english(admin_client, url)
    english = admin_client.get(url).content.decode()
    # Then its title is in each language (axes writes it in English, unmarked, by itself)
    when = timezone.localtime(attempt.attempt_time).strftime("%Y-%m-%d %H:%M:%S")
    assert f"登录尝试:{when}" in chinese and "Attempted Access" not in chinese
    assert f"Attempted access: {when}" in english
    # and so do the failure and access log records (written when those logs are on)
    from axes.models import AccessFailureLog

    failure = AccessFailureLog(
        username="alice",
        ip_address=MALLORY_ADDRESS,
        attempt_time=attempt.attempt_time,
        locked_out=True,
    )
    log = AccessLog(username="alice", attempt_time=attempt.attempt_time)
    with translation.override("zh-hans"):
        assert str(failure) == f"登录失败:alice(已锁定),{when},来自 {MALLORY_ADDRESS}"
        assert str(log) == f"alice 的登录记录:{when}"
    with translation.override("en"):
        assert str(failure) == f"Failed access: alice (locked out) on {when} from {MALLORY_ADDRESS}"
        assert str(log) == f"Access log for alice: {when}"


def test_axes_reset_command_releases_a_username(alice):
    # Given alice is locked out
    mallory = machine(MALLORY_ADDRESS)
    for n in range(5):
        log_in(mallory, "alice", f"guess-{n}")
    alice_machine = machine(ALICE_ADDRESS)
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 429
    # When an operator runs axes' reset for her username
    call_command("axes_reset_username", "alice")
    # Then she logs in
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 302
    assert logged_in_as(alice_machine) == "alice"


def test_an_address_spraying_many_usernames_is_locked_out(alice, carol):
    # Given mallory's machine trying one password on each of twenty usernames (none five times)
    mallory = machine(MALLORY_ADDRESS)
    names = ["alice", "bob", "dave", "eve", "admin"] + [f"user{n}" for n in range(15)]
    answers = [log_in(mallory, name, "Winter2026!") for name in names]
    assert [a.status_code for a in answers[:19]] == [200] * 19
    assert answers[19].status_code == 429
    # When carol's right password is typed at that machine
    response = log_in(mallory, "carol", PASSWORD)
    # Then the address is locked for every username
    assert response.status_code == 429 and LOCKED_ZH in response.content.decode()
    assert logged_in_as(mallory) is None
    # But carol and alice at their own machines log in: their usernames took one failure each
    carol_machine = machine("198.51.100.20")
    assert log_in(carol_machine, "carol", PASSWORD).status_code == 302
    alice_machine = machine(ALICE_ADDRESS)
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 302
    assert logged_in_as(alice_machine) == "alice"


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings, carol):
    # Given rectify behind one nginx: every request comes from 127.0.0.1, and nginx appends
    # the real client address to X-Forwarded-For (what the client sent stays to its left)
    settings.TRUSTED_PROXIES = 1
    proxied = Client(REMOTE_ADDR="127.0.0.1")

    def through_nginx(name, password, client_address, forged="10.9.9.9"):
        return proxied.post(
            reverse("login"),
            {"username": name, "password": password},
            HTTP_X_FORWARDED_FOR=f"{forged}, {client_address}",
        )

    # When mallory sprays twenty usernames, forging a new X-Forwarded-For each time
    for n in range(20):
        through_nginx(f"user{n}", "x", MALLORY_ADDRESS, forged=f"10.0.0.{n}")
    # Then her address is locked, and carol behind the same proxy is not
    assert through_nginx("carol", PASSWORD, MALLORY_ADDRESS).status_code == 429
    assert through_nginx("carol", PASSWORD, "198.51.100.20").status_code == 302


def test_the_lock_ends_thirty_minutes_after_the_last_counted_failure(alice):
    start = timezone.now()
    mallory = machine(MALLORY_ADDRESS)
    alice_machine = machine(ALICE_ADDRESS)
    with time_machine.travel(start, tick=False) as clock:
        # Given alice locked out by five wrong passwords
        for n in range(5):
            log_in(mallory, "alice", f"guess-{n}")
        # When mallory keeps trying 20 minutes later (refused, and not counted)
        clock.move_to(start + datetime.timedelta(minutes=20))
        assert log_in(mallory, "alice", "guess-again").status_code == 429
        # Then 29 minutes after the fifth failure alice is still locked out
        clock.move_to(start + datetime.timedelta(minutes=29))
        assert log_in(alice_machine, "alice", PASSWORD).status_code == 429
        # and 31 minutes after it she logs in
        clock.move_to(start + datetime.timedelta(minutes=31))
        assert log_in(alice_machine, "alice", PASSWORD).status_code == 302


def test_a_successful_login_forgives_earlier_typos(alice):
    # Given alice mistypes her password four times, then gets it right
    alice_machine = machine(ALICE_ADDRESS)
    for n in range(4):
        assert log_in(alice_machine, "alice", f"typo-{n}").status_code == 200
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 302
    alice_machine.post(reverse("logout"))
    # When she mistypes it four more times that same half hour
    for n in range(4):
        assert log_in(alice_machine, "alice", f"typo-again-{n}").status_code == 200
    # Then she is not locked out: the successful login cleared her count
    assert log_in(alice_machine, "alice", PASSWORD).status_code == 302


def test_password_rules_are_explained_in_chinese(alice):
    # Given alice changing her password
    client = machine(ALICE_ADDRESS)
    client.force_login(alice)
    # When she picks one that is short, common and all digits
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "123456", "new_password2": "123456"},
    )
    # Then every rule it breaks is explained in Chinese
    body = response.content.decode()
    assert response.status_code == 200
    assert "密码太短,至少需要 8 个字符。" in body
    assert "这个密码太常见了。" in body and "密码只包含数字。" in body
    assert "too short" not in body and "This password" not in body
    # and a password too close to her username is refused too
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "alice2026", "new_password2": "alice2026"},
    )
    assert "太相似" in response.content.decode()
    assert get_user_model().objects.get(pk=alice.pk).check_password(PASSWORD)
