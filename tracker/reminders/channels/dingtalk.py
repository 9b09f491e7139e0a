"""钉钉 group robot: ``POST https://oapi.dingtalk.com/robot/send?access_token=…`` with a markdown
message. With the robot's 加签 security setting the address also carries ``timestamp`` (ms) and
``sign``: base64 of HMAC-SHA256 over "timestamp\\nsecret" keyed with the secret, URL-encoded;
the robot refuses a timestamp more than an hour off."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from tracker.reminders.channels.http import Message, check_errcode, post_json, truncate_utf8

MAX_BYTES = 18000  # the robot takes about 20,000 bytes


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` parameter for ``timestamp_ms``, already URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def payload(message: Message) -> dict:
    text = truncate_utf8(f"### {message.title}\n\n{message.text}", MAX_BYTES)
    return {"msgtype": "markdown", "markdown": {"title": message.title[:60], "text": text}}


def send(channel, message: Message, *, timeout: float) -> None:
    url = signed_url(channel.url, channel.secret)
    check_errcode(post_json(url, payload(message), timeout=timeout))
