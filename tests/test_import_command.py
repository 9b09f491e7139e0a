"""``manage.py import_notices``: dry run, importing the five seeds, idempotency, bad input.

The story: the rectification office (整改办) receives the published progress notices as text
files and imports them from the command line instead of retyping dozens of problems.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.notice_corpus import compare_reading
from tracker.importer.parser import parse_notice, read_notice
from tracker.models import (
    Inspection,
    NoticeReport,
    Organization,
    Problem,
    SourceNotice,
    Task,
    TaskEvent,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EXPECTED = json.loads((ROOT / "tests" / "seeds_expected.json").read_text(encoding="utf-8"))
SEED_FILES = sorted(name for name in EXPECTED if not name.startswith("_"))
AFTER_ALL = EXPECTED["_after_importing_all_five"]


def run(*args: str, tty: bool = False) -> tuple[str, str]:
    """Run the command; return (stdout, stderr). CommandError propagates."""
    out, err = io.StringIO(), io.StringIO()
    if tty:
        out.isatty = lambda: True  # type: ignore[method-assign]
    call_command("import_notices", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def written() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Organization, Inspection, SourceNotice, NoticeReport, Problem, Task, TaskEvent)
    }


NOTHING = dict.fromkeys(
    ["Organization", "Inspection", "SourceNotice", "NoticeReport", "Problem", "Task", "TaskEvent"],
    0,
)


# --- dry run -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("file_name", SEED_FILES)
def test_dry_run_json_of_each_seed_is_what_expected_json_says(file_name: str) -> None:
    # Given a seed notice, when the office asks what it would import
    stdout, _ = run(str(SEEDS / file_name), "--dry-run", "--json")
    # then the JSON, keyed by file name, reads exactly as expected.json (seeds/README.md rules)
    got = json.loads(stdout)
    assert list(got) == [file_name]
    aliases = [i.aliases for i in parse_notice(read_notice(SEEDS / file_name)).inspections]
    shim = SimpleNamespace(
        to_json=lambda: got[file_name],
        inspections=[SimpleNamespace(aliases=a) for a in aliases],
    )
    assert compare_reading(shim, EXPECTED[file_name]) is None
    # and nothing was written.
    assert written() == NOTHING


@pytest.mark.django_db
def test_dry_run_of_the_seed_folder_prints_one_object_per_file() -> None:
    stdout, _ = run(str(SEEDS), "--dry-run", "--json")
    got = json.loads(stdout)
    assert sorted(got) == SEED_FILES
    assert got["001_5c2e2c6e6d9d9ed6.txt"]["inspections"][0]["declared"]["problems"] == 31
    assert written() == NOTHING


# --- importing the five seeds ------------------------------------------------------------------


def _bureau() -> Inspection:
    return Inspection.objects.get(organization__core_name__endswith="大数据管理局")


@pytest.mark.django_db
def test_importing_the_five_seeds_twice_gives_eight_inspections_and_144_tasks_both_times() -> None:
    # Given an empty tracker, when the office imports the seed folder
    stdout, _ = run(str(SEEDS))
    # then 8 distinct inspections and 143 or 144 tasks exist
    assert Inspection.objects.count() == AFTER_ALL["distinct_inspections"] == 8
    assert Task.objects.count() in AFTER_ALL["leaf_problems"]
    first = written()
    assert "共 5 个文件:新建 5 个,更新 0 个,跳过 0 个,失败 0 个" in stdout
    # and the big-data bureau of 000 and of 002 is one inspection knowing round and group
    bureau = _bureau()
    assert bureau.round_name == AFTER_ALL["merged_inspection_round"]
    assert bureau.group == AFTER_ALL["merged_inspection_group"]
    assert bureau.notices.count() == 2
    # whose two repeated problems have two sources each and a single task.
    shared = Problem.objects.filter(inspection=bureau, sources__isnull=False)
    twice = [p for p in shared.distinct() if p.sources.count() == 2]
    assert {p.title_key for p in twice} >= {
        "推动平台之外无系统建设主动担当作为不够",
        "网络安全防线未筑牢",
    }
    assert all(Task.objects.filter(problem=p).count() == 1 for p in twice)

    # When the office imports the same folder again
    stdout, _ = run(str(SEEDS))
    # then every file is skipped and nothing changes.
    assert "共 5 个文件:新建 0 个,更新 0 个,跳过 5 个,失败 0 个" in stdout
    assert written() == first
    assert Task.objects.count() in AFTER_ALL["leaf_problems"]


@pytest.mark.django_db
def test_json_report_of_an_import_names_the_outcome_of_each_file() -> None:
    stdout, _ = run(str(SEEDS / "003_a1a0bbdb8131536f.txt"), "--json")
    report = json.loads(stdout)
    assert report["files"]["003_a1a0bbdb8131536f.txt"]["outcome"] == "created"
    assert report["files"]["003_a1a0bbdb8131536f.txt"]["tasks_created"] == 10
    assert report["totals"]["failed"] == 0


@pytest.mark.django_db
def test_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one() -> None:
    files = [str(SEEDS / f) for f in SEED_FILES[:2]]
    stdout, _ = run(*files)
    assert stdout.startswith(f"[1/2] {files[0]}: 已导入")
    assert "\r[" not in stdout
    stdout, _ = run(str(SEEDS / SEED_FILES[2]), str(SEEDS / SEED_FILES[3]), tty=True)
    assert "\r[###############---------------] 1/2" in stdout
    assert "[1/2] " not in stdout  # no per-file lines under a bar
    assert "共 2 个文件:新建 2 个" in stdout


# --- bad input ---------------------------------------------------------------------------------

SEED_001 = (SEEDS / "001_5c2e2c6e6d9d9ed6.txt").read_bytes()


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, what the error line must say)."""
    files: dict[str, tuple[Path, str]] = {}

    def make(name: str, data: bytes, says: str) -> None:
        path = tmp_path / name
        path.write_bytes(data)
        files[name] = (path, says)

    make("empty.txt", b"  \n\r\n", "文件为空")
    bad = SEED_001[:3000] + b"\xff\xfe\xfd\x80\x81" + SEED_001[3000:4000]
    make("undecodable.txt", bad, "无法按 UTF-8 或 GB18030 解码")
    make("binary.txt", b"%PDF-1.7\n" + os.urandom(2000), "无法读取 PDF 文档")
    make("nul.txt", SEED_001[:500] + b"\x00\x00\x00" + SEED_001[500:900], "含有 NUL")
    make(
        "no_problems.txt",
        (
            "中共海州县财政局党组关于县委巡察整改进展情况的通报\n2023年5月,县委第一巡察组对海州县"
            "财政局党组进行了巡察。整改工作正在有序推进,现将有关情况通报如下。\n"
            "我局将继续抓好整改落实。\n中共海州县财政局党组\n2024年3月1日\n"
        ).encode(),
        "未能识别出任何问题",
    )
    cut = SEED_001.index("问题".encode()) + 1  # inside the first byte sequence of 题
    make("truncated.txt", SEED_001[:cut], "不完整")
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as fh:  # 50 MB, sparse: the command must refuse it before reading
        fh.truncate(50 * 1024 * 1024)
    files["huge.txt"] = (huge, "超过通报的上限 5 MB")
    return files


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["empty.txt", "undecodable.txt", "binary.txt", "nul.txt", "no_problems.txt", "truncated.txt",
     "huge.txt"],
)  # fmt: skip
def test_bad_input_fails_with_one_clear_line_naming_the_file_and_writes_nothing(
    tmp_path: Path, name: str
) -> None:
    path, says = _bad_files(tmp_path)[name]
    err = io.StringIO()
    # When the office imports a bad file
    with pytest.raises(CommandError, match="1 个文件导入失败"):
        call_command("import_notices", str(path), stdout=io.StringIO(), stderr=err)
    # then one line names the file and says what is wrong
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and says in lines[0]
    # and nothing was written.
    assert written() == NOTHING


