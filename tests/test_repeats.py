"""屡巡屡犯 (recurring problems): the 东江区教育局 was inspected in 2021 and again in 2023. The
second notice feeds back "落实全面从严治党主体责任仍不到位", which the first one already did:
the import links the two problems, with a REPEAT event on the new task; both task pages show
the link (to those who may see the other task), the dashboard counts it, the report lists it.
An unrelated problem, and a look-alike problem of another organization, are not linked; the
threshold is a setting; ``manage.py find_repeats`` recomputes the links and changes nothing on a
second run.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests import factories
from tracker import actions
from tracker.choices import EventKind, EventSource, ScopeRole, UnitRole
from tracker.documents.report import build_report
from tracker.importer.loader import import_text
from tracker.models import (
    Inspection,
    Membership,
    Problem,
    RepeatLink,
    ScopeAssignment,
    Task,
    TaskEvent,
)
from tracker.similarity import comparable_title, similarity

pytestmark = pytest.mark.django_db


def notice(org: str, short: str, *, year: int, round_no: str, problems: list[str]) -> str:
    """A small progress notice of ``org`` about an inspection fed back in ``year``."""
    lines = [
        f"中共{org}委员会关于区委第{round_no}轮巡察整改进展情况的通报",
        f"根据区委统一部署,{year - 1}年10月12日至12月20日,区委第四巡察组对中共{org}委员会"
        f"(以下简称“{short}党委”)开展了常规巡察。{year}年2月16日,区委第四巡察组向{short}党委"
        "反馈了巡察意见。现将巡察整改进展情况予以公布。",
        "一、巡察反馈问题整改进展情况",
        "(一)关于落实主体责任方面",
    ]
    for n, title in enumerate(problems, 1):
        lines.append(f"{n}.{title}。(已完成)")
        lines.append("一是制定整改方案;二是建立长效机制。")
    lines += [f"{short}党委", f"{year}年6月30日"]
    return "\n".join(lines) + "\n"


FIRST = notice(
    "东江区教育局",
    "区教育局",
    year=2021,
    round_no="三",
    problems=["全面从严治党主体责任落实不到位", "校园安全管理存在漏洞"],
)
SECOND = notice(
    "东江区教育局",
    "区教育局",
    year=2023,
    round_no="九",
    problems=["落实全面从严治党主体责任仍不到位", "教育收费监管不严"],
)
ELSEWHERE = notice(
    "东江区卫生健康局",
    "区卫健局",
    year=2023,
    round_no="九",
    problems=["全面从严治党主体责任落实仍不到位"],
)


def task_of(title: str) -> Task:
    return Task.objects.select_related("problem", "inspection").get(problem__title=title)


@pytest.fixture
def two_notices():
    import_text(FIRST, file_name="2021.txt")
    import_text(SECOND, file_name="2023.txt")
    return task_of("落实全面从严治党主体责任仍不到位"), task_of("全面从严治党主体责任落实不到位")


# --- the similarity ---------------------------------------------------------------------------


def test_titles_are_compared_without_their_wrapper_and_punctuation():
    assert comparable_title("关于“选人用人把关不严”问题的整改情况") == "选人用人把关不严"
    assert similarity("选人用人把关不严", "关于“选人用人把关不严”问题") == 1.0
    assert similarity("落实全面从严治党主体责任不到位", "全面从严治党主体责任落实仍不到位") > 0.8
    assert similarity("思政课教师队伍建设不到位", "教育收费监管不严") < 0.3


# --- the story --------------------------------------------------------------------------------


def test_a_repeated_problem_is_found_across_two_imported_notices(two_notices):
    # Given two notices of the same bureau, two years apart, each imported
    later, earlier = two_notices
    # then the later problem is linked to the earlier one, once, with its score
    link = RepeatLink.objects.get()
    assert (link.problem, link.earlier_problem) == (later.problem, earlier.problem)
    assert 0.8 < link.score <= 1
    # and the later task's timeline says so, written by the import that found it
    event = TaskEvent.objects.get(task=later, kind=EventKind.REPEAT)
    assert event.new_value == f"{link.score:.2f}"
    assert event.source == EventSource.IMPORT
    assert str(earlier.inspection) in event.reason
    # and nothing else was linked: the unrelated problems stay apart
    assert not TaskEvent.objects.filter(kind=EventKind.REPEAT).exclude(task=later).exists()


def test_the_order_of_the_imports_does_not_matter():
    # Given the later notice imported first, then the earlier one
    import_text(SECOND, file_name="2023.txt")
    import_text(FIRST, file_name="2021.txt")
    # the link still runs from the later problem to the earlier one, its event on the later task
    link = RepeatLink.objects.get()
    assert link.problem.title == "落实全面从严治党主体责任仍不到位"
    assert link.earlier_problem.title == "全面从严治党主体责任落实不到位"
    assert TaskEvent.objects.get(kind=EventKind.REPEAT).task == task_of(link.problem.title)


def test_another_organizations_problem_is_no_repeat():
    import_text(FIRST, file_name="2021.txt")
    import_text(ELSEWHERE, file_name="卫健局.txt")
    assert Inspection.objects.count() == 2
    assert not RepeatLink.objects.exists()
    assert not TaskEvent.objects.filter(kind=EventKind.REPEAT).exists()


def test_the_threshold_is_a_setting(settings):
    settings.RECTIFY = {**settings.RECTIFY, "REPEAT_SIMILARITY": 0.99}
    import_text(FIRST, file_name="2021.txt")
    import_text(SECOND, file_name="2023.txt")
    assert not RepeatLink.objects.exists()
    # lowered, the recomputation finds it
    settings.RECTIFY = {**settings.RECTIFY, "REPEAT_SIMILARITY": 0.6}
    call_command("find_repeats", stdout=io.StringIO())
    assert RepeatLink.objects.count() == 1


def test_a_problem_added_in_the_app_is_compared_too(carol, org, finance):
    # Given an earlier inspection of carol's organization with a problem
    earlier = factories.make_inspection(org, feedback=datetime.date(2021, 3, 1))
    old = factories.make_task(earlier, owner=finance, title="财政资金监管不到位")
    later = factories.make_inspection(org, feedback=datetime.date(2024, 3, 1))
    # When carol adds a problem to the later inspection in the app
    problem = actions.create_problem(
        later,
        actions.Actor.of(carol),
        title="财政资金监管仍不到位",
        task=actions.TaskFields(owner_unit=finance),
    )
    # then it is linked to the earlier one, the event naming carol
    link = RepeatLink.objects.get()
    assert (link.problem, link.earlier_problem) == (problem, old.problem)
    assert TaskEvent.objects.get(kind=EventKind.REPEAT).actor == carol


def test_a_plan_import_links_its_new_problems(carol, org, finance):
    from tests.test_plan_import import office_plan
    from tracker.importer import plan, plan_loader

    earlier = factories.make_inspection(org, feedback=datetime.date(2021, 3, 1))
    old = factories.make_task(earlier, owner=finance, title="财政资金监管不到位的问题")
    factories.make_unit(org, "规划局")
    factories.make_unit(org, "教育局")
    later = factories.make_inspection(org, feedback=datetime.date(2024, 4, 10))
    parsed = plan.read_plan(office_plan(), "整改方案.xlsx", later.feedback_date)
    plan_loader.apply_plan(later, parsed, carol, name="整改方案.xlsx")
    link = RepeatLink.objects.get()
    assert link.earlier_problem == old.problem
    assert link.problem.title == "财政资金监管不到位"
    assert link.problem.inspection == later


def test_find_repeats_recomputes_and_a_second_run_changes_nothing(two_notices):
    later, _earlier = two_notices
    RepeatLink.objects.all().delete()
    out = io.StringIO()
    call_command("find_repeats", stdout=out)
    assert RepeatLink.objects.count() == 1
    events = TaskEvent.objects.filter(kind=EventKind.REPEAT).count()
    assert events == 2  # the import's, and the recomputation's for the link it made again
    call_command("find_repeats", "--inspection", str(later.inspection_id), stdout=out)
    call_command("find_repeats", stdout=out)
    assert RepeatLink.objects.count() == 1
    assert TaskEvent.objects.filter(kind=EventKind.REPEAT).count() == events


def test_rewording_a_problem_recomputes_its_links_in_the_same_change(two_notices):
    """A supervisor rewords the 2023 problem "教育收费监管不严" into the 2021 safety problem's
    words: the link appears at once, with its REPEAT event; reworded away, it goes."""
    later, _earlier = two_notices
    fees = task_of("教育收费监管不严")
    supervisor = factories.SYSTEM
    assert not RepeatLink.objects.filter(problem=fees.problem).exists()

    actions.edit_problem(fees.problem, supervisor, title="校园安全管理仍存在漏洞")
    link = RepeatLink.objects.get(problem=fees.problem)
    assert link.earlier_problem.title == "校园安全管理存在漏洞"
    assert TaskEvent.objects.filter(task=fees, kind=EventKind.REPEAT).count() == 1
    assert RepeatLink.objects.filter(problem=later.problem).exists()  # the others' links stay

    actions.edit_problem(fees.problem, supervisor, title="教育收费监管不严")
    assert not RepeatLink.objects.filter(problem=fees.problem).exists()
    assert RepeatLink.objects.filter(problem=later.problem).exists()


# --- who sees it ------------------------------------------------------------------------------


@pytest.fixture
def bureau_people(two_notices):
    """carol supervises the bureau; a clerk of the bureau's own unit holds only the later task."""
    from django.contrib.auth import get_user_model

    from tests.conftest import PASSWORD

    later, earlier = two_notices
    users = get_user_model().objects
    boss = users.create_user("boss", password=PASSWORD)
    ScopeAssignment.objects.create(
        user=boss, role=ScopeRole.SUPERVISOR, organization=later.inspection.organization
    )
    clerk = users.create_user("clerk", password=PASSWORD)
    unit = factories.make_unit(later.inspection.organization, "办公室")
    Membership.objects.create(user=clerk, unit=unit, role=UnitRole.CLERK)
    actions.change_owner(later, unit, factories.SYSTEM)
    return boss, clerk


