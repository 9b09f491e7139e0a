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


def env_int_list(
    name: str, default: str, count: int | None = None, environ: Mapping[str, str] | None = None
) -> list[int]:
    """Read comma-separated non-negative integers in ascending order ("7,14,30,60"), ``count``
    of them when given."""
    raw = env_str(name, "", environ).strip() or default
    try:
        values = [int(item) for item in raw.split(",") if item.strip()]
    except ValueError:
        raise SettingError(
            f"{name}={raw!r} is not a list of whole numbers like {default}"
        ) from None
    if count is not None and len(values) != count:
        raise SettingError(f"{name}={raw!r} must name {count} numbers, like {default}")
    if any(v < 0 for v in values) or values != sorted(values):
        raise SettingError(f"{name}={raw!r} must be non-negative and ascending, like {default}")
    return values


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


def env_weights(
    name: str, default: dict[str, float], environ: Mapping[str, str] | None = None
) -> dict[str, float]:
    """``rate=40,days=0.5``: numbers by name, each name one of ``default``'s; names not given
    keep their default."""
    raw = env_str(name, "", environ).strip()
    weights = dict(default)
    if raw == "":
        return weights
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in default:
            raise SettingError(
                f"{name}: {item.strip()!r} is not NAME=NUMBER with NAME one of {sorted(default)}"
            )
        try:
            weights[key] = float(value)
        except ValueError:
            raise SettingError(f"{name}: {value.strip()!r} is not a number") from None
        if weights[key] < 0:
            raise SettingError(f"{name}: {key} must not be negative")
    return weights
