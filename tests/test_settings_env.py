"""Settings parsing: typed helpers name the variable in their errors."""

import re

import pytest

from rectify.env import SettingError, env_bool, env_int, env_list, env_str, env_time


def test_defaults_apply_when_unset_or_empty():
    assert env_str("X", "d", {}) == "d"
    assert env_str("X", "d", {"X": ""}) == "d"
    assert env_int("X", 5, {}) == 5
    assert env_bool("X", True, {}) is True
    assert env_list("X", ["a"], {}) == ["a"]


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("OFF", False), ("false", False)]
)
def test_booleans(raw, value):
    assert env_bool("DEBUG", False, {"DEBUG": raw}) is value


def test_lists_are_comma_separated():
    assert env_list("ALLOWED_HOSTS", [], {"ALLOWED_HOSTS": "a.cn, b.cn,"}) == ["a.cn", "b.cn"]


def test_times():
    assert env_time("T", "08:00", {"T": "19:05"}) == (19, 5)


@pytest.mark.parametrize(
    ("helper", "raw"),
    [(env_int, "ten"), (env_bool, "maybe"), (env_time, "25:00"), (env_time, "noon")],
)
def test_bad_values_name_the_variable(helper, raw):
    default = "08:00" if helper is env_time else 0
    with pytest.raises(SettingError, match="RECTIFY_X"):
        helper("RECTIFY_X", default, {"RECTIFY_X": raw})


def test_production_settings_refuse_to_start_without_a_secret_key():
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "rectify.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_ui_is_chinese_in_shanghai_time(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert "en" in dict(settings.LANGUAGES)