def test_both_task_pages_show_the_link_to_those_who_may_see_the_other(client, bureau_people):
    boss, clerk = bureau_people
    later = task_of("落实全面从严治党主体责任仍不到位")
    earlier = task_of("全面从严治党主体责任落实不到位")
    client.force_login(boss)
    html = client.get(reverse("tracker:task_detail", args=[later.pk])).content.decode()
    assert 'id="repeats"' in html
    assert reverse("tracker:task_detail", args=[earlier.pk]) in html
    html = client.get(reverse("tracker:task_detail", args=[earlier.pk])).content.decode()
    assert reverse("tracker:task_detail", args=[later.pk]) in html
    # The clerk sees the box on their task, but neither the title of a problem they may not
    # read nor a link to a task they may not open.
    client.force_login(clerk)
    html = client.get(reverse("tracker:task_detail", args=[later.pk])).content.decode()
    assert 'id="repeats"' in html
    assert reverse("tracker:task_detail", args=[earlier.pk]) not in html
    assert "全面从严治党主体责任落实不到位" not in html  # nor its title
    assert client.get(reverse("tracker:task_detail", args=[earlier.pk])).status_code == 404


def test_the_dashboard_counts_repeats_in_its_scope(client, bureau_people):
    boss, _clerk = bureau_people
    client.force_login(boss)
    html = client.get(reverse("tracker:dashboard")).content.decode()
    assert 'data-figure="repeats">1<' in html
    # and its link lists the task behind it
    later = task_of("落实全面从严治党主体责任仍不到位")
    html = client.get(reverse("tracker:task_list") + "?repeat=true").content.decode()
    assert reverse("tracker:task_detail", args=[later.pk]) in html
    assert reverse("tracker:task_detail", args=[task_of("教育收费监管不严").pk]) not in html


