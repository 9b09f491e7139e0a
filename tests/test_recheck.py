"""反向核查 (re-checks of closed tasks): carol, the organization's supervisor, draws a seeded
sample of the closed tasks of 财政局 and 规划局, names dave the observer as checker, and records
the outcomes. A fix that was only on paper (未到位) reopens its task (回头看) with the finding as
the reason; every outcome is a RECHECK event. dave sees the round and changes nothing; alice the
clerk and mallory see no round at all; the export opens in Excel with a row per item.
"""

from __future__ import annotations

import io
import random

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tracker import actions
from tracker.actions.rechecks import allocate, draw
from tracker.choices import (
    CloseoutStatus,
    EventKind,
    RecheckOutcome,
    RecheckState,
    TaskStatus,
)
from tracker.models import (
    CloseoutRequest,
    Organization,
    RecheckItem,
    RecheckRound,
    Task,
    TaskEvent,
)

pytestmark = pytest.mark.django_db


def close(task: Task) -> Task:
    """Through the double review, as the office would."""
    factories.ready_for_closeout(task)
    actions.request_closeout(task, factories.SYSTEM, summary="完成", no_evidence_reason="线下")
    actions.lead_review_closeout(task, factories.SYSTEM)
    actions.approve_closeout(task, factories.SYSTEM)
    task.refresh_from_db()
    return task


@pytest.fixture
def closed(inspection, finance, planning):
    """Eight closed tasks of 财政局, four of 规划局, and one open task that is never sampled."""
    tasks = [close(factories.make_task(inspection, owner=finance)) for _ in range(8)]
    tasks += [close(factories.make_task(inspection, owner=planning)) for _ in range(4)]
    factories.make_task(inspection, owner=finance, title="尚在整改的问题")
    return tasks


def sampled(round_: RecheckRound) -> list[int]:
    return sorted(round_.items.values_list("task_id", flat=True))


def as_(user) -> actions.Actor:
    return actions.Actor.of(user)


# --- the sample -------------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_tasks_and_another_seed_others(carol, org, closed):
    first = actions.draw_recheck_sample(org, as_(carol), seed=2026, count=5, name="第一批")
    again = actions.draw_recheck_sample(org, as_(carol), seed=2026, count=5, name="复核")
    other = actions.draw_recheck_sample(org, as_(carol), seed=7, count=5, name="另一批")
    assert len(sampled(first)) == 5
    assert sampled(first) == sampled(again)
    assert sampled(first) != sampled(other)
    assert first.seed == 2026 and first.population == 12 and first.state == RecheckState.OPEN


def test_the_sample_is_stratified_by_owner_unit(carol, org, closed, finance, planning):
    # 25% of 12 = 3: one for each unit, the third to the unit with more other closed tasks.
    round_ = actions.draw_recheck_sample(org, as_(carol), seed=1, percent=25, name="按比例")
    units = [item.unit for item in round_.items.all()]
    assert units.count(finance) == 2 and units.count(planning) == 1
    # Every sampled task is closed and in the organization; the open one never is.
    assert all(item.task.status == TaskStatus.CLOSED for item in round_.items.all())
    assert not round_.items.filter(task__problem__title="尚在整改的问题").exists()


def test_percentage_and_count_and_never_the_same_task_twice(carol, org, closed, inspection):
    everything = actions.draw_recheck_sample(org, as_(carol), seed=3, percent=100, name="全部")
    assert sampled(everything) == sorted(t.pk for t in closed)
    too_many = actions.draw_recheck_sample(inspection, as_(carol), seed=3, count=50, name="超量")
    assert sampled(too_many) == sorted(t.pk for t in closed)  # at most every closed task
    one = actions.draw_recheck_sample(inspection, as_(carol), seed=3, percent=1, name="1%")
    assert len(sampled(one)) == 1  # rounded up: never an empty sample
    assert one.inspection == inspection and one.organization is None


def test_the_allocation_rule():
    rng = random.Random(0)
    assert allocate([10, 2], 4, rng) == [3, 1]  # one each, the rest by the others (9:1)
    assert allocate([5, 5, 5], 3, rng) == [1, 1, 1]
    assert allocate([1, 1, 1], 9, rng) == [1, 1, 1]  # never more than a unit has
    assert sum(allocate([4, 3, 2, 1], 2, rng)) == 2  # fewer places than units: one each
    assert max(allocate([4, 3, 2, 1], 2, rng)) == 1
    # the same data and seed, the same sample, whatever order the rows came in
    rows = [(pk, pk % 3) for pk in range(1, 40)]
    assert draw(rows, 9, count=7, percent=None) == draw(rows[::-1], 9, count=7, percent=None)