def _in_child(code: str, env: dict) -> str:
    """The last line ``code`` prints, run in a fresh interpreter with only ``env`` (and PATH)
    in its environment."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _settings_in_child(extra: dict) -> dict:
    """Import the real settings in a fresh interpreter with only ``extra`` in the environment
    and return the database options and cache backend they produce."""
    import json

    code = (
        "import json, rectify.settings as s;"
        "print(json.dumps({'options': s.DATABASES['default'].get('OPTIONS', {}),"
        "'cache': s.CACHES['default']['BACKEND'], 'location': s.CACHES['default'].get('LOCATION'),"
        "'sessions': s.SESSION_ENGINE}))"
    )
    return json.loads(_in_child(code, {"DEBUG": "true", **extra}))


def test_postgresql_uses_prepared_statements_unless_turned_off():
    url = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/db"}
    on = _settings_in_child(url)["options"]
    assert on["server_side_binding"] is True and on["prepare_threshold"] == 2
    off = _settings_in_child({**url, "DB_PREPARED_STATEMENTS": "false"})["options"]
    assert "server_side_binding" not in off


def test_the_cache_follows_cache_url_then_redis_url():
    assert _settings_in_child({"CACHE_URL": "locmem://"})["cache"].endswith("LocMemCache")
    redis = _settings_in_child({"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert redis["cache"].endswith("RedisCache") and redis["location"] == "redis://127.0.0.1:6379/3"
    files = _settings_in_child({"RECTIFY_VAR_DIR": "/tmp/rectify-x"})
    assert files["cache"].endswith("FileBasedCache") and files["location"] == "/tmp/rectify-x/cache"


def test_sessions_are_cached_only_in_a_cache_every_worker_shares():
    assert _settings_in_child({})["sessions"].endswith("cached_db")
    assert _settings_in_child({"REDIS_URL": "redis://127.0.0.1:6379/3"})["sessions"].endswith(
        "cached_db"
    )
    assert _settings_in_child({"CACHE_URL": "locmem://"})["sessions"].endswith("backends.db")


# --- production: HTTPS and login throttling ----------------------------------------------------

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-4Jx9Qm2vL7pRt8wZk3Nb6Hc1Df5gSa0eUo7iYq2Tx9Wl4Pz8Rn",
    "ALLOWED_HOSTS": "rectify.example.org",
    "DATABASE_URL": "postgres://rectify@127.0.0.1:5432/rectify",
}


def _child_env(extra: dict, tmp_path) -> dict:
    return {"PATH": "/usr/bin:/bin", "RECTIFY_VAR_DIR": str(tmp_path), **extra}


def _values_in_child(extra: dict, names: list[str], tmp_path) -> dict:
    """The named settings as the real settings module computes them from ``extra`` alone."""
    import json
    import subprocess
    import sys

    code = (
        "import json, rectify.settings as s;"
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_child_env(extra, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _deploy_check(extra: dict, tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=_child_env(extra, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_without_a_warning(tmp_path):
    # Given only what production must set: DEBUG off, a real key, the host name
    result = _deploy_check(PRODUCTION, tmp_path)
    # Then Django's deployment check has nothing to say
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "?:" not in output, output
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "check"),
    [("SECURE_SSL_REDIRECT", "security.W008"), ("SECURE_HSTS_SECONDS", "security.W004")],
)
def test_the_deploy_check_still_speaks_up_when_https_is_turned_off(tmp_path, variable, check):
    # The check above passes because the settings are right, not because it is muted.
    off = "false" if variable == "SECURE_SSL_REDIRECT" else "0"
    result = _deploy_check({**PRODUCTION, variable: off}, tmp_path)
    assert result.returncode != 0
    assert check in result.stdout + result.stderr


HTTPS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "TRUSTED_PROXIES",
]


def test_production_redirects_to_https_and_sends_hsts(tmp_path):
    values = _values_in_child(PRODUCTION, HTTPS, tmp_path)
    assert values["SECURE_SSL_REDIRECT"] is True and values["SESSION_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # the domain owner's decision
    assert values["SECURE_PROXY_SSL_HEADER"] is None and values["TRUSTED_PROXIES"] == 0


def test_make_run_on_plain_http_neither_redirects_nor_sends_hsts(tmp_path):
    # make run: DEBUG=true on http://127.0.0.1:8000
    values = _values_in_child({"DEBUG": "true"}, HTTPS, tmp_path)
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False


def test_behind_nginx_the_forwarded_protocol_and_address_are_trusted(tmp_path):
    values = _values_in_child({**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "true"}, HTTPS, tmp_path)
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXIES"] == 1  # nginx appends the client to X-Forwarded-For
    two_hops = {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "true", "TRUSTED_PROXIES": "2"}
    assert _values_in_child(two_hops, ["TRUSTED_PROXIES"], tmp_path)["TRUSTED_PROXIES"] == 2


def test_login_limits_come_from_the_environment(tmp_path):
    names = ["AXES_FAILURE_LIMIT", "LOGIN_ADDRESS_FAILURE_LIMIT", "AXES_COOLOFF_TIME"]
    defaults = _values_in_child({"DEBUG": "true"}, names, tmp_path)
    assert defaults == {
        "AXES_FAILURE_LIMIT": 5,
        "LOGIN_ADDRESS_FAILURE_LIMIT": 20,
        "AXES_COOLOFF_TIME": "0:30:00",
    }
    custom = {
        "DEBUG": "true",
        "LOGIN_FAILURE_LIMIT": "3",
        "LOGIN_ADDRESS_FAILURE_LIMIT": "50",
        "LOGIN_COOLOFF_MINUTES": "0",  # until an administrator releases it
    }
    assert _values_in_child(custom, names, tmp_path) == {
        "AXES_FAILURE_LIMIT": 3,
        "LOGIN_ADDRESS_FAILURE_LIMIT": 50,
        "AXES_COOLOFF_TIME": None,
    }


def test_a_login_limit_of_zero_is_refused(tmp_path):
    import subprocess
    import sys

    env = _child_env({"DEBUG": "true", "LOGIN_FAILURE_LIMIT": "0"}, tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import rectify.settings"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "LOGIN_FAILURE_LIMIT must be at least 1" in result.stderr


def test_every_variable_the_settings_read_is_in_a_readme_settings_table():
    """The README's tables of settings (| `NAME` | default | meaning |) name every variable
    rectify/settings.py reads through the env helpers: a new setting is documented or this
    fails."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    tree = ast.parse((root / "rectify" / "settings.py").read_text(encoding="utf-8"))
    read = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.startswith("env_")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    assert {"DEBUG", "SECRET_KEY", "REMINDER_RETRY_SECONDS"} <= read  # the reader found them
    rows = [
        line.split("|")[1]
        for line in (root / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    documented = {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}
    assert sorted(read - documented) == [], "add these to the README's settings table"


def test_a_web_worker_freezes_what_it_keeps_for_life(tmp_path):
    """Loading the WSGI application (as each gunicorn worker does) compiles the pages'
    templates and freezes the objects it keeps (``rectify.wsgi.settle``), so the garbage
    collector no longer walks them in the middle of a request."""
    env = {
        "SECRET_KEY": "test-only",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmem://",
    }
    code = (
        "import gc, rectify.wsgi\n"
        "from django.template import engines\n"
        "loader = engines['django'].engine.template_loaders[0]\n"
        "print(gc.get_freeze_count(), len(getattr(loader, 'get_template_cache', {})))\n"
    )
    frozen, compiled = map(int, _in_child(code, env).split())
    assert frozen > 50_000, frozen
    assert compiled >= 10, compiled  # the pages' templates, compiled before any request
