"""fixtures/seeds.json: regenerated from seeds/ by one command, and equal to importing them.

The story: a newcomer runs ``make run``; ``load_demo`` loads the fixture instead of parsing the
notices, and sees exactly what an import of the five seeds would have given.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from tracker import aggregates
from tracker.importer.loader import import_file
from tracker.management.commands.build_seed_fixture import FIXTURE_MODELS
from tracker.models import Inspection, Problem, Task

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURE = ROOT / "fixtures" / "seeds.json"


def snapshot() -> dict:
    """What a user sees, independent of ids and timestamps."""
    return {
        "counts": {m.__name__: m.objects.count() for m in FIXTURE_MODELS},
        "inspections": sorted(
            (
                i.organization.name,
                i.round_name,
                i.group,
                str(i.feedback_date),
                str(i.deadline),
                json.dumps(i.declared, sort_keys=True),
                i.notices.count(),
            )
            for i in Inspection.objects.select_related("organization")
        ),  # fmt: skip
        "problems": sorted(
            (
                p.inspection.organization.name,
                p.label,
                p.title,
                p.kind,
                p.parent.title if p.parent else "",
                p.sources.count(),
            )
            for p in Problem.objects.select_related("inspection__organization", "parent")
        ),  # fmt: skip
        "tasks": sorted(
            (
                t.problem.title,
                t.status,
                t.task_type,
                str(t.deadline),
                t.owner_unit.name,
                tuple(t.measures.values_list("text", flat=True)),
                tuple(t.events.values_list("kind", "source", "new_value")),
            )
            for t in Task.objects.select_related("problem", "owner_unit")
        ),  # fmt: skip
    }


@pytest.mark.django_db
def test_loaddata_of_the_fixture_gives_the_same_data_as_importing_the_seeds() -> None:
    # Given what importing the five seeds gives (then undone)
    with transaction.atomic():
        for path in sorted(SEEDS.glob("*.txt")):
            import_file(path, name=path.name)
        imported = snapshot()
        categorized = Task.objects.filter(category__isnull=False).count()
        assert aggregates.differences() == []  # the importer counts what it creates
        transaction.set_rollback(True)
    assert imported["counts"]["Task"] == 144
    # When the fixture is loaded instead
    call_command("loaddata", str(FIXTURE), verbosity=0)
    # then the tracker holds the same organizations, inspections, problems, tasks and history.
    assert snapshot() == imported
    # loaddata writes around tracker.actions: the dashboard tallies are rebuilt after it, and
    # then agree with the tasks (categories filled as the importer sets them).
    assert aggregates.differences() != []
    aggregates.rebuild()
    assert aggregates.differences() == []
    assert Task.objects.filter(category__isnull=False).count() == categorized


@pytest.mark.django_db
def test_load_demo_loads_the_fixture_once() -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "Loaded demo data from fixtures/seeds.json" in out.getvalue()
    assert aggregates.differences() == []
    # the seeds' 8 inspections and 144 tasks, and the living demo's one inspection of 12 tasks
    assert (Inspection.objects.count(), Task.objects.count()) == (9, 156)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "Loaded demo data" not in out.getvalue()
    assert Task.objects.count() == 156


def test_build_seed_fixture_regenerates_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    # A real process with a fresh temporary SQLite database, as the maintainer runs it.
    output = tmp_path / "seeds.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "build_seed_fixture", "--output", str(output)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "DEBUG": "true"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == FIXTURE.read_bytes(), (
        "fixtures/seeds.json is stale: run `python manage.py build_seed_fixture`"
    )
