"""The loader: what an imported notice becomes, and how a later notice updates it.

The story: the 秦皇岛 development zone published its progress notice (seed 001) in July 2021;
the office imported it. Since then clerks and leads have worked in the app. In January 2022 a
later notice about the same inspection says the last open problem is done.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tracker import actions, figures
from tracker.choices import EventKind, EventSource, ProblemKind, TaskStatus, TaskType
from tracker.importer.loader import (
    content_sha256,
    import_bytes,
    import_file,
    import_text,
    same_organization,
)
from tracker.models import Inspection, NoticeReport, Problem, SourceNotice, Task, TaskEvent, Unit

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_001 = SEEDS / "001_5c2e2c6e6d9d9ed6.txt"
OPEN_TITLE = "未在全区推行人事和薪酬制度改革政策"  # the one 未完成 problem of seed 001


def user_actor() -> actions.Actor:
    """A person's change in the app (an administrator's: may change anything)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="office-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return actions.Actor.of(user, EventSource.ADMIN, "test")


def later_notice(*, published: str = "2022-01-10", status_word: str = "已完成") -> str:
    """Seed 001 as a later notice would print it: a new date, the open problem's new status."""
    text = SEED_001.read_text(encoding="utf-8")
    text = text.replace("发布时间:2021-07-28", f"发布时间:{published}")
    return text.replace("问题。(未完成)", f"问题。({status_word})", 1)


def open_task() -> Task:
    return Task.objects.get(problem__title__startswith=OPEN_TITLE)


# --- what a notice becomes ---------------------------------------------------------------------


def test_a_notice_becomes_an_inspection_a_problem_tree_and_one_task_per_leaf():
    result = import_file(SEED_001, name=SEED_001.name)
    assert result.outcome == "created" and result.tasks_created == 27
    inspection = Inspection.objects.get()
    org = inspection.organization
    # The inspection, with its facts and the declared totals.
    assert org.name == "中共秦皇岛经济技术开发区工作委员会"
    assert inspection.group == "市委第五巡察组" and inspection.level == "city"
    assert inspection.feedback_date == datetime.date(2021, 3, 18)
    assert (inspection.start, inspection.end) == ("2020-10-22", "2020-12-15")
    assert inspection.declared["problems"] == 31
    # Declared versus published: 31 declared, 27 printed, a gap of 4; no rows invented.
    report = NoticeReport.objects.get()
    assert (report.declared["problems"], report.published_problems, report.declared_gap) == (
        31,
        27,
        4,
    )
    # The tree keeps the printed reading order: (一) → 1. → (1), (2) …
    labels = Problem.objects.order_by("order").values_list("label", flat=True)
    assert list(labels[:4]) == ["(一)", "1.", "(1)", "(2)"]
    # Categories (方面) are never tasks; every leaf problem is exactly one task.
    categories = Problem.objects.filter(kind=ProblemKind.CATEGORY)
    assert categories.count() == 3 and not Task.objects.filter(problem__in=categories).exists()
    assert Task.objects.count() == 27
    # Owner = the organization itself; deadline = feedback + 2 months; status from the notice.
    tasks = Task.objects.all()
    assert {t.owner_unit_id for t in tasks} == {org.self_unit().pk}
    assert {t.deadline for t in tasks} == {datetime.date(2021, 5, 18)}
    counts = {s: tasks.filter(status=s).count() for s in TaskStatus.values}
    assert counts[TaskStatus.COMPLETED] == 21
    assert counts[TaskStatus.BASICALLY_COMPLETED] == 5
    assert counts[TaskStatus.IN_PROGRESS] == 1  # 未完成 → 整改中, and overdue past the deadline
    assert open_task().is_overdue(datetime.date(2021, 6, 1))
    # Measures from 一是…二是…; history names the notice as the source.
    first = Task.objects.order_by("problem__order").first()
    assert first.measures.first().text.startswith("加强顶层设计")
    event = first.events.get()
    assert (event.kind, event.source, event.source_ref) == (
        EventKind.CREATED,
        EventSource.IMPORT,
        f"notice:{result.notice_id}",
    )
    notice = SourceNotice.objects.get()
    assert notice.published == datetime.date(2021, 7, 28)
    assert notice.sha256 == content_sha256(SEED_001.read_text(encoding="utf-8"))
    assert "通报声明问题 31 个,公布了 27 个" in notice.warnings


