"""The permission matrix: every workspace view × every role, plus anonymous users.

- anonymous: 302 to the login page, GET or POST;
- outside the scope (eve, a clerk of another unit; mallory, no role): 404, exactly as for a
  task that does not exist;
- in scope but not allowed to make this change (dave the observer; a clerk approving): 403;
- allowed: the page (200) or the change and a redirect back to the task (302).
Each endpoint gets a fresh task in the state its action needs, so a 302 means the change happened.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests import factories
from tests.conftest import PASSWORD
from tests.test_workspace_evidence import PDF_BYTES, upload
from tracker import actions
from tracker.choices import TaskStatus
from tracker.models import local_today

pytestmark = pytest.mark.django_db

PERSONAS = ["alice", "bob", "carol", "dave", "eve", "mallory", "root"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def people(alice, bob, carol, dave, eve, mallory, root):
    return {u.username: u for u in (alice, bob, carol, dave, eve, mallory, root)}


def _sys():
    return factories.SYSTEM


def fresh_task(inspection, finance):
    return factories.make_task(inspection, owner=finance)


def done_task(inspection, finance):
    return factories.ready_for_closeout(fresh_task(inspection, finance))


def at_lead_review(inspection, finance):
    task = done_task(inspection, finance)
    actions.request_closeout(task, _sys(), summary="完成", no_evidence_reason="线下报送")
    return task


def at_supervisor_review(inspection, finance):
    task = at_lead_review(inspection, finance)
    actions.lead_review_closeout(task, _sys())
    return task


def with_pending_extension(inspection, finance):
    task = fresh_task(inspection, finance)
    actions.request_extension(
        task, _sys(), new_deadline=local_today() + datetime.timedelta(days=30), reason="跨年度"
    )
    return task


def closed(inspection, finance):
    task = at_supervisor_review(inspection, finance)
    actions.approve_closeout(task, _sys())
    return task


def _in_30_days() -> str:
    return (local_today() + datetime.timedelta(days=30)).isoformat()


# endpoint: (url name, setup, form data, expected status per persona). The expectations come
# from the one table of tests/test_write_matrix.py: allowed → the change (302); may see but not
# change → 403; may not see → 404.
def _expected(action: str) -> dict[str, int]:
    from tests.test_write_matrix import allowed

    cannot_see = {"eve", "mallory"}
    return {p: 302 if p in allowed(action) else 404 if p in cannot_see else 403 for p in PERSONAS}


EDIT = _expected("update_progress")
LEAD = _expected("lead_review_closeout")
SUPERVISE = _expected("approve_closeout")
assert EDIT == {
    "alice": 302,
    "bob": 302,
    "carol": 302,
    "dave": 403,
    "eve": 404,
    "mallory": 404,
    "root": 302,
}
assert LEAD == {**EDIT, "alice": 403}
assert SUPERVISE == {**EDIT, "alice": 403, "bob": 403}
POSTS = {
    "progress": ("task_progress", fresh_task, lambda: {"note": "推进中"}, EDIT),
    "closeout": (
        "closeout_request",
        done_task,
        lambda: {"summary": "已整改", "no_evidence_reason": "线下报送"},
        EDIT,
    ),
    "lead_review": ("closeout_review", at_lead_review, lambda: {"decision": "approve"}, LEAD),
    "lead_return": (
        "closeout_review",
        at_lead_review,
        lambda: {"decision": "return", "comment": "材料不足"},
        LEAD,
    ),
    "supervisor_review": (
        "closeout_review",
        at_supervisor_review,
        lambda: {"decision": "approve"},
        SUPERVISE,
    ),
    "extension": (
        "extension_request",
        fresh_task,
        lambda: {"new_deadline": _in_30_days(), "reason": "跨年度"},
        EDIT,
    ),
    "extension_approve": (
        "extension_decide",
        with_pending_extension,
        lambda: {"decision": "approve"},
        SUPERVISE,
    ),
    "extension_refuse": (
        "extension_decide",
        with_pending_extension,
        lambda: {"decision": "refuse", "comment": "理由不足"},
        SUPERVISE,
    ),
    "reopen": ("task_reopen", closed, lambda: {"reason": "回头看发现反弹"}, SUPERVISE),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", list(POSTS))
def test_every_change_view_for_every_role(client, people, inspection, finance, endpoint, persona):
    name, setup, data, expected = POSTS[endpoint]
    task = setup(inspection, finance)
    before = (task.version, task.events.count())
    client.force_login(people[persona])
    response = client.post(
        reverse(f"tracker:{name}", args=[task.pk]), {"version": task.version, **data()}
    )
    assert response.status_code == expected[persona], response.content.decode()[:500]
    task.refresh_from_db()
    after = (task.version, task.events.count())
    if expected[persona] == 302:
        assert response["Location"] == reverse("tracker:task_detail", args=[task.pk])
        assert after[1] == before[1] + 1  # the change happened, with its one history event
    else:
        assert after == before  # refused: nothing written


# Each field of the task page's progress form (进展更新), one at a time: the same rule for all
# (tracker.permissions.ACTION_RULES["update_progress"]), one event per field when allowed.
PROGRESS_FIELDS = {
    "note": lambda task: {"note": "推进中"},
    "status": lambda task: {"status": TaskStatus.BASICALLY_COMPLETED},
    "tick": lambda task: {"measures": [task.measures.order_by("order")[0].pk]},
    "not_applicable": lambda task: {f"na_{task.measures.order_by('order')[0].pk}": "上级统一制定"},
    "evidence": lambda task: {"files": [upload("现场照片.pdf", PDF_BYTES)]},
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("field", list(PROGRESS_FIELDS))
def test_every_field_of_the_progress_form_for_every_role(
    client, people, inspection, finance, field, persona
):
    from tracker.models import Evidence, Measure

    task = fresh_task(inspection, finance)

    def state():
        task.refresh_from_db()
        return (
            task.version,
            task.status,
            task.progress,
            task.events.count(),
            list(Measure.objects.filter(task=task).order_by("pk").values()),
            Evidence.objects.filter(task=task).count(),
        )

    before = state()
    client.force_login(people[persona])
    response = client.post(
        reverse("tracker:task_progress", args=[task.pk]),
        {"version": task.version, **PROGRESS_FIELDS[field](task)},
    )
    assert response.status_code == EDIT[persona], response.content.decode()[:500]
    after = state()
    if EDIT[persona] == 302:
        assert after != before
        assert after[3] == before[3] + 1  # one event for the one field
        assert task.events.latest("id").actor == people[persona]
    else:
        assert after == before


@pytest.mark.parametrize("endpoint", list(POSTS))
def test_anonymous_posts_are_sent_to_login_and_change_nothing(
    client, inspection, finance, endpoint
):
    name, setup, data, _expected = POSTS[endpoint]
    task = setup(inspection, finance)
    before = task.events.count()
    response = client.post(reverse(f"tracker:{name}", args=[task.pk]), {"version": 1, **data()})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert task.events.count() == before


SEE = {"alice": 200, "bob": 200, "carol": 200, "dave": 200, "eve": 404, "mallory": 404, "root": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_task_page_and_evidence_for_every_role(client, people, finance_task, alice, persona):
    evidence = actions.add_evidence(
        finance_task, upload("报告.pdf", PDF_BYTES), actions.Actor.of(alice)
    )
    client.force_login(people[persona])
    page = client.get(reverse("tracker:task_detail", args=[finance_task.pk]))
    download = client.get(reverse("tracker:evidence_download", args=[finance_task.pk, evidence.pk]))
    assert (page.status_code, download.status_code) == (SEE[persona], SEE[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_missing_task_answers_exactly_like_a_forbidden_one(client, people, persona):
    client.force_login(people[persona])
    assert client.get(reverse("tracker:task_detail", args=[987654])).status_code == 404
    assert client.post(reverse("tracker:task_progress", args=[987654]), {}).status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ["task_list", "review_queue"])
def test_lists_open_for_every_logged_in_role(client, people, name, persona):
    client.force_login(people[persona])
    assert client.get(reverse(f"tracker:{name}")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        lambda t, e: reverse("tracker:task_list"),
        lambda t, e: reverse("tracker:review_queue"),
        lambda t, e: reverse("tracker:task_detail", args=[t.pk]),
        lambda t, e: reverse("tracker:evidence_download", args=[t.pk, e.pk]),
        lambda t, e: reverse("password_change"),
    ],
)
def test_anonymous_pages_are_sent_to_login(client, finance_task, alice, url):
    evidence = actions.add_evidence(
        finance_task, upload("报告.pdf", PDF_BYTES), actions.Actor.of(alice)
    )
    response = client.get(url(finance_task, evidence))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_the_list_shows_each_role_only_its_scope(
    client, people, finance_task, planning_task, inspection
):
    other_org = factories.make_org("中共另一个开发区工作委员会")
    elsewhere = factories.make_task(
        factories.make_inspection(other_org), title="别处的问题", owner=None
    )
    titles = {t: t.problem.title for t in (finance_task, planning_task, elsewhere)}
    expected = {
        "alice": {finance_task},
        "bob": {finance_task},
        "carol": {finance_task, planning_task},
        "dave": {finance_task, planning_task},
        "eve": {planning_task},
        "mallory": set(),
        "root": {finance_task, planning_task, elsewhere},
    }
    for persona, visible in expected.items():
        client.force_login(people[persona])
        html = client.get(reverse("tracker:task_list")).content.decode()
        shown = {t for t, title in titles.items() if title in html}
        assert shown == visible, persona


def test_the_review_queue_shows_each_reviewer_only_what_they_review(
    client, people, inspection, finance, planning
):
    finance_lead_stage = at_lead_review(inspection, finance)
    finance_lead_stage.problem.title = "财政待牵头审核"
    finance_lead_stage.problem.save()
    planning_sup_stage = at_supervisor_review(inspection, planning)
    planning_sup_stage.problem.title = "规划待整改办审核"
    planning_sup_stage.problem.save()
    extension = with_pending_extension(inspection, finance)
    extension.problem.title = "财政待延期审批"
    extension.problem.save()
    titles = ["财政待牵头审核", "规划待整改办审核", "财政待延期审批"]
    expected = {
        "alice": set(),
        "bob": {"财政待牵头审核"},
        "carol": set(titles),
        "dave": set(),
        "eve": set(),
        "mallory": set(),
    }
    for persona, visible in expected.items():
        client.force_login(people[persona])
        html = client.get(reverse("tracker:review_queue")).content.decode()
        assert {t for t in titles if t in html} == visible, persona


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(POSTS))
def test_every_change_form_is_refused_without_a_csrf_token(inspection, finance, carol, endpoint):
    from django.test import Client

    name, setup, data, _expected = POSTS[endpoint]
    task = setup(inspection, finance)
    before = task.events.count()
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    response = client.post(
        reverse(f"tracker:{name}", args=[task.pk]), {"version": task.version, **data()}
    )
    assert response.status_code == 403
    assert task.events.count() == before


def test_every_form_on_the_pages_carries_a_csrf_token(client, inspection, finance, carol, bob):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    pages = []
    task = with_pending_extension(inspection, finance)
    for measure in task.measures.all():
        actions.tick_measure(task, measure, True, factories.SYSTEM)
    actions.change_status(task, TaskStatus.BASICALLY_COMPLETED, factories.SYSTEM)
    actions.request_closeout(
        task, factories.SYSTEM, summary="完成", no_evidence_reason="无", basic_reason="收尾中"
    )
    csrf_client.force_login(carol)
    pages.append(csrf_client.get(reverse("tracker:task_detail", args=[task.pk])))
    pages.append(
        csrf_client.get(reverse("tracker:task_detail", args=[closed(inspection, finance).pk]))
    )
    pages.append(csrf_client.get(reverse("password_change")))
    pages.append(csrf_client.get(reverse("tracker:task_list")))
    csrf_client.logout()
    pages.append(csrf_client.get(reverse("login")))
    total_forms = 0
    for page in pages:
        html = page.content.decode()
        post_forms = html.count('method="post"')
        total_forms += post_forms
        assert post_forms == html.count('name="csrfmiddlewaretoken"'), page.request["PATH_INFO"]
    assert total_forms >= 10  # the detail pages really showed their forms


def test_login_itself_is_csrf_protected(carol):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "carol", "password": PASSWORD})
    assert response.status_code == 403


def test_an_outsider_cannot_even_find_a_closed_task_to_reopen(client, eve, inspection, finance):
    task = closed(inspection, finance)
    assert task.status == TaskStatus.CLOSED
    client.force_login(eve)
    assert (
        client.post(reverse("tracker:task_reopen", args=[task.pk]), {"reason": "x"}).status_code
        == 404
    )


def test_a_supervisor_over_all_organizations_sees_every_task(db, finance_task, planning_task):
    """An all-organizations scope must not collapse to "nothing" when OR-ed with other rules."""
    from django.contrib.auth import get_user_model

    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment
    from tracker.permissions import access_for

    chief = get_user_model().objects.create_user("chief", password="x")
    ScopeAssignment.objects.create(user=chief, role=ScopeRole.SUPERVISOR, all_organizations=True)
    access = access_for(chief)
    assert set(access.tasks()) == {finance_task, planning_task}
    assert set(access.supervised_tasks()) == {finance_task, planning_task}
    assert access.inspections().count() == 1
    assert access.can_supervise(finance_task)


@pytest.mark.parametrize("scope", ["organization", "inspection", "all", "observer", "other"])
def test_can_supervise_answers_as_supervised_tasks_does(db, org, inspection, finance, scope):
    """can_supervise reads the scopes in Python; it must agree with the queryset rule."""
    from django.contrib.auth import get_user_model

    from tests import factories
    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment
    from tracker.permissions import access_for

    # Given tasks of two inspections of carol's organization and one of another organization
    second = factories.make_inspection(org, round_name="十五届省委第三轮")
    elsewhere = factories.make_org("中共别处委员会")
    tasks = [
        factories.make_task(inspection, owner=finance),
        factories.make_task(second, owner=finance),
        factories.make_task(factories.make_inspection(elsewhere), owner=finance),
    ]
    # and a user holding one kind of scope
    user = get_user_model().objects.create_user(f"u-{scope}", password="x")
    fields = {
        "organization": {"role": ScopeRole.SUPERVISOR, "organization": org},
        "inspection": {"role": ScopeRole.SUPERVISOR, "inspection": inspection},
        "all": {"role": ScopeRole.SUPERVISOR, "all_organizations": True},
        "observer": {"role": ScopeRole.OBSERVER, "organization": org},
        "other": {"role": ScopeRole.SUPERVISOR, "organization": elsewhere},
    }[scope]
    ScopeAssignment.objects.create(user=user, **fields)

    # Then the queryset covers the tasks the scope names, and the Python check agrees
    access = access_for(user)
    supervised = set(access.supervised_tasks().values_list("pk", flat=True))
    expected = {"organization": [0, 1], "inspection": [0], "all": [0, 1, 2], "observer": []}
    assert supervised == {tasks[i].pk for i in expected.get(scope, [2])}
    assert {t.pk for t in tasks if access.can_supervise(t)} == supervised


def test_history_stores_codes_whatever_the_ui_language(finance_task, alice):
    from django.utils import translation

    from tracker import actions
    from tracker.choices import TaskStatus

    with translation.override("en"):
        actions.change_status(finance_task, TaskStatus.BASICALLY_COMPLETED, actions.Actor.of(alice))
    event = finance_task.events.latest("id")
    assert (event.old_value, event.new_value) == ("in_progress", "basically_completed")


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_per_task_check_agrees_with_its_queryset(
    people, inspection, finance, planning, persona
):
    """can_edit / can_lead_review / can_supervise read the loaded task; the list, ledger,
    review queue and admin use the querysets. For every persona they name the same tasks."""
    from tracker.permissions import access_for

    lead_elsewhere = factories.make_task(inspection, owner=planning)
    actions.change_lead_unit(lead_elsewhere, finance, factories.SYSTEM)
    carried = factories.make_task(inspection, owner=planning)
    actions.change_responsible_units(carried, [finance], factories.SYSTEM)
    tasks = [
        factories.make_task(inspection, owner=finance),
        factories.make_task(inspection, owner=planning),
        lead_elsewhere,
        carried,
    ]
    access = access_for(people[persona])
    pairs = [
        (access.tasks(), lambda t: access.tasks().filter(pk=t.pk).exists()),
        (access.editable_tasks(), access.can_edit),
        (access.lead_review_tasks(), access.can_lead_review),
        (access.supervised_tasks(), access.can_supervise),
    ]
    for queryset, check in pairs:
        ids = set(queryset.filter(pk__in=[t.pk for t in tasks]).values_list("pk", flat=True))
        fresh = [type(t).objects.get(pk=t.pk) for t in tasks]
        assert {t.pk for t in fresh if check(t)} == ids, persona
