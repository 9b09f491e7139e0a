"""``manage.py import_notices PATH... [--dry-run] [--json]``: import published progress notices.

PATH is a notice file (.txt, .docx or a PDF with a text layer) or a folder (its notice files,
recursively, in name order). Each notice
is imported in its own transaction; a file that fails is reported on one line naming it (and the
line, where that helps) and the others still import. The exit code is 1 when any file failed.

``--dry-run`` writes nothing; with ``--json`` it prints what was read, one object per file keyed
by file name, in the schema of seeds/README.md. Without ``--dry-run``, ``--json`` prints the
per-file results and the totals instead of lines.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tracker.importer.loader import ImportResult, import_parsed
from tracker.importer.parser import NoticeParseError, parse_notice, read_notice

NOTICE_SUFFIXES = (".txt", ".docx", ".pdf")


def collect_paths(paths: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to import (folders expanded to their notice files) and paths that do not exist."""
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTICE_SUFFIXES
            )
            if not found:
                missing.append((raw, "folder holds no .txt, .docx or .pdf files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append((raw, "no such file or folder"))
    return files, missing


class _Progress:
    """A one-line bar on a terminal; nothing (the caller prints plain lines) otherwise."""

    def __init__(self, stream, total: int):
        self.stream = stream  # a Django OutputWrapper
        self.total = total
        self.tty = total > 1 and stream.isatty()

    def _write(self, text: str) -> None:
        self.stream.write(text, style_func=lambda s: s, ending="")
        self.stream.flush()

    def step(self, done: int, label: str) -> None:
        if not self.tty:
            return
        width = 30
        filled = int(width * done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        self._write(f"\r[{bar}] {done}/{self.total} {label[:40]:<40}")

    def clear(self) -> None:
        if self.tty:
            self._write("\r" + " " * 90 + "\r")


class Command(BaseCommand):
    help = "Import published rectification-progress notices (.txt, .docx or PDF files, or folders)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="notice files or folders")
        parser.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
        parser.add_argument("--json", action="store_true", help="print JSON instead of lines")

    def handle(self, *args, **options):
        files, missing = collect_paths(options["paths"])
        failed: dict[str, str] = {path: f"{path}: {why}" for path, why in missing}
        for message in failed.values():
            self.stderr.write(_("失败:%s") % message)
        as_json = options["json"]
        if options["dry_run"]:
            self._dry_run(files, failed, as_json)
        else:
            self._import(files, failed, as_json)
        if failed:
            # Django prints a CommandError as one line, without a traceback, and exits 1.
            raise CommandError(_("%d 个文件导入失败") % len(failed), returncode=1)

    def _read(self, path: Path):
        text = read_notice(path, name=os.fspath(path))
        return text, parse_notice(text, name=os.fspath(path))

    def _dry_run(self, files: list[Path], failed: dict[str, str], as_json: bool) -> None:
        out: dict[str, object] = {}
        for path in files:
            try:
                _text, parsed = self._read(path)
            except NoticeParseError as error:
                failed[os.fspath(path)] = str(error)
                self.stderr.write(_("失败:%s") % error)
                continue
            out[path.name] = parsed.to_json()
            if not as_json:
                leaves = sum(i.leaf_problems for i in parsed.inspections)
                names = ", ".join(i.organization for i in parsed.inspections)
                self.stdout.write(
                    _("%(path)s:将导入 %(leaves)d 个问题(%(names)s)")
                    % {"path": path, "leaves": leaves, "names": names}
                )
                for warning in parsed.warnings:
                    self.stdout.write("  " + _("提示:%s") % warning)
        if as_json:
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))

    def _import(self, files: list[Path], failed: dict[str, str], as_json: bool) -> None:
        results: list[ImportResult] = []
        progress = _Progress(self.stderr if as_json else self.stdout, len(files))
        for n, path in enumerate(files, start=1):
            progress.step(n - 1, path.name)
            try:
                text, parsed = self._read(path)
                result = import_parsed(parsed, text, file_name=path.name)
            except NoticeParseError as error:
                failed[os.fspath(path)] = str(error)
                progress.clear()
                self.stderr.write(_("失败:%s") % error)
                continue
            except Exception as error:  # a database error: report it, go on with the rest
                if self._traceback:
                    raise
                failed[os.fspath(path)] = f"{path}: {error}"
                progress.clear()
                self.stderr.write(
                    _("失败:%(path)s:导入出错:%(error)s") % {"path": path, "error": error}
                )
                continue
            results.append(result)
            if not progress.tty and not as_json:
                self.stdout.write(f"[{n}/{len(files)}] {path}: {result.describe()}")
        progress.step(len(files), "")
        progress.clear()
        counts = Counter(r.outcome for r in results)
        totals = {
            "created": counts["created"],
            "updated": counts["updated"],
            "skipped": counts["skipped"],
            "failed": len(failed),
            "inspections_created": sum(r.inspections_created for r in results),
            "tasks_created": sum(r.tasks_created for r in results),
            "statuses_changed": sum(r.statuses_changed for r in results),
        }
        if as_json:
            payload = {
                "files": {r.file_name: r.to_json() for r in results},
                "failed": failed,
                "totals": totals,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            _(
                "共 %(files)d 个文件:新建 %(created)d 个,更新 %(updated)d 个,跳过 %(skipped)d 个,"
                "失败 %(failed)d 个(新建巡视巡察 %(inspections)d 个、整改任务 %(tasks)d 个,"
                "状态变更 %(statuses)d 处)"
            )
            % {
                "files": len(results) + len(failed),
                "created": totals["created"],
                "updated": totals["updated"],
                "skipped": totals["skipped"],
                "failed": totals["failed"],
                "inspections": totals["inspections_created"],
                "tasks": totals["tasks_created"],
                "statuses": totals["statuses_changed"],
            }
        )

    def execute(self, *args, **options):
        self._traceback = options.get("traceback", False)
        return super().execute(*args, **options)
