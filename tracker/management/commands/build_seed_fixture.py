"""``manage.py build_seed_fixture [--seeds seeds/] [--output fixtures/seeds.json]``.

Regenerates the demo fixture from the seed notices: imports them with the real importer into a
fresh temporary SQLite database (a child process, so the ids start at 1 whatever the current
database holds), and dumps what the import wrote. The output is deterministic: same seeds and
code → byte-identical file (timestamps the import stamps with "now" are set to one fixed instant).
``loaddata fixtures/seeds.json`` then gives the same data as importing the seeds.

``--here`` does the import-and-dump in the current database instead (it must hold no
organizations, inspections or notices yet); the child process runs with it.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from tracker.importer.loader import import_file
from tracker.models import (
    Inspection,
    InspectionEvent,
    Measure,
    NoticeReport,
    Organization,
    Problem,
    SourceNotice,
    Task,
    TaskEvent,
    Unit,
)

# What importing notices writes, parents before children (loaddata order).
FIXTURE_MODELS: tuple[type[models.Model], ...] = (
    Organization,
    Unit,
    Inspection,
    InspectionEvent,
    SourceNotice,
    NoticeReport,
    Problem,
    Task,
    Measure,
    TaskEvent,
)
# The instant written for every "now" timestamp, so that rebuilding gives the same bytes.
FIXED_INSTANT = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)


def dump_import(seed_files: list[Path]) -> str:
    """Import ``seed_files`` into the current (empty) database and return the fixture JSON."""
    if any(m.objects.exists() for m in (Organization, Inspection, SourceNotice)):
        raise CommandError("the database already holds tracker data; use a fresh database")
    for path in seed_files:
        import_file(path, name=path.name)
    objects = []
    for model in FIXTURE_MODELS:
        objects.extend(model.objects.order_by("pk"))
    data = json.loads(serializers.serialize("json", objects))
    fixed_day = FIXED_INSTANT.date()
    report_days = settings.RECTIFY["LONG_TERM_REPORT_DAYS"]
    for row in data:
        model = next(m for m in FIXTURE_MODELS if m._meta.label_lower == row["model"])
        for f in model._meta.concrete_fields:
            value = row["fields"].get(f.name)
            if value is None:
                continue
            if isinstance(f, models.DateTimeField):
                row["fields"][f.name] = FIXED_INSTANT.isoformat().replace("+00:00", "Z")
            elif f.name == "report_due_on":
                row["fields"][f.name] = (
                    fixed_day + datetime.timedelta(days=report_days)
                ).isoformat()
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


class Command(BaseCommand):
    help = "Regenerate fixtures/seeds.json by importing seeds/ into a fresh temporary database."

    def add_arguments(self, parser):
        base = Path(settings.BASE_DIR)
        parser.add_argument("--seeds", default=str(base / "seeds"), help="folder of notices")
        parser.add_argument(
            "--output", default=str(base / "fixtures" / "seeds.json"), help="fixture to write"
        )
        parser.add_argument(
            "--here",
            action="store_true",
            help="import into the current database (must be empty) instead of a temporary one",
        )

    def handle(self, *args, **options):
        seeds = sorted(Path(options["seeds"]).glob("*.txt"))
        if not seeds:
            raise CommandError(f"{options['seeds']}: no .txt notices")
        output = Path(options["output"])
        if options["here"]:
            # Nothing of the import stays in this database: the dump is all we want.
            with transaction.atomic():
                text = dump_import(seeds)
                transaction.set_rollback(True)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {output} from {len(seeds)} notice(s)")
            return
        with tempfile.TemporaryDirectory(prefix="rectify-seeds-") as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'seeds.sqlite3'}",
                "RECTIFY_VAR_DIR": tmp,
                "DEBUG": "true",
                "DJANGO_SETTINGS_MODULE": "rectify.settings",
            }
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            for step in (
                ["migrate", "--noinput", "-v", "0"],
                ["build_seed_fixture", "--here", "--seeds", str(Path(options["seeds"]).resolve()),
                 "--output", str(output.resolve())],
            ):  # fmt: skip
                done = subprocess.run([*manage, *step], env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise CommandError(f"{' '.join(step[:1])} failed:\n{done.stderr[-3000:]}")
        self.stdout.write(f"wrote {output} from {len(seeds)} notice(s)")