def test_a_round_needs_a_size_and_closed_tasks(carol, org, inspection):
    with pytest.raises(actions.ActionError):
        actions.draw_recheck_sample(org, as_(carol), seed=1, name="无")  # neither size
    with pytest.raises(actions.ActionError):
        actions.draw_recheck_sample(org, as_(carol), seed=1, count=3, percent=5, name="两者")
    with pytest.raises(actions.ActionError):
        actions.draw_recheck_sample(org, as_(carol), seed=1, count=3, name="没有已销号任务")
    assert not RecheckRound.objects.exists()


# --- the outcomes -----------------------------------------------------------------------------


@pytest.fixture
def round_(carol, org, closed):
    return actions.draw_recheck_sample(org, as_(carol), seed=2026, count=3, name="第一批")


def test_a_failed_recheck_reopens_the_task_with_the_finding(carol, round_):
    item = round_.items.order_by("task_id").first()
    finding = "走访7名群众,4人不知道该项整改"
    # When carol records 未到位 with what the check found
    actions.record_recheck(item, as_(carol), RecheckOutcome.FAILED, finding)
    task = Task.objects.get(pk=item.task_id)
    # then the task is back to 整改中 (回头看), the finding its reason, its close-out undone
    assert task.status == TaskStatus.IN_PROGRESS
    reopened = TaskEvent.objects.get(task=task, kind=EventKind.REOPENED)
    assert reopened.reason == finding and reopened.actor == carol
    assert not CloseoutRequest.objects.filter(task=task, status=CloseoutStatus.APPROVED).exists()
    # and one RECHECK event says 未到位, as unit scoring counts it
    event = TaskEvent.objects.get(task=task, kind=EventKind.RECHECK)
    assert (event.new_value, event.reason, event.actor) == ("failed", finding, carol)
    item.refresh_from_db()
    assert item.outcome == RecheckOutcome.FAILED and item.recorded_by == carol
    # recorded once: a second outcome is refused
    with pytest.raises(actions.ActionError):
        actions.record_recheck(item, as_(carol), RecheckOutcome.CONFIRMED)


def test_a_confirmed_recheck_keeps_the_task_closed_and_completes_the_round(carol, round_):
    for item in round_.items.all():
        actions.record_recheck(item, as_(carol), RecheckOutcome.CONFIRMED, "走访核实,整改到位")
    assert set(
        Task.objects.filter(recheck_items__round=round_).values_list("status", flat=True)
    ) == {TaskStatus.CLOSED}
    events = TaskEvent.objects.filter(kind=EventKind.RECHECK, task__recheck_items__round=round_)
    assert sorted(events.values_list("new_value", flat=True)) == ["confirmed"] * 3
    round_.refresh_from_db()
    assert round_.state == RecheckState.DONE


def test_a_failed_recheck_needs_its_findings(carol, round_):
    item = round_.items.first()
    with pytest.raises(actions.ActionError):
        actions.record_recheck(item, as_(carol), RecheckOutcome.FAILED, "  ")
    assert Task.objects.get(pk=item.task_id).status == TaskStatus.CLOSED
    assert not TaskEvent.objects.filter(kind=EventKind.RECHECK).exists()


@pytest.mark.parametrize("persona", ["alice", "bob", "dave", "eve", "mallory"])
def test_only_supervisors_draw_and_record(request, persona, org, round_):
    user = request.getfixturevalue(persona)
    rounds, events = RecheckRound.objects.count(), TaskEvent.objects.count()
    with pytest.raises(actions.NotAllowed):
        actions.draw_recheck_sample(org, as_(user), seed=1, count=2, name="越权")
    item = round_.items.first()
    with pytest.raises(actions.NotAllowed):
        actions.record_recheck(item, as_(user), RecheckOutcome.FAILED, "越权")
    with pytest.raises(actions.NotAllowed):
        actions.assign_checker(item, None, as_(user))
    item.refresh_from_db()
    assert (item.outcome, RecheckRound.objects.count(), TaskEvent.objects.count()) == (
        "",
        rounds,
        events,
    )
    assert Task.objects.get(pk=item.task_id).status == TaskStatus.CLOSED


def test_a_supervisor_of_another_organization_cannot_draw_here(org, closed):
    from django.contrib.auth import get_user_model

    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment

    other = Organization.objects.create(name="中共另一开发区工作委员会")
    zed = get_user_model().objects.create_user("zed")
    ScopeAssignment.objects.create(user=zed, role=ScopeRole.SUPERVISOR, organization=other)
    with pytest.raises(actions.NotAllowed):
        actions.draw_recheck_sample(org, as_(zed), seed=1, count=2, name="越界")


