"""The supervisors' dashboard: one page, one scope, every figure a link to the tasks behind it.

The scope (all, a level, an inspection, an organization, a unit) and the as-of day are
TaskFilterSet parameters, so a dashboard URL is shareable and each drill-down link is the same
query string plus one or two parameters the task list understands.

A past as-of day (统计日期) shows every figure, light and row as it stood at the end of that
day, rebuilt from history (``tracker.history_asof``); tasks created later are not counted. The
task list and the ledger export behind the drill-down links keep today's statuses, owners and
deadlines and judge only the deadline rules on that day, so there a figure of a past day can
differ from the list it links to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from tracker import selectors, supervision
from tracker.choices import DONE_STATUSES, LadderRung, Level, TaskStatus
from tracker.filtersets import ANY_LABEL, TaskFilterSet, scope_organizations, scope_units
from tracker.lamps import LAMP_LABELS
from tracker.models import local_today
from tracker.permissions import Access, access_for
from tracker.scope_choices import organization_choices
from tracker.selectors import rankings
from tracker.templatetags.fast_forms import options_html

# Parameters of the page itself, not of the scope: never carried into drill-down links.
PAGE_PARAMS = ("sort", "page", "fmt")
OPEN_STATUSES = [s for s in TaskStatus.values if s not in DONE_STATUSES]
TOP_UNITS = 20
TOP_INSPECTIONS = 50


_SENTINEL_PK = 987654321


class Drill:
    """Builds task-list (or export) URLs: the dashboard's scope plus the figure's own filter."""

    def __init__(self, base: QueryDict, url: str):
        # The scope's parameters in their order (a dashboard draws hundreds of links: each is
        # encoded from these lists, never from a copied QueryDict).
        self.base = [(k, v) for k, v in base.lists() if k not in PAGE_PARAMS]
        self.names = {k for k, _v in self.base}
        self.prefix = urlencode([(k, v) for k, values in self.base for v in values])
        self.url = url

    def __call__(self, **params) -> str:
        given = {
            name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
            for name, value in params.items()
        }
        if self.names.isdisjoint(given):  # the usual case: the scope, then the figure's filter
            own = "&".join(_encoded(name, v) for name, values in given.items() for v in values)
            encoded = "&".join(filter(None, [self.prefix, own]))
        else:
            pairs = [(name, given.pop(name, values)) for name, values in self.base]
            encoded = urlencode(_pairs([*pairs, *given.items()]))
        return f"{self.url}?{encoded}" if encoded else self.url

    def per_id(self, name: str, **params) -> Callable[[int], str]:
        """``lambda pk: self(**{name: pk}, **params)`` for the many rows of one link kind: the
        URL is encoded once with a stand-in id, each row's id put in its place."""
        # ``name`` is a parameter name and values are percent-encoded, so the stand-in's
        # ``name=id`` pair occurs exactly once in the URL.
        head, rest = self(**{name: _SENTINEL_PK}, **params).split(f"{name}={_SENTINEL_PK}")
        return lambda pk: f"{head}{name}={int(pk)}{rest}"


def _pairs(lists) -> list[tuple[str, str]]:
    return [(name, v) for name, values in lists for v in values]


@functools.lru_cache(maxsize=4096)
def _encoded(name: str, value: str) -> str:
    """One ``name=value`` of a query string (a page repeats the same few hundred)."""
    return urlencode([(name, value)])


def _id_urls(name: str):
    """``reverse(name, args=[pk])`` for many pks from one ``reverse``."""
    template = reverse(name, args=[_SENTINEL_PK])
    return lambda pk: template.replace(str(_SENTINEL_PK), str(int(pk)))


