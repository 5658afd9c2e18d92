"""Bad command lines, unwritable folders, OS errors and a closed pipe: exit 2 naming the option
or path (or a quiet end), never a traceback, and nothing written.

Most cases run `pipelines.cli.main.main` in process (bad option values end in SystemExit(2), as
argparse's own usage errors; other bad input returns 2). The closed pipe needs a real pipe, so a
subprocess.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATASETS, REPO

from pipelines.cli.main import main

TARIFF_ID = "eia-2024-virginia"


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """`tokenplan argv` in process: the exit code and stderr."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def contents(folder: Path) -> dict[str, str]:
    """Every file (its SHA-256) and folder under `folder`, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "folder"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse holding one file, which no failed command may change."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    (folder / "kept.txt").write_text("a file the failed command must leave as it was\n")
    return folder


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command gets as far as reading the inputs, solving, running a job or
    starting the UI."""
    import pipelines.cli.run_job
    import pipelines.ingest.sources
    import pipelines.planning.make_plan

    def started(*args, **kwargs):
        raise AssertionError("the command started work before reporting its bad input")

    for module, name in (
        (pipelines.ingest.sources, "read_inputs"),
        (pipelines.planning.make_plan, "make_plan"),
        (pipelines.cli.run_job, "run_job"),
        (os, "execv"),
    ):
        monkeypatch.setattr(module, name, started)