def test_the_checker_is_someone_outside_the_tasks_units(carol, dave, alice, round_):
    item = round_.items.filter(unit__name="财政局").first()
    actions.assign_checker(item, dave, as_(carol))
    assert RecheckItem.objects.get(pk=item.pk).checker == dave
    with pytest.raises(actions.ActionError):
        actions.assign_checker(item, alice, as_(carol))  # a clerk of the unit checked
    assert RecheckItem.objects.get(pk=item.pk).checker == dave


# --- the pages --------------------------------------------------------------------------------


def test_carol_draws_a_round_on_the_page_and_records_a_failure(client, carol, org, closed):
    client.force_login(carol)
    assert client.get(reverse("tracker:recheck_list")).status_code == 200
    response = client.post(
        reverse("tracker:recheck_list"),
        {"name": "页面抽查", "scope": f"organization:{org.pk}", "count": "2", "seed": "42"},
    )
    round_ = RecheckRound.objects.get(name="页面抽查")
    assert response.status_code == 302
    assert response["Location"] == reverse("tracker:recheck_detail", args=[round_.pk])
    html = client.get(response["Location"]).content.decode()
    item = round_.items.first()
    assert reverse("tracker:task_detail", args=[item.task_id]) in html
    assert item.unit.name in html
    response = client.post(
        reverse("tracker:recheck_record", args=[round_.pk, item.pk]),
        {"outcome": "failed", "findings": "现场查看,台账未建立"},
    )
    assert response.status_code == 302
    assert Task.objects.get(pk=item.task_id).status == TaskStatus.IN_PROGRESS


def test_dave_the_observer_sees_the_round_and_changes_nothing(client, dave, round_):
    client.force_login(dave)
    html = client.get(reverse("tracker:recheck_detail", args=[round_.pk])).content.decode()
    assert round_.name in html and "记录结果" not in html
    item = round_.items.first()
    url = reverse("tracker:recheck_record", args=[round_.pk, item.pk])
    assert client.post(url, {"outcome": "failed", "findings": "x"}).status_code == 403
    assert client.post(reverse("tracker:recheck_list"), {"name": "x"}).status_code == 403
    assert not TaskEvent.objects.filter(kind=EventKind.RECHECK).exists()
    assert Task.objects.get(pk=item.task_id).status == TaskStatus.CLOSED


@pytest.mark.parametrize("persona", ["alice", "eve", "mallory"])
def test_units_and_outsiders_see_no_round(request, client, persona, round_):
    client.force_login(request.getfixturevalue(persona))
    item = round_.items.first()
    for url in (
        reverse("tracker:recheck_list"),
        reverse("tracker:recheck_detail", args=[round_.pk]),
        reverse("tracker:recheck_export", args=[round_.pk]),
    ):
        assert client.get(url).status_code == 404
    url = reverse("tracker:recheck_record", args=[round_.pk, item.pk])
    assert client.post(url, {"outcome": "failed", "findings": "x"}).status_code == 404
    assert not TaskEvent.objects.filter(kind=EventKind.RECHECK).exists()


def test_the_export_opens_in_excel_with_a_row_per_item(client, carol, round_):
    item = round_.items.first()
    actions.record_recheck(item, as_(carol), RecheckOutcome.FAILED, '=HYPERLINK("x")整改不实')
    client.force_login(carol)
    response = client.get(reverse("tracker:recheck_export", args=[round_.pk]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "第一批" and str(round_.seed) in rows[0]
    body = rows[2:]
    assert len(body) == 3
    assert sorted(r[2] for r in body) == sampled(round_)
    failed = next(r for r in body if r[2] == item.task_id)
    assert failed[6] == "未到位" and failed[7].startswith("=HYPERLINK")  # text, not a formula
    assert sheet.cell(row=3 + body.index(failed), column=8).data_type == "s"


def test_evidence_of_a_recheck_joins_the_tasks_evidence(settings, tmp_path, carol, round_):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_workspace_evidence import PNG_BYTES

    settings.MEDIA_ROOT = tmp_path / "media"
    item = round_.items.first()
    photo = SimpleUploadedFile("走访记录.png", PNG_BYTES, content_type="image/png")
    actions.record_recheck(item, as_(carol), RecheckOutcome.CONFIRMED, "走访核实", file=photo)
    item.refresh_from_db()
    assert item.evidence.task_id == item.task_id
    assert item.evidence.original_name == "走访记录.png"