def _link_rows(data: dict, drill: Drill, scoped: Drill) -> dict:
    """Attach the drill-down URL of every figure (in the view: URLs are not cached data)."""
    totals = data["totals"]
    yellow_days = data["rules"].yellow_days
    links = {
        "total": drill(),
        "done": drill(status=list(DONE_STATUSES)),
        "basically_completed": drill(status=[TaskStatus.BASICALLY_COMPLETED]),
        "not_completed": drill(status=[TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS]),
        "overdue": drill(overdue="true"),
        "due_7": drill(due_within=7),
        "due_30": drill(due_within=30),
        "due_soon": drill(due_within=yellow_days),
        "no_deadline": drill(no_deadline="true"),
        "report_due": drill(report_due="true"),
    }
    links.update({f"status_{s}": drill(status=[s]) for s in TaskStatus.values})

    unit_links: dict[int, dict] = {}
    per_unit = {
        "total": drill.per_id("owner_unit"),
        "open": drill.per_id("owner_unit", status=OPEN_STATUSES),
        "overdue": drill.per_id("owner_unit", overdue="true"),
        "due_soon": drill.per_id("owner_unit", due_within=yellow_days),
        "dashboard": scoped.per_id("owner_unit"),
    }

    def unit(row: dict) -> dict:
        links = unit_links.get(row["id"])  # a unit often stands in all three lists
        if links is None:
            links = unit_links[row["id"]] = {k: url(row["id"]) for k, url in per_unit.items()}
        return {**row, "lamp_label": LAMP_LABELS[row["lamp"]], "links": links}

    # Links only for the rows shown: a whole install has thousands of units (of which today's
    # figures send only those among the first of each order: ``rankings.UNIT_RANKINGS``).
    shown = rankings.first_rows(data, TOP_UNITS, TOP_INSPECTIONS)
    per_inspection = {
        "total": drill.per_id("inspection"),
        "done": drill.per_id("inspection", status=list(DONE_STATUSES)),
        "overdue": drill.per_id("inspection", overdue="true"),
        "due_soon": drill.per_id("inspection", due_within=yellow_days),
        "dashboard": scoped.per_id("inspection"),
    }
    inspections = [
        {
            **row,
            "lamp_label": LAMP_LABELS[row["lamp"]],
            "links": {k: url(row["id"]) for k, url in per_inspection.items()},
        }
        for row in shown["inspections"]
    ]
    categories = []
    for row in data["categories"]:
        scope = {"category_title": row["title"]} if row["title"] else {"uncategorized": "true"}
        categories.append(
            {
                **row,
                "links": {
                    "total": drill(**scope),
                    "done": drill(**scope, status=list(DONE_STATUSES)),
                    "overdue": drill(**scope, overdue="true"),
                },
            }
        )
    types = [
        {
            **row,
            "links": {
                "total": drill(task_type=[row["task_type"]]),
                "done": drill(task_type=[row["task_type"]], status=list(DONE_STATUSES)),
                "overdue": drill(task_type=[row["task_type"]], overdue="true"),
                "report_due": drill(task_type=[row["task_type"]], report_due="true"),
            },
        }
        for row in data["types"]
    ]
    return {
        "totals": totals,
        "links": links,
        "unit_count": data["unit_counts"]["count"],
        "lamp_units": [unit(u) for u in shown["by_lamp"]],
        "by_overdue": [unit(u) for u in shown["by_overdue"]],
        "by_days": [unit(u) for u in shown["by_days"]],
        "inspections": inspections,
        "inspection_count": data["inspection_counts"]["count"],
        "categories": categories,
        "types": types,
        "history": data["history"],
        "no_contact": [
            {**row, "links": {"open": per_unit["open"](row["id"])}} for row in data["no_contact"]
        ],
        "lamp_counts": {lamp: data["unit_counts"][lamp] for lamp in ("red", "yellow", "green")},
    }


def _chart_data(view: dict) -> dict:
    """What dashboard.js draws; each point carries the URL its click opens."""
    totals, links = view["totals"], view["links"]
    return {
        "status": [
            {"name": str(label), "value": totals["by_status"][s], "url": links[f"status_{s}"]}
            for s, label in TaskStatus.choices
        ],
        "history": [
            {"week": row["week_end"].isoformat(), "rate": row["completion_rate"] or 0}
            for row in view["history"]
        ],
        "units": [
            {"name": u["name"], "value": u["overdue"], "url": u["links"]["overdue"]}
            for u in view["by_overdue"]
        ],
        "categories": [
            {
                "name": c["title"] or "—",
                "done": c["done"],
                "open": c["total"] - c["done"],
                "url": c["links"]["total"],
            }
            for c in view["categories"]
        ],
        "types": [
            {"name": str(t["label"]), "value": t["total"], "url": t["links"]["total"]}
            for t in view["types"]
        ],
    }