def test_an_inspection_without_a_feedback_date_gives_tasks_with_no_deadline():
    import_file(SEEDS / "000_a8da41f290e21ab7.txt")
    assert Task.objects.count() == 15
    assert Task.objects.no_deadline().count() == 15
    assert not Task.objects.filter(deadline__isnull=False).exists()


def test_a_long_term_status_makes_a_long_term_task():
    text = later_notice(status_word="长期坚持")
    import_text(text, file_name="long.txt")
    task = open_task()
    assert task.task_type == TaskType.LONG_TERM and task.status == TaskStatus.IN_PROGRESS
    assert task.report_due_on is not None


def test_gbk_bytes_are_the_same_notice_as_utf8():
    text = SEED_001.read_text(encoding="utf-8")
    assert import_bytes(text.encode("gb18030"), file_name="gbk.txt").outcome == "created"
    again = import_bytes(text.encode("utf-8"), file_name="utf8.txt")
    assert again.outcome == "skipped"
    assert Task.objects.count() == 27


# --- a later notice ----------------------------------------------------------------------------


def test_a_later_notice_updates_a_status_through_change_status_and_names_the_notice(
    alice,
):
    # Given seed 001 imported, and a lead who has assigned the open task and moved its deadline
    import_file(SEED_001)
    task = open_task()
    unit = Unit.objects.create(organization=task.inspection.organization, name="人社局")
    actions.change_owner(task, unit, user_actor())
    actions.change_deadline(task, datetime.date(2021, 12, 31), user_actor(), reason="延期")
    before = {t.pk: (t.owner_unit_id, t.deadline, t.status) for t in Task.objects.all()}
    # When the later notice (same inspection) is imported
    result = import_text(later_notice(), file_name="2022-01-progress.txt")
    # then nothing is duplicated
    assert result.outcome == "updated"
    assert (result.inspections_matched, result.tasks_created) == (1, 0)
    assert (Inspection.objects.count(), Task.objects.count()) == (1, 27)
    # the open task is completed by exactly one status event from the import naming the notice
    task = open_task()
    assert task.status == TaskStatus.COMPLETED
    event = task.events.get(kind=EventKind.STATUS)
    assert event.source == EventSource.IMPORT
    assert event.source_ref == f"notice:{result.notice_id}"
    assert "2022-01-progress.txt" in event.reason
    assert (event.old_value, event.new_value) == (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
    # the owner and deadline the lead set are untouched, and no other task changed
    assert (task.owner_unit, task.deadline) == (unit, datetime.date(2021, 12, 31))
    after = {t.pk: (t.owner_unit_id, t.deadline, t.status) for t in Task.objects.all()}
    changed = [pk for pk in before if before[pk] != after[pk]]
    assert changed == [task.pk]
    assert TaskEvent.objects.filter(kind=EventKind.STATUS).count() == 1
    # and every problem now names both notices as its sources.
    assert all(p.sources.count() == 2 for p in Problem.objects.all())


def test_a_later_notice_never_touches_a_closed_task():
    import_file(SEED_001)
    task = open_task()
    actions.admin_set_status(task, TaskStatus.CLOSED, user_actor(), reason="双审核通过")
    result = import_text(later_notice(status_word="基本完成"), file_name="later.txt")
    assert open_task().status == TaskStatus.CLOSED
    assert result.statuses_changed == 0 and result.statuses_kept == 1


def test_a_later_notice_does_not_move_back_what_a_user_moved_forward():
    # Given a clerk reported the open task complete after the July import
    import_file(SEED_001)
    actions.change_status(open_task(), TaskStatus.COMPLETED, user_actor())
    # When a later notice still prints it as 基本完成
    result = import_text(later_notice(status_word="基本完成"), file_name="later.txt")
    # then the clerk's 已完成 stands.
    assert open_task().status == TaskStatus.COMPLETED
    assert result.statuses_kept == 1


def test_a_later_notice_may_correct_what_an_earlier_notice_said():
    import_file(SEED_001)
    import_text(later_notice(status_word="基本完成"), file_name="later.txt")
    assert open_task().status == TaskStatus.BASICALLY_COMPLETED
    events = open_task().events.filter(kind=EventKind.STATUS)
    assert [e.source for e in events] == [EventSource.IMPORT]


def test_an_older_notice_imported_after_a_newer_one_changes_no_status():
    import_text(later_notice(published="2022-01-10"), file_name="january.txt")
    assert open_task().status == TaskStatus.COMPLETED
    result = import_file(SEED_001)  # July 2021, says 未完成
    assert open_task().status == TaskStatus.COMPLETED
    assert result.statuses_changed == 0


def test_a_later_notice_gives_a_deadline_to_tasks_that_had_none_because_feedback_was_unknown():
    # 000 names the big-data bureau without a feedback date; 002 states it (2022-01-24).
    import_file(SEEDS / "000_a8da41f290e21ab7.txt")
    bureau = Inspection.objects.get(organization__name="省大数据管理局党委")
    assert not bureau.tasks.filter(deadline__isnull=False).exists()
    import_file(SEEDS / "002_e510119d14028505.txt")
    bureau.refresh_from_db()
    assert bureau.feedback_date == datetime.date(2022, 1, 24)
    assert set(bureau.tasks.values_list("deadline", flat=True)) == {datetime.date(2022, 3, 24)}
    event = bureau.tasks.first().events.get(kind=EventKind.DEADLINE)
    assert event.source == EventSource.IMPORT
    # The notice calls the stored name its short form (以下简称): the full name is taken.
    assert bureau.organization.name == "中共海南省大数据管理局委员会"
    assert "省大数据管理局党委" in bureau.organization.aliases
    # Month-precision period of 000 refined by 002's days, never erased.
    assert (bureau.start, bureau.end) == ("2021-09-01", "2021-11-12")


def test_problems_match_ignoring_width_punctuation_and_spaces():
    inspection = factories.make_inspection(factories.make_org("中共海州市财政局党组"))
    factories.make_task(inspection, title="财政资金“监管”不到位,台账不全")
    text = (
        "中共海州市财政局党组关于巡视整改进展情况的通报\n"
        "2026年6月3日至7月20日,省委第七巡视组对海州市财政局党组进行了常规巡视。"
        "2026年9月1日,省委第七巡视组向海州市财政局党组反馈了巡视意见。\n"
        "一、关于“财政资金 监管 不到位,台账不全”问题的整改情况(已完成)\n一是建立台账。\n"
        "二、关于“政府采购程序不规范”问题的整改情况\n一是完善制度。\n"
        "中共海州市财政局党组\n2026年12月1日\n"
    )
    result = import_text(text, file_name="haizhou.txt")
    assert result.inspections_matched == 1 and result.problems_matched == 1
    assert inspection.tasks.count() == 2
    assert inspection.tasks.get(problem__title__startswith="财政资金").status == "completed"


def test_same_named_bureaus_of_different_places_are_different_organizations():
    assert same_organization("省大数据管理局党委", "中共海南省大数据管理局委员会")
    assert not same_organization("中共海州市财政局党组", "江宁市财政局党组")


def test_the_number_of_queries_does_not_grow_with_the_number_of_problems():
    # Problems, sources, tasks, measures and 'created' events are written in bulk, and the
    # dashboard tallies and today's figures in one upsert per table (after reading the day the
    # figures hold); the new inspection's history, one row.
    figures.roll(*figures.wanted())
    with CaptureQueriesContext(connection) as small:
        import_file(SEEDS / "003_a1a0bbdb8131536f.txt")  # 10 tasks, tree one level deep
    with CaptureQueriesContext(connection) as big:
        import_file(SEEDS / "004_5b3e05d84e55cae8.txt")  # 62 tasks, tree two levels deep
    assert len(small) <= 23, [q["sql"][:80] for q in small]
    assert len(big) <= len(small) + 1  # one more INSERT for the second level of the tree
