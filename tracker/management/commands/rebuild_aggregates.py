"""``manage.py rebuild_aggregates``: recompute the dashboard tallies from the tasks and history.

The actions keep the tallies up to date in the same transaction as each change; this is for
data written around them on purpose (loaddata, COPY) and for repairs after ``check_aggregates``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tracker import aggregates


class Command(BaseCommand):
    help = "Recompute the dashboard tallies (TaskTally, TaskDayTally) from tasks and history."

    def handle(self, *args, **options):
        counts = aggregates.rebuild()
        self.stdout.write(
            f"Rebuilt {counts['tallies']} task tallies and {counts['day_tallies']} day tallies."
        )