# (argv without --warehouse, the option that must be named). Commands that take --warehouse get
# the test's.
BAD_OPTIONS = [
    (["plan", "--budget-mw", "-5"], "--budget-mw"),
    (["plan", "--budget-mw", "0"], "--budget-mw"),
    (["plan", "--budget-mw", "nan"], "--budget-mw"),
    (["plan", "--budget-mw", "inf"], "--budget-mw"),
    (["plan", "--budget-mw", "1e12"], "--budget-mw"),
    (["plan", "--budget-mw", "10000.5"], "--budget-mw"),
    (["plan", "--budget-mw", "twenty"], "--budget-mw"),
    (["plan", "--time-limit", "-1"], "--time-limit"),
    (["plan", "--time-limit", "0"], "--time-limit"),
    (["plan", "--time-limit", "nan"], "--time-limit"),
    (["plan", "--time-limit", "inf"], "--time-limit"),
    (["plan", "--time-limit", "604801"], "--time-limit"),
    (["plan", "--threads", "-3"], "--threads"),
    (["plan", "--threads", "0"], "--threads"),
    (["plan", "--threads", "257"], "--threads"),
    (["plan", "--threads", "2.5"], "--threads"),
    (["plan", "--threads", "9" * 400], "--threads"),
    (["plan", "--gap", "nan"], "--gap"),
    (["plan", "--gap", "-0.1"], "--gap"),
    (["plan", "--gap", "1"], "--gap"),
    (["plan", "--gap", "1.5"], "--gap"),
    (["plan", "--gap", "-inf"], "--gap"),  # argparse's own error: "-inf" is not a value to it
    (["plan", "--gap=-inf"], "--gap"),
    (["replan", "--budget-mw", "-5"], "--budget-mw"),
    (["replan", "--time-limit", "inf"], "--time-limit"),
    (["replan", "--threads", "0"], "--threads"),
    (["replan", "--gap", "nan"], "--gap"),
    (["sweep", "--budget-mw", "0:10:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:nan:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:inf:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "inf:inf:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:1e12:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:10:0"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:10:-1"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:10:nan"], "--budget-mw"),
    (["sweep", "--budget-mw", "10:5:1"], "--budget-mw"),
    (["sweep", "--budget-mw", "0.001:10000:0.001"], "--budget-mw"),  # ten million solves
    (["sweep", "--budget-mw", "5:10"], "--budget-mw"),
    (["sweep", "--budget-mw", "-5"], "--budget-mw"),
    (["sweep", "--budget-mw", "5:10:1", "--jobs", "0"], "--jobs"),
    (["sweep", "--budget-mw", "5:10:1", "--jobs", "-2"], "--jobs"),
    (["sweep", "--budget-mw", "5:10:1", "--jobs", "1000"], "--jobs"),
    (["sweep", "--budget-mw", "5:10:1", "--time-limit", "0"], "--time-limit"),
    (["sweep", "--budget-mw", "5:10:1", "--threads", "300"], "--threads"),
    (["sweep", "--budget-mw", "5:10:1", "--gap", "1"], "--gap"),
    (["bill", "--tariff", TARIFF_ID, "--load", "-3"], "--load"),
    (["bill", "--tariff", TARIFF_ID, "--load", "nan"], "--load"),
    (["bill", "--tariff", TARIFF_ID, "--load", "inf"], "--load"),
    (["bill", "--tariff", TARIFF_ID, "--load", "1e12"], "--load"),
    (["ui", "--port", "0"], "--port"),
    (["ui", "--port", "-1"], "--port"),
    (["ui", "--port", "65536"], "--port"),
    (["ui", "--port", "http"], "--port"),
]
TAKES_WAREHOUSE = {"plan", "replan", "ingest", "export", "diff", "ui"}


def with_folders(argv: list[str], warehouse: Path) -> list[str]:
    """`argv` with the bundled data (where the command reads it) and the test's warehouse (a sweep:
    its chart)."""
    command = argv[0]
    extra = []
    if command in TAKES_WAREHOUSE:
        extra += ["--warehouse", str(warehouse)]
    if command == "sweep":
        extra += ["--chart", str(warehouse / "frontier.svg")]
    if command != "diff":
        extra += ["--data", str(DATASETS)]
    return [*argv, *extra]


@pytest.mark.parametrize(
    "argv, option", BAD_OPTIONS, ids=[" ".join(a)[:40] for a, _ in BAD_OPTIONS]
)
def test_a_bad_option_value_exits_2_naming_the_option(argv, option, warehouse, no_work, capsys):
    before = contents(warehouse)
    code, err = run_cli(with_folders(argv, warehouse), capsys)
    assert code == 2
    assert option in err
    assert "Traceback" not in err
    assert contents(warehouse) == before


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--budget-mw", "-5", "> 0 and <= 10,000 MW"),
        ("--time-limit", "inf", "> 0 and <= 604,800 s"),
        ("--gap", "nan", ">= 0 and < 1"),
        ("--threads", "0", "whole number >= 1 and <= 256"),
    ],
)
def test_the_message_says_the_range_and_the_value(option, value, words, warehouse, no_work, capsys):
    code, err = run_cli(with_folders(["plan", option, value], warehouse), capsys)
    assert code == 2
    assert f"command line: {option}: must be " in err and words in err and repr(value) in err


def test_every_bad_option_is_listed_at_once(warehouse, no_work, capsys):
    code, err = run_cli(
        with_folders(
            ["plan", "--budget-mw", "0", "--time-limit", "nan", "--threads", "999", "--gap", "2"],
            warehouse,
        ),
        capsys,
    )
    assert code == 2
    assert "bad input (4 problems)" in err
    for option in ("--budget-mw", "--time-limit", "--threads", "--gap"):
        assert f"command line: {option}: " in err


def test_good_values_at_the_ends_of_the_ranges_parse():
    from pipelines.cli.main import build_parser

    args = build_parser().parse_args(
        ["plan", "--budget-mw", "10000", "--time-limit", "604800", "--threads", "256", "--gap", "0"]
    )
    assert (args.budget_mw, args.time_limit, args.threads, args.gap) == (
        10000.0,
        604800.0,
        256,
        0.0,
    )
    args = build_parser().parse_args(["sweep", "--budget-mw", "1:1000:1", "--jobs", "256"])
    assert len(args.budget_mw) == 1000 and args.jobs == 256
    assert build_parser().parse_args(["ui", "--port", "65535"]).port == 65535


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not_a_folder"
    path.write_text("a regular file\n")
    return path


