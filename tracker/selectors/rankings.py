"""What a dashboard page lists first: the orders units and inspections are ranked in, the
first rows of each order, the lamp counts over all rows, and today's figures of a whole scope cut
to those first rows in SQL (``figures.ranked_figure_rows``), so a page over thousands of units
reads about a hundred rows. ``tracker.selectors.dashboard`` assembles them; the API asks for
every row instead.
"""

from __future__ import annotations

import datetime

from django.db.models import Q

from tracker import figures
from tracker.lamps import LAMP_ORDER, LampRules
from tracker.models import Inspection, Unit
from tracker.rules import no_contact_q

# The orders the dashboard lists units and inspections in, but their names and ids (the last
# tie-breakers, so equal names list alike however the rows came): ``unit_rows`` and ``inspection_rows`` sort by them, the page ranks units by
# overdue tasks and by days overdue, and ``figures.ranked_figure_rows`` cuts a whole install's
# rows to the first of each in SQL.
UNIT_RANKINGS = (
    figures.Ranking(("lamp", "-overdue", "-due_soon")),
    figures.Ranking(("-overdue",), positive=("overdue",)),
    figures.Ranking(("-days_overdue",), positive=("days_overdue",)),
)
INSPECTION_RANKINGS = (figures.Ranking(("lamp", "-overdue")),)
# The units with open tasks that nobody can be emailed at (``uncontactable_among``), most first.
UNCONTACTABLE_RANKING = figures.Ranking(("-open",), positive=("open", "unreachable"))
UNCONTACTABLE_SHOWN = 50


def first_rows(data: dict, units: int, inspections: int) -> dict:
    """What a dashboard page lists of ``dashboard``'s rows (all of them, or only those
    ``shown=(units, inspections)`` sent): the first ``units`` units by light (``unit_rows``'
    order), by overdue tasks and by days overdue (units with none are not listed), and the first
    ``inspections`` inspections by light."""
    rows = data["units"]
    by_overdue = sorted(
        (u for u in rows if u["overdue"]), key=lambda u: (-u["overdue"], u["name"], u["id"])
    )
    by_days = sorted(
        (u for u in rows if u["days_overdue"]),
        key=lambda u: (-u["days_overdue"], u["name"], u["id"]),
    )
    return {
        "by_lamp": rows[:units],
        "by_overdue": by_overdue[:units],
        "by_days": by_days[:units],
        "inspections": data["inspections"][:inspections],
    }


def lamp_counts(rows: list[dict]) -> dict:
    """How many of ``rows`` (unit or inspection rows) there are, and how many per light."""
    counts = dict.fromkeys(LAMP_ORDER, 0)
    for row in rows:
        counts[row["lamp"]] += 1
    return {"count": len(rows), **counts}


# What an inspection row shows of its inspection (``Inspection.label`` and the declared count).
INSPECTION_LABELS = ("organization__name", "round_name", "group", "declared")


def most_open(rows: list[dict], limit: int) -> list[dict]:
    """The uncontactable units' order: most open tasks first, then by name and id."""
    return sorted(rows, key=lambda r: (-r["open_tasks"], r["name"], r["id"]))[:limit]


def ranked_figures(figure: Q, today: datetime.date, rules: LampRules, shown) -> dict:
    """Today's figures of a scope for a page that lists the first ``shown`` (units,
    inspections): the rows among the first of each order, the counts over all, and the units
    nobody can email ranked among themselves (``dashboard``)."""
    units, inspections = shown
    owner_rows, unit_counts = figures.ranked_figure_rows(
        figures.GROUPS,
        figure,
        "owner_unit_id",
        today,
        rules,
        (*UNIT_RANKINGS, UNCONTACTABLE_RANKING),
        (units,) * len(UNIT_RANKINGS) + (UNCONTACTABLE_SHOWN,),
        flags={"unreachable": Unit.objects.filter(no_contact_q()).order_by().values("pk")},
        labels=Unit.objects.order_by().values("pk", "name", "organization__name"),
    )
    inspection_rows_, inspection_counts = figures.ranked_figure_rows(
        figures.TYPES,
        figure,
        "inspection_id",
        today,
        rules,
        INSPECTION_RANKINGS,
        (inspections,),
        labels=Inspection.objects.order_by().values("pk", *INSPECTION_LABELS),
    )
    return {
        "groups": {
            "owner_unit": owner_rows,
            "inspection": inspection_rows_,
            "task_type": figures.figure_rows(figures.TYPES, figure, "task_type", today),
        },
        "unit_counts": unit_counts,
        "inspection_counts": inspection_counts,
        "uncontactable": most_open(
            [
                {
                    "id": r["owner_unit_id"],
                    "name": r["name"],
                    "organization": r["organization__name"],
                    "open_tasks": r["total"] - r["done"],
                }
                for r in owner_rows
                if r["unreachable"] and r["total"] > r["done"]
            ],
            UNCONTACTABLE_SHOWN,
        ),
    }
