"""The HTML report of a flat plan and of a time-resolved plan, rendered to PNG in headless
Chromium: the pages are drawn (not blank), a time-resolved plan's monthly charts with them.

The screenshots are kept for people to look at: in `$TOKENPLAN_SCREENSHOTS` when it is set,
else in a temporary folder; the test prints where. Each plan has a 1280 × 4000 screenshot and
one of the whole page (`-full.png`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import DATASETS
from PIL import Image

from optimizer.types import PlanDocument
from pipelines.ingest.sources import read_inputs
from pipelines.planning.make_plan import make_plan
from pipelines.planning.sweep import sweep
from pipelines.reports.report import DEMAND_COLOR, html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1280, 4000
FULL_HEIGHT = 12_000
"""The window of the whole-page screenshot (cropped to the page after)."""
BACKGROUND = (0xF3, 0xF4, 0xF6)
"""The page's background (`body` in the report's CSS)."""


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("TOKENPLAN_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("screenshot_data") / "data"
    shutil.copytree(DATASETS, copy)
    return copy


@pytest.fixture(scope="module")
def plans(data: Path) -> dict[str, PlanDocument]:
    stamp = {"created_at": "2026-01-01T00:00:00+00:00"}
    return {
        "flat": make_plan(data) | stamp | {"plan_id": "screenshot-flat"},
        "representative": make_plan(data, time_resolution="representative")
        | stamp
        | {"plan_id": "screenshot-representative"},
    }


@pytest.fixture(scope="module")
def frontier(data: Path, plans: dict[str, PlanDocument]) -> dict:
    """A flat sweep around the plans' budget, for the frontier charts."""
    budget = plans["flat"]["budget_mw"]
    return sweep(read_inputs(data), [budget / 2, budget, budget * 1.5], jobs=1)


def _chromium(binary: str, *arguments: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


def screenshot(binary: str, page: Path, png: Path, height: int, profile: Path) -> Image.Image:
    _chromium(
        binary,
        f"--screenshot={png}",
        f"--window-size={WIDTH},{height}",
        page.as_uri(),
        profile=profile,
    )
    return Image.open(png).convert("RGB")


def page_height(image: Image.Image) -> int:
    """The last row that is not all page background, + 1."""
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    for y in range(height - 1, -1, -1):
        if any(pixels[x, y] != BACKGROUND for x in range(0, width, 4)):
            return y + 1
    return 0


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.fixture(scope="module")
def rendered(
    chromium: str,
    plans: dict[str, PlanDocument],
    frontier: dict,
    screens: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> dict[str, tuple[Image.Image, Image.Image, str]]:
    """Per plan: its 1280 × 4000 screenshot, its whole page, and the DOM Chromium built."""
    work = tmp_path_factory.mktemp("render")
    out = {}
    for name, plan in plans.items():
        page = screens / f"{name}.html"
        page.write_text(html_report(plan, frontier))
        top = screenshot(chromium, page, screens / f"{name}.png", HEIGHT, work / f"{name}-top")
        whole = screenshot(
            chromium, page, work / f"{name}-tall.png", FULL_HEIGHT, work / f"{name}-tall"
        )
        whole = whole.crop((0, 0, WIDTH, min(page_height(whole) + 24, FULL_HEIGHT)))
        whole.save(screens / f"{name}-full.png")
        dom = _chromium(chromium, "--dump-dom", page.as_uri(), profile=work / f"{name}-dom").stdout
        out[name] = (top, whole, dom)
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"report screenshots: {screens}")
    print(f"report screenshots: {screens}")
    return out


def test_screenshots_are_drawn_pages(rendered, screens: Path):
    for name, (top, whole, dom) in rendered.items():
        assert top.size == (WIDTH, HEIGHT)
        assert (screens / f"{name}.png").stat().st_size > 50_000  # a blank page is a few kB
        colours = top.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200  # text, cards and charts in colour
        commonest = max(count for count, _ in colours)
        assert commonest < 0.9 * WIDTH * HEIGHT  # not one colour
        assert 2000 < whole.size[1] < FULL_HEIGHT  # the whole page, and it ends
        assert dom.count("<svg") >= 8 and "Cost per token across grid budgets" in dom


def test_a_time_resolved_page_shows_its_months(rendered, plans: dict[str, PlanDocument]):
    """The monthly section is in the DOM and drawn: the demand-charge columns (amber) cover a
    large area of the time-resolved page, far more than the flat page's few amber bars."""
    top, _, dom = rendered["representative"]
    assert "Month by month" in dom and "Energy and demand charges by month" in dom
    plan = plans["representative"]
    assert f"Build plan: {plan['name']} · {plan['budget_mw']:g} MW · representative year" in dom
    assert "Month by month" not in rendered["flat"][2]
    amber = rgb(DEMAND_COLOR)

    def area(image: Image.Image) -> int:
        return sum(
            count for count, colour in image.getcolors(maxcolors=1 << 20) or [] if colour == amber
        )

    assert area(top) > 3 * area(rendered["flat"][0]) + 5_000
    if plan.get("gain_vs_flat_usd_per_million_tokens"):
        assert "per M tokens this plan gains over the flat year" in dom or "loses against" in dom
