"""The plan history from the command line: `tokenplan plans` lists it newest first, and a plan
is named by its id, a prefix of it or `latest` everywhere (a prefix that matches several lists
them, exit 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO

from pipelines.cli.main import main
from pipelines.warehouse.history import CANDIDATES_SHOWN, plan_files, save_plan, stamp

GOLDEN = REPO / "tests" / "golden" / "bundled-flat.json"
START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def keep_plans(warehouse: Path, count: int, start: datetime = START) -> list[str]:
    """`count` plans kept a day apart (the recorded bundled plan, budgets 10, 11, ... MW), oldest
    first; their ids."""
    recorded = json.loads(GOLDEN.read_text())
    ids = []
    for day in range(count):
        plan = stamp(recorded | {"budget_mw": 10.0 + day}, now=start + timedelta(days=day))
        save_plan(plan, warehouse)
        ids.append(plan["plan_id"])
    return ids


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plans_lists_the_history_newest_first(tmp_path: Path, capsys):
    ids = keep_plans(tmp_path, 3)
    code, out, _ = run_cli(["plans", "--warehouse", str(tmp_path)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["plan", "id"]
    rows = [line for line in lines if line.startswith("2026")]
    assert [row.split()[0] for row in rows] == ids[::-1]
    newest = rows[0]
    recorded = json.loads(GOLDEN.read_text())
    assert "2026-03-03 09:30:00" in newest and "12 MW" in newest
    assert "cost-per-token" in newest and " flat " in newest
    assert f"${recorded['cost_per_million_tokens_usd']:.5f}" in newest
    assert "3 plans in" in out


def test_plans_json_and_limit(tmp_path: Path, capsys):
    ids = keep_plans(tmp_path, 3)
    code, out, _ = run_cli(
        ["plans", "--warehouse", str(tmp_path), "--json", "--limit", "2"], capsys
    )
    assert code == 0
    listed = json.loads(out)
    assert [p["plan_id"] for p in listed] == ids[::-1][:2]
    assert listed[0]["budget_mw"] == 12.0 and listed[0]["time_resolution"] == "flat"
    assert Path(listed[0]["file"]) == tmp_path / "plans" / f"{ids[-1]}.json"


def test_plans_says_so_when_there_are_none(tmp_path: Path, capsys):
    code, out, _ = run_cli(["plans", "--warehouse", str(tmp_path)], capsys)
    assert code == 0 and "no plans in" in out and "tokenplan plan" in out
    assert run_cli(["plans", "--warehouse", str(tmp_path), "--json"], capsys)[1] == "[]\n"


def test_an_unreadable_plan_file_is_a_row_not_a_failure(tmp_path: Path, capsys):
    keep_plans(tmp_path, 1)
    (tmp_path / "plans" / "20270101T000000000000Z-broken.json").write_text("{not json")
    code, out, _ = run_cli(["plans", "--warehouse", str(tmp_path)], capsys)
    assert code == 0
    assert "20270101T000000000000Z-broken" in out.splitlines()[2] and "unreadable" in out


def test_a_prefix_names_a_plan(tmp_path: Path, capsys):
    ids = keep_plans(tmp_path, 2)
    prefix = ids[0][:8]  # 20260301: the first day only
    code, out, err = run_cli(
        ["diff", prefix, "latest", "--warehouse", str(tmp_path), "--json"], capsys
    )
    assert code == 0, err
    diff = json.loads(out)
    assert ids[0] in json.dumps(diff) and ids[1] in json.dumps(diff)


def test_a_prefix_of_several_plans_lists_them_and_exits_2(tmp_path: Path, capsys):
    ids = keep_plans(tmp_path, 3)
    code, out, err = run_cli(["diff", "2026", "latest", "--warehouse", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert "2026: matches 3 plans" in err and "give more of the id" in err
    listed = [line.split()[0] for line in err.splitlines() if line.startswith("    2026")]
    assert listed == ids[::-1]
    assert "cost-per-token, 12 MW, flat" in err
    assert "Traceback" not in err


def test_at_most_ten_candidates_are_listed(tmp_path: Path, capsys):
    ids = keep_plans(tmp_path, CANDIDATES_SHOWN + 3)
    code, _, err = run_cli(
        ["export", "--format", "json", "--plan", "2026", "--warehouse", str(tmp_path)], capsys
    )
    assert code == 2
    listed = [line.split()[0] for line in err.splitlines() if line.startswith("    2026")]
    assert listed == ids[::-1][:CANDIDATES_SHOWN]
    assert f"matches {CANDIDATES_SHOWN + 3} plans" in err and "3 more" in err
    assert not list(tmp_path.glob("exports/*"))  # nothing exported


def test_no_match_says_how_to_list_the_plans(tmp_path: Path, capsys):
    keep_plans(tmp_path, 1)
    code, _, err = run_cli(["diff", "1999", "latest", "--warehouse", str(tmp_path)], capsys)
    assert code == 2
    assert "1999: no plan file, and no plan id starting with it" in err
    assert "1 plan kept" in err and "tokenplan plans" in err


@pytest.mark.parametrize("count", [0, 1])
def test_latest_with_and_without_plans(tmp_path: Path, count: int, capsys):
    ids = keep_plans(tmp_path, count)
    code, out, err = run_cli(
        ["export", "--format", "json", "--warehouse", str(tmp_path), "--out", str(tmp_path)],
        capsys,
    )
    if count:
        assert code == 0 and out.strip() == str(tmp_path / f"{ids[0]}.json")
    else:
        assert code == 2 and "no plans in" in err
    assert len(plan_files(tmp_path)) == count
