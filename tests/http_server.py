"""A real HTTP server for channel tests: http.server on a free localhost port in a thread,
recording every request it received and answering as a 企业微信 / 钉钉 robot or a webhook would.

It can be told to answer some requests first with given statuses and bodies (a 502, a 404, a
200 with an errcode), to be slow (so a sender can be killed mid-batch), and to check 钉钉's
signature (``timestamp`` + ``sign`` in the query) with a secret the way the robot does: a wrong
one is answered ``{"errcode": 310000, "errmsg": "sign not match"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK = (200, {"errcode": 0, "errmsg": "ok"})


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    answered: int = 0  # the status code it got
    reply: bytes = b""
    signed: bool | None = None  # with a 钉钉 secret: whether the signature checked out

    @property
    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Robot:
    """What the server does: scripted answers first, then OK; optional signature checks."""

    answers: deque = field(default_factory=deque)  # (status, body dict or bytes)
    dingtalk_secret: str = ""
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> tuple[int, bytes]:
        with self.lock:
            scripted = self.answers.popleft() if self.answers else None
        if self.dingtalk_secret:
            request.signed = self.signed_right(request)
        if scripted is None and request.signed is False:
            scripted = (200, {"errcode": 310000, "errmsg": "sign not match"})
        status, body = scripted or OK
        return status, body if isinstance(body, bytes) else json.dumps(body).encode()

    def signed_right(self, request: Request) -> bool:
        """钉钉's check: sign == base64(HMAC-SHA256(secret, "timestamp\\nsecret")), fresh."""
        timestamp = request.query.get("timestamp", "")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
            return False
        expected = base64.b64encode(
            hmac.new(
                self.dingtalk_secret.encode(),
                f"{timestamp}\n{self.dingtalk_secret}".encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        return hmac.compare_digest(request.query.get("sign", ""), expected)


class _Handler(BaseHTTPRequestHandler):
    robot: Robot

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        if self.server.robot.delay:
            # Slow before the body is read, like a slow SMTP server before DATA: a sender killed
            # meanwhile has not delivered its message (nothing is recorded for it).
            time.sleep(self.server.robot.delay)
        parts = urllib.parse.urlsplit(self.path)
        request = Request(
            path=parts.path,
            query=dict(urllib.parse.parse_qsl(parts.query)),
            headers=self.headers,  # case-insensitive, as HTTP header names are
            body=self.rfile.read(length),
        )
        if len(request.body) < length:  # the sender died mid-request
            return
        status, body = self.server.robot.answer(request)
        request.answered = status
        request.reply = body
        with self.server.robot.lock:
            self.server.robot.requests.append(request)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 — quiet in test output
        pass


class HTTPServer:
    """``with HTTPServer(Robot()) as server: server.url("/robot/send?access_token=t")``"""

    def __init__(self, robot: Robot | None = None) -> None:
        self.robot = robot or Robot()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.robot = self.robot
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> HTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
