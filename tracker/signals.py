"""Database-level guards installed after every migrate (also when tests build tables directly)."""

from __future__ import annotations

from django.db import connections

# On PostgreSQL, history rows cannot be updated or deleted even by raw SQL.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION tracker_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'tracker_taskevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS tracker_taskevent_append_only ON tracker_taskevent;
CREATE TRIGGER tracker_taskevent_append_only
    BEFORE UPDATE OR DELETE ON tracker_taskevent
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
