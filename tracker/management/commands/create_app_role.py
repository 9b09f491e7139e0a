"""``manage.py create_app_role NAME [--password PW | --password-env VAR]``: the least-privilege
PostgreSQL role the application runs as.

Run it as the database owner (the role that runs ``migrate``), with the owner's DATABASE_URL.
It creates (or updates) a login role that owns nothing and may only read and write rows:

- SELECT, INSERT, UPDATE, DELETE on the app's tables, USAGE and SELECT on their sequences;
- the task and inspection histories (``tracker_taskevent``, ``tracker_inspectionevent``) only
  SELECT and INSERT: no UPDATE, no DELETE;
- ``django_migrations`` only SELECT (the schema is the owner's business);
- never TRUNCATE, REFERENCES or TRIGGER, no CREATE on the schema, and since it owns no table it
  cannot ALTER one, so ``ALTER TABLE … DISABLE TRIGGER`` cannot switch the append-only guard off.

Tables that later migrations create get the same row privileges through ``ALTER DEFAULT
PRIVILEGES`` (for tables the owner creates in the schema). The command is idempotent: re-run it
after every ``migrate`` so that a new append-only table loses UPDATE/DELETE too and any table
created otherwise is covered. Then run the app (gunicorn, Celery) with DATABASE_URL naming
this role, and ``migrate`` with the owner's DATABASE_URL.
"""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from tracker.models import InspectionEvent, TaskEvent

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def append_only_tables() -> list[str]:
    """Tables whose rows are history: the app role may add rows, never change or remove them."""
    return [TaskEvent._meta.db_table, InspectionEvent._meta.db_table]


class Command(BaseCommand):
    help = "Create or update the least-privilege PostgreSQL role the application runs as"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="role name (lower case letters, digits, _)")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--password", help="the role's password (visible in ps; see next)")
        secret.add_argument(
            "--password-env", metavar="VAR", help="read the password from this variable"
        )

    def handle(self, *args, name: str, password=None, password_env=None, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "create_app_role needs PostgreSQL (DATABASE_URL is "
                f"{connection.vendor}); SQLite has no roles: the app's file permissions are its "
                "only access control"
            )
        if not _NAME_RE.match(name):
            raise CommandError(f"{name!r} is not a plain role name (a-z, 0-9, _; at most 63)")
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"{password_env} is not set or empty")
        for statement in self.statements(name, password):
            self.stdout.write(statement if "PASSWORD" not in statement else _redact(statement))
        self.stdout.write(
            self.style.SUCCESS(
                f"role {name} ready: run the app with DATABASE_URL=postgres://{name}:…@host/"
                f"{connection.settings_dict['NAME']}; re-run this command after each migrate"
            )
        )

    def statements(self, name: str, password: str | None) -> list[str]:
        """Apply the role's privileges in one transaction; returns the statements run."""
        from psycopg import sql

        connection.ensure_connection()
        raw = connection.connection

        def ident(value: str) -> str:
            return sql.Identifier(value).as_string(raw)

        role = ident(name)
        done: list[str] = []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database(), current_schema()")
            owner, database, schema = cursor.fetchone()
            if name == owner:
                raise CommandError(
                    f"{name} is the role running this command (the owner); name another role"
                )
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [name])
            row = cursor.fetchone()
            if row and row[0]:
                raise CommandError(f"{name} is a superuser: it would bypass every privilege")
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
                " WHERE r.rolname = %s",
                [name],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"{name} owns tables in {database}: an app role owns nothing")
            attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            if password:
                attributes += f" PASSWORD {sql.Literal(password).as_string(raw)}"
            verb = "ALTER" if row else "CREATE"
            db, sch = ident(database), ident(schema)
            tables = set(connection.introspection.table_names(cursor))
            read_only = ["django_migrations"] if "django_migrations" in tables else []
            history = [t for t in append_only_tables() if t in tables]
            statements = [
                f"{verb} ROLE {role} {attributes}",
                f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role}",
                f"GRANT USAGE ON SCHEMA {sch} TO {role}",
                f"REVOKE CREATE ON SCHEMA {sch} FROM {role}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sch} TO {role}",
                f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {sch} FROM {role}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role}",
                *(
                    f"REVOKE UPDATE, DELETE ON {sch}.{ident(table)} FROM {role}"
                    for table in [*history, *read_only]
                ),
                *(f"REVOKE INSERT ON {sch}.{ident(table)} FROM {role}" for table in read_only),
                # Tables and sequences later migrations create (as this owner) in this schema.
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA {sch}"
                f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA {sch}"
                f" GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            ]
            for statement in statements:
                cursor.execute(statement)
                done.append(statement)
        return done


def _redact(statement: str) -> str:
    return statement.split(" PASSWORD ", 1)[0] + " PASSWORD '…'"
