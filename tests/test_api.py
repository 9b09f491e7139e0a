"""The REST API as other systems use it, told as stories with the personas of tests/conftest.py:
alice (clerk of 财政局) connects her office's OA system with a token, carol (整改办) reviews
and imports plans through it, eve (规划局) and mallory (no role) find nothing of 财政局's.

Given / when / then. The permission matrix itself is tests/test_api_matrix.py.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests import factories
from tests.conftest import PASSWORD
from tests.test_workspace_evidence import PDF_BYTES
from tracker import actions
from tracker.api import tokens
from tracker.choices import EventSource, TaskStatus
from tracker.models import ApiToken, Task, TaskEvent, local_today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # throttle counts live in the cache; each story starts with none


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def api(user=None) -> APIClient:
    """A client calling with ``user``'s token (a fresh one), or anonymously."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user).key}")
    return client


def task_url(task, name: str = "detail") -> str:
    return reverse(f"api:task-{name}", args=[task.pk])


# --- tokens -------------------------------------------------------------------------------------


def test_alice_makes_a_token_on_her_page_uses_it_and_revokes_it(client, alice, finance_task):
    # Given alice logged in, with no token yet; the top bar links the token page
    client.force_login(alice)
    home = client.get(reverse("tracker:task_list")).content.decode()
    assert reverse("api_token") in home
    page = client.get(reverse("api_token"))
    assert "您还没有接口令牌。" in page.content.decode()

    # When she makes one, the key is shown once and the answer is not cached
    made = client.post(reverse("api_token"), {"action": "create"})
    key = re.search(r'<code id="api-token-key">(\w+)</code>', made.content.decode()).group(1)
    assert "no-store" in made["Cache-Control"]
    later = client.get(reverse("api_token")).content.decode()
    assert key not in later and f"开头为 {key[:6]}…" in later  # never again, but recognisable
    # and only its digest is stored: no column of the table holds the key
    stored = ApiToken.objects.get(user=alice)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(v) for v in ApiToken.objects.values_list().get()}

    # Then her OA system reads her tasks with it
    oa = APIClient()
    oa.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [t["id"] for t in oa.get(reverse("api:task-list")).json()["results"]] == [
        finance_task.pk
    ]
    oa.credentials(HTTP_AUTHORIZATION=f"Token {stored.digest}")  # the digest is no key
    assert oa.get(reverse("api:task-list")).status_code == 401

    # When she makes a new one, the old key stops working
    made = client.post(reverse("api_token"), {"action": "create"})
    newer = re.search(r'<code id="api-token-key">(\w+)</code>', made.content.decode()).group(1)
    oa.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert oa.get(reverse("api:task-list")).status_code == 401

    # and when she revokes it, no key of hers works
    client.post(reverse("api_token"), {"action": "revoke"})
    assert not ApiToken.objects.filter(user=alice).exists()
    oa.credentials(HTTP_AUTHORIZATION=f"Token {newer}")
    assert oa.get(reverse("api:task-list")).status_code == 401


def test_a_token_is_rotated_and_revoked_through_the_api_itself(alice):
    client = api(alice)
    assert client.get(reverse("api:token")).json()["key"] is None  # the key is never shown again
    rotated = client.post(reverse("api:token"))
    assert rotated.status_code == 201 and rotated["Cache-Control"] == "no-store"
    assert client.get(reverse("api:token")).status_code == 401  # the old key is gone

    client.credentials(HTTP_AUTHORIZATION=f"Token {rotated.json()['key']}")
    assert client.delete(reverse("api:token")).status_code == 204
    assert client.get(reverse("api:token")).status_code == 401


