"""The reminders of ``make run``: SQLite, the file email backend, emails in var/mail/.

The rest of the suite runs on PostgreSQL; this story runs the real commands in subprocesses
against a fresh SQLite file, exactly as a new user's laptop does: ``manage.py migrate``, some
data, then ``manage.py send_reminders`` (twice at the same moment, as a beat catch-up racing a
manual run would), and reads the emails back from ``var/mail/``.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-02"

# The story's data: 财政局's clerk alice and lead bob, an overdue task and one due in five days.
SETUP = """
import datetime
from django.contrib.auth import get_user_model
from tests import factories
from tracker.choices import UnitRole
from tracker.models import Membership

org = factories.make_org()
finance = factories.make_unit(org, "财政局", "finance@example.org")
inspection = factories.make_inspection(org, feedback=datetime.date(2026, 9, 1))
for name, role in (("alice", UnitRole.CLERK), ("bob", UnitRole.LEAD)):
    user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org")
    Membership.objects.create(user=user, unit=finance, role=role)
day = datetime.date(2026, 11, 2)
factories.make_task(inspection, owner=finance, deadline=day - datetime.timedelta(days=3))
factories.make_task(inspection, owner=finance, deadline=day + datetime.timedelta(days=5))
"""


@pytest.fixture
def laptop(tmp_path):
    """The environment of ``make run`` with its var/ under a temporary folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DATABASE_URL", "CELERY_", "REDIS_URL", "CACHE_URL"))
        and key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "RECTIFY_VAR_DIR"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="rectify.settings",
        DEBUG="true",
        RECTIFY_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'rectify.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    return env, tmp_path


def manage(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(env: dict, *args: str) -> str:
    process = manage(env, *args)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"manage.py {' '.join(args)} failed:\n{out}\n{err}"
    return out


def mails(folder: Path) -> list[email.message.EmailMessage]:
    """Every message the file backend wrote (one file per connection, messages separated by
    a line of dashes)."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return found


def test_make_runs_sqlite_install_sends_the_reminders_into_var_mail(laptop):
    env, var = laptop
    # Given a fresh SQLite install with 财政局's tasks
    run(env, "migrate", "--noinput")
    run(env, "shell", "-c", SETUP)
    # When two sweeps of the same day run at the same moment
    senders = [manage(env, "send_reminders", "--date", DAY) for _ in range(2)]
    outputs = []
    for sender in senders:
        out, err = sender.communicate(timeout=120)
        assert sender.returncode == 0, f"send_reminders failed:\n{out}\n{err}"
        outputs.append(out)
    # Then the emails are in var/mail/: one per person, none twice
    received = mails(var / "mail")
    per_recipient = Counter(str(m["To"]) for m in received)
    assert per_recipient == {
        "alice@example.org": 1,
        "bob@example.org": 1,
        "finance@example.org": 1,
    }
    alice = next(m for m in received if str(m["To"]) == "alice@example.org")
    assert str(alice["Subject"]).strip() == "【逾期1项·即将到期1项】整改任务提醒"
    assert sum(int(out.rsplit("sent ", 1)[1].split(",")[0]) for out in outputs) == 3
    # and nothing is left claimed: every digest of the day was sent, and each task's timeline
    # has its reminder event
    states = run(
        env,
        "shell",
        "-c",
        "from tracker.models import ReminderDigest, TaskEvent;"
        "print(sorted(set(ReminderDigest.objects.values_list('state', flat=True))),"
        " TaskEvent.objects.filter(kind='reminder').count())",
    )
    assert states.strip().splitlines()[-1] == "['sent'] 2"


def test_make_runs_celery_worker_on_sqlite_writes_the_reminders_into_var_mail(laptop):
    """What ``make run`` starts beside the web server: a Celery worker on kombu's filesystem
    broker and the SQLite file; beat's hourly catch-up (sent here by hand) plans the day and
    queues the sending, and the worker writes the emails into var/mail/."""
    env, var = laptop
    run(env, "migrate", "--noinput")
    run(env, "shell", "-c", SETUP)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "rectify",
            "worker",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=(var / "celery.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # When beat's catch-up task for the day reaches the broker
        run(
            env,
            "shell",
            "-c",
            f"from tracker.tasks import catch_up_sweep; catch_up_sweep.delay({DAY!r})",
        )
        # Then the worker sends each person's digest into var/mail/, once
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(mails(var / "mail")) < 3:
            time.sleep(0.5)
        time.sleep(2)  # any duplicate has had the time to arrive
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    received = mails(var / "mail")
    log = (var / "celery.log").read_text(errors="replace")
    assert Counter(str(m["To"]) for m in received) == {
        "alice@example.org": 1,
        "bob@example.org": 1,
        "finance@example.org": 1,
    }, log[-3000:]
    assert "succeeded" in log and "Traceback" not in log, log[-3000:]
    # and the broker's exchange table is under var/ (kombu's default: control/ in the folder
    # the worker was started in, the repository root)
    assert (var / "broker" / "control" / "celery.exchange").exists()
