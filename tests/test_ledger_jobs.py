"""Large ledgers as background jobs (tracker.ledger_jobs): past LEDGER_SYNC_ROWS an export, an
upload's preview and its confirm each create a job for their user and answer with the job's
page; the job is its user's alone (404 for anyone else) and does exactly what the synchronous
request would.

The first tests run the job in this process (``ledger_jobs.run``, what the Celery task calls);
the last ones go through the real machinery: Redis as the broker, a real ``celery -A rectify
worker`` on the test database (the helpers of tests/test_celery_reminders.py).
"""

from __future__ import annotations

import csv
import io
import os

import pytest
import redis
from celery import _state as celery_state
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests import factories
from tests.test_celery_reminders import BROKER, Worker, wait_for
from tests.test_ledger import edit, export, sheet_rows, upload
from tracker import ledger_jobs
from tracker.choices import EventSource, TaskStatus
from tracker.models import LedgerJob, Task, TaskEvent


@pytest.fixture
def tasks(inspection, finance, planning):
    """tests/test_ledger.py's: two of 财政局 (the second closed), one of 规划局."""
    category = factories.make_category(inspection, "关于落实主体责任方面")
    return [
        factories.make_task(
            inspection, owner=finance, title="财政资金监管不到位", category=category
        ),
        factories.make_task(
            inspection, owner=finance, title="专项资金拨付滞后", status=TaskStatus.CLOSED
        ),
        factories.make_task(inspection, owner=planning, title="规划审批把关不严"),
    ]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def small_threshold(settings):
    settings.RECTIFY = {**settings.RECTIFY, "LEDGER_SYNC_ROWS": 1}


def sync_body(client, user, query: str) -> bytes:
    """The export as the request answers it below the threshold."""
    client.force_login(user)
    response = client.get(reverse("tracker:ledger_export") + "?" + query)
    assert response.status_code == 200
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def job_page(client, user, job: LedgerJob, name: str = "ledger_job"):
    client.force_login(user)
    return client.get(reverse(f"tracker:{name}", args=[job.pk]))


def download(client, user, job: LedgerJob) -> bytes:
    response = job_page(client, user, job, "ledger_job_download")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.django_db
