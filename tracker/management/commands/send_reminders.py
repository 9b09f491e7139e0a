"""Run the reminder sweep synchronously: the same code as the Celery tasks, for cron or a check.

    manage.py send_reminders [--dry-run] [--date YYYY-MM-DD] [--weekly]

Prints one line per recipient and tier with the number of tasks: what was sent, or with
``--dry-run`` what would be sent (nothing is written and nothing is sent).
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker import reminders
from tracker.models import local_today
from tracker.models.reminders import ReminderTier


def _tier_label(tier: str) -> str:
    return str(ReminderTier(tier).label) if tier in ReminderTier.values else tier


class Command(BaseCommand):
    help = "发送整改任务提醒(与定时任务相同的逻辑,同步执行)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只列出将发送的提醒,不发送")
        parser.add_argument("--date", help="按该日期(YYYY-MM-DD)计算提醒,默认今天")
        parser.add_argument("--weekly", action="store_true", help="同时生成并发送整改办周报")

    def handle(self, *args, dry_run: bool = False, date: str | None = None, **options) -> None:
        try:
            day = datetime.date.fromisoformat(date) if date else local_today()
        except ValueError:
            raise CommandError(f"--date {date!r} is not a date like 2026-11-02") from None
        if dry_run:
            plan = reminders.collect(day)
            rows = plan.by_recipient()
            for recipient, tiers in rows.items():
                for tier, count in tiers.items():
                    self.stdout.write(f"{recipient}\t{_tier_label(tier)}\t{count}")
            self.stdout.write(
                f"dry run {day}: {len(rows)} recipients, {plan.tasks} tasks, nothing sent"
            )
            return
        reminders.plan_day(day)
        if options["weekly"]:
            reminders.plan_weekly(day)
        report = reminders.deliver(day)
        for recipient, tiers in report.sent:
            for tier, count in sorted(tiers.items()):
                self.stdout.write(f"{recipient}\t{_tier_label(tier)}\t{count}")
        self.stdout.write(
            f"{day}: sent {len(report.sent)}, to retry {report.retried}, failed {report.failed}"
        )
