"""``manage.py import_plan FILE.xlsx --inspection ID [--dry-run] [--json] [--user USERNAME]
[--create-units]``: import an inspection's rectification plan (整改方案) from Excel.

The changes are made through ``tracker.actions`` as ``--user`` (a supervisor of the inspection),
with source 方案导入 and ref ``plan:<file name>``, all in one transaction. Unit names the
organization lacks are listed and nothing is written unless ``--create-units`` creates them.
Any cell error (listed with its row and column) writes nothing and exits 1. ``--dry-run``
writes nothing; with ``--json`` it prints ``{"inspection", "tasks", "new_units", "errors"}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tracker.importer import plan, plan_loader
from tracker.importer.plan import CellError
from tracker.models import Inspection


class Command(BaseCommand):
    help = "Import a rectification plan (整改方案, .xlsx) into an inspection."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--inspection", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--user", help="the supervisor the changes are made as")
        parser.add_argument("--create-units", action="store_true")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        try:
            inspection = Inspection.objects.select_related("organization").get(
                pk=options["inspection"]
            )
        except Inspection.DoesNotExist:
            raise CommandError(f"no inspection {options['inspection']}") from None
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get_by_natural_key(options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {options['user']!r}") from None
        elif not options["dry_run"]:
            raise CommandError("--user USERNAME is required (the supervisor importing the plan)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        try:
            parsed = plan.read_plan(data, path.name, inspection.feedback_date)
        except plan.PlanError as exc:
            if options["json"]:
                self._json(inspection, [], [], [CellError(None, None, str(exc))])
            raise CommandError(str(exc)) from None
        preview = plan_loader.preview_plan(inspection, parsed)
        if options["dry_run"]:
            if options["json"]:
                self._json(inspection, parsed.rows, preview.new_units, preview.errors)
            else:
                self._lines(preview)
            if preview.errors:
                raise CommandError(f"{path.name}: {len(preview.errors)} error(s)")
            return
        if preview.errors:
            for error in preview.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{path.name}: {len(preview.errors)} error(s), nothing imported")
        if preview.new_units and not options["create_units"]:
            raise CommandError(
                f"{path.name}: units unknown to {inspection.organization.name}: "
                + "、".join(preview.new_units)
                + " (map them in the upload page, or pass --create-units)"
            )
        try:
            result = plan_loader.apply_plan(
                inspection, parsed, user, name=path.name, create_units=options["create_units"]
            )
        except plan_loader.PlanRefused as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{path.name}: {exc}") from None
        except plan_loader.actions.ActionError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        summary = {
            "inspection": inspection.pk,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "closed": result.closed,
            "changes": result.changes,
            "units_created": result.units_created,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(
                f"{path.name}: created {result.created}, updated {result.updated} "
                f"({result.changes} changes), unchanged {result.unchanged}, "
                f"closed {result.closed}, units created {len(result.units_created)}"
            )

    def _json(self, inspection, rows, new_units, errors) -> None:
        out = {
            "inspection": inspection.pk,
            "tasks": [r.to_json() for r in rows],
            "new_units": list(new_units),
            "errors": [e.to_json() for e in errors],
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))

    def _lines(self, preview) -> None:
        for row in preview.rows:
            self.stdout.write(f"{row.row.row}\t{row.action}\t{row.row.problem[:40]}")
            for change in row.changes:
                self.stdout.write(f"\t\t{change.label}: {change.old or '—'} → {change.new or '—'}")
        for name in preview.new_units:
            self.stdout.write(f"new unit\t{name}")
        for error in preview.errors:
            self.stderr.write(str(error))