@pytest.mark.django_db
def test_errors_name_the_line_where_it_helps(tmp_path: Path) -> None:
    path, _ = _bad_files(tmp_path)["undecodable.txt"]
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_notices", str(path), stdout=io.StringIO(), stderr=err)
    line_no = SEED_001[:3000].count(b"\n") + 1
    assert f"第 {line_no} 行:" in err.getvalue()


@pytest.mark.django_db
def test_one_bad_file_fails_while_the_others_import(tmp_path: Path) -> None:
    bad, _ = _bad_files(tmp_path)["binary.txt"]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_notices",
            str(bad),
            str(SEEDS / "003_a1a0bbdb8131536f.txt"),
            str(tmp_path / "missing.txt"),
            stdout=out,
            stderr=err,
        )
    assert raised.value.returncode == 1
    assert SourceNotice.objects.get().file_name == "003_a1a0bbdb8131536f.txt"
    assert Task.objects.count() == 10
    assert "missing.txt: no such file or folder" in err.getvalue()
    assert "共 3 个文件:新建 1 个,更新 0 个,跳过 0 个,失败 2 个" in out.getvalue()


def test_from_a_shell_a_failure_is_a_non_zero_exit_and_no_traceback(tmp_path: Path) -> None:
    # A real process, as the office runs it: a bad file next to a good one, dry run.
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_notices", "--dry-run", str(bad),
         str(SEEDS / "003_a1a0bbdb8131536f.txt")],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "DEBUG": "true"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{bad}:文件为空" in done.stderr
    assert "003_a1a0bbdb8131536f.txt:将导入 10 个问题" in done.stdout


@pytest.mark.django_db
def test_a_failure_while_writing_leaves_nothing_of_that_notice(monkeypatch) -> None:
    # Given a database fault when the tasks are written, after the organization, inspection,
    # report and problem tree of the notice (a constraint, a lost connection…)
    from tracker import actions

    def failing(new_tasks, actor):
        assert Problem.objects.filter(inspection__isnull=False).exists()  # already written
        raise RuntimeError("connection lost")

    monkeypatch.setattr(actions, "create_tasks", failing)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_notices", str(SEEDS / "003_a1a0bbdb8131536f.txt"), stdout=io.StringIO(),
            stderr=err,
        )  # fmt: skip
    # then the notice, its organization, inspection and problems are all gone.
    assert "003_a1a0bbdb8131536f.txt:导入出错:connection lost" in err.getvalue()
    assert written() == NOTHING