class TestInProcess:
    def test_a_small_export_stays_synchronous(self, client, carol, tasks, media):
        assert sheet_rows(export(client, carol))[1][2] == "财政资金监管不到位"
        assert not LedgerJob.objects.exists()

    def test_a_large_export_becomes_a_job_for_its_user_only(
        self, client, carol, alice, tasks, media, small_threshold
    ):
        client.force_login(carol)
        response = client.get(reverse("tracker:ledger_export") + "?fmt=csv&status=in_progress")
        job = LedgerJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("tracker:ledger_job", args=[job.pk])
        assert (job.user, job.kind, job.status, job.total) == (carol, "export", "queued", 2)
        page = job_page(client, carol, job)
        assert '<meta http-equiv="refresh" content="2">' in page.content.decode()
        assert job_page(client, carol, job, "ledger_job_status").json()["status"] == "queued"
        for name in ("ledger_job", "ledger_job_status", "ledger_job_download"):
            assert job_page(client, alice, job, name).status_code == 404

        assert ledger_jobs.run(job.pk) == "done"
        assert ledger_jobs.run(job.pk) == "skipped"  # claimed once: a second run does nothing
        status = job_page(client, carol, job, "ledger_job_status").json()
        assert (status["status"], status["done"], status["total"]) == ("done", 2, 2)
        assert status["download"] == reverse("tracker:ledger_job_download", args=[job.pk])
        assert "refresh" not in job_page(client, carol, job).content.decode()
        assert job_page(client, alice, job, "ledger_job_download").status_code == 404
        body = download(client, carol, job)
        with self_threshold_high():
            assert body == sync_body(client, carol, "fmt=csv&status=in_progress")

    def test_the_worker_exports_the_users_scope_not_more(
        self, client, alice, tasks, media, small_threshold
    ):
        client.force_login(alice)
        client.get(reverse("tracker:ledger_export") + "?fmt=xlsx")
        job = LedgerJob.objects.get()
        ledger_jobs.run(job.pk)
        rows = sheet_rows(download(client, alice, job))
        assert [r[2] for r in rows[1:]] == ["财政资金监管不到位", "专项资金拨付滞后"]

    def test_a_new_export_deletes_the_users_previous_file(
        self, client, carol, tasks, media, small_threshold
    ):
        client.force_login(carol)
        client.get(reverse("tracker:ledger_export"))
        first = LedgerJob.objects.get()
        ledger_jobs.run(first.pk)
        path = ledger_jobs.result_file(LedgerJob.objects.get(pk=first.pk))
        assert path is not None and path.exists()
        client.get(reverse("tracker:ledger_export"))
        assert not path.exists()
        assert job_page(client, carol, first, "ledger_job_download").status_code == 404

    def test_a_large_upload_is_previewed_by_a_job_then_confirmed_through_the_actions(
        self, client, carol, tasks, planning, media, settings
    ):
        data = edit(export(client, carol), {(2, "整改状态"): "基本完成", (3, "整改时限"): "坏日期"})
        settings.RECTIFY = {**settings.RECTIFY, "LEDGER_SYNC_ROWS": 1}
        response = upload(client, carol, data, "大台账.xlsx")
        job = LedgerJob.objects.get()
        assert response["Location"] == reverse("tracker:ledger_job", args=[job.pk])
        assert (job.kind, job.total) == ("preview", 4)  # the sheet's dimension: 4 rows
        assert ledger_jobs.run(job.pk) == "done"
        response = job_page(client, carol, job)
        preview = response.context["preview"]
        assert preview.row_count == 3
        assert [(c.label, c.new) for c in preview.changed[0].changes] == [("整改状态", "基本完成")]
        assert "日期无法识别" in response.content.decode()
        assert "确认导入 1 项修改" in response.content.decode()
        assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.IN_PROGRESS

        response = client.post(
            reverse("tracker:ledger_confirm"), {"token": response.context["token"]}
        )
        apply_job = LedgerJob.objects.get(kind="apply")
        assert response["Location"] == reverse("tracker:ledger_job", args=[apply_job.pk])
        assert ledger_jobs.run(apply_job.pk) == "done"
        assert "已导入 1 项修改" in job_page(client, carol, apply_job).content.decode()
        assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.BASICALLY_COMPLETED
        event = TaskEvent.objects.get(source=EventSource.LEDGER)
        assert (event.actor, event.source_ref) == (carol, "ledger:大台账.xlsx")

    def test_a_job_applies_only_what_the_users_rules_allow(
        self, client, alice, tasks, media, settings
    ):
        # alice (clerk) may not move a deadline: the job's preview refuses it, as the request's.
        data = edit(export(client, alice), {(2, "整改时限"): "2027-01-01"})
        settings.RECTIFY = {**settings.RECTIFY, "LEDGER_SYNC_ROWS": 1}
        upload(client, alice, data)
        job = LedgerJob.objects.get()
        ledger_jobs.run(job.pk)
        preview = job_page(client, alice, job).context["preview"]
        assert preview.change_count == 0 and preview.refused_count == 1
        assert "整改时限只能由整改办修改" in preview.refused[0].refused[0].reason


def self_threshold_high():
    """Below the threshold again, for the synchronous comparison."""
    return override_settings(RECTIFY={**settings.RECTIFY, "LEDGER_SYNC_ROWS": 10**9})


# --- through Redis and a real Celery worker ------------------------------------------------


def _own_database(url: str) -> str:
    """The Redis database next to the reminder tests' (they flush theirs, and with it any queue
    and kombu binding in it, at the start and end of each test); this test flushes nothing."""
    base, _sep, db = url.rpartition("/")
    number = int(db) if db.isdigit() else 0
    return f"{base}/{number + 1 if number < 15 else number - 1}"


JOB_BROKER = os.environ.get("LEDGER_JOBS_REDIS_URL_FOR_TESTS", _own_database(BROKER))


class _NoMail:
    def env(self) -> dict:
        return {}


@pytest.fixture
def project_app():
    """The project's Celery app (what the view queues with) sending to a test Redis database of
    its own (JOB_BROKER), on a queue named for this process."""
    from rectify.celery import app

    queue = f"ledger-jobs-test-{os.getpid()}"
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_default_queue)

    def reset():
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    # A Celery app made since (the reminder tests' client) became the current one, which
    # shared tasks send through: the project's app is made current again for this test.
    previous = celery_state.get_current_app()
    reset()
    app.conf.broker_url, app.conf.broker_transport_options = JOB_BROKER, {}
    app.conf.task_default_queue = queue
    app.set_current()
    yield queue
    previous.set_current()
    reset()
    (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_default_queue) = saved
    client = redis.Redis.from_url(JOB_BROKER)
    client.delete(queue)
    client.close()


