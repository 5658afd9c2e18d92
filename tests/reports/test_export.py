"""`tokenplan export` in every format, read back and checked against the plan document; the
Dagster export assets; a failed run never replaces the latest good plan or its exports."""

from __future__ import annotations

import contextlib
import copy
import csv
import html
import io
import itertools
import json
import re
from pathlib import Path

import dagster as dg
import openpyxl
import polars as pl
import pytest
from conftest import DATASETS
from openpyxl.utils.escape import unescape

from pipelines.cli.main import main
from pipelines.cli.run_job import run_job
from pipelines.contract.errors import InputError
from pipelines.reports.exports import TABLES, export_plan, plan_table
from pipelines.reports.workbook import SHEETS
from pipelines.warehouse.history import load_plan, plan_files


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
    code, printed = run_cli(
        "export", "--format", "all", "--warehouse", str(warehouse), "--out", str(out)
    )
    assert code == 0
    paths = [Path(line) for line in printed.splitlines()]
    assert all(p.is_file() for p in paths)
    return {p.name: p for p in paths}


def by_sku(rows) -> dict:
    return {(r["sku"], r.get("cooling_id")): r for r in rows}


def test_every_file_is_named_by_its_plan(plan: dict, exported: dict[str, Path]):
    plan_id = plan["plan_id"]
    assert set(exported) == {f"{plan_id}.{ext}" for ext in ("json", "xlsx", "md", "html")} | {
        f"{plan_id}_{table}.{ext}" for table in TABLES for ext in ("csv", "parquet")
    }


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
        assert allocation[row["workload"], row["sku"]]["tokens_per_s"] == pytest.approx(
            row["tokens_per_s"]
        )

    costs = {r["component"]: r for r in tables["costs"].to_dicts()}
    assert {k: r["annual_cost_usd"] for k, r in costs.items()} == pytest.approx(
        plan["costs_usd_per_year"]
    )
    assert sum(r["usd_per_million_tokens"] for r in costs.values()) == pytest.approx(
        plan["cost_per_million_tokens_usd"]
    )

    assert tables["inputs"].select("file", "sha256").to_dicts() == [
        {"file": f["file"], "sha256": f["sha256"]} for f in plan["inputs"]
    ]
    alternatives = {r["sku"]: r for r in tables["alternatives"].to_dicts()}
    for row in plan["alternatives"]:
        assert alternatives[row["sku"]]["status"] == row["status"]
        assert alternatives[row["sku"]]["cost_per_million_tokens_usd"] == pytest.approx(
            row["cost_per_million_tokens_usd"]
        )


def test_workbook_has_formatted_sheets_with_units(plan: dict, exported: dict[str, Path]):
    """The sheets, bold frozen headers with units, number formats; the values shown (the cached
    results of the formulas) are the plan's (`test_workbook` recalculates them in LibreOffice)."""
    path = exported[f"{plan['plan_id']}.xlsx"]
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames[:5] == ["Summary", "Fleet", "Allocation", "Costs", "Inputs"]
    assert book.sheetnames[-2:] == ["Capex", "Assumptions"]
    assert plan["plan_id"] in book.properties.title
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title

    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["plan id"] == plan["plan_id"]
    assert summary["cost per million tokens (USD)"] == pytest.approx(
        plan["cost_per_million_tokens_usd"]
    )
    assert summary["grid power provisioned (MW)"] == pytest.approx(plan["grid_power_mw"])
    assert summary["capex, upfront (USD)"] == pytest.approx(plan["capex_usd"])

    fleet = book["Fleet"]
    headers = [c.value for c in fleet[1]]
    assert {"grid power (kW)", "annual cost (USD/year)", "capex (USD)"} <= set(headers)
    rows = [
        dict(zip(headers, r, strict=True))
        for r in fleet.iter_rows(min_row=2, values_only=True)
        if r[0] != "total"
    ]
    assert sorted((r["system"], r["nodes"]) for r in rows) == sorted(
        (r["sku"], r["nodes"]) for r in plan["fleet"]
    )
    cost_column = headers.index("annual cost (USD/year)") + 1
    assert "$" in fleet.cell(row=2, column=cost_column).number_format

    costs = book["Costs"]
    cost_headers = [c.value for c in costs[1]]
    annual = cost_headers.index("annual cost (USD/year)")
    components = {}
    for r in costs.iter_rows(min_row=2, values_only=True):
        if r[0] is None:
            break  # the site costs follow an empty row
        components[r[0]] = r[annual]
    assert components.pop("total") == pytest.approx(plan["annual_cost_usd"])
    assert components == pytest.approx(plan["costs_usd_per_year"])
    inputs = [r[0] for r in book["Inputs"].iter_rows(min_row=2, values_only=True)]
    assert inputs[:-1] == [f["file"] for f in plan["inputs"]] and inputs[-1] == "total"


