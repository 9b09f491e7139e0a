"""Model invariants: append-only history, one definition of overdue, deadline arithmetic."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.test.utils import override_settings

from tests import factories
from tracker.choices import DatePrecision, TaskStatus, TaskType
from tracker.models import HistoryIsAppendOnly, Inspection, Task, TaskEvent
from tracker.models.inspections import add_months, default_deadline

pytestmark = pytest.mark.django_db


class TestHistoryIsAppendOnly:
    def test_an_event_cannot_be_edited_through_save(self, finance_task):
        event = finance_task.events.get()
        event.reason = "rewritten"
        with pytest.raises(HistoryIsAppendOnly):
            event.save()
        assert TaskEvent.objects.get(pk=event.pk).reason == ""

    def test_an_event_cannot_be_deleted(self, finance_task):
        event = finance_task.events.get()
        with pytest.raises(HistoryIsAppendOnly):
            event.delete()
        assert TaskEvent.objects.filter(pk=event.pk).exists()

    def test_querysets_cannot_update_or_delete_history(self, finance_task):
        with pytest.raises(HistoryIsAppendOnly):
            TaskEvent.objects.filter(task=finance_task).update(reason="x")
        with pytest.raises(HistoryIsAppendOnly):
            TaskEvent.objects.filter(task=finance_task).delete()
        with pytest.raises(HistoryIsAppendOnly), transaction.atomic():
            TaskEvent.objects.bulk_update(list(finance_task.events.all()), ["reason"])
        assert finance_task.events.count() == 1

    def test_a_task_with_history_cannot_be_deleted(self, finance_task):
        with pytest.raises(ProtectedError):
            finance_task.delete()
        assert Task.objects.filter(pk=finance_task.pk).exists()

    def test_the_database_refuses_to_change_history(self, finance_task):
        """Even raw SQL cannot rewrite history on PostgreSQL (a trigger guards the table)."""
        if connection.vendor != "postgresql":
            pytest.skip("the trigger is PostgreSQL's; SQLite is the development database")
        from django.db import DatabaseError

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE tracker_taskevent SET reason = 'x'")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM tracker_taskevent")
        assert finance_task.events.count() == 1


class TestDeadlineArithmetic:
    @pytest.mark.parametrize(
        ("feedback", "expected"),
        [
            (datetime.date(2023, 7, 25), datetime.date(2023, 9, 25)),
            (datetime.date(2021, 12, 31), datetime.date(2022, 2, 28)),
            (datetime.date(2023, 12, 31), datetime.date(2024, 2, 29)),
            (datetime.date(2022, 11, 15), datetime.date(2023, 1, 15)),
        ],
    )
    def test_feedback_plus_two_months_clamped_to_month_end(self, feedback, expected):
        assert default_deadline(feedback) == expected

    def test_month_precision_feedback_counts_from_the_month_end(self):
        assert default_deadline(datetime.date(2022, 1, 1), DatePrecision.MONTH) == datetime.date(
            2022, 3, 31
        )

    def test_unknown_feedback_means_no_deadline(self, org):
        inspection = factories.make_inspection(org, feedback=None)
        assert inspection.deadline is None

    @override_settings(
        RECTIFY={
            **__import__("django.conf").conf.settings.RECTIFY,
            "RECTIFICATION_PERIOD_MONTHS": 3,
        }
    )
    def test_the_period_is_configurable(self, org):
        inspection = factories.make_inspection(org, feedback=datetime.date(2026, 1, 10))
        assert inspection.deadline == datetime.date(2026, 4, 10)

    def test_a_hand_set_deadline_wins(self, org):
        inspection = factories.make_inspection(
            org, feedback=datetime.date(2026, 1, 10), deadline_override=datetime.date(2026, 2, 1)
        )
        assert inspection.deadline == datetime.date(2026, 2, 1)

    def test_add_months_across_years(self):
        assert add_months(datetime.date(2025, 11, 30), 3) == datetime.date(2026, 2, 28)

    def test_partial_dates_print_with_their_precision(self, org):
        inspection = Inspection.objects.create(
            organization=org,
            start_date=datetime.date(2021, 9, 1),
            start_precision=DatePrecision.MONTH,
            end_date=datetime.date(2021, 11, 12),
        )
        assert (inspection.start, inspection.end) == ("2021-09", "2021-11-12")


class TestOverdue:
    """Overdue: deadline passed in Asia/Shanghai, not done, not 长期坚持."""

    def _task(self, inspection, **kw):
        return factories.make_task(inspection, **kw)

    def test_the_day_after_the_deadline_is_overdue_the_day_itself_is_not(self, inspection):
        task = self._task(inspection, deadline=datetime.date(2026, 11, 1))
        assert not task.is_overdue(datetime.date(2026, 11, 1))
        assert task.is_overdue(datetime.date(2026, 11, 2))
        assert task.days_overdue(datetime.date(2026, 11, 5)) == 4
        assert list(Task.objects.overdue(datetime.date(2026, 11, 1))) == []
        assert list(Task.objects.overdue(datetime.date(2026, 11, 2))) == [task]

    def test_done_tasks_are_never_overdue(self, inspection):
        for status in (TaskStatus.COMPLETED, TaskStatus.CLOSED):
            self._task(inspection, deadline=datetime.date(2020, 1, 1), status=status)
        assert Task.objects.overdue(datetime.date(2026, 1, 1)).count() == 0

    def test_basically_completed_past_deadline_is_still_overdue(self, inspection):
        task = self._task(
            inspection, deadline=datetime.date(2026, 1, 1), status=TaskStatus.BASICALLY_COMPLETED
        )
        assert task.is_overdue(datetime.date(2026, 1, 2))

    def test_long_term_tasks_are_report_due_not_overdue(self, inspection):
        task = self._task(
            inspection, deadline=datetime.date(2020, 1, 1), task_type=TaskType.LONG_TERM
        )
        assert not task.is_overdue(datetime.date(2026, 1, 1))
        assert Task.objects.overdue(datetime.date(2026, 1, 1)).count() == 0
        assert task.report_due_on is not None
        assert task.is_report_due(task.report_due_on)
        assert not task.is_report_due(task.report_due_on - datetime.timedelta(days=1))
        assert list(Task.objects.report_due(task.report_due_on)) == [task]

    def test_no_deadline_is_listed_and_never_overdue(self, org):
        inspection = factories.make_inspection(org, feedback=None)
        task = self._task(inspection)
        assert task.deadline is None
        assert task.has_no_deadline
        assert not task.is_overdue(datetime.date(2099, 1, 1))
        assert list(Task.objects.no_deadline()) == [task]

    def test_month_precision_feedback_gives_the_later_deadline(self, org):
        inspection = factories.make_inspection(
            org, feedback=datetime.date(2022, 1, 1), feedback_precision=DatePrecision.MONTH
        )
        task = self._task(inspection)
        assert task.deadline == datetime.date(2022, 3, 31)
        assert not task.is_overdue(datetime.date(2022, 3, 31))
        assert task.is_overdue(datetime.date(2022, 4, 1))

    def test_today_is_judged_in_asia_shanghai(self, inspection):
        """At 2026-11-01 17:00 UTC it is already 2026-11-02 in Shanghai."""
        import time_machine

        task = self._task(inspection, deadline=datetime.date(2026, 11, 1))
        with time_machine.travel(
            datetime.datetime(2026, 11, 1, 15, 59, tzinfo=datetime.UTC), tick=False
        ):
            assert not task.is_overdue()
            assert Task.objects.overdue().count() == 0
        with time_machine.travel(
            datetime.datetime(2026, 11, 1, 16, 0, tzinfo=datetime.UTC), tick=False
        ):
            assert task.is_overdue()
            assert Task.objects.overdue().count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_are_djangos_in_either_language(language):
    from django.db.models import Model
    from django.utils import translation

    from tracker.choices import ChoiceLabels
    from tracker.models import (
        CloseoutRequest,
        CloseoutReview,
        ExtensionRequest,
        SupervisionDocument,
        Task,
        TaskEvent,
    )

    # Given every choice field of the models whose labels pages show row by row
    for model in (
        Task,
        TaskEvent,
        CloseoutRequest,
        CloseoutReview,
        ExtensionRequest,
        SupervisionDocument,
    ):
        assert issubclass(model, ChoiceLabels)
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            display = getattr(model, f"get_{field.name}_display")
            # When each value (and one no choice has) is shown in the language
            for value in [*dict(field.flatchoices), "not-a-code"]:
                row = model(**{field.attname: value})
                with translation.override(language):
                    shown = display(row)
                    # Then the label is Django's own, translated now; an unknown value as is
                    expected = Model._get_FIELD_display(row, field)
                assert shown == expected and type(shown) is str, (model, field.name, value)
    with translation.override("en"):
        assert Task(status="closed").get_status_display() != "已销号"
