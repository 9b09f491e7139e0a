"""Small typed helpers that read settings from the environment.

Each helper names the variable in its error so a wrong value is easy to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingError(ValueError):
    """A setting read from the environment has a value that cannot be used."""


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "", environ).strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    raw = env_str(name, "", environ).strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not an integer") from None


def env_float(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    raw = env_str(name, "", environ).strip()
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number") from None


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    raw = env_str(name, "", environ)
    if raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time(name: str, default: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """Read a wall-clock time "HH:MM" and return (hour, minute)."""
    raw = env_str(name, default, environ).strip()
    try:
        hour_text, minute_text = raw.split(":")
        hour, minute = int(hour_text), int(minute_text)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a time like 08:30") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise SettingError(f"{name}={raw!r} is not a time like 08:30")
    return hour, minute


def env_time_range(
    name: str, default: str, environ: Mapping[str, str] | None = None
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Read a wall-clock range "HH:MM-HH:MM" (it may pass midnight, "22:00-08:00"); an empty
    value, "off" or a range that starts where it ends means no range (None)."""
    raw = env_str(name, default, environ).strip()
    if raw.lower() in {"", "off", "none", "no"}:
        return None
    start, sep, end = raw.partition("-")
    if not sep:
        raise SettingError(f"{name}={raw!r} is not a range like 22:00-08:00")
    try:
        first = env_time(name, "", {name: start.strip()})
        last = env_time(name, "", {name: end.strip()})
    except SettingError:
        raise SettingError(f"{name}={raw!r} is not a range like 22:00-08:00") from None
    return None if first == last else (first, last)
