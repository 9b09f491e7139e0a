"""A living demo, dated relative to today: one inspection in the middle of its rectification,
with several units and people, tasks that light red, yellow and green, close-outs waiting at
each review stage, a pending extension, a closed task, a reopened one and a long-term task whose
report is due, tasks signed for (签收) and one still waiting, a 督办通知书 awaiting its reply and
a 反向核查 round to record. ``manage.py load_demo`` builds it once, beside the seed notices.

The problems, measures, lead leaders, lead units, responsible units and deadlines come from a
rectification plan in the offices' own spreadsheet layout, shipped as ``fixtures/demo-plan.xlsx``
(written from ``TASKS`` by ``manage.py build_demo_plan``): the supervisor imports it through the
plan importer, exactly as an office would, with its dates moved so that the plan is as old as
the scenario says. Then everything is written through ``tracker.actions``, as the people of the
scenario where the rules let them (the clerk asks, the lead reviews, the supervisor approves), so
the timelines read like an office's.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from tracker import actions
from tracker.choices import (
    EventSource,
    InspectionKind,
    Level,
    ScopeRole,
    TaskStatus,
    TaskType,
    UnitRole,
)
from tracker.models import (
    Inspection,
    Membership,
    Organization,
    ScopeAssignment,
    Task,
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
    _import_plan(inspection, people["supervisor"], today)
    tasks = {
        t.problem.title: t
        for t in Task.objects.filter(inspection=inspection).select_related("problem")
    }
    for spec in TASKS:
        task = tasks[spec.title]
        # 签收: each unit with a clerk signs for what the plan gave it; 卫生健康局 has none yet.
        if spec.owner != "卫生健康局":
            actions.acknowledge(task, _clerk_of(spec.owner, people))
        if spec.story == "report_due":
            actions.change_report_due(
                task, today - datetime.timedelta(days=2), SYSTEM, reason="季度报告"
            )
        _play(task, spec, people, today)
    supervisor = actions.Actor.of(people["supervisor"])
    # 督办: the overdue task gets the first rung of the ladder, waiting for 财政局's reply.
    overdue = tasks[next(t.title for t in TASKS if t.story == "overdue")]
    actions.issue_ladder_document(
        [overdue], "notice", supervisor, reason="专项资金拨付已逾期,请抓紧整改并书面回复。"
    )
    # 反向核查: a round over the closed tasks, its outcome still to be recorded.
    actions.draw_recheck_sample(
        inspection, supervisor, seed=2026, count=1, name="第一批反向核查(示例)"
    )
    return True


# The day the shipped plan's dates are written for: a plan drawn up 45 days after feedback.
PLAN_TODAY = datetime.date(2026, 3, 2)
PLAN_FEEDBACK = PLAN_TODAY - datetime.timedelta(days=45)
PLAN_FILE = "demo-plan.xlsx"
PLAN_LEADER_TITLES = {"王某某": "副主任", "李某某": "副主任"}


def plan_path() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / PLAN_FILE


def _import_plan(inspection: Inspection, supervisor, today: datetime.date) -> None:
    """The supervisor imports the shipped plan (source 方案导入), its dates moved from
    ``PLAN_TODAY`` to today."""
    from tracker.importer import plan, plan_loader

    parsed = plan.read_plan(plan_path().read_bytes(), PLAN_FILE, PLAN_FEEDBACK)
    shift = today - PLAN_TODAY
    for row in parsed.rows:
        if row.deadline is not None:
            row.deadline += shift
    plan_loader.apply_plan(inspection, parsed, supervisor, name=PLAN_FILE)


def plan_xlsx() -> bytes:
    """``TASKS`` as an office writes its plan: a title row, the usual headers, the category
    merged over its problems and each problem over its measures, several units in one cell,
    leaders with their titles, deadlines as 2026年4月15日前 / 立行立改 / 长期坚持."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    headers = ["序号", "问题类别", "存在问题", "整改措施", "责任领导", "牵头单位",
               "责任单位", "完成时限", "备注"]  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "整改方案"
    sheet.append(["市委第三巡察组反馈意见整改方案(问题、任务、责任、时限清单)"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(headers)
    row = 3
    number = 0
    for index, category in enumerate(CATEGORIES):
        category_start = row
        for spec in (t for t in TASKS if t.category == index):
            number += 1
            first = row
            for measure in MEASURES:
                leader = spec.leader
                if leader in PLAN_LEADER_TITLES:
                    leader = f"{leader}({PLAN_LEADER_TITLES[leader]})"
                values = [f"{number}", category, spec.title, measure, leader, spec.lead_unit,
                          "、".join([spec.owner, *spec.responsible]), _plan_deadline(spec), ""]  # fmt: skip
                for col, value in enumerate(values, start=1):
                    sheet.cell(row=row, column=col, value=value or None).alignment = Alignment(
                        wrap_text=True, vertical="center"
                    )
                row += 1
            for col in (1, 3, 5, 6, 7, 8, 9):
                sheet.merge_cells(
                    start_row=first, start_column=col, end_row=row - 1, end_column=col
                )
        sheet.merge_cells(start_row=category_start, start_column=2, end_row=row - 1, end_column=2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _plan_deadline(spec: DemoTask) -> str:
    if spec.task_type == TaskType.IMMEDIATE:
        return "立行立改"
    if spec.task_type == TaskType.LONG_TERM:
        return "长期坚持"
    day = PLAN_TODAY + datetime.timedelta(days=spec.days)
    return f"{day.year}年{day.month}月{day.day}日前"


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
