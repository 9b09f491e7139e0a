"""Reminders through the real machinery: Redis as the broker, a real Celery worker process, a
real SMTP server. The worker reads the test database, so these tests commit their rows
(``transaction=True``), and they count what the SMTP server received.

Redis: ``REDIS_URL_FOR_TESTS`` (default ``redis://127.0.0.1:6379/14``); only that database is
flushed (under pytest-xdist, each worker's own: ``_for_this_process``).
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.contrib.auth import get_user_model
from django.db import connection

from tests import factories
from tests.smtp_server import Handler, SMTPServer
from tracker.choices import UnitRole
from tracker.models import Membership, ReminderDigest, local_today
from tracker.models.reminders import DeliveryState

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def _for_this_process(url: str) -> str:
    """The Redis database of this test process: under pytest-xdist each worker (gw0 … gw3)
    takes its own pair among databases 8–15 (an even one, and the next for the ledger jobs'
    worker: tests/test_ledger_jobs.py), since the reminder tests flush theirs at the start and
    end of each test; run alone, the database asked for."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base, _sep, db = url.rpartition("/")
    if not worker.startswith("gw") or not worker[2:].isdigit() or not db.isdigit():
        return url
    pair = (max(int(db), 8) - 8) // 2
    return f"{base}/{8 + 2 * ((pair + int(worker[2:])) % 4)}"


BROKER = _for_this_process(os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/14"))


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    app = Celery("rectify-test-client", broker=BROKER)
    yield app
    app.close()
    client.flushdb()


class Worker:
    """A `celery -A rectify worker` subprocess on the test database and the test SMTP server."""

    def __init__(self, smtp: SMTPServer, tmp_path: Path, queue: str | None = None, **env: str):
        db = connection.settings_dict
        self.queue = queue  # consume only this queue (default: Celery's "celery")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "rectify.settings",
            "SECRET_KEY": "celery-test-worker",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": BROKER,
            "RECTIFY_VAR_DIR": str(tmp_path),
            "REMINDER_LEASE_SECONDS": "3",
            "REMINDER_RETRY_SECONDS": "1",
            **smtp.env(),
            **env,
        }
        self.log = tmp_path / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "rectify",
                "worker",
                "--concurrency=2",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"reminders-{time.monotonic_ns()}@%h",
                *(["-Q", self.queue] if self.queue else []),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the pool with it
        )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: no warm shutdown, no ack, no cleanup."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(smtp: SMTPServer, **env: str) -> Worker:
        worker = Worker(smtp, tmp_path, **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def clerks_with_overdue_tasks(n: int) -> list[str]:
    """n units, each with one clerk and one overdue task; returns the clerks' addresses."""
    org = factories.make_org()
    inspection = factories.make_inspection(org)
    user_model = get_user_model()
    addresses = []
    for i in range(n):
        unit = factories.make_unit(org, f"单位{i}", "")
        user = user_model.objects.create_user(username=f"clerk{i}", email=f"clerk{i}@example.org")
        Membership.objects.create(user=user, unit=unit, role=UnitRole.CLERK)
        factories.make_task(
            inspection, owner=unit, deadline=local_today() - datetime.timedelta(days=3)
        )
        addresses.append(user.email)
    return addresses


def all_sent() -> bool:
    states = set(ReminderDigest.objects.values_list("state", flat=True))
    return states == {DeliveryState.SENT}


def test_beat_firing_twice_with_two_worker_processes_sends_each_digest_once(broker, workers):
    # Given six clerks with an overdue task each
    clerks = clerks_with_overdue_tasks(6)
    with SMTPServer() as smtp:
        workers(smtp, REMINDER_BATCH_SIZE="2")
        # When beat fires the daily sweep twice (both run at once on the two pool processes)
        broker.send_task("tracker.tasks.daily_sweep")
        broker.send_task("tracker.tasks.daily_sweep")
        wait_for(lambda: len(smtp.handler.received) >= 6 and all_sent(), what="six digests")
        time.sleep(2)  # give any duplicate the time to arrive
    # Then the SMTP server received exactly one digest per clerk
    assert smtp.handler.per_recipient() == dict.fromkeys(clerks, 1)


def test_a_worker_killed_mid_batch_and_restarted_sends_each_message_exactly_once(broker, workers):
    # Given eight clerks, and an SMTP server slow enough (0.4 s per recipient) to kill the
    # worker while it is half-way through its batch
    clerks = clerks_with_overdue_tasks(8)
    handler = Handler(rcpt_delay=0.4)
    with SMTPServer(handler) as smtp:
        worker = workers(smtp, REMINDER_BATCH_SIZE="8")
        broker.send_task("tracker.tasks.daily_sweep")
        wait_for(lambda: len(handler.received) >= 2, what="the batch to start")
        # When the worker is killed outright (SIGKILL: no acknowledgement, no cleanup)
        worker.kill()
        assert len(handler.received) < 8
        # it leaves claims taken and not finished
        assert ReminderDigest.objects.filter(state=DeliveryState.SENDING).exists()
        # and a new worker starts; the dead worker's leases (3 s here, 15 min by default) run out
        workers(smtp, REMINDER_BATCH_SIZE="8")
        time.sleep(3.5)
        # Then the next (hourly catch-up) run finishes the batch
        broker.send_task("tracker.tasks.catch_up_sweep", args=[local_today().isoformat()])
        wait_for(lambda: all_sent(), what="every digest sent")
        time.sleep(1.5)
    # and every clerk received exactly one email: none lost, none twice
    assert handler.per_recipient() == dict.fromkeys(clerks, 1)


def test_smtp_refusing_temporarily_then_accepting_through_the_worker(broker, workers):
    clerks = clerks_with_overdue_tasks(3)
    handler = Handler(temp_failures=2)
    with SMTPServer(handler) as smtp:
        workers(smtp, REMINDER_BATCH_SIZE="10", REMINDER_RETRY_SECONDS="1")
        broker.send_task("tracker.tasks.daily_sweep")
        wait_for(
            lambda: ReminderDigest.objects.filter(state=DeliveryState.SENT).count() == 1,
            what="the one digest the server accepted",
        )
        retrying = ReminderDigest.objects.filter(state=DeliveryState.PENDING)
        assert retrying.count() == 2
        assert all("451" in d.last_error for d in retrying)
        time.sleep(1.2)  # the one-second backoff
        broker.send_task("tracker.tasks.catch_up_sweep", args=[local_today().isoformat()])
        wait_for(all_sent, what="the retried digests")
        time.sleep(1)
    assert handler.per_recipient() == dict.fromkeys(clerks, 1)


def test_a_temporary_failure_is_sent_when_its_backoff_is_due_with_no_catch_up_run(broker, workers):
    # Given three clerks, and an SMTP server that refuses the first two messages for now (451)
    clerks = clerks_with_overdue_tasks(3)
    handler = Handler(temp_failures=2)
    with SMTPServer(handler) as smtp:
        workers(smtp, REMINDER_BATCH_SIZE="10", REMINDER_RETRY_SECONDS="1")
        # When only the daily sweep runs (no hourly catch-up, no second sweep)
        broker.send_task("tracker.tasks.daily_sweep")
        # Then the worker sends the refused digests itself once their one-second backoff is
        # due: the sender queued itself again for that moment
        wait_for(all_sent, timeout=30, what="the retried digests, with no catch-up run")
        time.sleep(1)
    assert handler.per_recipient() == dict.fromkeys(clerks, 1)
    # the two refused ones on their second attempt
    assert sorted(ReminderDigest.objects.values_list("attempts", flat=True)) == [1, 2, 2]