def test_an_administrator_makes_and_revokes_tokens_in_the_admin(client, alice, finance_task):
    root = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(root)
    # When the administrator adds a token for alice, the key is on the answer page, once
    added = client.post(reverse("admin:tracker_apitoken_add"), {"user": alice.pk})
    assert added.status_code == 200 and "no-store" in added["Cache-Control"]
    key = re.search(r'<code id="api-token-key">(\w+)</code>', added.content.decode()).group(1)
    token = ApiToken.objects.get(user=alice)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    oa = APIClient()
    oa.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert oa.get(reverse("api:task-list")).status_code == 200
    # and the list shows whose tokens exist, never a key
    listing = client.get(reverse("admin:tracker_apitoken_changelist")).content.decode()
    assert "alice" in listing and token.hint in listing and key not in listing
    # A second one for alice replaces the first
    client.post(reverse("admin:tracker_apitoken_add"), {"user": alice.pk})
    assert ApiToken.objects.filter(user=alice).count() == 1
    assert oa.get(reverse("api:task-list")).status_code == 401
    # Deleting it revokes it
    token = ApiToken.objects.get(user=alice)
    deleted = client.post(
        reverse("admin:tracker_apitoken_delete", args=[token.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists()


def test_a_session_write_needs_the_csrf_token_a_token_write_does_not(alice, finance_task):
    # The docs page writes with the login session: like every form, only with its CSRF token.
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(alice)
    body = {"version": finance_task.version, "note": "进展"}
    refused = session.post(task_url(finance_task, "progress"), body, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert session.get(task_url(finance_task)).status_code == 200  # reading needs none
    assert (
        api(alice).post(task_url(finance_task, "progress"), body, format="json").status_code == 200
    )


def test_an_inactive_users_token_stops_working(alice, finance_task):
    client = api(alice)
    alice.is_active = False
    alice.save()
    assert client.get(reverse("api:task-list")).status_code == 401


# --- reading ------------------------------------------------------------------------------------


def test_alice_reads_a_task_with_its_history_in_her_language(alice, finance_task):
    # Given a change alice made through the API
    client = api(alice)
    version = finance_task.version
    changed = client.post(
        task_url(finance_task, "progress"),
        {"note": "已建立台账", "status": TaskStatus.BASICALLY_COMPLETED},
        format="json",
        HTTP_IF_MATCH=f'"task-{finance_task.pk}-v{version}"',
    )
    assert changed.status_code == 200, changed.json()

    # When she reads the task
    response = client.get(task_url(finance_task))

    # Then the history names her and the API as its source, codes with their labels
    body = response.json()
    status_event = next(e for e in body["history"] if e["kind"] == "status")
    assert status_event["old_value"] == TaskStatus.IN_PROGRESS
    assert status_event["new_display"] == "基本完成"
    assert status_event["source"] == EventSource.API and status_event["source_label"] == "接口"
    assert status_event["actor"] == {"username": "alice", "name": ""}
    assert body["progress"] == "已建立台账"
    assert [m["text"] for m in body["measures"]] == ["一是建立台账", "二是完善制度"]
    assert body["permissions"] == {"edit": True, "lead_review": False, "supervise": False}
    # and the ETag is the task's version, which every write moved
    finance_task.refresh_from_db()
    assert finance_task.version > version
    assert response["ETag"] == f'"task-{finance_task.pk}-v{finance_task.version}"'
    assert body["version"] == finance_task.version


def test_the_api_list_filters_exactly_as_the_task_list_page(client, carol, inspection, finance):
    # Given overdue, due-soon and closed work
    today = local_today()
    overdue = factories.make_task(inspection, owner=finance, deadline=today - datetime.timedelta(3))
    soon = factories.make_task(inspection, owner=finance, deadline=today + datetime.timedelta(5))
    factories.make_task(inspection, owner=finance, status=TaskStatus.CLOSED)
    client.force_login(carol)
    for params in (
        {"overdue": "true"},
        {"due_within": "7"},
        {"status": [TaskStatus.IN_PROGRESS]},
        {"q": "落实"},
        {"sort": "-deadline"},
    ):
        # When the same query goes to the page and to the API
        page = client.get(reverse("tracker:task_list"), params)
        rows = api(carol).get(reverse("api:task-list"), params).json()["results"]
        # Then they list the same tasks in the same order
        assert [t.pk for t in page.context["tasks"]] == [r["id"] for r in rows], params
    assert [
        r["id"]
        for r in api(carol).get(reverse("api:task-list"), {"overdue": "true"}).json()["results"]
    ] == [overdue.pk]
    assert soon.pk in [r["id"] for r in rows]


def test_a_filter_outside_the_scope_is_refused_like_on_the_page(alice, finance_task):
    elsewhere = factories.make_inspection(factories.make_org("中共别处委员会"))
    response = api(alice).get(reverse("api:task-list"), {"inspection": elsewhere.pk})
    assert response.status_code == 400
    assert "inspection" in response.json()


def test_pages_say_whether_more_follow_and_never_count_the_tasks(carol, inspection, finance):
    # Given 7 tasks, read 3 a page
    made = [factories.make_task(inspection, owner=finance) for _ in range(7)]
    client = api(carol)
    seen, url, sqls = [], reverse("api:task-list") + "?page_size=3", []
    while url:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url).json()
        sqls += [q["sql"] for q in ctx.captured_queries]
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    # Then every task came once, in three pages, and no query counted anything
    assert sorted(seen) == sorted(t.pk for t in made) and len(seen) == 7
    assert not [sql for sql in sqls if "COUNT(" in sql.upper()]
    last = client.get(reverse("api:task-list"), {"page_size": 3, "page": 3}).json()
    assert last["next"] is None and "page=2" in last["previous"]
    assert client.get(reverse("api:task-list"), {"page": 9}).json()["results"] == []
    assert client.get(reverse("api:task-list"), {"page": "x"}).status_code == 404


def test_the_list_costs_the_same_few_queries_for_3_or_30_tasks(
    carol, inspection, finance, planning, django_assert_max_num_queries
):
    client = api(carol)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("api:task-list"), {"overdue": "false"}).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        factories.make_task(inspection, owner=finance)
    few = queries()
    for _ in range(27):
        factories.make_task(inspection, owner=planning)
    # token, memberships, scopes, the page of tasks
    with django_assert_max_num_queries(4):
        assert client.get(reverse("api:task-list"), {"overdue": "false"}).status_code == 200
    assert queries() == few


def test_the_detail_costs_a_fixed_number_of_queries(
    alice, finance_task, django_assert_max_num_queries
):
    client = api(alice)
    actions.add_evidence(
        finance_task,
        SimpleUploadedFile("报告.pdf", PDF_BYTES, content_type="application/pdf"),
        actions.Actor.of(alice),
    )
    # token, memberships, scopes, the task and its seven kinds of related rows, its history
    with django_assert_max_num_queries(13):
        assert client.get(task_url(finance_task)).status_code == 200


def test_inspections_and_problems_are_read_in_the_users_scope(
    alice, carol, eve, inspection, finance, planning
):
    # Given a category with a 财政局 problem and a 规划局 problem
    category = factories.make_category(inspection)
    mine = factories.make_task(inspection, owner=finance, category=category)
    theirs = factories.make_task(inspection, owner=planning, category=category)
    problems = reverse("api:problem-list")

    # Then alice reads the inspection, her problem and its category, not 规划局's problem
    assert [i["id"] for i in api(alice).get(reverse("api:inspection-list")).json()["results"]] == [
        inspection.pk
    ]
    rows = api(alice).get(problems, {"inspection": inspection.pk}).json()["results"]
    assert {r["id"] for r in rows} == {category.pk, mine.problem_id}
    assert {r["task"] for r in rows} == {None, mine.pk}
    assert (
        api(alice).get(reverse("api:problem-detail", args=[theirs.problem_id])).status_code == 404
    )
    # carol, the supervisor, reads the whole tree
    rows = api(carol).get(problems, {"inspection": inspection.pk}).json()["results"]
    assert {r["id"] for r in rows} == {category.pk, mine.problem_id, theirs.problem_id}
    # and eve, who has only 规划局's task, never 财政局's
    rows = api(eve).get(problems).json()["results"]
    assert mine.problem_id not in {r["id"] for r in rows}


def test_a_task_outside_the_scope_or_missing_answers_404_in_the_users_language(
    alice, eve, finance_task
):
    # Given eve (规划局), who cannot see 财政局's task, and a task number that does not exist
    for user, url in (
        (eve, task_url(finance_task)),
        (alice, reverse("api:task-detail", args=[9999999])),
    ):
        client = api(user)
        # Then both answer 404 with DRF's own message, in Chinese by default: not the English
        # text of Django's Http404 ("No Task matches the given query.")
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。"}
        # and in English for a user who chose English
        client.cookies["django_language"] = "en"
        assert client.get(url).json() == {"detail": "Not found."}


def test_the_dashboard_figures_are_the_dashboard_pages(
    client, carol, alice, mallory, inspection, finance, planning
):
    today = local_today()
    factories.make_task(inspection, owner=finance, deadline=today - datetime.timedelta(2))
    factories.make_task(inspection, owner=planning, status=TaskStatus.COMPLETED)
    factories.make_task(inspection, owner=planning)
    client.force_login(carol)
    for params in ({}, {"inspection": inspection.pk}, {"owner_unit": finance.pk}):
        page = client.get(reverse("tracker:dashboard"), params).context["totals"]
        figures = api(carol).get(reverse("api:dashboard"), params).json()
        assert figures["totals"]["total"] == page["total"], params
        assert figures["totals"]["overdue"] == page["overdue"], params
        assert figures["totals"]["by_status"] == page["by_status"], params
    assert api(alice).get(reverse("api:dashboard")).json()["totals"]["total"] == 1
    assert api(mallory).get(reverse("api:dashboard")).status_code == 404


# --- writing ------------------------------------------------------------------------------------


def test_a_stale_write_is_refused_and_changes_nothing(alice, carol, finance_task):
    # Given alice read the task
    client = api(alice)
    read = client.get(task_url(finance_task))
    seen_etag, seen_version = read["ETag"], read.json()["version"]
    # and carol changed it meanwhile
    actions.record_note(finance_task, "整改办补充情况", actions.Actor.of(carol))
    before = TaskEvent.objects.filter(task=finance_task).count()

    # When alice writes against what she read, with If-Match: 412
    by_header = client.post(
        task_url(finance_task, "progress"),
        {"note": "我的进展"},
        format="json",
        HTTP_IF_MATCH=seen_etag,
    )
    # or with the version in the body: 409
    by_body = client.post(
        task_url(finance_task, "progress"),
        {"note": "我的进展", "version": seen_version},
        format="json",
    )

    # Then both are refused with who changed it and the current version, and nothing changed
    finance_task.refresh_from_db()
    assert (by_header.status_code, by_body.status_code) == (412, 409)
    for response in (by_header, by_body):
        assert "carol" in response.json()["detail"]
        assert response.json()["version"] == finance_task.version
    assert TaskEvent.objects.filter(task=finance_task).count() == before
    assert finance_task.progress == "整改办补充情况"

    # When she sends no version at all: 428; an ETag of another task: 412
    assert client.post(task_url(finance_task, "progress"), {"note": "x"}).status_code == 428
    other = client.post(
        task_url(finance_task, "progress"), {"note": "x"}, HTTP_IF_MATCH='"task-999-v1"'
    )
    assert other.status_code == 412
    # and with the current ETag (or "*") the write goes through
    current = client.get(task_url(finance_task))["ETag"]
    ok = client.post(
        task_url(finance_task, "progress"), {"note": "重新提交"}, HTTP_IF_MATCH=current
    )
    assert ok.status_code == 200 and ok["ETag"] != current
    assert (
        client.post(
            task_url(finance_task, "progress"), {"note": "再次"}, HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )


def test_alice_reports_progress_with_evidence_and_ticks_in_one_request(alice, finance_task):
    client = api(alice)
    first, second = finance_task.measures.order_by("order")
    response = client.post(
        task_url(finance_task, "progress"),
        {
            "version": finance_task.version,
            "note": "台账已建立",
            "done_measures": [first.pk],
            "not_applicable": json.dumps({second.pk: "制度已由上级统一制定"}),
            "files": [SimpleUploadedFile("报告.pdf", PDF_BYTES, content_type="application/pdf")],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [m["done"] for m in body["measures"]] == [True, False]
    assert body["measures"][1]["na_reason"] == "制度已由上级统一制定"
    assert [e["original_name"] for e in body["evidence"]] == ["报告.pdf"]
    assert {e["source"] for e in body["history"] if e["kind"] != "created"} == {EventSource.API}


def test_measures_are_marked_not_applicable_in_a_json_body(alice, finance_task):
    first, second = finance_task.measures.order_by("order")
    response = api(alice).post(
        task_url(finance_task, "progress"),
        {"version": finance_task.version, "not_applicable": {str(second.pk): "上级统一制定"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [m["na_reason"] for m in response.json()["measures"]] == ["", "上级统一制定"]
    bad = api(alice).post(
        task_url(finance_task, "progress"),
        {"version": finance_task.version + 1, "not_applicable": ["x"]},
        format="json",
    )
    assert bad.status_code == 400 and "not_applicable" in bad.json()


def test_a_refused_rule_answers_400_with_the_actions_message(alice, finance_task):
    response = api(alice).post(
        task_url(finance_task, "closeout"),
        {"version": finance_task.version, "summary": "完成", "no_evidence_reason": "线下"},
        format="json",
    )
    assert response.status_code == 400
    assert "须为“已完成”" in response.json()["detail"]


def test_refusals_speak_the_users_chosen_language(dave, finance_task):
    client = api(dave)
    client.cookies["django_language"] = "en"
    response = client.post(
        task_url(finance_task, "progress"),
        {"version": finance_task.version, "note": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "You do not have permission to do this."


def test_the_double_review_through_the_api(alice, bob, carol, finance_task):
    # Given alice put a finished task forward
    factories.ready_for_closeout(finance_task)
    client = api(alice)
    asked = client.post(
        task_url(finance_task, "closeout"),
        {"version": finance_task.version, "summary": "已整改", "no_evidence_reason": "线下报送"},
        format="json",
    )
    assert asked.status_code == 200
    # When bob (lead of 财政局) and then carol approve, each with the version they read
    for reviewer in (bob, carol):
        reviewer_api = api(reviewer)
        etag = reviewer_api.get(task_url(finance_task))["ETag"]
        done = reviewer_api.post(
            task_url(finance_task, "closeout-review"),
            {"decision": "approve"},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert done.status_code == 200, done.json()
    # Then the task is 已销号 and carol can reopen it (回头看)
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.CLOSED
    reopened = api(carol).post(
        task_url(finance_task, "reopen"),
        {"version": finance_task.version, "reason": "回头看发现反弹"},
        format="json",
    )
    assert reopened.json()["status"] == TaskStatus.IN_PROGRESS


# --- plan import ----------------------------------------------------------------------------------


def test_carol_previews_then_imports_a_plan_and_alice_cannot(alice, carol, org, finance, planning):
    from tests.test_plan_import import office_plan

    factories.make_unit(org, "教育局")
    inspection = factories.make_inspection(org, feedback=datetime.date(2024, 4, 10))
    url = reverse("api:inspection-plan", args=[inspection.pk])

    def sheet():
        upload = io.BytesIO(office_plan())
        upload.name = "整改方案.xlsx"
        return upload

    # When carol sends the plan as a dry run, nothing is written
    preview = api(carol).post(url, {"file": sheet()}, format="multipart")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert body["dry_run"] and body["counts"]["create"] == 4 and not body["errors"]
    assert Task.objects.filter(inspection=inspection).count() == 0

    # When she applies it with the preview's digest, the tasks are made, as her plan import
    applied = api(carol).post(
        url, {"file": sheet(), "dry_run": "false", "digest": body["digest"]}, format="multipart"
    )
    assert applied.status_code == 200, applied.json()
    assert applied.json()["result"]["created"] == 4
    task = Task.objects.get(problem__title="财政资金监管不到位")
    assert {(e.source, e.actor) for e in task.events.all()} == {(EventSource.PLAN, carol)}

    # and the same digest again is refused: the tasks changed since that preview
    again = api(carol).post(
        url, {"file": sheet(), "dry_run": "false", "digest": body["digest"]}, format="multipart"
    )
    assert again.status_code == 400

    # alice, a clerk, cannot even find the inspection's plan import
    assert api(alice).post(url, {"file": sheet()}, format="multipart").status_code == 404


# --- schema, docs, throttling -------------------------------------------------------------------


def test_the_schema_lists_every_endpoint_and_the_docs_need_a_login(client, carol):
    schema = api(carol).get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/tasks/",
        "/api/tasks/{id}/",
        "/api/tasks/{id}/progress/",
        "/api/tasks/{id}/closeout/",
        "/api/tasks/{id}/closeout/review/",
        "/api/tasks/{id}/extension/",
        "/api/tasks/{id}/extension/decide/",
        "/api/tasks/{id}/reopen/",
        "/api/inspections/",
        "/api/inspections/{id}/plan/",
        "/api/problems/",
        "/api/dashboard/",
        "/api/token/",
    ):
        assert path in paths, path
    task_filters = {p["name"] for p in paths["/api/tasks/"]["get"]["parameters"]}
    assert {"status", "overdue", "due_within", "inspection", "unit", "sort", "page"} <= task_filters
    assert api().get(reverse("api:schema")).status_code == 401

    assert client.get(reverse("api:docs")).status_code == 302  # to the login page
    client.force_login(carol)
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html and "cdn" not in html.lower()


def test_the_generated_schema_is_valid_openapi():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


def test_too_many_requests_are_throttled(alice, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": None})
    client = api(alice)
    codes = [client.get(reverse("api:task-list")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# --- supervision through the API ------------------------------------------------------------------


def test_alice_signs_for_a_task_through_the_api_and_reads_its_ladder_document(
    alice, carol, dave, finance, inspection
):
    task = factories.make_task(
        inspection, owner=finance, deadline=local_today() - datetime.timedelta(days=12)
    )
    actions.change_owner(
        task, factories.make_unit(inspection.organization, "审计局"), actions.Actor.of(carol)
    )
    actions.change_owner(task, finance, actions.Actor.of(carol))  # given back: 财政局 signs afresh
    task.refresh_from_db()
    actions.issue_ladder_document([task], "notice", actions.Actor.of(carol))
    detail = api(alice).get(task_url(task)).json()
    assert detail["awaits_acknowledgement"] is True
    [document] = detail["ladder_documents"]
    assert document["rung"] == "notice" and document["reference"].endswith("1号")
    # An observer may not sign; alice may, against the version she read
    assert (
        api(dave).post(task_url(task, "acknowledge"), {"version": detail["version"]}).status_code
        == 403
    )
    signed = api(alice).post(
        task_url(task, "acknowledge"), {"version": detail["version"]}, format="json"
    )
    assert signed.status_code == 200 and signed.json()["awaits_acknowledgement"] is False
    event = TaskEvent.objects.filter(task=task).latest("id")
    assert (event.kind, event.actor, event.source) == ("acknowledged", alice, EventSource.API)
