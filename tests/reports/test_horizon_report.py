"""The HTML report of a multi-year plan (`horizon_plan.html`), on the bundled site's plan: written
with the JSON and CSV files, self-contained, with its two charts as inline SVG, and its numbers
those of the plan document."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest
from conftest import DATASETS

from pipelines.planning.horizon import make_horizon_plan
from pipelines.reports.horizon import (
    HORIZON_HTML,
    amount,
    build_rows,
    cash_rows,
    write_horizon_files,
    year_rows,
)
from pipelines.reports.horizon_report import cost_stacks, gpu_stacks, horizon_html
from pipelines.reports.text import usd_per_mtok_text


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return make_horizon_plan(DATASETS)


def svgs(page: str) -> dict[str, str]:
    """The page's inline SVG charts by title."""
    charts = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    return {re.search(r"<title>(.*?)</title>", c).group(1): c for c in charts}


def test_the_report_is_written_with_the_document_and_tables(plan: dict, tmp_path: Path):
    written = write_horizon_files(plan, tmp_path)
    assert [p.name for p in written] == [
        "horizon_plan.json",
        "yearly.csv",
        "build_plan.csv",
        "cash_flow.csv",
        HORIZON_HTML,
    ]
    page = (tmp_path / HORIZON_HTML).read_text(encoding="utf-8")
    assert page == horizon_html(json.loads((tmp_path / "horizon_plan.json").read_text()))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # self-contained: no scripts, nothing fetched
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)


def test_both_charts_are_inline_svg(plan: dict):
    charts = svgs(horizon_html(plan))
    assert set(charts) == {"GPUs in service by accelerator", "Cost per million tokens by year"}
    years = [str(r["year"]) for r in plan["yearly"]]
    for chart in charts.values():
        for year in years:
            assert f">{year}</text>" in chart
    levelized = usd_per_mtok_text(plan["cost_per_million_tokens_usd"])
    assert f"levelized {levelized}" in charts["Cost per million tokens by year"]
    assert 'stroke-dasharray="5 3"' in charts["Cost per million tokens by year"]  # the line


def test_the_gpu_chart_adds_up_to_the_gpus_in_service(plan: dict):
    stacks = gpu_stacks(plan)
    for i, row in enumerate(plan["yearly"]):
        installed = plan["installed_gpus"][str(row["year"])]
        assert sum(s.values[i] for s in stacks) == sum(installed.values())
    owned = {s.name for s in stacks if not s.name.endswith(" rented")}
    assert owned == {
        r["accelerator"] for r in plan["build_plan"] if r["kind"] != "rented" and r["gpus"]
    }
    chart = svgs(horizon_html(plan))["GPUs in service by accelerator"]
    for stack in stacks:
        assert f">{escape(stack.name)}</text>" in chart  # in the legend


def test_the_cost_chart_adds_up_to_each_years_cost_per_token(plan: dict):
    stacks = cost_stacks(plan)
    assert [s.name for s in stacks] == ["capital", "facility", "energy", "opex", "site"]
    for i, row in enumerate(plan["yearly"]):
        assert sum(s.values[i] for s in stacks) == pytest.approx(
            row["cost_per_million_tokens_usd"], rel=1e-9
        )


def html_row(cells: list[str]) -> re.Pattern[str]:
    """A table row of the report holding `cells`, in order."""
    return re.compile(
        "<tr[^>]*>" + "".join(f"<td[^>]*>{re.escape(escape(c))}</td>" for c in cells) + "</tr>"
    )


def test_the_tables_are_the_documents(plan: dict):
    page = horizon_html(plan)
    rows = year_rows(plan) + build_rows(plan) + cash_rows(plan)
    assert len(rows) == len(plan["yearly"]) + len(plan["build_plan"]) + len(plan["cash_flow"])
    for row in rows:
        assert html_row(row).search(page), row
    assert usd_per_mtok_text(plan["cost_per_million_tokens_usd"]) in page


def test_rounding_noise_is_no_amount():
    assert amount(-1.2e-7) == amount(0.0) == "$0"
    assert amount(None) == "-"
    assert amount(1234.5) == "$1.23k"
