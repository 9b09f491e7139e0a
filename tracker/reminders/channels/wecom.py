"""企业微信 group robot: ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`` with a
markdown message; the content may be at most 4096 bytes."""

from __future__ import annotations

from tracker.reminders.channels.http import Message, check_errcode, post_json, truncate_utf8

MAX_BYTES = 4096


def payload(message: Message) -> dict:
    content = truncate_utf8(f"### {message.title}\n{message.text}", MAX_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def send(channel, message: Message, *, timeout: float) -> None:
    check_errcode(post_json(channel.url, payload(message), timeout=timeout))