def plan_file(tmp_path: Path) -> Path:
    """A plan JSON file (a recorded plan, named p1): `load_plan` takes only a plan."""
    path = tmp_path / "plan.json"
    recorded = json.loads((REPO / "tests" / "golden" / "generated-3x2.json").read_text())
    path.write_text(json.dumps(recorded | {"plan_id": "p1"}))
    return path


# (argv, where the folder option points: "file" = a regular file, "under" = a folder under that
#  file, "missing" = a folder that does not exist; the option and words stderr must hold)
BAD_FOLDERS = [
    (["plan"], "--warehouse", "file", "is a file, not a folder"),
    (["plan"], "--warehouse", "under", "is a file"),
    (["replan"], "--warehouse", "file", "is a file, not a folder"),
    (["ingest"], "--warehouse", "under", "is a file"),
    (["ui"], "--warehouse", "file", "is a file, not a folder"),
    (["export", "--format", "csv"], "--warehouse", "file", "is a file"),
    (
        ["export", "--format", "csv", "--plan", "PLAN_FILE"],
        "--out",
        "file",
        "is a file, not a folder",
    ),
    (["export", "--format", "md", "--plan", "PLAN_FILE"], "--out", "under", "is a file"),
    (["sweep", "--budget-mw", "5:10:5"], "--chart", "under", "is a file"),
    (["plan"], "--data", "file", "is a file, not an input folder"),
    (["plan"], "--data", "missing", "input folder not found"),
    (["replan"], "--data", "missing", "input folder not found"),
    (["ingest"], "--data", "file", "is a file, not an input folder"),
    (["validate"], "--data", "missing", "input folder not found"),
    (["sweep", "--budget-mw", "5:10:5"], "--data", "file", "is a file, not an input folder"),
    (
        ["bill", "--tariff", TARIFF_ID, "--load", "10"],
        "--data",
        "missing",
        "input folder not found",
    ),
]


@pytest.mark.parametrize(
    "argv, option, kind, words", BAD_FOLDERS, ids=[f"{a[0]} {o} {k}" for a, o, k, _ in BAD_FOLDERS]
)
def test_a_folder_that_cannot_be_used_exits_2_before_any_work(
    argv, option, kind, words, a_file, tmp_path, warehouse, no_work, capsys
):
    path = {"file": a_file, "under": a_file / "sub", "missing": tmp_path / "missing"}[kind]
    if option == "--chart":
        path = path / "frontier.svg"
    argv = [str(plan_file(tmp_path)) if a == "PLAN_FILE" else a for a in argv]
    given = [option, str(path)]
    if option != "--warehouse" and argv[0] in TAKES_WAREHOUSE:
        given += ["--warehouse", str(warehouse)]
    if option != "--data" and argv[0] not in ("export", "diff"):
        given += ["--data", str(DATASETS)]
    before, file_before = contents(warehouse), a_file.read_bytes()
    code, err = run_cli([*argv, *given], capsys)
    assert code == 2
    assert f"{a_file if kind == 'under' else path}" in err and option in err and words in err
    assert "Traceback" not in err
    assert contents(warehouse) == before and a_file.read_bytes() == file_before


def test_a_read_only_warehouse_exits_2_before_the_solve(warehouse, no_work, capsys):
    """Read-only for root too: an immutable folder (chattr +i); for other users, mode 0o555."""
    if os.geteuid() == 0:
        if (
            not shutil.which("chattr")
            or subprocess.run(["chattr", "+i", str(warehouse)], capture_output=True).returncode != 0
        ):
            pytest.skip(
                "as root, only an immutable folder is read-only, and chattr +i is not available "
                "here (the file and folder-under-a-file cases still run)"
            )
        undo = ["chattr", "-i", str(warehouse)]
    else:
        warehouse.chmod(0o555)
        undo = ["chmod", "755", str(warehouse)]
    try:
        before = contents(warehouse)
        code, err = run_cli(
            ["plan", "--data", str(DATASETS), "--warehouse", str(warehouse)], capsys
        )
        assert contents(warehouse) == before
    finally:
        subprocess.run(undo, check=True)
    assert code == 2
    assert f"{warehouse}: --warehouse: cannot write in the folder" in err and "Traceback" not in err


