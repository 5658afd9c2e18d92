"""What the terminal shows: one number format per kind of quantity, columns of numbers aligned
on their decimal points, rich tables that fit the terminal, and plain text (no escape codes)
wherever stdout is not a terminal."""

from __future__ import annotations

import io
import json
import re

import pytest
from conftest import REPO

from pipelines.cli.console import emit, renderables, terminal_console
from pipelines.reports.text import (
    NUMBER,
    STATUS,
    TEXT,
    Table,
    align_decimals,
    amount_text,
    count_text,
    gpus_column,
    gpus_text,
    mw_text,
    percent_text,
    plan_parts,
    plan_text,
    plan_title,
    ratio_text,
    render_text,
    sweep_parts,
    sweep_rows,
    table_text,
    tokens_text,
    usd_cents_text,
    usd_per_mtok_column,
    usd_per_mtok_text,
    usd_text,
)

ANSI = re.compile(r"\x1b\[")
OLD_PLAN = REPO / "tests" / "reports" / "old_plan.json"
GOLDEN = REPO / "tests" / "golden" / "bundled-flat.json"


@pytest.mark.parametrize(
    "value, text",
    [
        (1.05e9, "$1.05B"),
        (99.07e6, "$99.07M"),
        (700_980.0, "$700.98k"),
        (512.3, "$512.30"),
        (-3.1e6, "-$3.10M"),
        (5.625, "$5.625"),
        (None, "-"),
    ],
)
def test_usd_amounts(value, text):
    assert usd_text(value) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (0.09225920114, "$0.09226"),
        (0.585505, "$0.5855"),
        (1.52914, "$1.529"),
        (12.3456, "$12.35"),
        (1234.5, "$1,234"),
        (0.0000001234, "$0.000000"),  # at most six decimals: a millionth of a dollar
        (None, "-"),
    ],
)
def test_cost_per_million_tokens_has_four_significant_digits(value, text):
    assert usd_per_mtok_text(value) == text


def test_a_column_of_costs_has_one_number_of_decimals_and_lines_up():
    column = usd_per_mtok_column([0.585505, 0.09225920114, None, 2.16173])
    assert column == ["$0.58551", "$0.09226", "-", "$2.16173"]
    aligned = align_decimals(column)
    assert len({len(cell) for cell in aligned}) == 1
    assert len({cell.index(".") for cell in aligned if cell.strip() != "-"}) == 1


def test_decimal_points_line_up_in_a_mixed_column():
    aligned = align_decimals(["$1.00B", "$900.00M", "$5.62k", "-", "1,074T", "107.4T"])
    points = [cell.index(".") for cell in aligned if "." in cell]
    assert len(set(points)) == 1
    assert aligned[4].rstrip().endswith("1,074T") and aligned[3].strip() == "-"
    assert align_decimals(["+1.2T (+3.00%)", "-"]) == ["+1.2T (+3.00%)", "-"]  # not one number


@pytest.mark.parametrize(
    "function, value, text",
    [
        (ratio_text, 6.3512, "6.35x"),
        (percent_text, 0.96, "96.0%"),
        (amount_text, 0.07523, "0.0752"),
        (amount_text, 0.1, "0.100"),
        (amount_text, 4.567, "4.57"),
        (amount_text, 12_345.6, "12,346"),
        (tokens_text, 1.0738e15, "1,074T"),
        (tokens_text, 1.0738e14, "107.4T"),
        (tokens_text, 5.2e11, "520.0B"),
        (tokens_text, -8.59e13, "-85.90T"),
        (tokens_text, 950.0, "950.0"),
        (gpus_text, 2751.999999999997, "2,752"),
        (gpus_text, 765.94, "765.9"),
        (mw_text, 20.0, "20 MW"),
        (mw_text, 11.4712, "11.47 MW"),
        (mw_text, 0.5, "0.5 MW"),
        (usd_cents_text, 10_750_810.0, "$10,750,810.00"),
    ],
)
def test_one_format_per_kind(function, value, text):
    assert function(value) == text


def test_counts_are_plural_unless_one():
    assert count_text(12_696, "row") == "12,696 rows"
    assert count_text(1, "row") == "1 row"
    assert count_text(0, "plan") == "0 plans"


def test_gpus_are_whole_down_a_column_when_every_one_is():
    assert gpus_column([3600.0000000001, 800.0]) == ["3,600", "800"]
    assert gpus_column([2357.2, 2.0]) == ["2,357.2", "2.0"]


def test_a_plain_table_right_aligns_numbers_on_their_decimal_points():
    text = table_text(
        ["system", "cost per M tokens"],
        [["A", "$0.5855"], ["B", "$0.09226"], ["C", "-"]],
        markdown=False,
        kinds=(TEXT, NUMBER),
    )
    lines = text.splitlines()
    points = {line.index(".") for line in lines[2:4]}
    assert len(points) == 1, text
    assert lines[4].endswith("-") and len(lines[4]) == max(len(line) for line in lines)