def _scope_choices(access: Access, request: HttpRequest) -> dict:
    """The scope chooser's options, small at any volume: organizations, then the chosen
    organization's inspections and units (never every unit of a million-task install).

    Only what the user's scope holds: an organization id typed into the URL that is not among
    the user's organizations lists nothing (never that organization's units)."""
    inspections = access.inspections()
    # Kept per scope until an organization or inspection changes (tracker.scope_choices), its
    # options rendered once: a whole install has hundreds of organizations.
    choices = organization_choices(access, scope_organizations(access), ANY_LABEL)
    organizations = [(pk, name) for pk, name in choices if pk != ""]
    chosen = request.GET.get("organization", "")
    org_inspections, org_units = [], []
    org_id = int(chosen) if chosen.isdigit() else None
    if org_id is not None and org_id in {pk for pk, _name in organizations}:
        org_inspections = [
            (i.pk, str(i))
            for i in inspections.filter(organization_id=org_id).select_related("organization")
        ]
        org_units = list(
            scope_units(access)
            .filter(organization_id=org_id)
            .order_by("name")
            .values_list("pk", "name")
        )
    return {
        "levels": Level.choices,
        "organizations": organizations,
        "organization_options": mark_safe(options_html(choices, chosen)),  # noqa: S308 - escaped
        "org_inspections": org_inspections,
        "org_units": org_units,
        "chosen": {
            name: request.GET.get(name, "")
            for name in ("level", "organization", "inspection", "unit", "owner_unit")
        },
    }


def _supervision_figures(view: dict, filterset, drill: Drill, as_of) -> None:
    """督办 on the dashboard: tasks whose 签收 is late (today only: 签收 has no as-of history),
    and per unit shown the highest ladder rung its documents reached."""
    rows = [*view["lamp_units"], *view["by_overdue"], *view["by_days"]]
    rungs = supervision.unit_highest_rungs({u["id"] for u in rows})
    for row in rows:
        rung = rungs.get(row["id"])
        row["ladder"] = LadderRung(rung).label if rung else ""
    if as_of < local_today() or (filterset.is_bound and not filterset.is_valid()):
        view["ack_late"] = None
        return
    view["ack_late"] = filterset.qs.filter(supervision.ack_late_q()).count()
    view["links"]["ack_late"] = drill(unacknowledged="true")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """How rectification stands for the chosen scope today (or as of a day), and how it got there."""
    access = access_for(request)
    if not access.may_see_dashboard:
        raise Http404("No dashboard for this user.")
    filterset = TaskFilterSet(
        request.GET or None, queryset=access.tasks(), access=access, as_of_values=True
    )
    can_upload = access.may_upload_ledger
    # Nothing of today is cached: every figure and name is as of this request.
    data = selectors.dashboard_for(access, filterset, shown=(TOP_UNITS, TOP_INSPECTIONS))
    drill = Drill(request.GET, reverse("tracker:task_list"))
    view = _link_rows(data, drill, Drill(request.GET, reverse("tracker:dashboard")))
    if access.is_supervisor:
        # The published notice and the report to the inspection group, for those who supervise
        # (the download checks the inspection's scope again: 404 outside it).
        documents = {
            key: _id_urls(f"tracker:{name}")
            for key, name in {
                "notice_docx": "notice_docx",
                "notice_txt": "notice_txt",
                "report_docx": "report_docx",
                "problems": "inspection_problems",
            }.items()
        }
        for row in view["inspections"]:
            row["links"].update({key: url(row["id"]) for key, url in documents.items()})
    _supervision_figures(view, filterset, drill, data["as_of"])
    # 屡巡屡犯: tasks of the scope whose problem an earlier inspection already fed back.
    view["repeats"] = selectors.dashboard_repeats(access, filterset)
    view["links"]["repeats"] = drill(repeat="true")
    export = Drill(request.GET, reverse("tracker:ledger_export"))
    view.update(
        as_of=data["as_of"],
        as_of_past=data["as_of"] < local_today(),
        rules=data["rules"],
        chart_data=_chart_data(view),
        export_xlsx=export(fmt="xlsx"),
        export_csv=export(fmt="csv"),
        can_upload=can_upload,
        may_score=access.is_supervisor or access.is_observer,
    )
    body = render_to_string("tracker/_dashboard_body.html", view)
    context = {
        **view,
        "body": mark_safe(body),  # noqa: S308 - our own template's output
        "filterset": filterset,
        **_scope_choices(access, request),
    }
    return render(request, "tracker/dashboard.html", context)
