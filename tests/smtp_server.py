"""A real SMTP server for tests: aiosmtpd on a free localhost port, recording what it accepted.

It can be told to refuse temporarily (4xx) for a number of messages, to refuse some recipients
permanently (5xx), or to be slow, so the fault tests exercise the real SMTP client code path.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        # Django folds a long UTF-8 subject onto a continuation line; the fold is not content.
        return str(self.message["Subject"]).strip()

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        return ""


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    temp_failures: int = 0  # refuse this many DATA commands with 451 first
    refuse: set[str] = field(default_factory=set)  # recipients refused with 550
    rcpt_delay: float = 0.0  # seconds to wait before answering each RCPT
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            time.sleep(self.rcpt_delay)  # block the loop: one slow server, like a real one
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.temp_failures > 0:
                self.temp_failures -= 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(Received([a.lower() for a in envelope.rcpt_tos], message))
        return "250 Message accepted"

    def per_recipient(self) -> Counter:
        return Counter(to for item in self.received for to in item.to)

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.to]


class SMTPServer:
    """Start with ``with SMTPServer() as smtp:``; ``smtp.port`` and ``smtp.handler``."""

    def __init__(self, handler: Handler | None = None):
        self.handler = handler or Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def settings(self) -> dict:
        """Django settings that send through this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 10,
        }

    def env(self) -> dict[str, str]:
        """The same as environment variables, for a worker subprocess."""
        return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(self.port)}
