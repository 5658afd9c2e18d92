"""`tokenplan export` in every format, read back and checked against the plan document; the
Dagster export assets; a failed run never replaces the latest good plan or its exports."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import dagster as dg
import openpyxl
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.exports import TABLES
from pipelines.history import load_plan, plan_files
from pipelines.run import run_job

from conftest import DATASETS


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose history holds one plan of the bundled data."""
    folder = tmp_path_factory.mktemp("warehouse")
    assert run_cli("plan", "--data", str(DATASETS), "--warehouse", str(folder))[0] == 0
    return folder


@pytest.fixture(scope="module")
def plan(warehouse: Path) -> dict:
    return load_plan("latest", warehouse)


@pytest.fixture(scope="module")
def exported(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`tokenplan export --format all` of the latest plan: file name → path."""
    out = tmp_path_factory.mktemp("exports")
    code, printed = run_cli("export", "--format", "all", "--warehouse", str(warehouse), "--out", str(out))
    assert code == 0
    paths = [Path(line) for line in printed.splitlines()]
    assert all(p.is_file() for p in paths)
    return {p.name: p for p in paths}


def by_sku(rows) -> dict:
    return {(r["sku"], r.get("cooling_id")): r for r in rows}


def test_every_file_is_named_by_its_plan(plan: dict, exported: dict[str, Path]):
    plan_id = plan["plan_id"]
    assert set(exported) == {f"{plan_id}.{ext}" for ext in ("json", "xlsx", "md", "html")} | {
        f"{plan_id}_{table}.{ext}" for table in TABLES for ext in ("csv", "parquet")}


def test_json_is_the_plan_document(plan: dict, exported: dict[str, Path]):
    assert json.loads(exported[f"{plan['plan_id']}.json"].read_text()) == plan


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_match_the_plan(plan: dict, exported: dict[str, Path], fmt: str):
    read = pl.read_csv if fmt == "csv" else pl.read_parquet
    tables = {t: read(exported[f"{plan['plan_id']}_{t}.{fmt}"]) for t in TABLES}
    for table, frame in tables.items():
        assert frame.columns == ["plan_id", *(c.name for c in TABLES[table])], table
        assert frame["plan_id"].unique().to_list() == [plan["plan_id"]], table

    fleet = by_sku(tables["fleet"].to_dicts())
    assert set(fleet) == set(by_sku(plan["fleet"]))
    for key, row in by_sku(plan["fleet"]).items():
        assert fleet[key]["nodes"] == row["nodes"] and fleet[key]["gpus"] == row["gpus"]
        assert fleet[key]["grid_power_kw"] == pytest.approx(row["grid_power_kw"])
        assert fleet[key]["annual_cost_usd"] == pytest.approx(row["annual_cost_usd"])

    allocation = {(r["workload"], r["sku"]): r for r in tables["allocation"].to_dicts()}
    for row in plan["allocation"]:
        assert allocation[row["workload"], row["sku"]]["tokens_per_s"] == pytest.approx(row["tokens_per_s"])

    costs = {r["component"]: r for r in tables["costs"].to_dicts()}
    assert {k: r["annual_cost_usd"] for k, r in costs.items()} == pytest.approx(plan["costs_usd_per_year"])
    assert sum(r["usd_per_million_tokens"] for r in costs.values()) == pytest.approx(
        plan["cost_per_million_tokens_usd"])

    assert tables["inputs"].select("file", "sha256").to_dicts() == [
        {"file": f["file"], "sha256": f["sha256"]} for f in plan["inputs"]]
    alternatives = {r["sku"]: r for r in tables["alternatives"].to_dicts()}
    for row in plan["alternatives"]:
        assert alternatives[row["sku"]]["status"] == row["status"]
        assert alternatives[row["sku"]]["cost_per_million_tokens_usd"] == pytest.approx(
            row["cost_per_million_tokens_usd"])


def test_workbook_has_formatted_sheets_with_units(plan: dict, exported: dict[str, Path]):
    book = openpyxl.load_workbook(exported[f"{plan['plan_id']}.xlsx"])
    assert book.sheetnames[:5] == ["Summary", "Fleet", "Allocation", "Costs", "Inputs"]
    assert plan["plan_id"] in book.properties.title
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1]), sheet.title

    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["plan id"] == plan["plan_id"]
    assert summary["cost per million tokens (USD)"] == pytest.approx(plan["cost_per_million_tokens_usd"])
    assert summary["grid power provisioned (MW)"] == pytest.approx(plan["grid_power_mw"])

    fleet = book["Fleet"]
    headers = [c.value for c in fleet[1]]
    assert {"grid power (kW)", "annual cost (USD/year)", "capex (USD)"} <= set(headers)
    rows = [dict(zip(headers, r)) for r in fleet.iter_rows(min_row=2, values_only=True)]
    assert sorted((r["system"], r["nodes"]) for r in rows) == sorted((r["sku"], r["nodes"]) for r in plan["fleet"])
    cost_column = headers.index("annual cost (USD/year)") + 1
    assert "$" in fleet.cell(row=2, column=cost_column).number_format

    costs = book["Costs"]
    cost_headers = [c.value for c in costs[1]]
    total = sum(r[cost_headers.index("annual cost (USD/year)")] for r in costs.iter_rows(min_row=2, values_only=True))
    assert total == pytest.approx(plan["annual_cost_usd"])
    inputs = [r[0] for r in book["Inputs"].iter_rows(min_row=2, values_only=True)]
    assert inputs == [f["file"] for f in plan["inputs"]]


def test_markdown_report_names_the_plan(plan: dict, exported: dict[str, Path]):
    text = exported[f"{plan['plan_id']}.md"].read_text()
    assert text.startswith(f"# Build plan: {plan['name']} — plan {plan['plan_id']}")
    for heading in ("## Summary", "## Annual cost by component", "## Fleet by system and cooling",
                    "## Against the best single-system plans", "## Inputs"):
        assert heading in text
    assert "█" in text  # the text bar charts


def test_export_by_plan_id_and_file_and_to_a_named_file(plan: dict, warehouse: Path, tmp_path: Path):
    target = tmp_path / "shared.xlsx"
    assert run_cli("export", "--format", "xlsx", "--plan", plan["plan_id"][:20], "--warehouse", str(warehouse),
                   "--out", str(target)) == (0, f"{target}\n")
    assert openpyxl.load_workbook(target)["Summary"]["B2"].value == plan["plan_id"]
    source = plan_files(warehouse)[-1]
    code, printed = run_cli("export", "--format", "md", "--plan", str(source), "--out", str(tmp_path))
    assert code == 0 and Path(printed.strip()).name == f"{plan['plan_id']}.md"


def test_unknown_plan_is_bad_input(warehouse: Path, capsys):
    assert main(["export", "--format", "json", "--plan", "no-such-plan", "--warehouse", str(warehouse)]) == 2
    assert "no-such-plan" in capsys.readouterr().err
    assert main(["export", "--format", "html", "--frontier", "missing.json", "--warehouse", str(warehouse)]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_the_command_offers_every_format():
    from pipelines.commands import export
    from pipelines.exports import FORMATS

    assert export.FORMATS == (*FORMATS, "all")


# --------------------------------------------------------------------------- Dagster


SMALL_FRONTIER = {"pareto_frontier": {"config": {"start_mw": 10.0, "stop_mw": 20.0, "step_mw": 10.0, "jobs": 1}}}


@pytest.fixture(scope="module")
def replanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Dagster job `replan` (ingest → design → plan → frontier → exports) on a copy of the data."""
    import shutil

    root = tmp_path_factory.mktemp("replan")
    data, warehouse = root / "data", root / "warehouse"
    shutil.copytree(DATASETS, data)
    run_job("replan", data, warehouse, {"ops": SMALL_FRONTIER})
    return data, warehouse


def test_export_assets_write_the_plan_and_link_the_report(replanned: tuple[Path, Path]):
    _, warehouse = replanned
    plan = json.loads((warehouse / "build_plan.json").read_text())
    exports = warehouse / "exports"
    assert json.loads((exports / f"{plan['plan_id']}.json").read_text()) == plan
    report = exports / f"{plan['plan_id']}.html"
    assert "Cost per token across grid budgets" in report.read_text()  # charted from pareto_frontier
    with dg.DagsterInstance.get() as instance:
        built = instance.get_latest_materialization_event(dg.AssetKey("build_plan")).asset_materialization
        assert built.metadata["report_html"].value == str(report)
        for name in ("plan_json", "plan_csv", "plan_parquet", "plan_workbook", "plan_report_md", "plan_report_html"):
            exported = instance.get_latest_materialization_event(dg.AssetKey(name)).asset_materialization
            assert exported.metadata["plan_id"].value == plan["plan_id"], name
            assert Path(exported.metadata["path"].value).is_file(), name
            assert plan["plan_id"] in Path(exported.metadata["path"].value).name, name
        assert instance.get_latest_materialization_event(dg.AssetKey("pareto_frontier")) is not None


def test_a_failed_run_keeps_the_latest_plan_and_its_exports(replanned: tuple[Path, Path]):
    """Bad input stops the run at ingest: no new plan, `latest` and the exports stay the good plan's."""
    data, warehouse = replanned
    latest = load_plan("latest", warehouse)
    exports = sorted(p.name for p in (warehouse / "exports").iterdir())
    (data / "power.csv").write_text("power_id,name\n")
    with pytest.raises(InputError):
        run_job("replan", data, warehouse, {"ops": SMALL_FRONTIER})
    assert load_plan("latest", warehouse) == latest
    assert json.loads((warehouse / "build_plan.json").read_text())["plan_id"] == latest["plan_id"]
    assert sorted(p.name for p in (warehouse / "exports").iterdir()) == exports
    code, printed = run_cli("export", "--format", "json", "--warehouse", str(warehouse), "--out", str(data))
    assert code == 0 and Path(printed.strip()).name == f"{latest['plan_id']}.json"


def test_an_infeasible_plan_keeps_the_latest_plan(data: Path, tmp_path: Path, capsys):
    """Without rentals a budget below one node admits no plan: exit 1, `latest` unchanged."""
    sheet = data / "hardware/price_sheet.csv"
    pl.read_csv(sheet, infer_schema=False).filter(pl.col("node_capex_usd").is_not_null()).write_csv(sheet)
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 0
    latest = load_plan("latest", tmp_path)
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path), "--budget-mw", "0.01"]) == 1
    assert "infeasible" in capsys.readouterr().err
    assert load_plan("latest", tmp_path) == latest
