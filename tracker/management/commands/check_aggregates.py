"""``manage.py check_aggregates``: compare the dashboard tallies with live counts.

Prints each difference on its own line and exits 1 when there is any (0 when they agree), so a
cron job or CI can alert; ``rebuild_aggregates`` repairs them.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from tracker import aggregates


class Command(BaseCommand):
    help = "Compare the dashboard tallies with live counts; exit 1 on any difference."

    def handle(self, *args, **options):
        differences = aggregates.differences()
        for line in differences:
            self.stdout.write(line)
        if differences:
            self.stderr.write(f"{len(differences)} difference(s); run manage.py rebuild_aggregates")
            sys.exit(1)
        self.stdout.write("The tallies agree with the tasks and their history.")
