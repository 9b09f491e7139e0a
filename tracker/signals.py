"""Database-level guards installed after every migrate (also when tests build tables directly)."""

from __future__ import annotations

from django.db import connections

# On PostgreSQL, history rows cannot be updated or deleted even by raw SQL.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION tracker_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS tracker_taskevent_append_only ON tracker_taskevent;
CREATE TRIGGER tracker_taskevent_append_only
    BEFORE UPDATE OR DELETE ON tracker_taskevent
    FOR EACH ROW EXECUTE FUNCTION tracker_history_append_only();
"""
# The inspections' history, once its table exists (migration 0015).
INSPECTION_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS tracker_inspectionevent_append_only ON tracker_inspectionevent;
CREATE TRIGGER tracker_inspectionevent_append_only
    BEFORE UPDATE OR DELETE ON tracker_inspectionevent
    FOR EACH ROW EXECUTE FUNCTION tracker_history_append_only();
"""


def install_history_guard(sender, using: str = "default", **kwargs) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    if "tracker_taskevent" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY_SQL)
        if "tracker_inspectionevent" in connection.introspection.table_names():
            cursor.execute(INSPECTION_APPEND_ONLY_SQL)
