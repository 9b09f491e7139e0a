"""Unit scoring (考核), recomputed by hand on a small office.

Over the first half of 2026, 财政局 had three tasks due: one done early (but its close-out was
returned once, and a re-check later found it not fixed), one done ten days late, one still open
ten days past its deadline (an extension asked, a 告诫书 issued). 规划局 had one, done early.
Carol (supervisor) ranks them; Dave (observer) sees the same; Alice (clerk) finds no page.
"""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from rectify.env import SettingError, env_weights
from tests import factories
from tests.conftest import PASSWORD
from tracker import actions, scoring
from tracker.choices import EventKind, EventSource, TaskStatus, TaskType
from tracker.models import Task

pytestmark = pytest.mark.django_db

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)


def at(day: str):
    return time_machine.travel(f"{day} 10:00 +0800", tick=False)


@pytest.fixture
def office(inspection, finance, planning, alice, bob):
    clerk = actions.Actor.of(alice, EventSource.USER)
    lead = actions.Actor.of(bob, EventSource.USER)
    with at("2026-01-05"):
        early = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 3, 31))
        late = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 4, 30))
        open_ = factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 6, 20))
        factories.make_task(inspection, owner=finance, deadline=None, task_type=TaskType.LONG_TERM)
        factories.make_task(inspection, owner=finance, deadline=datetime.date(2026, 9, 30))
        planned = factories.make_task(
            inspection, owner=planning, deadline=datetime.date(2026, 2, 28)
        )
    with at("2026-02-01"):
        actions.change_status(planned, TaskStatus.COMPLETED, factories.SYSTEM)
    with at("2026-03-20"):
        factories.ready_for_closeout(early)
    with at("2026-04-02"):
        actions.request_closeout(early, clerk, summary="已完成", no_evidence_reason="线下")
        actions.return_closeout(early, lead, reason="材料不全")
    with at("2026-04-05"):
        actions.change_status(early, TaskStatus.COMPLETED, clerk)
    with at("2026-05-10"):
        actions.change_status(late, TaskStatus.COMPLETED, clerk)
    with at("2026-06-01"):
        actions.request_extension(
            open_, clerk, new_deadline=datetime.date(2026, 7, 31), reason="跨部门"
        )
    with at("2026-06-25"):
        actions.record_event(open_, EventKind.LADDER, factories.SYSTEM, new="warning")
    with at("2026-06-28"):
        actions.record_event(early, EventKind.RECHECK, factories.SYSTEM, new="failed")
    return {"early": early, "late": late, "open": open_}


def test_the_scores_are_what_the_formula_gives_by_hand(office, finance, planning):
    with at("2026-07-15"):
        rows = scoring.score_units(Task.objects.all(), START, END)
    by_name = {r.name: r for r in rows}
    f = by_name["财政局"]
    assert (f.due, f.on_time, f.days_overdue) == (3, 1, 20)
    assert (f.returned, f.extensions, f.rechecks_failed, f.ladder) == (1, 1, 1, 3)
    # 100 − 40×(1 − 1/3) − 0.5×20/3 − 2×1 − 1×1 − 5×1 − 5×3 = 47
    assert f.score == 47.0
    p = by_name["规划局"]
    assert (p.due, p.on_time, p.days_overdue, p.score) == (1, 1, 0, 100.0)
    assert [(r.rank, r.name) for r in rows] == [(1, "规划局"), (2, "财政局")]


def test_other_weights_change_the_score_as_the_formula_says(office, settings):
    settings.RECTIFY = {
        **settings.RECTIFY,
        "SCORE_WEIGHTS": {
            "rate": 60, "days": 1, "returned": 0, "extension": 0, "recheck": 0, "ladder": 0,
        },
    }  # fmt: skip
    with at("2026-07-15"):
        [finance] = [
            r for r in scoring.score_units(Task.objects.all(), START, END) if r.name == "财政局"
        ]
    assert finance.score == round(100 - 60 * (2 / 3) - 20 / 3, 1)


def test_carol_reads_the_ranking_drills_down_and_exports_it(client, office, carol):
    assert client.login(username="carol", password=PASSWORD)
    params = {"start": START.isoformat(), "end": END.isoformat()}
    with at("2026-07-15"):
        page = client.get(reverse("tracker:unit_scores"), params)
        body = page.content.decode()
        assert page.status_code == 200
        assert "得分 = 100" in body and "47.0" in body and "告诫书" in body
        # The returned close-outs figure links to the one task behind it
        [link] = [
            r["links"]["returned"] for r in page.context["table"] if r["row"].name == "财政局"
        ]
        listed = client.get(link)
        assert list(listed.context["tasks"]) == [office["early"]]
        due = client.get(
            [r["links"]["due"] for r in page.context["table"] if r["row"].name == "财政局"][0]
        )
        assert set(due.context["tasks"]) == set(office.values())
        export = client.get(reverse("tracker:unit_scores_export"), params)
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[-1]) for r in rows] == [(1, "规划局", 100), (2, "财政局", 47)]


def test_only_supervisors_and_observers_find_the_ranking(client, office, alice, dave, mallory):
    for user, status in ((alice, 404), (mallory, 404), (dave, 200)):
        client.force_login(user)
        assert client.get(reverse("tracker:unit_scores")).status_code == status, user
        assert client.get(reverse("tracker:unit_scores_export")).status_code == status, user


def test_a_period_that_ends_before_it_starts_is_refused(client, carol):
    client.force_login(carol)
    page = client.get(reverse("tracker:unit_scores"), {"start": "2026-06-30", "end": "2026-01-01"})
    assert page.status_code == 200
    assert "截止日期不能早于起始日期" in page.content.decode()


def test_score_weights_from_the_environment_name_what_is_wrong():
    default = {"rate": 40.0, "days": 0.5}
    assert env_weights("W", default, {"W": "rate=60"}) == {"rate": 60.0, "days": 0.5}
    for bad in ("speed=1", "rate", "rate=x", "rate=-1"):
        with pytest.raises(SettingError, match="W"):
            env_weights("W", default, {"W": bad})