def test_markdown_report_names_the_plan(plan: dict, exported: dict[str, Path]):
    text = exported[f"{plan['plan_id']}.md"].read_text()
    budget = f"{plan['budget_mw']:g} MW"
    assert text.startswith(
        f"# Build plan: {plan['name']} · {budget} · flat year — plan {plan['plan_id']}"
    )
    for heading in (
        "## Summary",
        "## Annual cost by component",
        "## Fleet by system and cooling",
        "## Against the best single-system plans",
        "## Inputs",
    ):
        assert heading in text
    assert "█" in text  # the text bar charts


def test_export_by_plan_id_and_file_and_to_a_named_file(
    plan: dict, warehouse: Path, tmp_path: Path
):
    target = tmp_path / "shared.xlsx"
    assert run_cli(
        "export",
        "--format",
        "xlsx",
        "--plan",
        plan["plan_id"][:20],
        "--warehouse",
        str(warehouse),
        "--out",
        str(target),
    ) == (0, f"{target}\n")
    assert openpyxl.load_workbook(target)["Summary"]["B2"].value == plan["plan_id"]
    source = plan_files(warehouse)[-1]
    code, printed = run_cli(
        "export", "--format", "md", "--plan", str(source), "--out", str(tmp_path)
    )
    assert code == 0 and Path(printed.strip()).name == f"{plan['plan_id']}.md"


def test_unknown_plan_is_bad_input(warehouse: Path, capsys):
    assert (
        main(
            ["export", "--format", "json", "--plan", "no-such-plan", "--warehouse", str(warehouse)]
        )
        == 2
    )
    assert "no-such-plan" in capsys.readouterr().err
    assert (
        main(
            [
                "export",
                "--format",
                "html",
                "--frontier",
                "missing.json",
                "--warehouse",
                str(warehouse),
            ]
        )
        == 2
    )
    assert "missing.json" in capsys.readouterr().err


def test_the_command_offers_every_format():
    from pipelines.cli.commands import export
    from pipelines.reports.exports import EXPORTS

    assert export.FORMATS == (*EXPORTS, "all")


def test_every_format_has_its_asset():
    """One export asset per format of `EXPORTS`, named and described by its entry."""
    from pipelines.defs.export.assets import exports
    from pipelines.reports.exports import EXPORTS

    for asset, export in zip(exports, EXPORTS.values(), strict=True):
        spec = next(iter(asset.specs))
        assert spec.key.to_user_string() == export.asset and spec.description == export.description
        inputs = {key.to_user_string() for key in asset.keys_by_input_name.values()}
        assert inputs == {"build_plan"} | ({"pareto_frontier"} if export.charts_frontier else set())


