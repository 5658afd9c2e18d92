"""The HTML report: self-contained, names its plan, has the charts; rendered in headless
Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DATASETS
from PIL import Image

from pipelines.planning.comparisons import single_system_inputs
from pipelines.planning.make_plan import make_plan
from pipelines.planning.sweep import sweep
from pipelines.reports.charts import (
    MUTED,
    Bar,
    Series,
    Stack,
    bar_chart,
    break_above,
    column_chart,
    line_chart,
)
from pipelines.reports.exports import export_plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Elements(HTMLParser):
    """Tags (with attributes), the page title, and whether any resource is loaded from elsewhere."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title" and not any(t == "svg" for t, _ in self.tags[:-1])

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def count(self, tag: str) -> int:
        return sum(t == tag for t, _ in self.tags)


@pytest.fixture(scope="module")
def plan() -> dict:
    return make_plan(DATASETS) | {
        "plan_id": "20260101T000000000000Z-testplan",
        "created_at": "2026-01-01T00:00:00+00:00",
    }


@pytest.fixture(scope="module")
def report(plan: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.ingest.sources import read_inputs

    frontier = sweep(read_inputs(DATASETS), [10.0, 20.0], jobs=1, inputs_files=plan["inputs"])
    return export_plan(plan, "html", tmp_path_factory.mktemp("report"), frontier)[0]


@pytest.fixture(scope="module")
def page(report: Path) -> Elements:
    parser = Elements()
    parser.feed(report.read_text())
    return parser


def test_report_names_its_plan(plan: dict, report: Path, page: Elements):
    assert report.name == f"{plan['plan_id']}.html"
    assert plan["plan_id"] in page.title
    assert any(t == "meta" and a.get("content") == plan["plan_id"] for t, a in page.tags)


def test_report_is_self_contained(report: Path, page: Elements):
    """No scripts, no stylesheets or fonts or images from elsewhere: it opens offline."""
    assert page.count("script") == 0
    assert page.count("link") == 0 and page.count("img") == 0 and page.count("iframe") == 0
    for tag, attributes in page.tags:
        for name in ("src", "href", "xlink:href"):
            assert name not in attributes, (tag, attributes)
    text = report.read_text()
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    assert page.count("style") == 1


def test_report_has_the_charts_and_tables(plan: dict, page: Elements):
    charts = [a.get("aria-label", "") for t, a in page.tags if t == "svg"]
    for title in (
        "Annual cost by component",
        "Fleet by system and cooling",
        "Cost per million tokens vs. single-system plans",
        "Tokens/s per MW vs. single-system plans",
        "Cost per million tokens by grid budget (flat year)",
    ):
        assert title in charts
    assert page.count("rect") >= len(plan["fleet"]) + sum(
        1 for v in plan["costs_usd_per_year"].values() if v
    )
    assert page.count("table") >= 6


def test_report_title_names_the_site_budget_and_time_resolution(plan: dict, page: Elements):
    assert page.title.startswith(
        f"Build plan: {plan['name']} · {plan['budget_mw']:g} MW · flat year"
    )


def test_single_system_alternatives_are_in_the_plan(plan: dict):
    """Each system alone; the mix is never worse (up to the MIP gap), and the ratio is theirs /
    the plan's."""
    rows = plan["alternatives"]
    feasible = [r for r in rows if r["cost_per_million_tokens_usd"] is not None]
    assert feasible and all(r["reason"] for r in rows if r["cost_per_million_tokens_usd"] is None)
    for row in feasible:
        assert row["advantage_ratio"] == pytest.approx(
            row["cost_per_million_tokens_usd"] / plan["cost_per_million_tokens_usd"]
        )
        assert row["advantage_ratio"] >= 1 - 2e-4
    assert {f["sku"] for f in plan["fleet"]} <= {r["sku"] for r in rows}


def test_a_rented_alternative_keeps_its_max_nodes():
    """A rental alone is the rental as the full model has it (`max_nodes` and all), with its own
    operating points only."""
    from optimizer.design import plan_inputs
    from pipelines.ingest.sources import read_inputs

    inputs = plan_inputs(read_inputs(DATASETS))
    rented = next(s for s in inputs.systems if s.rented)
    alone = single_system_inputs(inputs, rented.sku)
    assert alone.systems == (rented,)
    assert alone.operating_points and {p.sku for p in alone.operating_points} == {rented.sku}


def _chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return CHROMIUM


def test_report_renders_in_chromium_with_its_charts(chromium, report: Path, tmp_path: Path):
    dom = _chromium("--dump-dom", report.as_uri(), profile=tmp_path / "dom").stdout
    assert dom.count("<svg") >= 6
    assert dom.count("<rect") >= 20
    png = tmp_path / "report.png"
    _chromium(
        f"--screenshot={png}", "--window-size=1280,2400", report.as_uri(), profile=tmp_path / "shot"
    )
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert (
        len(colours) > 200
    )  # text, cards and charts in colour; a blank or unstyled page has a handful
    bar_blue = (0x25, 0x63, 0xEB)
    assert any(colour == bar_blue for _, colour in colours)  # the highlighted bars were drawn


# --------------------------------------------------------------------------- charts from zero


def ticks(svg: str, anchor: str) -> list[float]:
    """The numbers of a chart's tick labels with this text-anchor (bar charts: "middle" for the
    value axis; line and column charts: "end" for the y axis)."""
    found = re.findall(
        rf'<text [^>]*font-size="11" text-anchor="{anchor}" fill="{MUTED}"[^>]*>([^<]+)</text>',
        svg,
    )
    values = []
    for text in found:
        scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(text[-1], 1.0)
        try:
            values.append(float(text.rstrip("kMBT")) * scale)
        except ValueError:
            continue
    return values


def bar_widths(svg: str) -> dict[str, float]:
    """Each bar's width by its label (from the bar's tooltip)."""
    return {
        label: float(width)
        for width, label in re.findall(
            r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"[^>]*><title>([^:<]+):', svg
        )
    }


def test_a_bar_chart_starts_at_zero_so_lengths_are_values():
    svg = bar_chart("c", [Bar("a", 0.116, "a"), Bar("b", 0.122, "b")], "USD")
    assert min(ticks(svg, "middle")) == 0
    widths = bar_widths(svg)
    assert widths["b"] / widths["a"] == pytest.approx(0.122 / 0.116, rel=1e-2)


def test_a_line_chart_starts_at_zero():
    """A 5% change is drawn as 5% of the height, not as the whole of it."""
    svg = line_chart("c", [Series("s", [(10.0, 0.116), (20.0, 0.122)])], "x", "y")
    assert min(ticks(svg, "end")) == 0 and max(ticks(svg, "end")) >= 0.122


def test_a_column_chart_starts_at_zero():
    svg = column_chart("c", ["Jan", "Feb"], [Stack("s", [9.0e6, 9.5e6])], "kWh")
    assert min(ticks(svg, "end")) == 0


def test_long_bars_are_cut_with_a_visible_break():
    values = [0.09, 0.1, 0.5, 5.0]
    cut = break_above(values)
    assert cut == 0.5
    svg = bar_chart("c", [Bar(str(v), v, f"${v}") for v in values], "USD", cut_above=cut)
    axis = ticks(svg, "middle")
    assert min(axis) == 0 and max(axis) < 5.0
    assert svg.count('stroke="#ffffff" stroke-width="2.5"') == 2  # one break mark: two strokes
    assert "are cut (break mark)" in svg and "$5.0" in svg
    widths = bar_widths(svg)
    assert widths["0.1"] / widths["0.09"] == pytest.approx(0.1 / 0.09, rel=1e-2)


def test_bars_just_past_the_cut_are_not_cut():
    values = [0.1, 0.9, 1.1]  # cut at 0.9: the axis would end at 1, and 1.1 is within slack
    assert break_above(values, 10) == 0.9
    svg = bar_chart(
        "c", [Bar(str(v), v, str(v)) for v in values], "USD", cut_above=break_above(values, 10)
    )
    assert "break mark" not in svg and max(ticks(svg, "middle")) >= 1.1
