"""History written before codes were stored (labels, unit names) reads as codes after the
migration's rewrite, so that a database upgraded in place means the same as a new one.

The suite builds its tables without migrations (--nomigrations), so this calls the migration's
data step on rows written the old way; on PostgreSQL its DROP TRIGGER is rolled back with the
test's transaction (tests/test_models.py checks the guard)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from tests import factories
from tracker.models import Task, TaskEvent

migration = importlib.import_module("tracker.migrations.0003_record_trust")

pytestmark = pytest.mark.django_db


def test_labels_and_unit_names_in_old_history_become_codes_and_ids(inspection, finance, planning):
    # Given history as the earlier version wrote it: labels in Chinese and English, unit names
    task = factories.make_task(inspection, owner=planning)
    before = set(TaskEvent.objects.values_list("pk", flat=True))
    rows = [
        ("created", "", "未启动"),
        ("status", "未启动", "整改中"),
        ("status", "In progress", "Completed"),
        ("type", "限期整改", "长期坚持"),
        ("measure", "未完成", "已完成"),
        ("owner", "财政局", "规划局"),
        ("closeout_requested", "", "待牵头单位审核"),
        ("reminder", "", "即将到期"),
        ("note", "", "已完成"),  # free text is left alone, even when it reads like a label
    ]
    for kind, old_value, new_value in rows:
        TaskEvent.objects.create(
            task=task, kind=kind, old_value=old_value, new_value=new_value, source="user"
        )

    # When the migration's data step runs
    migration.labels_to_codes(apps, SimpleNamespace(connection=connection))

    # Then every value is a code, owner events name unit ids, and notes are untouched
    stored = list(
        TaskEvent.objects.exclude(pk__in=before)
        .order_by("id")
        .values_list("kind", "old_value", "new_value")
    )
    assert stored == [
        ("created", "", "not_started"),
        ("status", "not_started", "in_progress"),
        ("status", "in_progress", "completed"),
        ("type", "deadline", "long_term"),
        ("measure", "open", "done"),
        ("owner", str(finance.pk), str(planning.pk)),
        ("closeout_requested", "", "pending_lead"),
        ("reminder", "", "yellow"),
        ("note", "", "已完成"),
    ]
    assert Task.objects.filter(pk=task.pk).exists()


def test_plain_text_api_keys_become_digests_and_their_table_goes(alice):
    from tracker.api import tokens
    from tracker.models import ApiToken

    tokens_migration = importlib.import_module("tracker.migrations.0018_api_token_digests")
    # Given the key alice's OA system uses, as DRF's authtoken app stored it: in plain text
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp "
            "NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [key, "2026-11-20 08:00:00", alice.pk],
        )

    # When the migration's data step runs
    with connection.cursor() as cursor:
        editor = SimpleNamespace(
            connection=connection, quote_name=connection.ops.quote_name, execute=cursor.execute
        )
        tokens_migration.keys_to_digests(apps, editor)

    # Then the key still works, only its digest is kept, and the plain-text table is gone
    token = ApiToken.objects.get(user=alice)
    assert token.digest == tokens.digest_of(key) and token.hint == key[:6]
    assert token.created.date().isoformat() == "2026-11-20"
    assert tokens.DigestTokenAuthentication().authenticate_credentials(key) == (alice, token)
    assert "authtoken_token" not in connection.introspection.table_names()
