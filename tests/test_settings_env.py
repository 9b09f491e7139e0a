"""Settings parsing: typed helpers name the variable in their errors."""

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


def _settings_in_child(extra: dict) -> dict:
    """Import the real settings in a fresh interpreter with only ``extra`` in the environment
    and return the database options and cache backend they produce."""
    import json
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", **extra}
    code = (
        "import json, rectify.settings as s;"
        "print(json.dumps({'options': s.DATABASES['default'].get('OPTIONS', {}),"
        "'cache': s.CACHES['default']['BACKEND'], 'location': s.CACHES['default'].get('LOCATION'),"
        "'sessions': s.SESSION_ENGINE}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_uses_prepared_statements_unless_turned_off():
    url = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/db"}
    assert _settings_in_child(url)["options"] == {
        "server_side_binding": True,
        "prepare_threshold": 2,
    }
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
