"""``manage.py find_repeats [--inspection ID]``: recompute the 屡巡屡犯 links (likely repeats of
problems across inspections of the same organization) for existing data: missing links are
made (each with its REPEAT event), scores refreshed, links under ``REPEAT_SIMILARITY`` removed.
Run again, it changes nothing. Imports and the app link new problems themselves; this is for
data from before, or after changing the threshold."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracker import actions
from tracker.choices import EventSource
from tracker.models import Inspection


class Command(BaseCommand):
    help = "Recompute the links between likely repeated problems (屡巡屡犯)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inspection", type=int, help="only this inspection's links (as later or earlier)"
        )

    def handle(self, *args, **options):
        inspections = None
        if options["inspection"] is not None:
            inspections = list(Inspection.objects.filter(pk=options["inspection"]))
            if not inspections:
                raise CommandError(f"no inspection {options['inspection']}")
        actor = actions.Actor.system(EventSource.SYSTEM, "find_repeats")
        created, removed = actions.recompute_repeats(inspections, actor)
        self.stdout.write(f"repeats: {created} linked, {removed} removed")
