"""Two offices import notices about the same new organization at the same moment.

Story: the 秦皇岛 development zone is not in the database yet. Its progress notice (seed 001)
and a second notice about the same inspection (a later edition, or a reprint that names the
organization by its short form 党工委) are imported at once, in two threads with their own
database connections. Both imports succeed, and there is one organization and one inspection.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from tracker.importer.loader import import_text
from tracker.models import Inspection, Organization, SourceNotice, Unit

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two writers at once need PostgreSQL (SQLite's test database is in memory)",
)

SEED_001 = Path(__file__).resolve().parent.parent / "seeds" / "001_5c2e2c6e6d9d9ed6.txt"
FULL_NAME = "中共秦皇岛经济技术开发区工作委员会"


def later_edition(text: str) -> str:
    """The same notice as a later edition prints it: a new date, the open problem done."""
    text = text.replace("发布时间:2021-07-28", "发布时间:2022-01-10")
    return text.replace("问题。(未完成)", "问题。(已完成)", 1)


def short_name_reprint(text: str) -> str:
    """The same notice signed with the organization's short form (matched as the same one)."""
    return later_edition(text).replace(FULL_NAME, "秦皇岛经济技术开发区党工委")


def import_at_once(texts: list[str]) -> tuple[list, list]:
    barrier = threading.Barrier(len(texts))
    results, errors = [], []

    def run(text: str, n: int) -> None:
        try:
            barrier.wait()
            results.append(import_text(text, file_name=f"notice-{n}.txt"))
        except Exception as error:  # noqa: BLE001 — the test reports every error
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(text, n)) for n, text in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.parametrize("second", [later_edition, short_name_reprint])
@pytest.mark.django_db(transaction=True)
def test_two_notices_about_one_new_organization_imported_at_once_make_one(second):
    # Given the organization is new, and two different notices about it
    text = SEED_001.read_text(encoding="utf-8")
    texts = [text, second(text)]
    assert texts[0] != texts[1]
    assert not Organization.objects.exists()
    # When both are imported at the same moment
    results, errors = import_at_once(texts)
    # Then both succeed, with no database error
    assert errors == []
    assert sorted(r.file_name for r in results) == ["notice-0.txt", "notice-1.txt"]
    assert SourceNotice.objects.count() == 2
    # and there is one organization, with one own unit and one inspection both notices report on
    (org,) = Organization.objects.all()
    assert org.core_name == "秦皇岛经济技术开发区"
    assert Unit.objects.filter(organization=org, is_self=True).count() == 1
    (inspection,) = Inspection.objects.all()
    assert inspection.reports.count() == 2
    # and one of them created it, the other matched it
    assert sorted(r.inspections_created for r in results) == [0, 1]