def test_the_report_lists_likely_repeats_with_both_inspections(two_notices):
    later, earlier = two_notices
    doc = build_report(later.inspection)
    text = "\n".join(getattr(block, "text", "") for block in doc.blocks)
    assert "屡巡屡犯" in text
    assert "落实全面从严治党主体责任仍不到位" in text
    assert "全面从严治党主体责任落实不到位" in text
    # the earlier inspection's own report has nothing to list
    doc = build_report(earlier.inspection)
    assert "屡巡屡犯" not in "\n".join(getattr(b, "text", "") for b in doc.blocks)


def test_categories_are_never_linked(two_notices):
    assert not RepeatLink.objects.filter(problem__kind="category").exists()
    assert Problem.objects.filter(kind="category").count() == 2


def test_the_dashboard_figure_follows_its_filters(client, bureau_people):
    boss, _clerk = bureau_people
    later = task_of("落实全面从严治党主体责任仍不到位")
    client.force_login(boss)
    url = reverse("tracker:dashboard")
    for query, expected in [
        (f"?inspection={later.inspection_id}", 1),
        (f"?inspection={task_of('全面从严治党主体责任落实不到位').inspection_id}", 0),
        ("?status=in_progress", 0),  # the later task is 已完成 (from the notice)
        ("?q=收费", 0),  # a filter the tallies cannot say: scanned
        ("?q=主体责任", 1),
    ]:
        html = client.get(url + query).content.decode()
        assert f'data-figure="repeats">{expected}<' in html, query
