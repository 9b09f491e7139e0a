"""``manage.py summary [--json]``: per inspection, task counts by status, overdue, no deadline."""

from __future__ import annotations

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from tracker.choices import TaskStatus
from tracker.selectors import inspection_summaries


class Command(BaseCommand):
    help = "Print rectification progress per inspection (use --json for scripts)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the stable JSON form")
        parser.add_argument("--date", help="judge overdue as of this day (YYYY-MM-DD)")

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date {options['date']!r} is not a date like 2026-11-22"
                ) from None
        data = inspection_summaries(today=today)
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        labels = dict(TaskStatus.choices)
        for row in data["inspections"]:
            head = " · ".join(p for p in (row["organization"], row["round"], row["group"]) if p)
            self.stdout.write(head)
            tasks = row["tasks"]
            counts = ", ".join(f"{labels[k]} {v}" for k, v in tasks["by_status"].items() if v)
            self.stdout.write(
                f"  deadline {row['deadline'] or 'none'}; tasks {tasks['total']} ({counts or '-'}); "
                f"overdue {tasks['overdue']}; no deadline {tasks['no_deadline']}; "
                f"completion {tasks['completion_rate'] if tasks['completion_rate'] is not None else '-'}%"
            )
            if row["declared"].get("problems") is not None:
                self.stdout.write(
                    f"  declared {row['declared']['problems']} problems, tracked {tasks['total']}"
                    f" (gap {row['declared_gap']})"
                )
        t = data["totals"]
        self.stdout.write(
            f"{t['inspections']} inspections, {t['tasks']} tasks, {t['overdue']} overdue, "
            f"{t['no_deadline']} without deadline"
        )
