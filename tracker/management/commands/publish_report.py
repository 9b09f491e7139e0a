"""``manage.py publish_report --inspection ID --out FILE.docx``: write an inspection's
rectification report (整改报告) to the inspection group, as DOCX (GB/T 9704 layout).

``--date YYYY-MM-DD``: the date under the signature (default: today).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.documents.docx import render_docx
from tracker.documents.report import build_report
from tracker.management.commands.publish_notice import get_inspection, parse_date


class Command(BaseCommand):
    help = "生成向巡视巡察组报送的整改报告(.docx)"

    def add_arguments(self, parser):
        parser.add_argument("--inspection", type=int, required=True, help="巡视巡察编号")
        parser.add_argument("--out", required=True, help="输出文件,.docx")
        parser.add_argument("--date", default=None, help="落款日期 YYYY-MM-DD(默认今天)")

    def handle(self, *args, **options):
        out = Path(options["out"])
        if out.suffix.lower() != ".docx":
            raise CommandError("输出文件须以 .docx 结尾")
        inspection = get_inspection(options["inspection"])
        doc = build_report(inspection, date=parse_date(options["date"]))
        out.write_bytes(render_docx(doc))
        self.stdout.write(f"{doc.title} → {out}")
