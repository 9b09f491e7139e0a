"""Posting a message to a robot or webhook, and what its answer means.

Standard library only (``urllib.request``): a reminder is one small JSON POST. The answer sorts
into three: accepted; refused for good (4xx, or a 200 whose JSON carries a vendor ``errcode``
other than 0, as 企业微信 and 钉钉 answer a bad key, a wrong signature or a malformed message);
or worth trying again (5xx, 408/429, a timeout, a refused or dropped connection).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

# Vendor errcodes that mean "too many messages, slow down", not "this message is wrong":
# 企业微信 45009 (接口调用超过限制), 钉钉 130101 (send too fast).
RATE_LIMIT_ERRCODES = {45009, 130101}


class ChannelError(Exception):
    """A channel did not take a message; ``permanent`` when sending it again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One reminder as channels carry it: a title and a markdown text, and for webhooks the
    structured items and who it is for."""

    title: str
    text: str
    kind: str = "daily"
    day: str = ""
    audience: dict = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)


def post_json(
    url: str, payload: dict, *, timeout: float, headers: dict[str, str] | None = None
) -> bytes:
    """POST ``payload`` as UTF-8 JSON to ``url`` and return the reply body of a 2xx answer;
    any other outcome raises ``ChannelError``."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return post_bytes(url, body, timeout=timeout, headers=headers)


def post_bytes(
    url: str, body: bytes, *, timeout: float, headers: dict[str, str] | None = None
) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise ChannelError(f"not an http(s) address: {url[:60]}", permanent=True)
    request = urllib.request.Request(  # noqa: S310 — the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "rectify-reminders/1",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read(1 << 16)
    except urllib.error.HTTPError as error:
        detail = error.read(300).decode("utf-8", "replace")
        permanent = 400 <= error.code < 500 and error.code not in {408, 429}
        raise ChannelError(f"HTTP {error.code}: {detail}", permanent=permanent) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ChannelError(f"{type(error).__name__}: {reason}", permanent=False) from None


def check_errcode(reply: bytes) -> None:
    """The 200 reply of 企业微信 and 钉钉 robots: ``{"errcode": 0, "errmsg": "ok"}`` when the
    message was taken. A reply that is not such JSON (a proxy's page) is tried again."""
    try:
        data = json.loads(reply.decode("utf-8"))
        code = int(data.get("errcode", 0))
    except (ValueError, AttributeError, TypeError):
        raise ChannelError(f"unexpected reply: {reply[:200]!r}", permanent=False) from None
    if code != 0:
        message = f"errcode {code}: {data.get('errmsg', '')}"[:500]
        raise ChannelError(message, permanent=code not in RATE_LIMIT_ERRCODES)


def truncate_utf8(text: str, limit: int, tail: str = "\n\n……") -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (robots refuse longer messages)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    cut = raw[: limit - len(tail.encode("utf-8"))].decode("utf-8", "ignore")
    return cut + tail
