"""The workspace pages: 我的任务 (filters, sorting, pagination without counting, constant query
counts), the task page, and the concurrency message a stale form gets."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories, test_list_counts
from tracker import actions, scope_choices
from tracker.choices import EventKind, TaskStatus, TaskType
from tracker.models import RepeatLink
from tracker.views.workspace import PAGE_SIZE

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)):
        yield


def task_titles(response) -> list[str]:
    return [t.problem.title for t in response.context["tasks"]]


# --- 我的任务 -----------------------------------------------------------------------------------


def test_alice_sees_her_units_tasks_overdue_first_then_nearest_deadline_then_the_rest(
    client, alice, inspection, finance
):
    mk = factories.make_task
    mk(
        inspection,
        owner=finance,
        title="问题:已销号",
        deadline=datetime.date(2026, 1, 1),
        status=TaskStatus.CLOSED,
    )
    mk(
        inspection,
        owner=finance,
        title="问题:长期坚持",
        task_type=TaskType.LONG_TERM,
        deadline=None,
    )
    mk(inspection, owner=finance, title="问题:下月到期", deadline=datetime.date(2026, 12, 20))
    mk(inspection, owner=finance, title="问题:逾期一天", deadline=datetime.date(2026, 11, 19))
    mk(inspection, owner=finance, title="问题:逾期很久", deadline=datetime.date(2026, 9, 1))
    mk(inspection, owner=finance, title="问题:下周到期", deadline=datetime.date(2026, 11, 27))
    client.force_login(alice)
    response = client.get(reverse("tracker:task_list"))
    assert task_titles(response) == [
        "问题:逾期很久",
        "问题:逾期一天",
        "问题:下周到期",
        "问题:下月到期",
        "问题:长期坚持",
        "问题:已销号",
    ]
    assert "逾期 80 天" in response.content.decode()


def test_filters_and_sort_live_in_the_url(client, carol, inspection, finance, planning):
    category = factories.make_category(inspection, "关于资金监管方面")
    factories.make_task(
        inspection,
        owner=finance,
        title="问题:专项资金挪用",
        category=category,
        deadline=datetime.date(2026, 12, 1),
    )
    factories.make_task(
        inspection,
        owner=finance,
        title="问题:台账不全",
        measures=("一是补齐专项台账",),
        deadline=datetime.date(2026, 11, 25),
    )
    factories.make_task(
        inspection, owner=planning, title="问题:审批超时", deadline=datetime.date(2026, 10, 1)
    )
    client.force_login(carol)
    url = reverse("tracker:task_list")

    assert task_titles(client.get(url, {"overdue": "true"})) == ["问题:审批超时"]
    assert task_titles(client.get(url, {"due_within": 7})) == ["问题:台账不全"]
    assert task_titles(client.get(url, {"unit": planning.pk})) == ["问题:审批超时"]
    assert task_titles(client.get(url, {"category": category.pk})) == ["问题:专项资金挪用"]
    # free text searches the problem and its measures
    assert task_titles(client.get(url, {"q": "专项", "sort": "deadline"})) == [
        "问题:台账不全",
        "问题:专项资金挪用",
    ]
    assert task_titles(client.get(url, {"q": "专项", "sort": "-deadline"})) == [
        "问题:专项资金挪用",
        "问题:台账不全",
    ]
    # the pager keeps the filter state
    response = client.get(url, {"q": "专项", "status": "in_progress"})
    assert response.context["query"] == "q=%E4%B8%93%E9%A1%B9&status=in_progress"


def test_an_inspection_outside_the_scope_is_not_a_usable_filter(client, eve, inspection, planning):
    other = factories.make_inspection(factories.make_org("中共别处委员会"))
    factories.make_task(other, title="问题:别处")
    factories.make_task(inspection, owner=planning, title="问题:规划")
    client.force_login(eve)
    response = client.get(reverse("tracker:task_list"), {"inspection": other.pk})
    assert task_titles(response) == []
    assert "问题:别处" not in response.content.decode()


def test_pages_go_forward_and_back_counting_at_most_a_capped_number(
    client, alice, inspection, finance
):
    for n in range(PAGE_SIZE + 3):
        factories.make_task(
            inspection,
            owner=finance,
            title=f"问题{n:03d}",
            deadline=TODAY + datetime.timedelta(days=n),
        )
    client.force_login(alice)
    url = reverse("tracker:task_list")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    # the only count is the bounded one of the total shown (at most 1,001 rows read)
    counts = test_list_counts.counts([q["sql"] for q in queries.captured_queries])
    assert len(counts) == 1 and "LIMIT 1001" in counts[0].upper(), counts
    assert len(first.context["tasks"]) == PAGE_SIZE and first.context["has_next"]
    assert 'rel="next" href="?page=2"' in first.content.decode()
    second = client.get(url, {"page": 2})
    assert task_titles(second) == [f"问题{n:03d}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)]
    assert not second.context["has_next"] and second.context["has_previous"]
    assert set(task_titles(first)).isdisjoint(task_titles(second))


def _list_queries(client, user, kept: bool = False) -> int:
    """Queries of one list request; unless ``kept``, with the scope's organization list read
    anew (as after any change of an organization or inspection: tracker.scope_choices)."""
    client.force_login(user)
    if not kept:
        scope_choices.forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            reverse("tracker:task_list"), {"status": ["in_progress", "not_started"]}
        )
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_the_list_costs_the_same_queries_with_5_or_50_tasks_in_scope(
    client, request, inspection, finance, persona
):
    user = request.getfixturevalue(persona)
    for _ in range(5):
        factories.make_task(inspection, owner=finance)
    small = _list_queries(client, user)
    for _ in range(45):
        factories.make_task(inspection, owner=finance)
    large = _list_queries(client, user)
    assert small == large
    # session, user, roles (memberships and scopes in one), organization choices, the page,
    # its capped count, the badges
    assert large == 7


@pytest.mark.parametrize(("persona", "saved"), [("alice", 0), ("carol", 1), ("admin_user", 1)])
def test_a_kept_organization_list_saves_its_query(
    client, request, inspection, finance, persona, saved
):
    # A supervisor's or an administrator's organization list is read once and kept; a unit
    # member's depends on her tasks and is read on every request.
    user = request.getfixturevalue(persona)
    factories.make_task(inspection, owner=finance)
    read = _list_queries(client, user)
    assert _list_queries(client, user, kept=True) == read - saved


# --- the task page --------------------------------------------------------------------------------


def _detail_queries(client, user, task) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("tracker:task_detail", args=[task.pk]))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_task_page_costs_the_same_queries_however_long_its_history(
    client, carol, alice, finance_task
):
    base = _detail_queries(client, carol, finance_task)
    for n in range(30):
        actions.record_note(finance_task, f"第{n}次进展", actions.Actor.of(alice))
    assert _detail_queries(client, carol, finance_task) == base
    assert base <= 25


def test_the_task_page_reads_repeats_only_for_a_task_that_has_them(
    client, carol, finance_task, planning_task
):
    """Most tasks have no likely repeat and no 督办 document: their page skips both queries
    (flags read with the task); a task linked as a repeat, either way, reads and shows it."""
    plain = _detail_queries(client, carol, finance_task)
    RepeatLink.objects.create(
        problem=planning_task.problem, earlier_problem=finance_task.problem, score=0.91
    )
    assert _detail_queries(client, carol, finance_task) > plain
    html = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert planning_task.problem.title in html


def test_the_task_page_shows_problem_place_measures_units_deadlines_and_timeline(
    client, bob, inspection, finance, planning
):
    category = factories.make_category(inspection, "关于落实主体责任方面")
    task = factories.make_task(
        inspection, owner=finance, title="问题:责任压得不实", category=category
    )
    task.responsible_units.add(planning)
    actions.change_deadline(task, datetime.date(2026, 12, 31), factories.SYSTEM, reason="批准延期")
    client.force_login(bob)
    html = client.get(reverse("tracker:task_detail", args=[task.pk])).content.decode()
    for text in [
        "关于落实主体责任方面",
        "一是建立台账",
        "二是完善制度",
        "财政局",
        "规划局",
        "2026-12-31",
        "原定时限",
        "2026-11-01",
        "时限变更",
        "创建",
        "省委第七巡视组",
    ]:
        assert text in html, text


def test_a_stale_form_shows_who_changed_it_and_overwrites_nothing(client, alice, bob, finance_task):
    stale_version = finance_task.version
    actions.record_note(finance_task, "alice 先保存的进展", actions.Actor.of(alice))
    client.force_login(bob)
    response = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {"version": stale_version, "note": "bob 基于旧页面的进展", "status": "completed"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "该任务已被 alice 于 2026-11-20 18:00 修改,请刷新后重试。" in html
    finance_task.refresh_from_db()
    assert finance_task.progress == "alice 先保存的进展"
    assert finance_task.status == TaskStatus.IN_PROGRESS
    assert not finance_task.events.filter(actor=bob).exists()
    # the re-rendered page carries the current version, so a resubmission works, and keeps
    # what bob typed (his note, his chosen status), with the conflict explained
    assert f'name="version" value="{finance_task.version}"' in html
    assert "bob 基于旧页面的进展" in html
    assert '<option value="completed" selected>' in html
    assert "您填写的内容已保留" in html
    resubmitted = client.post(
        reverse("tracker:task_progress", args=[finance_task.pk]),
        {"version": finance_task.version, "note": "bob 基于旧页面的进展", "status": "completed"},
    )
    assert resubmitted.status_code == 302
    finance_task.refresh_from_db()
    assert finance_task.progress == "bob 基于旧页面的进展"


def test_a_refused_rule_is_shown_on_the_page_and_keeps_the_input(client, alice, finance_task):
    factories.ready_for_closeout(finance_task)
    client.force_login(alice)
    response = client.post(
        reverse("tracker:closeout_request", args=[finance_task.pk]),
        {"version": finance_task.version, "summary": "已全部整改到位"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请上传至少一份佐证材料,或说明无佐证材料的原因。" in html
    assert "已全部整改到位" in html
    assert not finance_task.events.filter(kind=EventKind.CLOSEOUT_REQUESTED).exists()


def test_a_return_without_a_reason_is_refused_by_the_form(client, alice, bob, finance_task):
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(
        finance_task, actions.Actor.of(alice), summary="完成", no_evidence_reason="无"
    )
    client.force_login(bob)
    response = client.post(
        reverse("tracker:closeout_review", args=[finance_task.pk]),
        {"version": finance_task.version, "decision": "return", "comment": ""},
    )
    assert response.status_code == 400
    assert "退回须填写理由" in response.content.decode()


def test_dave_the_observer_sees_the_task_but_no_forms(client, dave, finance_task):
    client.force_login(dave)
    html = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert "财政资金监管不到位" in html
    assert 'method="post" enctype' not in html
    assert "申请销号</button>" not in html and "申请延期</button>" not in html


def test_the_whole_closeout_story_through_the_pages(client, alice, bob, carol, finance_task):
    factories.ready_for_closeout(finance_task)
    url = lambda name: reverse(f"tracker:{name}", args=[finance_task.pk])  # noqa: E731

    def version():
        finance_task.refresh_from_db()
        return finance_task.version

    client.force_login(alice)
    assert (
        client.post(
            url("closeout_request"),
            {"version": version(), "summary": "已完成整改", "no_evidence_reason": "线下报送"},
        ).status_code
        == 302
    )
    client.force_login(bob)
    assert "牵头单位审核" in client.get(url("task_detail")).content.decode()
    assert (
        client.post(
            url("closeout_review"), {"version": version(), "decision": "approve"}
        ).status_code
        == 302
    )
    client.force_login(carol)
    assert "整改办审核" in client.get(url("task_detail")).content.decode()
    assert (
        client.post(
            url("closeout_review"), {"version": version(), "decision": "approve", "comment": "同意"}
        ).status_code
        == 302
    )
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.CLOSED
    html = client.get(url("task_detail")).content.decode()
    assert "重新打开" in html  # carol may reopen it
    assert (
        client.post(
            url("task_reopen"), {"version": version(), "reason": "回头看发现问题反弹"}
        ).status_code
        == 302
    )
    finance_task.refresh_from_db()
    assert finance_task.status == TaskStatus.IN_PROGRESS


def test_the_language_switcher_turns_the_page_english_and_back(client, alice, finance_task):
    client.force_login(alice)
    assert "我的任务" in client.get(reverse("tracker:task_list")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("tracker:task_list")).content.decode()
    assert '<html lang="en">' in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get(reverse("tracker:task_list")).content.decode()


def test_a_session_ends_after_the_configured_inactivity_and_activity_keeps_it(
    client, alice, settings
):
    start = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    url = reverse("tracker:task_list")
    with time_machine.travel(start, tick=False):
        client.force_login(alice)
        assert client.get(url).status_code == 200

    # Given alice works again two thirds into the idle period: her session is pushed forward
    with time_machine.travel(start + idle * 2 / 3, tick=False):
        assert client.get(url).status_code == 200
    # Then, a whole idle period after login but not after her last request, she is still in
    with time_machine.travel(start + idle + datetime.timedelta(seconds=60), tick=False):
        assert client.get(url).status_code == 200

    # When she then stays away longer than the idle period, the next request asks her to log in
    with time_machine.travel(start + idle * 2 + datetime.timedelta(seconds=120), tick=False):
        response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_requests_within_a_minute_do_not_write_the_session(client, alice):
    # Given alice has just made a request (the session was refreshed)
    client.force_login(alice)
    url = reverse("tracker:task_list")
    client.get(url)
    # When she makes another one at once, no session row is written
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_the_review_queue_costs_the_same_queries_with_1_or_10_pending(
    client, carol, inspection, finance
):
    def pending(n):
        for _ in range(n):
            task = factories.make_task(inspection, owner=finance)
            actions.request_extension(
                task, factories.SYSTEM, new_deadline=TODAY + datetime.timedelta(30), reason="x"
            )
            actions.change_status(task, "basically_completed", factories.SYSTEM)
            for measure in task.measures.all():
                actions.tick_measure(task, measure, True, factories.SYSTEM)
            actions.request_closeout(
                task,
                factories.SYSTEM,
                summary="完成",
                no_evidence_reason="无",
                basic_reason="收尾",
            )

    def queries():
        client.force_login(carol)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("tracker:review_queue"))
        return len(captured.captured_queries), len(response.context["closeouts"])

    pending(1)
    small, shown = queries()
    assert shown == 1
    pending(9)
    large, shown = queries()
    assert (large, shown) == (small, 10)


def test_the_top_bar_links_the_dashboard_and_the_ledger_to_those_who_may_open_them(
    client, alice, dave, mallory, finance_task
):
    dashboard, upload = reverse("tracker:dashboard"), reverse("tracker:ledger_upload")

    def links(user) -> tuple[bool, bool]:
        client.force_login(user)
        html = client.get(reverse("tracker:task_list")).content.decode()
        return f'href="{dashboard}"' in html, f'href="{upload}"' in html

    # A clerk opens both; the observer sees the dashboard but uploads nothing; a user without a
    # role is offered neither (both answer 404 for them)
    assert links(alice) == (True, True)
    assert links(dave) == (True, False)
    assert links(mallory) == (False, False)


def test_a_task_without_close_outs_extensions_evidence_or_units_skips_those_queries(
    client, carol, alice, finance_task, planning
):
    # Given a bare task: carol's page costs some number of queries
    bare = _detail_queries(client, carol, finance_task)

    # When it gains a responsible unit and a close-out request (with a written reason)
    actions.change_responsible_units(finance_task, [planning], factories.SYSTEM)
    factories.ready_for_closeout(finance_task)
    actions.request_closeout(
        finance_task, actions.Actor.of(alice), summary="已整改", no_evidence_reason="会议纪要未印发"
    )

    # Then its page reads those two lists (and the close-out's reviews) and shows them, plus
    # the names of the units its history now names (one query for all of them)
    client.force_login(carol)
    html = client.get(reverse("tracker:task_detail", args=[finance_task.pk])).content.decode()
    assert planning.name in html and "会议纪要未印发" in html
    assert _detail_queries(client, carol, finance_task) == bare + 4


def test_with_cached_sessions_logout_ends_the_session_everywhere(client, alice, settings):
    # Given sessions read from the shared cache (the production setting)
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    cache.clear()
    client.force_login(alice)
    key = client.cookies["sessionid"].value
    assert client.get(reverse("tracker:task_list")).status_code == 200
    # the session is in the database and in the cache
    assert Session.objects.filter(session_key=key).exists()
    assert cache.get("django.contrib.sessions.cached_db" + key) is not None

    # When alice logs out
    client.post(reverse("logout"))

    # Then neither the database nor the cache holds it, and the old cookie is refused
    assert not Session.objects.filter(session_key=key).exists()
    assert cache.get("django.contrib.sessions.cached_db" + key) is None
    client.cookies["sessionid"] = key
    response = client.get(reverse("tracker:task_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
