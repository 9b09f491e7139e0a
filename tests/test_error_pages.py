"""Error pages in the app's style, in Chinese, and a 403 logged as one line.

404 (out of scope or missing), 403 (seen but not changeable), 500 (rendered without a request)
and a failed CSRF check each show the app's page; a 403 writes one concise log line (who, what,
why), not Django's two chained tracebacks.
"""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest
from django.template import loader
from django.test import Client
from django.urls import path, reverse

from rectify import urls as root_urls
from tracker.models import TaskEvent


def boom(request: HttpRequest):
    raise RuntimeError("a bug")


# This module is also a URLconf: the real one plus a view that fails, with the real handlers.
urlpatterns = [*root_urls.urlpatterns, path("boom/", boom)]
handler404 = root_urls.handler404
handler403 = root_urls.handler403
handler500 = root_urls.handler500


@pytest.mark.django_db
def test_a_task_outside_the_scope_shows_the_apps_404_page(client, mallory, finance_task):
    client.force_login(mallory)
    response = client.get(reverse("tracker:task_detail", args=[finance_task.pk]))
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and "返回我的任务" in page
    assert 'class="topbar"' in page  # the app's base, with its top bar
    assert "Not Found" not in page and "财政资金监管不到位" not in page


@pytest.mark.django_db
def test_an_observers_change_shows_the_apps_403_page_and_logs_one_line(
    client, dave, finance_task, caplog
):
    # Given dave (observer), who may see the task but change nothing
    client.force_login(dave)
    events = TaskEvent.objects.count()
    # When he posts a progress note
    with caplog.at_level(logging.INFO):
        response = client.post(
            reverse("tracker:task_progress", args=[finance_task.pk]),
            {"version": finance_task.version, "status": finance_task.status, "note": "x"},
        )
    # Then he sees the app's 403 page and nothing is written
    page = response.content.decode()
    assert response.status_code == 403
    assert "无权进行此操作" in page and 'class="topbar"' in page
    assert TaskEvent.objects.count() == events
    # and the log has exactly one line about it, without a traceback
    forbidden = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(forbidden) == 1, [r.getMessage() for r in forbidden]
    [record] = forbidden
    assert record.name == "tracker.access"
    assert record.exc_info is None and "\n" not in record.getMessage()
    message = record.getMessage()
    path = reverse("tracker:task_progress", args=[finance_task.pk])
    assert message.startswith(f"Forbidden: POST {path} user=dave#{dave.pk}")


@pytest.mark.django_db
@pytest.mark.urls("tests.test_error_pages")
def test_a_server_error_shows_the_apps_500_page(client, alice, caplog):
    client.raise_request_exception = False
    client.force_login(alice)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in page and "错误已记录" in page
    assert "Server Error" not in page


def test_the_500_page_needs_no_request_no_context_and_no_database():
    # Django's server_error renders it this way: whatever broke the page may be the database
    # (this test has no database access at all: any query would raise)
    page = loader.get_template("500.html").render()
    assert "系统出错" in page and 'lang="zh-hans"' in page


@pytest.mark.django_db
def test_a_form_without_a_valid_csrf_token_shows_the_apps_page_and_changes_nothing(
    alice, finance_task, settings
):
    settings.CSRF_FAILURE_VIEW = "tracker.views.errors.csrf_failure"
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    events = TaskEvent.objects.count()
    response = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {"version": finance_task.version, "note": "伪造的提交"},
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期,请重新提交" in page and "未做任何修改" in page
    assert "alice" in page  # rendered with the request: the top bar knows who is logged in
    assert "CSRF verification failed" not in page
    assert TaskEvent.objects.count() == events


def test_the_error_handlers_are_the_apps():
    assert root_urls.handler404 == "tracker.views.errors.page_not_found"
    assert root_urls.handler403 == "tracker.views.errors.permission_denied"
    assert root_urls.handler500 == "tracker.views.errors.server_error"
