"""A living demo, dated relative to today: one inspection in the middle of its rectification,
with several units and people, tasks that light red, yellow and green, close-outs waiting at
each review stage, a pending extension, a closed task, a reopened one and a long-term task whose
report is due. ``manage.py load_demo`` builds it once, beside the seed notices.

Everything is written through ``tracker.actions``, as the people of the scenario where the rules
let them (the clerk asks, the lead reviews, the supervisor approves), so the timelines read like
an office's; set-up no person would do (creating the tasks) is the demo's system actor.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from tracker import actions
from tracker.choices import (
    EventSource,
    InspectionKind,
    Level,
    ProblemKind,
    ScopeRole,
    TaskStatus,
    TaskType,
    UnitRole,
)
from tracker.models import (
    Inspection,
    Membership,
    Organization,
    Problem,
    ScopeAssignment,
    Unit,
    local_today,
)

ORGANIZATION = "中共示范新区工作委员会"
SYSTEM = actions.Actor.system(EventSource.SYSTEM, "demo")

# username, unit (None: a scope over the organization), role, description
PEOPLE = [
    ("clerk", "财政局", UnitRole.CLERK, "经办人 (clerk) of 财政局"),
    ("lead", "财政局", UnitRole.LEAD, "分管领导 (unit lead) of 财政局"),
    ("clerk2", "规划局", UnitRole.CLERK, "经办人 (clerk) of 规划局"),
    ("lead2", "规划局", UnitRole.LEAD, "分管领导 (unit lead) of 规划局"),
    ("clerk3", "教育局", UnitRole.CLERK, "经办人 (clerk) of 教育局"),
    ("lead3", "教育局", UnitRole.LEAD, "分管领导 (unit lead) of 教育局"),
    ("supervisor", None, ScopeRole.SUPERVISOR, "整改办 (supervisor)"),
    ("observer", None, ScopeRole.OBSERVER, "纪检监督 (read-only observer)"),
]
UNITS = ["党政办公室", "财政局", "规划局", "教育局", "卫生健康局"]


@dataclass(frozen=True)
class DemoTask:
    category: int
    title: str
    owner: str
    days: int | None  # deadline relative to today; None: the type decides
    story: str  # what happens to it (see _play)
    task_type: str = TaskType.DEADLINE
    lead_unit: str = ""
    responsible: tuple[str, ...] = ()
    leader: str = ""


CATEGORIES = [
    "(一)关于贯彻落实党中央决策部署方面",
    "(二)关于落实全面从严治党“两个责任”方面",
    "(三)关于选人用人和基层党组织建设方面",
]
TASKS = [
    DemoTask(0, "专项资金拨付滞后,部分项目资金沉淀", "财政局", -12, "overdue", leader="王某某"),
    DemoTask(0, "预算绩效管理流于形式", "财政局", 6, "in_progress", lead_unit="党政办公室"),
    DemoTask(1, "“三公”经费管理不规范", "财政局", 20, "completed"),
    DemoTask(1, "政府采购内控制度执行不严", "财政局", 25, "at_lead_review", leader="王某某"),
    DemoTask(0, "城市更新项目审批把关不严", "规划局", 40, "in_progress", responsible=("财政局",)),
    DemoTask(2, "规划许可档案管理混乱", "规划局", 15, "at_supervisor_review"),
    DemoTask(2, "违法建设整治不彻底", "规划局", 3, "extension_pending", leader="李某某"),
    DemoTask(1, "校外培训机构监管存在盲区", "教育局", 30, "closed"),
    DemoTask(2, "教师招聘程序不规范", "教育局", 60, "reopened"),
    DemoTask(
        1,
        "落实中央八项规定精神常态长效机制不健全",
        "教育局",
        None,
        "report_due",
        task_type=TaskType.LONG_TERM,
    ),
    DemoTask(0, "基层医疗机构药品采购不规范", "卫生健康局", 45, "in_progress"),
    DemoTask(
        2, "干部档案专项审核整改不到位", "党政办公室", None, "done", task_type=TaskType.IMMEDIATE
    ),
]
MEASURES = ("一是全面梳理问题清单", "二是建立健全制度", "三是开展专项督查")


def accounts() -> list[tuple[str, str]]:
    """(username, description) of the scenario's demo accounts."""
    return [(username, f"{label} of {ORGANIZATION}") for username, _u, _r, label in PEOPLE]