def old_plan() -> dict:
    plan = json.loads(OLD_PLAN.read_text())
    plan["solver"].pop("seconds", None)
    return plan


def test_the_title_names_the_budget_planned_and_the_time_resolution():
    plan = json.loads(GOLDEN.read_text())
    assert plan_title(plan) == f"Build plan: {plan['name']} · 20 MW · cost-per-token · flat year"
    plan |= {"budget_mw": 35.5, "time_resolution": "representative"}
    assert plan_title(plan).endswith("· 35.5 MW · cost-per-token · representative year")
    first = plan_text(old_plan()).splitlines()[0]  # a plan made before time resolutions
    assert first.endswith("· flat year · status optimal")


def test_a_plan_from_before_levers_renders_plain_markdown_and_rich():
    plan = old_plan()
    plain = plan_text(plan)
    assert "Fleet" in plain and "What each lever is worth" not in plain
    assert plan_text(plan, markdown=True).startswith("## Build plan: ")
    buffer = io.StringIO()
    console = terminal_console(buffer, width=100)
    for renderable in renderables(plan_parts(plan), 100):
        console.print(renderable)
    assert "Annual cost" in buffer.getvalue()


def rich_text(parts, width: int, color: bool = False) -> str:
    """The parts as a terminal `width` wide shows them."""
    buffer = io.StringIO()
    from rich.console import Console

    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
    )
    for renderable in renderables(parts, width):
        console.print(renderable)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_a_rich_plan_fits_the_terminal_and_keeps_every_number_whole(width):
    plan = json.loads(GOLDEN.read_text())
    text = rich_text(plan_parts(plan), width)
    assert max(len(line) for line in text.splitlines()) <= width
    for row in plan["alternatives"]:
        if row["cost_per_million_tokens_usd"] is not None:
            assert f"{row['cost_per_million_tokens_usd']:.5f}" in text  # never cut or wrapped
            assert f"{row['advantage_ratio']:.2f}x" in text


def test_a_wide_sweep_table_fits_the_terminal():
    rows = [
        {
            "budget_mw": budget,
            "status": "optimal",
            "reason": None,
            "cost_per_million_tokens_usd": 0.0922 + budget / 1e4,
            "tokens_per_s_per_mw": 4_240_080.0,
            "tokens_per_year": 1.07e15,
            "grid_power_mw": budget * 0.57,
            "marginal_tokens_per_year": 1.07e14,
            "marginal_cost_per_million_tokens_usd": -0.00034,
            "marginal_usd_per_million_extra_tokens": 0.0891,
            "marginal_budget_mw": budget + 1,
            "design": "power ac415: GB300 NVL72 × dlc 44, HGX B200 8-GPU × air 54, "
            "HGX B200 8-GPU × dlc 34",
        }
        for budget in (10.0, 20.0)
    ]
    assert [row[:2] for row in sweep_rows({"rows": rows})] == [
        ["10", "$0.09320"],
        ["20", "$0.09420"],
    ]
    plain = render_text(sweep_parts({"rows": rows}))
    assert max(len(line) for line in plain.splitlines()) > 200  # a pipe gets whole rows
    for width in (80, 120):
        text = rich_text(sweep_parts({"rows": rows}), width)
        assert max(len(line) for line in text.splitlines()) <= width
        assert "$0.09320" in text and "$0.09420" in text


def test_colour_only_marks_a_status_that_is_not_optimal():
    table = Table(
        ["system", "cost", "status"],
        [["A", "$0.10", "optimal"], ["B", "-", "infeasible: no point meets the SLO"]],
        (TEXT, NUMBER, STATUS),
    )
    text = rich_text([table], 100, color=True)
    [optimal] = [line for line in text.splitlines() if line.startswith("A")]
    [infeasible] = [line for line in text.splitlines() if line.startswith("B")]
    assert not ANSI.search(optimal)
    assert "\x1b[31minfeasible" in infeasible  # red


def test_not_a_terminal_gets_plain_text_without_escape_codes():
    plan = json.loads(GOLDEN.read_text())
    stream = io.StringIO()
    emit(plan_parts(plan), stream)
    assert stream.getvalue() == plan_text(plan)
    assert not ANSI.search(stream.getvalue())


def test_the_cli_prints_no_escape_codes_to_a_captured_stdout(tmp_path, capsys):
    from pipelines.cli.main import main

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(GOLDEN.read_text())
    assert main(["plans", "--warehouse", str(tmp_path)]) == 0
    assert main(["diff", str(plan_file), str(plan_file), "--warehouse", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert not ANSI.search(captured.out) and not ANSI.search(captured.err)
