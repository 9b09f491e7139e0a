"""Warning lights: red for overdue work, yellow for work falling due or basically completed late,
green otherwise, with thresholds from settings."""

from __future__ import annotations

import datetime

import pytest

from tracker.lamps import GREEN, RED, YELLOW, LampRules, lamp

DEFAULT = LampRules()


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"overdue": 1, "due_soon": 0, "basic_late": 0}, RED),
        ({"overdue": 3, "due_soon": 5, "basic_late": 1}, RED),
        ({"overdue": 0, "due_soon": 1, "basic_late": 0}, YELLOW),
        ({"overdue": 0, "due_soon": 0, "basic_late": 1}, YELLOW),
        ({"overdue": 0, "due_soon": 0, "basic_late": 0}, GREEN),
        ({}, GREEN),
    ],
)
def test_default_rules_light_units_red_yellow_green(counts, expected):
    assert lamp(counts, DEFAULT) == expected


def test_a_higher_red_threshold_leaves_a_single_overdue_task_yellow_not_green():
    rules = LampRules(red_overdue=2)
    assert lamp({"overdue": 1}, rules) == YELLOW
    assert lamp({"overdue": 2}, rules) == RED


def test_basically_completed_late_can_be_switched_off():
    rules = LampRules(yellow_basic_late=False)
    assert lamp({"basic_late": 1}, rules) == GREEN


def test_rules_come_from_settings(settings):
    settings.RECTIFY = {
        **settings.RECTIFY,
        "LAMP_RED_OVERDUE": 3,
        "LAMP_YELLOW_DAYS": 20,
        "LAMP_YELLOW_BASIC_LATE": False,
    }
    assert LampRules.from_settings() == LampRules(3, 20, False)


@pytest.mark.django_db
def test_a_task_due_within_the_yellow_days_turns_its_unit_yellow(carol, inspection, finance):
    from tests import factories
    from tracker import selectors
    from tracker.permissions import access_for

    today = datetime.date(2026, 11, 1)
    factories.make_task(inspection, owner=finance, deadline=today + datetime.timedelta(days=10))
    tasks = access_for(carol).tasks()
    [row] = selectors.unit_rows(tasks, today, LampRules(yellow_days=10))
    assert (row["due_soon"], row["lamp"]) == (1, YELLOW)
    [row] = selectors.unit_rows(tasks, today, LampRules(yellow_days=9))
    assert (row["due_soon"], row["lamp"]) == (0, GREEN)