@transaction.atomic
def build(password: str) -> bool:
    """Build the scenario unless it is there; (re)set the demo accounts' password either way.
    Returns whether it was built now."""
    if Organization.objects.filter(name=ORGANIZATION).exists():
        for user in get_user_model().objects.filter(username__in=[p[0] for p in PEOPLE]):
            user.set_password(password)
            user.save()
        return False
    today = local_today()
    org, _ = Organization.objects.get_or_create(
        name=ORGANIZATION, defaults={"short_name": "示范新区", "principal_name": "张某某"}
    )
    units = {}
    for name in UNITS:
        units[name], _ = Unit.objects.get_or_create(
            organization=org,
            name=name,
            defaults={
                "contact_emails": f"{_slug(name)}@demo.rectify.local",
                "is_self": name == "党政办公室",
                "lead_name": "分管领导",
            },
        )
    people = _people(org, units, password)
    inspection = Inspection.objects.create(
        organization=org,
        level=Level.CITY,
        term="十四届",
        round_no="第五轮",
        round_name="十四届市委第五轮",
        kind=InspectionKind.REGULAR,
        group="市委第三巡察组",
        start_date=today - datetime.timedelta(days=120),
        end_date=today - datetime.timedelta(days=90),
        feedback_date=today - datetime.timedelta(days=45),
        declared={"problems": len(TASKS)},
    )
    categories = [
        Problem.objects.create(
            inspection=inspection, kind=ProblemKind.CATEGORY, label="", order=i, title=title
        )
        for i, title in enumerate(CATEGORIES, start=1)
    ]
    for order, spec in enumerate(TASKS, start=1):
        problem = Problem.objects.create(
            inspection=inspection,
            parent=categories[spec.category],
            kind=ProblemKind.PROBLEM,
            label=f"{order}.",
            order=100 + order,
            title=spec.title,
        )
        deadline = None if spec.days is None else today + datetime.timedelta(days=spec.days)
        task = actions.create_task(
            problem,
            SYSTEM,
            owner_unit=units[spec.owner],
            deadline=deadline,
            status=TaskStatus.NOT_STARTED,
            task_type=spec.task_type,
            measures=MEASURES,
            lead_leader_name=spec.leader,
            lead_unit=units[spec.lead_unit] if spec.lead_unit else None,
            report_due_on=today - datetime.timedelta(days=2)
            if spec.task_type == TaskType.LONG_TERM
            else None,
        )
        if spec.responsible:
            actions.change_responsible_units(
                task, [units[n] for n in spec.responsible], SYSTEM, reason="整改方案"
            )
        _play(task, spec, people, today)
    return True


def _play(task, spec: DemoTask, people: dict, today: datetime.date) -> None:
    """Move the task to where its story has it, as the scenario's people."""
    clerk = _clerk_of(spec.owner, people)
    lead = _lead_of(spec.owner, people)
    supervisor = actions.Actor.of(people["supervisor"])
    if spec.story == "overdue":
        actions.update_progress(
            task, clerk, expected_version=None, note="已摸排资金沉淀项目,拨付方案待审定。",
            status=TaskStatus.IN_PROGRESS,
        )  # fmt: skip
        return
    if spec.story in ("in_progress", "extension_pending", "report_due"):
        first = task.measures.order_by("order").first()
        actions.update_progress(
            task, clerk, expected_version=None, note="正在按整改方案推进。",
            done_measure_ids={first.pk}, status=TaskStatus.IN_PROGRESS,
        )  # fmt: skip
        if spec.story == "extension_pending":
            actions.request_extension(
                task,
                clerk,
                new_deadline=today + datetime.timedelta(days=45),
                reason="涉及多部门联合执法,需延长整治周期。",
            )
        return
    # Every other story starts with the work done and the measures ticked.
    actions.update_progress(
        task, clerk, expected_version=None, note="各项整改措施已落实。",
        done_measure_ids=set(task.measures.values_list("pk", flat=True)),
        status=TaskStatus.COMPLETED,
    )  # fmt: skip
    if spec.story in ("completed", "done"):
        return
    actions.request_closeout(
        task, clerk, summary="问题已整改到位,相关制度已印发。", no_evidence_reason="纸质材料已报整改办"
    )  # fmt: skip
    if spec.story == "at_lead_review":
        return
    actions.lead_review_closeout(task, lead, comment="经核查,整改到位。")
    if spec.story == "at_supervisor_review":
        return
    actions.approve_closeout(task, supervisor, comment="同意销号。")
    if spec.story == "reopened":
        actions.reopen(task, supervisor, reason="回头看发现问题有反弹,需继续整改。")


def _clerk_of(unit: str, people: dict) -> actions.Actor:
    for username, unit_name, role, _label in PEOPLE:
        if unit_name == unit and role == UnitRole.CLERK:
            return actions.Actor.of(people[username])
    return actions.Actor.of(people["supervisor"])  # a unit without a clerk: the office reports


def _lead_of(unit: str, people: dict) -> actions.Actor:
    for username, unit_name, role, _label in PEOPLE:
        if unit_name == unit and role == UnitRole.LEAD:
            return actions.Actor.of(people[username])
    return actions.Actor.of(people["supervisor"])


def _people(org: Organization, units: dict, password: str) -> dict:
    users = get_user_model().objects
    people = {}
    for username, unit_name, role, _label in PEOPLE:
        user, _ = users.get_or_create(
            username=username, defaults={"email": f"{username}@demo.rectify.local"}
        )
        user.set_password(password)
        user.save()
        if unit_name is None:
            ScopeAssignment.objects.get_or_create(user=user, role=role, organization=org)
        else:
            Membership.objects.get_or_create(user=user, unit=units[unit_name], role=role)
        people[username] = user
    return people


def _slug(name: str) -> str:
    return {
        "党政办公室": "office",
        "财政局": "finance",
        "规划局": "planning",
        "教育局": "education",
        "卫生健康局": "health",
    }.get(name, "unit")