def test_a_missing_warehouse_is_made(tmp_path: Path, no_work, capsys):
    """A warehouse that does not exist yet is no problem: it is made (and the command goes on to
    its work)."""
    warehouse = tmp_path / "new" / "warehouse"
    with pytest.raises(AssertionError, match="started work"):
        main(["plan", "--data", str(DATASETS), "--warehouse", str(warehouse)])
    assert warehouse.is_dir() and not any(warehouse.iterdir())


def test_a_broken_plan_file_is_bad_input_with_its_line(tmp_path: Path, warehouse, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"plan_id": "p1",\n  "fleet": [}\n')
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    code, err = run_cli(["diff", str(broken), str(listed), "--warehouse", str(warehouse)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{broken}:2: not a plan JSON" in err and f"{listed}: not a plan JSON: a list" in err


def test_an_os_error_writing_an_output_exits_2_with_the_path(tmp_path: Path, capsys):
    """The export's target is a folder: the rename over it fails (past every check, in the OS)."""
    out = tmp_path / "out"
    (out / "p1.json").mkdir(parents=True)
    code, err = run_cli(
        [
            "export",
            "--format",
            "json",
            "--plan",
            str(plan_file(tmp_path)),
            "--out",
            str(out),
            "--warehouse",
            str(tmp_path / "warehouse"),
        ],
        capsys,
    )
    assert code == 2
    assert f"{out / 'p1.json'}: Is a directory" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "error, words",
    [
        (
            PermissionError(13, "Permission denied", "/srv/inputs/power.csv"),
            "/srv/inputs/power.csv: Permission denied",
        ),
        (OSError(28, "No space left on device"), "No space left on device"),
        (
            IsADirectoryError(21, "Is a directory", "/tmp/a", None, "/tmp/b"),
            "/tmp/a -> /tmp/b: Is a directory",
        ),
    ],
)
def test_any_os_error_reaching_the_cli_exits_2(error, words, monkeypatch, capsys):
    import pipelines.cli.commands.validate

    def fail(args):
        raise error

    monkeypatch.setattr(pipelines.cli.commands.validate, "run", fail)
    code, err = run_cli(["validate"], capsys)
    assert code == 2 and words in err and "Traceback" not in err


def test_a_programming_error_is_not_hidden(monkeypatch, capsys):
    import pipelines.cli.commands.validate

    def fail(args):
        raise KeyError("a bug")

    monkeypatch.setattr(pipelines.cli.commands.validate, "run", fail)
    with pytest.raises(KeyError):
        main(["validate"])


def test_a_closed_stdout_in_process_ends_quietly(monkeypatch, capsys):
    import pipelines.cli.commands.validate

    def fail(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(pipelines.cli.commands.validate, "run", fail)
    assert run_cli(["validate"], capsys) == (0, "")


@pytest.mark.parametrize(
    "argv", [["plan", "--json"], ["validate"]], ids=["plan --json", "validate"]
)
def test_a_reader_that_stops_early_ends_quietly(argv, tmp_path: Path):
    """`tokenplan plan --json | head -1`: a pipe of one page (smaller than the plan, so the writer
    blocks and then finds the pipe closed), one line read, the pipe closed: exit 0, nothing on
    stderr."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    command = [sys.executable, "-m", "pipelines.cli", *argv, "--data", str(DATASETS)]
    if argv[0] == "plan":
        command += ["--warehouse", str(tmp_path)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    assert first == b"{\n" if argv[0] == "plan" else first.startswith(b"hardware ")
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert process.returncode == 0