def test_listing_the_formats_imports_no_polars():
    """The CLI builds `--format`'s choices from `EXPORTS` and still starts without polars."""
    import subprocess
    import sys

    code = (
        "import sys; from pipelines.cli.main import build_parser; build_parser(); "
        "assert 'polars' not in sys.modules, 'polars imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=DATASETS.parent)


# --------------------------------------------------------------------------- inert exports


FORMULA_TEXT = ('=HYPERLINK("http://x","GB200")', "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1")
"""Text a spreadsheet would evaluate: one for each first character that makes it a formula."""
PIPE_AND_TAG = "GB|200 <img src=x onerror=alert(1)>"
"""Text that would end a Markdown table cell, and an HTML tag."""


def hostile(plan: dict) -> dict:
    """The plan with every text field of every exported table (and the site name and power
    design) set to `FORMULA_TEXT`, in turn, so each table holds each dangerous first character;
    a cooling id with `PIPE_AND_TAG`; and negative numbers in two numeric columns. The
    assumptions' systems, coolings and power designs take the fleet's new names, their tariff
    id a formula's text."""
    plan = copy.deepcopy(plan)
    original_fleet = copy.deepcopy(plan["fleet"])
    texts = itertools.cycle(FORMULA_TEXT)
    for table in ("fleet", "allocation", "inputs", "alternatives"):
        text_columns = [c.name for c in TABLES[table] if c.dtype == "String"]
        for row in plan[table]:
            for name in text_columns:
                row[name] = next(texts)
    plan["costs_usd_per_year"] = {next(texts): usd for usd in plan["costs_usd_per_year"].values()}
    plan["name"], plan["power_design"] = FORMULA_TEXT[0], FORMULA_TEXT[3]
    plan["fleet"][0]["cooling_id"] = PIPE_AND_TAG
    if "assumptions" in plan:  # rename the fleet's systems, coolings and power designs alike
        assumptions = plan["assumptions"]
        for key, field in (
            ("systems", "sku"),
            ("coolings", "cooling_id"),
            ("power_designs", "power_id"),
        ):
            by_id = {entry[field]: entry for entry in assumptions[key]}
            renamed = {}
            for original, row in zip(original_fleet, plan["fleet"], strict=True):
                if original[field] in by_id:
                    renamed[row[field]] = by_id[original[field]] | {field: row[field]}
            assumptions[key] = list(renamed.values())
        assumptions["tariff"]["tariff_id"] = FORMULA_TEXT[2]
    plan["fleet"][0]["capex_usd"] = -1234.5
    plan["allocation"][0]["concurrency"] = -7
    return plan


def text_cells(plan: dict, table: str) -> list[tuple[int, str, str]]:
    """(row index, column, text) of every text cell of the plan's `table`."""
    frame = plan_table(plan, table)
    return [
        (i, c.name, value)
        for c in TABLES[table]
        if c.dtype == "String"
        for i, value in enumerate(frame[c.name])
        if value is not None
    ]


@pytest.mark.parametrize("recorded", [True, False], ids=["with-assumptions", "values-only"])
def test_workbook_writes_text_as_text_never_a_formula(plan: dict, tmp_path: Path, recorded: bool):
    """Every text cell is a string cell holding the exact text (`_x000D_` is how OOXML stores a
    carriage return); the workbook's own formulas (costs, totals) hold none of it. With the
    plan's assumptions (their systems, coolings and power designs renamed like the fleet's) and
    without them (values only)."""
    bad = hostile(plan)
    if not recorded:
        del bad["assumptions"]
    [path] = export_plan(bad, "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    assert ("Assumptions" in book.sheetnames) == recorded
    formulas = [
        c.value for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"
    ]
    assert formulas
    for formula in formulas:
        assert not any(text.strip() in formula for text in (*FORMULA_TEXT, "HYPERLINK")), formula

    assert book["Fleet"]["A2"].data_type == "s"
    assert book["Fleet"]["A2"].value == '=HYPERLINK("http://x","GB200")'
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2)}
    assert (summary["site"].data_type, summary["site"].value) == ("s", FORMULA_TEXT[0])
    assert (summary["power design"].data_type, summary["power design"].value) == (
        "s",
        FORMULA_TEXT[3],
    )

    seen = set()
    for sheet_name, table in SHEETS.items():
        sheet, names = book[sheet_name], [c.name for c in TABLES[table]]
        for index, name, text in text_cells(bad, table):
            cell = sheet.cell(row=index + 2, column=names.index(name) + 1)
            assert (cell.data_type, unescape(cell.value)) == ("s", text), (
                sheet_name,
                cell.coordinate,
            )
            seen.add(text[0])
    assert seen >= {t[0] for t in FORMULA_TEXT}

    capex = book["Fleet"].cell(
        row=2, column=[c.name for c in TABLES["fleet"]].index("capex_usd") + 1
    )
    if recorded:  # a formula of the row's nodes and the assumptions
        assert capex.data_type == "f" and capex.value.startswith("=SUM(")
    else:  # the plan's number
        assert (capex.data_type, capex.value) == ("n", -1234.5)


