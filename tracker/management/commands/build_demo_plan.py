"""``manage.py build_demo_plan``: write ``fixtures/demo-plan.xlsx``, the rectification plan the
living demo imports (``tracker.demo.TASKS`` in the offices' spreadsheet layout). Run it after
changing the demo's tasks; a test checks that the shipped file reads as ``TASKS`` says."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tracker import demo


class Command(BaseCommand):
    help = "Write fixtures/demo-plan.xlsx from the demo's tasks."

    def handle(self, *args, **options):
        path = demo.plan_path()
        path.write_bytes(demo.plan_xlsx())
        self.stdout.write(f"wrote {path}")
