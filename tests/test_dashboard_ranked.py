"""A whole install's dashboard lists the first 20 of its 2,000 units and 50 of its 1,000
inspections; today's figures send only the rows among the first of each order, ranked by the
database (``figures.ranked_figure_rows``), ties at the cut included. The story: whatever the
figures (many ties, equal names, units nobody can email), the page lists exactly what a sort of
every row would have listed, and its counts are those of every row."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from tests import factories
from tracker import selectors
from tracker.choices import TaskType
from tracker.lamps import LampRules, lamp
from tracker.models import FigureDay, GroupFigure, Task, TypeFigure, Unit, local_today
from tracker.selectors import rankings

COUNTS = st.sampled_from((0, 0, 1, 2))  # small, often none: most rows tie with others
GROUP = st.fixed_dictionaries(
    {
        "total": st.integers(0, 6),
        "done": COUNTS,
        "overdue": COUNTS,
        "due_soon": COUNTS,
        "basic_late": COUNTS,
        "days": st.integers(0, 4),
    }
)


@pytest.fixture
def install(org):
    """Eight units, two pairs of them with the same name (in two organizations), and three
    inspections."""
    county = factories.make_org("中共测试县委员会")
    names = ["财政局", "财政局", "规划局", "教育局", "教育局", "审计局", "民政局", "文旅局"]
    units = [factories.make_unit(county if i in (1, 4) else org, n) for i, n in enumerate(names)]
    inspections = [
        factories.make_inspection(org, feedback=datetime.date(2026, 9, 1), group=f"第{i}巡察组")
        for i in range(3)
    ]
    return units, inspections


def _write_figures(units, inspections, groups, reachable, today, rules) -> None:
    """Today's figure tables holding exactly ``groups`` (one per (inspection, unit) pair)."""
    GroupFigure.objects.all().delete()
    TypeFigure.objects.all().delete()
    FigureDay.objects.all().delete()
    FigureDay.objects.create(day=today, yellow_days=rules.yellow_days)
    for unit, can_email in zip(units, reachable, strict=True):
        Unit.objects.filter(pk=unit.pk).update(
            contact_emails="office@example.org" if can_email else ""
        )
    pairs = [(i, u) for i in inspections for u in units]
    for (inspection, unit), g in zip(pairs, groups, strict=False):
        overdue = min(g["overdue"], g["total"])
        GroupFigure.objects.create(
            key=f"{inspection.pk}|{unit.pk}",
            inspection=inspection,
            owner_unit=unit,
            total=g["total"],
            done=min(g["done"], g["total"]),
            overdue=overdue,
            due_soon=g["due_soon"],
            basic_late=g["basic_late"],
            overdue_days=overdue * today.toordinal() - overdue * g["days"],
            oldest_deadline=today - datetime.timedelta(days=g["days"]) if overdue else None,
        )
        TypeFigure.objects.update_or_create(
            key=f"{inspection.pk}|{TaskType.DEADLINE}",
            defaults={"inspection": inspection, "task_type": TaskType.DEADLINE},
        )
    for figure in TypeFigure.objects.all():  # the inspections' sums, as the actions keep them
        rows = GroupFigure.objects.filter(inspection=figure.inspection_id)
        for name in ("total", "done", "overdue", "due_soon", "basic_late"):
            setattr(figure, name, sum(getattr(r, name) for r in rows))
        figure.save()


def _page(data: dict, shown: tuple[int, int]) -> dict:
    first = rankings.first_rows(data, *shown)
    return {
        **first,
        "unit_counts": data["unit_counts"],
        "inspection_counts": data["inspection_counts"],
        "no_contact": data["no_contact"],
        "totals": data["totals"],
    }


@examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    groups=st.lists(GROUP, min_size=0, max_size=24),
    reachable=st.lists(st.booleans(), min_size=8, max_size=8),
    shown=st.tuples(st.integers(1, 4), st.integers(1, 3)),
    red_overdue=st.integers(1, 2),
    basic_late_yellow=st.booleans(),
)
def test_the_page_lists_what_a_sort_of_every_row_lists(
    install, groups, reachable, shown, red_overdue, basic_late_yellow, settings
):
    settings.RECTIFY = {
        **settings.RECTIFY,
        "LAMP_RED_OVERDUE": red_overdue,
        "LAMP_YELLOW_BASIC_LATE": basic_late_yellow,
    }
    units, inspections = install
    today, rules = local_today(), LampRules.from_settings()
    _write_figures(units, inspections, groups, reachable, today, rules)
    scope = {"tally": Q(), "figure": Q(), "use_cache": False}

    every = selectors.dashboard(Task.objects.all(), today, **scope)
    ranked = selectors.dashboard(Task.objects.all(), today, shown=shown, **scope)

    assert every["source"] == ranked["source"] == "figures"
    assert _page(ranked, shown) == _page(every, shown)
    # The counts are of every row, and the lights the rule's own (tracker.lamps.lamp).
    assert ranked["unit_counts"]["count"] == len(every["units"])
    for light in ("red", "yellow", "green"):
        assert ranked["unit_counts"][light] == sum(
            1 for u in every["units"] if lamp(u, rules) == light
        )
    assert len(ranked["units"]) <= len(every["units"])


def test_a_whole_install_sends_only_the_first_rows(install):
    """Every unit ties (the same figures): the cut keeps every tie, and the page still lists
    its first rows by name, then id; with distinct figures only the first rows come."""
    units, inspections = install
    today, rules = local_today(), LampRules.from_settings()
    same = {"total": 4, "done": 1, "overdue": 1, "due_soon": 0, "basic_late": 0, "days": 2}
    _write_figures(units, inspections[:1], [same] * 8, [False] * 8, today, rules)
    scope = {"tally": Q(), "figure": Q(), "use_cache": False}

    tied = selectors.dashboard(Task.objects.all(), today, shown=(2, 1), **scope)
    assert len(tied["units"]) == 8  # all tie with the second
    assert [u["name"] for u in rankings.first_rows(tied, 2, 1)["by_lamp"]] == ["审计局", "教育局"]

    distinct = [{**same, "overdue": 1 + i % 3, "days": i} for i in range(8)]
    _write_figures(units, inspections[:1], distinct, [True] * 8, today, rules)
    cut = selectors.dashboard(Task.objects.all(), today, shown=(2, 1), **scope)
    assert len(cut["units"]) < 8
    assert cut["unit_counts"] == {"count": 8, "red": 8, "yellow": 0, "green": 0}
    assert cut["no_contact"] == []  # every unit can be emailed