def test_csv_neutralizes_text_a_spreadsheet_would_evaluate(plan: dict, tmp_path: Path):
    """A text cell starting with = + - @ tab or CR gets a leading ', other text and every
    number (negative ones too) are written as they are."""
    bad = hostile(plan)
    paths = export_plan(bad, "csv", tmp_path)
    seen = set()
    for path, table in zip(paths, TABLES, strict=True):
        with path.open(newline="", encoding="utf-8") as file:
            header, *rows = list(csv.reader(file))
        assert len(rows) == plan_table(bad, table).height, table
        for index, name, text in text_cells(bad, table):
            cell = rows[index][header.index(name)]
            if text[0] in "=+-@\t\r":
                assert cell == "'" + text, (table, name, cell)
                seen.add(text[0])
            else:
                assert cell == text, (table, name, cell)
    assert seen == {t[0] for t in FORMULA_TEXT}

    with paths[0].open(newline="", encoding="utf-8") as file:
        fleet = next(csv.DictReader(file))
    assert fleet["sku"] == "'" + '=HYPERLINK("http://x","GB200")'
    assert fleet["cooling_id"] == PIPE_AND_TAG
    assert fleet["capex_usd"] == "-1234.5"
    allocation = pl.read_csv(paths[1])
    assert allocation["concurrency"][0] == -7 and allocation["concurrency"].dtype == pl.Int64
    assert allocation["plan_id"][0] == bad["plan_id"]


def test_reports_escape_text(plan: dict, tmp_path: Path):
    """Markdown: a `|` in a name stays inside its table cell. HTML: names are escaped."""
    bad = hostile(plan)
    [md] = export_plan(bad, "md", tmp_path)
    text = md.read_text()
    assert "GB\\|200" in text
    for block in re.findall(r"(?:^\|.*\n)+", text, flags=re.MULTILINE):
        lines = block.splitlines()
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in lines}
        assert widths == {len(re.split(r"(?<!\\)\|", lines[0]))}, block
    [page] = export_plan(bad, "html", tmp_path)
    page_text = page.read_text()
    assert "<img" not in page_text
    assert html.escape(PIPE_AND_TAG) in page_text
    assert html.escape(FORMULA_TEXT[0]) in page_text


def test_formulas_in_a_price_sheet_stay_text_in_the_exports(data: Path, tmp_path: Path):
    """SKUs starting with = + - @ in the bundled price sheet, planned and exported: the
    workbook holds them as text, the CSV with a leading '."""
    sheet = data / "hardware/price_sheet.csv"
    frame = pl.read_csv(sheet, infer_schema=False)
    skus = ['=HYPERLINK("http://x","GB200")'] + [
        f"{p}{s}" for p, s in zip(itertools.cycle("+-@="), frame["sku"][1:])
    ]
    frame.with_columns(pl.Series("sku", skus)).write_csv(sheet)
    (data / "fleet.csv").unlink()  # its skus are renamed
    warehouse, out = tmp_path / "warehouse", tmp_path / "out"
    assert run_cli("plan", "--data", str(data), "--warehouse", str(warehouse))[0] == 0
    planned = load_plan("latest", warehouse)
    alternatives = [r["sku"] for r in planned["alternatives"]]
    assert '=HYPERLINK("http://x","GB200")' in alternatives
    assert {s[0] for s in alternatives} >= set("=+-@")

    assert (
        run_cli("export", "--format", "xlsx", "--warehouse", str(warehouse), "--out", str(out))[0]
        == 0
    )
    assert (
        run_cli("export", "--format", "csv", "--warehouse", str(warehouse), "--out", str(out))[0]
        == 0
    )
    cells = [
        row[0]
        for row in openpyxl.load_workbook(out / f"{planned['plan_id']}.xlsx")[
            "Alternatives"
        ].iter_rows(min_row=2, max_col=1)
    ]
    assert [(c.data_type, c.value) for c in cells] == [("s", s) for s in alternatives]
    written = pl.read_csv(out / f"{planned['plan_id']}_alternatives.csv")["sku"].to_list()
    assert written == [("'" + s if s[0] in "=+-@" else s) for s in alternatives]


