"""Fill this project's tables with rectify's rows: ``COPY … TO STDOUT`` from rectify's
database streamed into ``COPY … FROM STDIN`` here (psycopg 3), then ANALYZE.

    STOCK_DATABASE_URL=postgres://…/rectify_stock python manage.py copy_from_rectify \
        --from postgres://…/rectify_bench
"""

import time

import psycopg
from django.core.management.base import BaseCommand
from django.db import connection

from stock.models import TASK_COLUMNS

UNIT_COLUMNS = ["id", "name", "organization_id"]


class Command(BaseCommand):
    help = "Copy rectify's units and tasks into the stock-admin reference database."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="rectify's DATABASE_URL")

    def handle(self, *args, source: str, **options):
        started = time.perf_counter()
        connection.ensure_connection()
        target = connection.connection
        with psycopg.connect(source) as src, target.cursor() as out_cur:
            out_cur.execute("TRUNCATE stock_task, stock_unit")
            for table, columns, source_table in (
                ("stock_unit", UNIT_COLUMNS, "tracker_unit"),
                ("stock_task", TASK_COLUMNS, "tracker_task"),
            ):
                cols = ", ".join(columns)
                with (
                    src.cursor() as in_cur,
                    in_cur.copy(f"COPY (SELECT {cols} FROM {source_table}) TO STDOUT") as reader,
                    out_cur.copy(f"COPY {table} ({cols}) FROM STDIN") as writer,
                ):
                    for block in reader:
                        writer.write(block)
                out_cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            target.commit()
            target.autocommit = True
            out_cur.execute("VACUUM ANALYZE stock_unit")
            out_cur.execute("VACUUM ANALYZE stock_task")
            out_cur.execute("SELECT count(*) FROM stock_task")
            (count,) = out_cur.fetchone()
        self.stdout.write(f"{count:,} tasks copied in {time.perf_counter() - started:.1f} s")