@pytest.fixture
def worker(tmp_path, project_app):
    started = Worker(_NoMail(), tmp_path, queue=project_app, CELERY_BROKER_URL=JOB_BROKER).start()
    yield started
    started.stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_large_export_through_a_real_worker(
    client, carol, eve, inspection, finance, settings, tmp_path, worker
):
    settings.MEDIA_ROOT = tmp_path / "media"  # the worker's: RECTIFY_VAR_DIR/media
    for i in range(30):
        factories.make_task(inspection, owner=finance, title=f"问题{i}")
    settings.RECTIFY = {**settings.RECTIFY, "LEDGER_SYNC_ROWS": 10}
    ledger_jobs_before = LedgerJob.objects.count()
    for fmt in ("csv", "xlsx"):
        query = f"fmt={fmt}&owner_unit={finance.pk}"
        client.force_login(carol)
        response = client.get(reverse("tracker:ledger_export") + "?" + query)
        job = LedgerJob.objects.latest("pk")
        assert response["Location"] == reverse("tracker:ledger_job", args=[job.pk])
        assert job_page(client, eve, job).status_code == 404
        assert job_page(client, eve, job, "ledger_job_status").status_code == 404

        def finished(job=job):
            return job_page(client, carol, job, "ledger_job_status").json()["finished"]

        wait_for(finished, timeout=90, what=f"the {fmt} export job")
        status = job_page(client, carol, job, "ledger_job_status").json()
        assert (status["status"], status["done"], status["total"]) == ("done", 30, 30), status
        assert job_page(client, eve, job, "ledger_job_download").status_code == 404
        body = download(client, carol, job)
        with self_threshold_high():
            expected = sync_body(client, carol, query)
        if fmt == "csv":
            assert body == expected
            assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == 31
        else:  # the workbook's own timestamps differ; the sheet is the same
            assert sheet_rows(body) == sheet_rows(expected)
    assert LedgerJob.objects.count() == ledger_jobs_before + 2


@pytest.mark.django_db
def test_files_go_after_the_retention_period(client, carol, tasks, media, small_threshold):
    import datetime

    from django.utils import timezone

    client.force_login(carol)
    client.get(reverse("tracker:ledger_export"))
    job = LedgerJob.objects.get()
    ledger_jobs.run(job.pk)
    path = ledger_jobs.result_file(LedgerJob.objects.get(pk=job.pk))
    assert ledger_jobs.purge()["deleted"] == 0 and path.exists()
    later = timezone.now() + ledger_jobs.KEEP + datetime.timedelta(minutes=1)
    assert ledger_jobs.purge(later)["deleted"] == 1
    assert not path.exists()


@pytest.mark.django_db
def test_a_long_export_that_reports_progress_keeps_its_lease(
    client, carol, tasks, media, small_threshold
):
    """An export of a million rows runs past the 15-minute lease: while its worker reports
    progress the job is its own (neither claimed again nor queued again); once the reports stop
    for a whole lease, the worker is taken for lost and the job runs again."""
    import datetime

    from django.utils import timezone

    client.force_login(carol)
    client.get(reverse("tracker:ledger_export"))
    job = LedgerJob.objects.get()
    assert ledger_jobs.claim(job.pk)  # the first worker starts
    now = timezone.now()
    LedgerJob.objects.filter(pk=job.pk).update(started_at=now - datetime.timedelta(minutes=40))
    ledger_jobs._progress(job)(1000)  # ... and is still reporting
    reported = LedgerJob.objects.get(pk=job.pk)
    assert reported.done == 1000 and now <= reported.heartbeat_at <= timezone.now()
    assert not ledger_jobs.claim(job.pk)
    assert ledger_jobs.purge()["requeued"] == 0

    silent = now - ledger_jobs.LEASE - datetime.timedelta(minutes=1)
    LedgerJob.objects.filter(pk=job.pk).update(heartbeat_at=silent)
    assert ledger_jobs.purge()["requeued"] == 1
    assert ledger_jobs.claim(job.pk)  # taken again, from the start
    assert LedgerJob.objects.get(pk=job.pk).done == 0


def test_an_upload_is_sized_from_its_sheet_dimension_without_parsing():
    from openpyxl import Workbook

    workbook = Workbook()
    for i in range(1, 8):
        workbook.active.append([i, "x"])
    out = io.BytesIO()
    workbook.save(out)
    assert ledger_jobs.estimated_rows(out.getvalue()) == 7
    assert ledger_jobs.estimated_rows(b"not a zip") == 0