# --------------------------------------------------------------------------- Dagster


SMALL_FRONTIER = {
    "pareto_frontier": {"config": {"start_mw": 10.0, "stop_mw": 20.0, "step_mw": 10.0, "jobs": 1}}
}


@pytest.fixture(scope="module")
def replanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Dagster job `replan` (ingest → design → plan → frontier → exports) on a copy of the
    data."""
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
    assert (
        "Cost per token across grid budgets" in report.read_text()
    )  # charted from pareto_frontier
    with dg.DagsterInstance.get() as instance:
        built = instance.get_latest_materialization_event(
            dg.AssetKey("build_plan")
        ).asset_materialization
        assert built.metadata["report_html"].value == str(report)
        for name in (
            "plan_json",
            "plan_csv",
            "plan_parquet",
            "plan_workbook",
            "plan_report_md",
            "plan_report_html",
        ):
            exported = instance.get_latest_materialization_event(
                dg.AssetKey(name)
            ).asset_materialization
            assert exported.metadata["plan_id"].value == plan["plan_id"], name
            assert Path(exported.metadata["path"].value).is_file(), name
            assert plan["plan_id"] in Path(exported.metadata["path"].value).name, name
        assert instance.get_latest_materialization_event(dg.AssetKey("pareto_frontier")) is not None


def test_a_failed_run_keeps_the_latest_plan_and_its_exports(replanned: tuple[Path, Path]):
    """Bad input stops the run at ingest: no new plan, `latest` and the exports stay the good
    plan's."""
    data, warehouse = replanned
    latest = load_plan("latest", warehouse)
    exports = sorted(p.name for p in (warehouse / "exports").iterdir())
    (data / "power.csv").write_text("power_id,name\n")
    with pytest.raises(InputError):
        run_job("replan", data, warehouse, {"ops": SMALL_FRONTIER})
    assert load_plan("latest", warehouse) == latest
    assert json.loads((warehouse / "build_plan.json").read_text())["plan_id"] == latest["plan_id"]
    assert sorted(p.name for p in (warehouse / "exports").iterdir()) == exports
    code, printed = run_cli(
        "export", "--format", "json", "--warehouse", str(warehouse), "--out", str(data)
    )
    assert code == 0 and Path(printed.strip()).name == f"{latest['plan_id']}.json"


def test_an_infeasible_plan_keeps_the_latest_plan(data: Path, tmp_path: Path, capsys):
    """Without rentals a budget below one node admits no plan: exit 1, `latest` unchanged."""
    sheet = data / "hardware/price_sheet.csv"
    pl.read_csv(sheet, infer_schema=False).filter(pl.col("node_capex_usd").is_not_null()).write_csv(
        sheet
    )
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 0
    latest = load_plan("latest", tmp_path)
    assert (
        main(["plan", "--data", str(data), "--warehouse", str(tmp_path), "--budget-mw", "0.01"])
        == 1
    )
    assert "infeasible" in capsys.readouterr().err
    assert load_plan("latest", tmp_path) == latest
