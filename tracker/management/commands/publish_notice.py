"""``manage.py publish_notice --inspection ID --out FILE.docx|.txt``: write an inspection's
progress notice (整改进展情况的通报), as DOCX (GB/T 9704 layout) or plain text by the extension.

``--withheld ID,ID``: problems not to publish (counted, not printed); ``--contact``: the contact
line (default: the NOTICE_CONTACT setting); ``--date YYYY-MM-DD``: the date under the signature.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.documents.docx import render_docx
from tracker.documents.notice import build_notice
from tracker.documents.text import render_text
from tracker.models import Inspection


def get_inspection(pk: int) -> Inspection:
    try:
        return Inspection.objects.select_related("organization").get(pk=pk)
    except Inspection.DoesNotExist:
        raise CommandError(f"没有编号为 {pk} 的巡视巡察") from None


def parse_date(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期应为 YYYY-MM-DD:{value}") from None


class Command(BaseCommand):
    help = "生成巡视巡察整改进展情况的通报(.docx 或 .txt)"

    def add_arguments(self, parser):
        parser.add_argument("--inspection", type=int, required=True, help="巡视巡察编号")
        parser.add_argument("--out", required=True, help="输出文件,.docx 或 .txt")
        parser.add_argument(
            "--withheld",
            default="",
            help="另外不公开的问题编号,逗号分隔(已标记不公开的问题总是不公开)",
        )
        parser.add_argument("--contact", default=None, help="联系电话等联系方式")
        parser.add_argument("--date", default=None, help="落款日期 YYYY-MM-DD(默认今天)")

    def handle(self, *args, **options):
        out = Path(options["out"])
        suffix = out.suffix.lower()
        if suffix not in (".docx", ".txt"):
            raise CommandError("输出文件须以 .docx 或 .txt 结尾")
        try:
            withheld = {
                int(x) for x in options["withheld"].replace(",", ",").split(",") if x.strip()
            }
        except ValueError:
            raise CommandError("--withheld 应为逗号分隔的问题编号") from None
        inspection = get_inspection(options["inspection"])
        doc = build_notice(
            inspection,
            withheld=withheld,
            contact=options["contact"],
            date=parse_date(options["date"]),
        )
        if suffix == ".docx":
            out.write_bytes(render_docx(doc))
        else:
            out.write_text(render_text(doc), encoding="utf-8")
        self.stdout.write(f"{doc.title} → {out}")
