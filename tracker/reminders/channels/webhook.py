"""A generic JSON webhook, for an OA system or a dashboard: the reminder as structured data.

Headers: ``X-Rectify-Delivery`` (the delivery id: the same id on a retry, so the receiver can
drop a duplicate) and, with a secret, ``X-Rectify-Signature: sha256=<hex HMAC-SHA256 of the
body keyed with the secret>``. Any 2xx answer is success; the body is not read.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tracker.reminders.channels.http import Message, post_bytes

SIGNATURE_HEADER = "X-Rectify-Signature"
DELIVERY_HEADER = "X-Rectify-Delivery"


def payload(message: Message) -> dict:
    return {
        "event": f"reminder.{message.kind}",
        "day": message.day,
        "audience": message.audience,
        "title": message.title,
        "text": message.text,
        "items": message.items,
    }


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send(channel, message: Message, *, timeout: float, delivery_id: int | None = None) -> None:
    body = json.dumps(payload(message), ensure_ascii=False, default=str).encode("utf-8")
    headers = {DELIVERY_HEADER: str(delivery_id or "")}
    if channel.secret:
        headers[SIGNATURE_HEADER] = signature(channel.secret, body)
    post_bytes(channel.url, body, timeout=timeout, headers=headers)
