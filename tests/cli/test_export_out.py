"""`tokenplan export --out`: a folder, the one file of a one-file format, or for the per-table
formats (csv, parquet) a file name whose tables go beside it (`x.csv`: `x_fleet.csv`, ...);
never a folder named like a file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import REPO

from pipelines.cli.main import main
from pipelines.reports.exports import TABLES

GOLDEN = REPO / "tests" / "golden" / "bundled-flat.json"


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(json.loads(GOLDEN.read_text()) | {"plan_id": "p1"}))
    return path


def export(plan_file: Path, fmt: str, out: Path, capsys) -> tuple[int, str, str]:
    try:
        code = main(
            [
                "export",
                "--format",
                fmt,
                "--plan",
                str(plan_file),
                "--out",
                str(out),
                "--warehouse",
                str(plan_file.parent / "warehouse"),
            ]
        )
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_to_a_file_name_writes_each_table_beside_it(plan_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "out" / "site.csv"
    code, printed, err = export(plan_file, "csv", out, capsys)
    assert code == 0, err
    expected = [out.parent / f"site_{table}.csv" for table in TABLES]
    assert printed.split() == [str(path) for path in expected]
    assert not out.exists()  # no folder named site.csv, no file either
    assert sorted(out.parent.iterdir()) == sorted(expected)
    with expected[0].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {row["plan_id"] for row in rows} == {"p1"}


def test_parquet_to_a_file_name_too(plan_file: Path, tmp_path: Path, capsys):
    import polars as pl

    out = tmp_path / "site.parquet"
    code, _, err = export(plan_file, "parquet", out, capsys)
    assert code == 0, err
    fleet = pl.read_parquet(tmp_path / "site_fleet.parquet")
    assert fleet["plan_id"].to_list() == ["p1"] * fleet.height and fleet.height > 0


def test_a_one_file_format_writes_that_file(plan_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "copy.json"
    code, printed, _ = export(plan_file, "json", out, capsys)
    assert code == 0 and printed.strip() == str(out)
    assert json.loads(out.read_text())["plan_id"] == "p1"


def test_a_folder_named_like_a_file_stays_a_folder(plan_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "old.csv"
    out.mkdir()
    code, _, _ = export(plan_file, "csv", out, capsys)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"p1_{t}.csv" for t in TABLES)


@pytest.mark.parametrize(
    "fmt, name, words",
    [
        (
            "json",
            "plan.xlsx",
            "has the suffix of xlsx files, but --format is json: give a .json file",
        ),
        ("csv", "plan.parquet", "has the suffix of parquet files, but --format is csv"),
        ("all", "plan.csv", "--format all writes every format: --out must be a folder"),
    ],
)
def test_a_file_name_of_another_format_is_bad_input(
    plan_file: Path, tmp_path: Path, fmt: str, name: str, words: str, capsys
):
    out = tmp_path / "out" / name
    code, printed, err = export(plan_file, fmt, out, capsys)
    assert code == 2 and printed == ""
    assert f"{out}: --out: {words}" in err
    assert not (tmp_path / "out").exists()
