"""Channel messages through the real machinery: Redis as the broker, real Celery worker
processes, a real HTTP server as each unit's OA webhook (see tests/test_celery_reminders.py for
the worker and broker fixtures).

HTTP leaves one window SMTP narrows to microseconds: a worker killed after its request reached
the server and before it read the answer has delivered that one message, and the next run,
finding it unmarked, posts it again. The webhook then carries the same ``X-Rectify-Delivery``
id, so the receiver can tell; robots of 企业微信 and 钉钉 offer no such key.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.http_server import HTTPServer, Robot
from tests.smtp_server import SMTPServer
from tests.test_celery_reminders import (  # noqa: F401 — fixtures
    broker,
    clerks_with_overdue_tasks,
    wait_for,
    workers,
)
from tracker.models import ChannelDelivery, ReminderChannel, Unit, local_today
from tracker.models.reminders import ChannelKind, DeliveryState

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ALWAYS = {"REMINDER_QUIET_HOURS": "off", "REMINDER_QUIET_NON_WORKDAYS": "false"}


def groups(server: HTTPServer) -> list[str]:
    """An OA webhook for every unit; returns their keys."""
    keys = []
    for unit in Unit.objects.order_by("pk"):
        key = f"key-{unit.pk}"
        ReminderChannel.objects.create(
            name=f"{unit.name}群",
            kind=ChannelKind.WEBHOOK,
            unit=unit,
            url=server.url(f"/oa/hook?key={key}"),
        )
        keys.append(key)
    return keys


def per_group(robot: Robot) -> Counter:
    """Distinct messages per group, told apart as the receiver would: by delivery id."""
    seen = {(r.query["key"], r.headers["X-Rectify-Delivery"]) for r in robot.requests}
    return Counter(key for key, _delivery in seen)


def all_posted() -> bool:
    return set(ChannelDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_worker_killed_mid_batch_posts_each_group_message_once_by_its_delivery_id(  # noqa: F811
    broker,  # noqa: F811
    workers,  # noqa: F811
):
    # Given eight units with an overdue task and a group robot each, and a robot slow enough
    # (0.4 s per message) to kill the worker half-way through its batch
    clerks_with_overdue_tasks(8)
    robot = Robot(delay=0.4)
    with SMTPServer() as smtp, HTTPServer(robot) as server:
        keys = groups(server)
        worker = workers(smtp, REMINDER_BATCH_SIZE="8", **ALWAYS)
        # When beat fires the daily sweep twice, and the worker is killed outright mid-batch
        broker.send_task("tracker.tasks.daily_sweep")
        broker.send_task("tracker.tasks.daily_sweep")
        wait_for(lambda: len(robot.requests) >= 2, what="the batch to start")
        worker.kill()
        assert len(robot.requests) < 8
        # and a new worker starts; the dead worker's leases (3 s here) run out
        workers(smtp, REMINDER_BATCH_SIZE="8", **ALWAYS)
        time.sleep(3.5)
        broker.send_task("tracker.tasks.catch_up_sweep", args=[local_today().isoformat()])
        wait_for(all_posted, what="every group message posted")
        time.sleep(1.5)  # give any duplicate the time to arrive
    # Then every group received exactly one message (by its delivery id): none lost, none twice;
    # at most the one in flight at the kill arrived a second time, with the same id
    assert per_group(robot) == dict.fromkeys(keys, 1)
    assert len(robot.requests) <= len(keys) + 1
