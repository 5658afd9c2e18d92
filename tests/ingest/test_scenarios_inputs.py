"""Scenarios of a multi-year plan: `scenarios/*.yaml`, overlays on scenario.yaml read into plain
records and applied to the plan inputs (fields through the scenario's checks, then the capex,
throughput and energy price multipliers); every bad one refused with one problem naming its
file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from optimizer.design import plan_inputs
from pipelines.cli.main import main
from pipelines.contract.errors import InputError
from pipelines.ingest.readers.scenarios import Overlay, read_scenarios, table_overlays
from pipelines.ingest.sources import read_inputs
from pipelines.planning.scenarios import scenario_cases

SCENARIO_FILE = "scenario.yaml"
HORIZON = {
    "start_year": 2026,
    "years": 3,
    "budget_mw": [20, 20, 40],
    "demand_tokens_per_s": [30.0e6, 40.0e6, 50.0e6],
}
GB300, GB200, GB200_RENTAL = "GB300 NVL72", "GB200 NVL72", "GB200 NVL72 3-yr rental"


@pytest.fixture
def folder(data: Path) -> Path:
    """The bundled data with a three-year horizon of its own and an empty scenarios/ folder."""
    document = yaml.safe_load((data / SCENARIO_FILE).read_text())
    document["horizon"] = dict(HORIZON)
    (data / SCENARIO_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
    (data / "scenarios").mkdir(exist_ok=True)
    for old in (data / "scenarios").glob("*"):
        old.unlink()
    return data


def write(folder: Path, stem: str, text: str) -> None:
    (folder / "scenarios" / f"{stem}.yaml").write_text(text)


def cases_of(folder: Path) -> dict:
    return {name: (p, inputs) for name, p, inputs in scenario_cases(read_inputs(folder))}


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InputError) as error:
        read_scenarios(folder, read_inputs(folder))
    return [str(p) for p in error.value.problems]


# --- read and applied ------------------------------------------------------------------------


def test_overlays_are_read_in_file_order_named_by_their_stem_unless_named(folder: Path):
    write(folder, "b-high", "probability: 0.25\nname: high demand\nwacc: 0.1\n")
    write(folder, "a-base", "probability: 0.75\n")
    overlays = read_scenarios(folder, read_inputs(folder))
    assert overlays == [
        Overlay(file="scenarios/a-base.yaml", name="a-base", probability=0.75),
        Overlay(
            file="scenarios/b-high.yaml",
            name="high demand",
            probability=0.25,
            fields={"wacc": 0.1},
        ),
    ]


def test_without_the_folder_there_are_no_scenarios_and_cases_are_bad_input(folder: Path):
    (folder / "scenarios").rmdir()
    assert read_scenarios(folder, read_inputs(folder)) == []
    with pytest.raises(InputError) as error:
        scenario_cases(read_inputs(folder))
    assert [p.file for p in error.value.problems] == ["scenarios/"]
    assert "no scenario files" in str(error.value)


def test_an_empty_overlay_is_the_scenario(folder: Path):
    write(folder, "base", "probability: 1\n")
    ((_, inputs),) = cases_of(folder).values()
    assert inputs == plan_inputs(read_inputs(folder))


def test_a_capex_multiplier_scales_the_price_of_its_systems_a_sku_before_its_accelerator(
    folder: Path,
):
    write(folder, "base", "probability: 0.5\n")
    write(
        folder,
        "dear",
        "probability: 0.5\ncapex_multipliers: {GB300: 1.2, gb200: 2, GB200 NVL72: 0.5}\n",
    )
    cases = cases_of(folder)
    base = {s.sku: s for s in cases["base"][1].systems}
    dear = {s.sku: s for s in cases["dear"][1].systems}
    assert dear[GB300].node_capex_usd == pytest.approx(1.2 * base[GB300].node_capex_usd)
    assert dear[GB200].node_capex_usd == pytest.approx(0.5 * base[GB200].node_capex_usd)
    rental = base[GB200_RENTAL].rental_usd_per_gpu_hour
    assert dear[GB200_RENTAL].rental_usd_per_gpu_hour == pytest.approx(2 * rental)
    others = set(base) - {GB300, GB200, GB200_RENTAL}
    assert others and all(dear[sku] == base[sku] for sku in others)


def test_a_throughput_multiplier_scales_the_operating_points_of_its_systems(folder: Path):
    write(folder, "base", "probability: 0.5\n")
    write(folder, "slow", "probability: 0.5\nthroughput_multipliers: {GB300 NVL72: 0.8}\n")
    cases = cases_of(folder)
    base, slow = cases["base"][1].operating_points, cases["slow"][1].operating_points
    assert len(base) == len(slow) and any(p.sku == GB300 for p in base)
    for before, after in zip(base, slow, strict=True):
        factor = 0.8 if before.sku == GB300 else 1.0
        assert after.tokens_per_s_per_gpu == pytest.approx(factor * before.tokens_per_s_per_gpu)


def test_an_energy_multiplier_scales_the_energy_price_not_the_demand_charges(folder: Path):
    write(folder, "base", "probability: 0.5\n")
    write(folder, "dear", "probability: 0.5\nenergy_price_multiplier: 1.5\n")
    cases = cases_of(folder)
    base, dear = cases["base"][1], cases["dear"][1]
    assert dear.energy.energy_usd_per_kwh == pytest.approx(1.5 * base.energy.energy_usd_per_kwh)
    assert dear.energy.demand_usd_per_kw_month == base.energy.demand_usd_per_kw_month
    assert base.tariff_slices is not None and dear.tariff_slices is not None
    assert dear.tariff_slices.energy_usd_per_kwh == pytest.approx(
        [1.5 * v for v in base.tariff_slices.energy_usd_per_kwh]
    )
    assert dear.tariff_slices.demand_usd_per_kw == base.tariff_slices.demand_usd_per_kw


def test_field_and_horizon_overrides_change_the_finance_and_the_horizon(folder: Path):
    write(folder, "base", "probability: 0.5\n")
    write(
        folder,
        "later",
        "probability: 0.5\nwacc: 0.12\nutilization: 0.6\n"
        "horizon:\n  demand_tokens_per_s: [20.0e6, 60.0e6, 90.0e6]\n  budget_mw: 30\n"
        "  energy_price_escalation_pct_per_year: 4\n",
    )
    cases = cases_of(folder)
    base, later = cases["base"][1], cases["later"][1]
    assert base.horizon is not None and later.horizon is not None
    assert base.horizon.demand_tokens_per_s == (30.0e6, 40.0e6, 50.0e6)
    assert later.horizon.demand_tokens_per_s == (20.0e6, 60.0e6, 90.0e6)
    assert later.horizon.budget_mw == (30.0, 30.0, 30.0)  # one number for every year
    assert later.horizon.energy_escalation_pct_per_year == 4.0
    assert (later.horizon.start_year, later.horizon.years) == (2026, 3)
    assert later.finance.wacc == 0.12 and later.finance.utilization == 0.6
    assert base.finance.wacc == plan_inputs(read_inputs(folder)).finance.wacc


def test_a_tariff_override_prices_energy_with_that_tariff(folder: Path):
    write(folder, "base", "probability: 0.5\n")
    write(folder, "eia", "probability: 0.5\ntariff: eia-2024-arkansas\n")
    cases = cases_of(folder)
    assert cases["eia"][1].energy.tariff_id == "eia-2024-arkansas"
    assert cases["eia"][1].energy.energy_usd_per_kwh != cases["base"][1].energy.energy_usd_per_kwh


# --- bad input ---------------------------------------------------------------------------------

BAD = {
    "probability missing": ("wacc: 0.1\n", "probability: missing value"),
    "probability zero": ("probability: 0\n", "probability: 0 is out of range (must be > 0"),
    "probability above 1": ("probability: 1.5\n", "probability: 1.5 is out of range"),
    "probability text": ("probability: likely\n", "probability: expected a number > 0"),
    "probability true": ("probability: true\n", "probability: expected a number > 0"),
    "unknown field": ("probability: 1\nwac: 0.1\n", "wac: unknown field (known: name, "),
    "workloads": ("probability: 1\nworkloads: []\n", "workloads: unknown field"),
    "own name of the site": ("probability: 1\nhorizon_years: 4\n", "horizon_years: unknown field"),
    "empty name": ("probability: 1\nname: ''\n", "name: expected a scenario name"),
    "name with a slash": ("probability: 1\nname: a/b\n", "name: expected a scenario name"),
    "name with a comma": ("probability: 1\nname: 'a, b'\n", "name: expected a scenario name"),
    "wacc out of range": ("probability: 1\nwacc: 2\n", "wacc: 2 is out of range (must be >= 0"),
    "wacc a list": ("probability: 1\nwacc: [0.1]\n", "wacc: expected a single value"),
    "utilization text": (
        "probability: 1\nutilization: high\n",
        "utilization: expected a finite number, got 'high'",
    ),
    "availability zero": ("probability: 1\navailability: 0\n", "availability: 0 is out of range"),
    "tariff unknown": (
        "probability: 1\ntariff: nope\n",
        "tariff: tariff 'nope' is not in tariffs/",
    ),
    "budget beside a horizon budget": (
        "probability: 1\nbudget_mw: 30\n",
        "budget_mw: scenario.yaml's horizon gives budget_mw per year",
    ),
    "capex multiplier negative": (
        "probability: 1\ncapex_multipliers: {GB300: -1}\n",
        "capex_multipliers.GB300: -1 is out of range (must be > 0 and <= 100",
    ),
    "capex multiplier text": (
        "probability: 1\ncapex_multipliers: {GB300: dear}\n",
        "capex_multipliers.GB300: expected a number > 0 and <= 100, got 'dear'",
    ),
    "capex multiplier unknown name": (
        "probability: 1\ncapex_multipliers: {TPU-v9: 1.1}\n",
        "capex_multipliers.TPU-v9: 'TPU-v9' is neither a sku nor an accelerator of hardware/",
    ),
    "capex multipliers not a mapping": (
        "probability: 1\ncapex_multipliers: 1.2\n",
        "capex_multipliers: expected a mapping of skus or accelerators to factors",
    ),
    "throughput multiplier huge": (
        "probability: 1\nthroughput_multipliers: {HGX H100 8-GPU: 1000}\n",
        "throughput_multipliers.HGX H100 8-GPU: 1000 is out of range",
    ),
    "energy multiplier zero": (
        "probability: 1\nenergy_price_multiplier: 0\n",
        "energy_price_multiplier: 0 is out of range",
    ),
    "horizon years": (
        "probability: 1\nhorizon: {years: 4}\n",
        "horizon.years: the horizon's years are scenario.yaml's",
    ),
    "horizon unknown field": ("probability: 1\nhorizon: {demand: 1}\n", "horizon.demand: unknown"),
    "horizon not a mapping": ("probability: 1\nhorizon: 5\n", "horizon: expected a mapping"),
    "horizon list too short": (
        "probability: 1\nhorizon: {demand_tokens_per_s: [1.0e6, 2.0e6]}\n",
        "horizon.demand_tokens_per_s: has 2 values, horizon.years is 3",
    ),
    "horizon budget out of range": (
        "probability: 1\nhorizon: {budget_mw: [20, 0, 40]}\n",
        "horizon.budget_mw: 0 is out of range (must be > 0",
    ),
    "horizon escalation out of range": (
        "probability: 1\nhorizon: {energy_price_escalation_pct_per_year: 500}\n",
        "horizon.energy_price_escalation_pct_per_year: 500 is out of range",
    ),
    "horizon demand not numbers": (
        "probability: 1\nhorizon: {demand_tokens_per_s: {a: 1}}\n",
        "horizon.demand_tokens_per_s: expected a number or a list of numbers",
    ),
    "not a mapping": ("- probability: 1\n", "expected a mapping of scenario fields"),
    "not YAML": ("probability: [1\n", ""),
}


@pytest.mark.parametrize("text, expected", BAD.values(), ids=BAD.keys())
def test_a_bad_overlay_is_one_problem_naming_its_file_and_field(
    folder: Path, text: str, expected: str
):
    write(folder, "high-demand", text)
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    assert problems[0].startswith("scenarios/high-demand.yaml")
    assert expected in problems[0]


def test_a_horizon_override_needs_a_horizon_in_the_scenario(folder: Path):
    document = yaml.safe_load((folder / SCENARIO_FILE).read_text())
    del document["horizon"]
    (folder / SCENARIO_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
    (folder / "fleet.csv").unlink(missing_ok=True)  # a fleet needs a horizon
    write(folder, "x", "probability: 1\nhorizon: {demand_tokens_per_s: 1.0e6}\n")
    assert problems_of(folder) == [
        "scenarios/x.yaml: horizon: a horizon override needs a horizon in scenario.yaml "
        "(horizon: start_year, years)"
    ]


def test_probabilities_must_sum_to_one(folder: Path):
    write(folder, "a", "probability: 0.5\n")
    write(folder, "b", "probability: 0.3\n")
    assert problems_of(folder) == [
        "scenarios/: probability: probabilities sum to 0.8, not 1 (a 0.5, b 0.3)"
    ]


def test_probabilities_summing_to_one_within_the_tolerance_are_accepted(folder: Path):
    write(folder, "a", "probability: 0.3333333\n")
    write(folder, "b", "probability: 0.3333333\n")
    write(folder, "c", "probability: 0.3333334\n")
    assert [o.name for o in read_scenarios(folder, read_inputs(folder))] == ["a", "b", "c"]


def test_names_are_unique(folder: Path):
    write(folder, "a", "probability: 0.5\nname: same\n")
    write(folder, "b", "probability: 0.5\nname: same\n")
    assert problems_of(folder) == [
        "scenarios/b.yaml: name: scenario name 'same' is also that of scenarios/a.yaml: names "
        "are unique"
    ]


def test_every_file_s_problems_are_listed_together(folder: Path):
    write(folder, "a", "probability: 2\n")
    write(folder, "b", "probability: 1\nwacc: -1\ncapex_multipliers: {GB300: 0}\n")
    problems = problems_of(folder)
    assert [p.split(":")[0] for p in problems] == ["scenarios/a.yaml"] + ["scenarios/b.yaml"] * 2


def test_the_cli_refuses_a_bad_scenario_with_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str]
):
    write(folder, "high-demand", "probability: 1\ncapex_multipliers: {GB300: -1}\n")
    assert main(["horizon", "--robust", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "scenarios/high-demand.yaml: capex_multipliers.GB300: -1 is out of range" in err


def test_validate_and_ingest_read_the_scenarios(folder: Path, capsys):
    write(folder, "a", "probability: 0.5\nenergy_price_multiplier: 1.5\n")
    write(folder, "b", "probability: 0.5\ncapex_multipliers: {GB300: 1.2}\n")
    assert main(["validate", "--data", str(folder)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("scenarios")]
    assert line.split()[1:3] == ["2", "rows"]
    table = read_inputs(folder)["scenarios"]
    assert table["name"].to_list() == ["a", "b"]
    assert table["source_file"].to_list() == ["scenarios/a.yaml", "scenarios/b.yaml"]
    assert table_overlays(table) == read_scenarios(folder, read_inputs(folder))  # all of it
    write(folder, "b", "probability: 0.5\ncapex_multipliers: {GB300: -1}\n")
    assert main(["validate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "scenarios/b.yaml: capex_multipliers.GB300: -1 is out of range" in err
    assert "Traceback" not in err
