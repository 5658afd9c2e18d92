"""Tariff readers (URDB, flat CSV) and the tariff engine (bills on the reference year)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DATASETS

from optimizer.tariff import Tariff, bill, flat_year_price, reference_year_hours
from pipelines.contract.errors import InputError
from pipelines.contract.schema import (
    TARIFF_DEMAND_RATES,
    TARIFF_ENERGY_RATES,
    TARIFF_SCHEDULES,
    TARIFFS,
)
from pipelines.ingest.readers.tariffs import TariffTables, read_tariff_csv, read_tariffs, read_urdb

TARIFF_DIR = DATASETS / "tariffs"
ENTERGY = "entergy_arkansas_LPS_TOU_industrial_5a592c995457a3371c423a7d.json"
PGE = "pge_E19_secondary_commercial_5cef0a415457a33576f60fe2.json"
PECO = "peco_GS_HT_high_tension_53ac8daa5257a3406ac32a35.json"
HOURS_BEFORE_MARCH = (31 + 28) * 24


def read_real(file: str) -> TariffTables:
    return read_urdb(TARIFF_DIR / file, f"tariffs/{file}")


def entergy_doc() -> dict:
    return json.loads((TARIFF_DIR / ENTERGY).read_text())


def problems_of(tmp_path: Path, doc: object, file: str = "bad.json") -> list:
    path = tmp_path / file
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as error:
        read_urdb(path, f"tariffs/{file}")
    return error.value.problems


def problem_at(problems: list, field: str, file: str = "tariffs/bad.json"):
    """The problem naming `field` of `file`; fails listing all problems when there is none."""
    found = [p for p in problems if p.field == field and p.file == file]
    assert found, f"no problem at {file}: {field} in {[str(p) for p in problems]}"
    assert file in str(found[0]) and field in str(found[0])
    return found[0]


def schedule(periods_by_hour: list[int]) -> list[list[int]]:
    """The same 24-hour period pattern in every month."""
    return [list(periods_by_hour) for _ in range(12)]


def urdb_tariff(tmp_path: Path, **fields) -> Tariff:
    """A tariff from a small URDB document with `fields`."""
    doc = {"label": "t", "name": "test"} | fields
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    return Tariff.from_tables(read_urdb(path, "tariffs/t.json"), "t")


def flat_energy(rate: float) -> dict:
    return {
        "energyratestructure": [[{"rate": rate, "unit": "kWh"}]],
        "energyweekdayschedule": schedule([0] * 24),
        "energyweekendschedule": schedule([0] * 24),
    }


# --- URDB reader on the real documents -------------------------------------------------------


def test_urdb_frames_have_the_canonical_schemas():
    tables = read_real(ENTERGY)
    assert tables.tariffs.schema == TARIFFS.schema
    assert tables.energy_rates.schema == TARIFF_ENERGY_RATES.schema
    assert tables.demand_rates.schema == TARIFF_DEMAND_RATES.schema
    assert tables.schedules.schema == TARIFF_SCHEDULES.schema
    assert set(tables.schedules["source_file"]) == {f"tariffs/{ENTERGY}"}


def test_urdb_entergy_values_match_the_document():
    tables = read_real(ENTERGY)
    tariff = tables.tariffs.row(0, named=True)
    assert tariff["tariff_id"] == "5a592c995457a3371c423a7d"
    assert tariff["utility"] == "Entergy Arkansas Inc (Arkansas)"
    assert tariff["kind"] == "urdb"
    assert tariff["fixed_usd_per_month"] == pytest.approx(468.6)
    assert tariff["fixed_usd_per_day"] == 0
    assert tariff["demand_window_min"] == 15
    assert tariff["source"] == "https://openei.org/apps/USURDB/rate/view/5a592c995457a3371c423a7d"

    energy = tables.energy_rates
    assert energy["period"].to_list() == [0, 1, 2, 3]
    assert energy.row(0, named=True)["rate_usd_per_kwh"] == pytest.approx(0.01973)
    assert energy.row(0, named=True)["adj_usd_per_kwh"] == pytest.approx(0.01882)
    assert energy["max_kwh"].null_count() == 4

    demand = tables.demand_rates
    assert set(demand["kind"]) == {"tou"}
    assert demand.row(0, named=True)["rate_usd_per_kw"] == pytest.approx(18.18)
    assert demand.row(0, named=True)["adj_usd_per_kw"] == pytest.approx(0.707)

    weekday = tables.schedules.filter(schedule="energy", day_type="weekday", month=7).sort("hour")
    assert weekday["period"].to_list() == [1] * 13 + [0] * 7 + [1] * 4
    assert tables.schedules.filter(schedule="demand").height == 2 * 12 * 24


def test_urdb_pge_daily_fixed_charge_and_flat_demand_months():
    tables = read_real(PGE)
    tariff = tables.tariffs.row(0, named=True)
    assert tariff["fixed_usd_per_day"] == pytest.approx(19.71253)
    assert tariff["fixed_usd_per_month"] == 0
    assert tables.energy_rates.height == 5
    assert tables.energy_rates["rate_usd_per_kwh"].to_list() == pytest.approx(
        [0.09593, 0.11253, 0.08837, 0.11883, 0.16484]
    )
    flat_months = tables.schedules.filter(schedule="flat_demand").sort("month")
    assert flat_months["period"].to_list() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]
    assert flat_months["hour"].null_count() == 12
    assert set(flat_months["day_type"]) == {"all"}
    flat = tables.demand_rates.filter(kind="flat")
    assert flat["rate_usd_per_kw"].to_list() == pytest.approx([19.53, 19.53])
    assert tables.demand_rates.filter(kind="tou")["rate_usd_per_kw"].to_list() == pytest.approx(
        [0, 0.13, 5.81, 20.97]
    )


def test_urdb_peco_flat_demand():
    tables = read_real(PECO)
    flat = tables.demand_rates.row(0, named=True)
    assert (flat["kind"], flat["rate_usd_per_kw"], flat["adj_usd_per_kw"]) == (
        "flat",
        pytest.approx(3.55),
        pytest.approx(1.71),
    )
    assert tables.tariffs["fixed_usd_per_month"].item() == pytest.approx(298.92)
    assert tables.energy_rates.row(0, named=True)["adj_usd_per_kwh"] == pytest.approx(0.0684)
    assert tables.schedules.filter(schedule="demand").height == 0


def test_urdb_api_envelope_with_several_items(tmp_path):
    second = entergy_doc() | {"label": "second"}
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"items": [entergy_doc(), second]}))
    tables = read_urdb(path, "tariffs/two.json")
    assert tables.tariffs["tariff_id"].to_list() == ["5a592c995457a3371c423a7d", "second"]


# --- URDB reader: bad documents ----------------------------------------------------------------


def test_schedule_of_23_hours_names_the_month(tmp_path):
    doc = entergy_doc()
    doc["energyweekdayschedule"][3] = doc["energyweekdayschedule"][3][:23]
    problem = problem_at(problems_of(tmp_path, doc), "energyweekdayschedule[3]")
    assert "24" in problem.message and "got 23" in problem.message


def test_period_index_out_of_range(tmp_path):
    doc = entergy_doc()
    doc["energyweekendschedule"][6][10] = 7
    problem = problem_at(problems_of(tmp_path, doc), "energyweekendschedule[6]")
    assert "period 7" in problem.message and "energyratestructure" in problem.message


def test_tiers_out_of_order(tmp_path):
    doc = entergy_doc()
    doc["energyratestructure"][0] = [
        {"max": 1000, "rate": 0.1},
        {"max": 500, "rate": 0.08},
        {"rate": 0.05},
    ]
    problem = problem_at(problems_of(tmp_path, doc), "energyratestructure[0][1].max")
    assert "increase" in problem.message


def test_unbounded_tier_before_the_last(tmp_path):
    doc = entergy_doc()
    doc["demandratestructure"][1] = [{"rate": 5}, {"max": 500, "rate": 3}]
    problem_at(problems_of(tmp_path, doc), "demandratestructure[1][0].max")


def test_missing_label(tmp_path):
    doc = entergy_doc()
    del doc["label"]
    problem_at(problems_of(tmp_path, doc), "label")


def test_unsupported_tier_unit(tmp_path):
    doc = entergy_doc()
    doc["energyratestructure"][2][0]["unit"] = "kWh daily"
    problem = problem_at(problems_of(tmp_path, doc), "energyratestructure[2][0].unit")
    assert "'kWh daily' is not supported" in problem.message


def test_non_numeric_rate(tmp_path):
    doc = entergy_doc()
    doc["energyratestructure"][1][0]["rate"] = "0.1x"
    problem = problem_at(problems_of(tmp_path, doc), "energyratestructure[1][0].rate")
    assert "expected a finite number" in problem.message


def test_no_energy_and_no_demand_structure(tmp_path):
    doc = {"label": "empty", "fixedmonthlycharge": 10}
    problem = problem_at(problems_of(tmp_path, doc), "energyratestructure")
    assert "neither" in problem.message


def test_energy_structure_without_schedules(tmp_path):
    doc = entergy_doc()
    del doc["energyweekdayschedule"], doc["energyweekendschedule"]
    problems = problems_of(tmp_path, doc)
    problem_at(problems, "energyweekdayschedule")
    problem_at(problems, "energyweekendschedule")


def test_flat_demand_month_out_of_range(tmp_path):
    doc = json.loads((TARIFF_DIR / PGE).read_text())
    doc["flatdemandmonths"][7] = 2
    problem_at(problems_of(tmp_path, doc), "flatdemandmonths[7]")


def test_all_problems_of_a_document_reported_together(tmp_path):
    doc = entergy_doc()
    del doc["label"]
    doc["energyweekdayschedule"][0] = doc["energyweekdayschedule"][0][:20]
    doc["demandratestructure"][3][0]["adj"] = "n/a"
    doc["fixedchargeunits"] = "$/fortnight"
    doc["fixedchargefirstmeter"] = 5
    problems = problems_of(tmp_path, doc)
    for field in (
        "label",
        "energyweekdayschedule[0]",
        "demandratestructure[3][0].adj",
        "fixedchargeunits",
    ):
        problem_at(problems, field)


def test_envelope_items_are_prefixed(tmp_path):
    bad = copy.deepcopy(entergy_doc())
    bad["label"] = "other"
    bad["demandweekdayschedule"][2][0] = 9
    problem_at(
        problems_of(tmp_path, {"items": [entergy_doc(), bad]}), "items[1].demandweekdayschedule[2]"
    )


# --- flat CSV tariffs and the tariffs folder ---------------------------------------------------


def test_csv_rows_expand_into_flat_tariffs(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text(
        "tariff_id,energy_usd_per_kwh,demand_usd_per_kw_month,fixed_usd_per_month,source\n"
        "plain,0.07,0,0,EIA\n"
        "with-demand,0.05,12.5,100,utility sheet\n"
    )
    tables = read_tariff_csv(path, "tariffs/flat.csv")
    assert tables.tariffs.schema == TARIFFS.schema
    assert tables.tariffs["tariff_id"].to_list() == ["plain", "with-demand"]
    assert set(tables.tariffs["kind"]) == {"flat"}
    assert tables.tariffs.filter(tariff_id="with-demand")["fixed_usd_per_month"].item() == 100
    assert tables.energy_rates.filter(tariff_id="plain")["rate_usd_per_kwh"].to_list() == [0.07]
    assert tables.demand_rates["tariff_id"].to_list() == ["with-demand"]
    assert tables.demand_rates["kind"].item() == "flat"
    energy = tables.schedules.filter(tariff_id="plain", schedule="energy")
    assert energy.height == 2 * 12 * 24 and set(energy["period"]) == {0}
    assert tables.schedules.filter(tariff_id="plain", schedule="flat_demand").height == 0
    flat_months = tables.schedules.filter(tariff_id="with-demand", schedule="flat_demand")
    assert flat_months["month"].to_list() == list(range(1, 13)) and set(flat_months["period"]) == {
        0
    }

    price = flat_year_price(Tariff.from_tables(tables, "with-demand"), 1000)
    assert price == pytest.approx((0.05, 12.5, 1200))


def test_csv_negative_energy_price(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("tariff_id,energy_usd_per_kwh\nok,0.07\nbad,-0.01\n")
    with pytest.raises(InputError) as error:
        read_tariff_csv(path, "tariffs/flat.csv")
    problem = problem_at(error.value.problems, "energy_usd_per_kwh", file="tariffs/flat.csv")
    assert problem.row == 3


def test_read_tariffs_reads_json_and_csv(tmp_path):
    (tmp_path / "tariffs").mkdir()
    (tmp_path / "tariffs" / PECO).write_text((TARIFF_DIR / PECO).read_text())
    (tmp_path / "tariffs" / "flat.csv").write_text("tariff_id,energy_usd_per_kwh\nflat-a,0.07\n")
    tables = read_tariffs(tmp_path)
    assert tables.tariffs["tariff_id"].to_list() == ["53ac8daa5257a3406ac32a35", "flat-a"]
    assert set(tables.tariffs["source_file"]) == {f"tariffs/{PECO}", "tariffs/flat.csv"}
    assert tables.schedules.schema == TARIFF_SCHEDULES.schema


def test_duplicate_tariff_id_across_files(tmp_path):
    (tmp_path / "tariffs").mkdir()
    (tmp_path / "tariffs" / "a.json").write_text((TARIFF_DIR / ENTERGY).read_text())
    (tmp_path / "tariffs" / "b.json").write_text((TARIFF_DIR / ENTERGY).read_text())
    with pytest.raises(InputError) as error:
        read_tariffs(tmp_path)
    problem = problem_at(error.value.problems, "label", file="tariffs/b.json")
    assert "tariffs/a.json" in problem.message


def test_problems_from_every_file_are_collected(tmp_path):
    (tmp_path / "tariffs").mkdir()
    doc = entergy_doc()
    del doc["label"]
    (tmp_path / "tariffs" / "a.json").write_text(json.dumps(doc))
    (tmp_path / "tariffs" / "b.csv").write_text("tariff_id,energy_usd_per_kwh\nx,abc\n")
    with pytest.raises(InputError) as error:
        read_tariffs(tmp_path)
    assert {p.file for p in error.value.problems} == {"tariffs/a.json", "tariffs/b.csv"}


def test_no_tariff_files(tmp_path):
    with pytest.raises(InputError) as error:
        read_tariffs(tmp_path)
    assert error.value.problems[0].file == "tariffs/"


# --- reference year ----------------------------------------------------------------------------


def test_reference_year_starts_on_monday():
    year = reference_year_hours()
    assert len(year.month) == 8760
    assert np.bincount(year.month)[1:].tolist() == [
        d * 24 for d in (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    ]
    assert not year.weekend[: 5 * 24].any() and year.weekend[5 * 24 : 7 * 24].all()
    assert (
        year.weekend.sum() == 52 * 2 * 24
    )  # 365 days from a Monday: 52 weekends and one extra Monday
    assert year.hour[25] == 1
    assert reference_year_hours(start_weekday=5).weekend[:48].all()


# --- bills -------------------------------------------------------------------------------------


def test_one_period_one_tier_constant_load(tmp_path):
    tariff = urdb_tariff(
        tmp_path,
        energyratestructure=[[{"rate": 0.1, "adj": 0.02}]],
        energyweekdayschedule=schedule([0] * 24),
        energyweekendschedule=schedule([0] * 24),
    )
    result = bill(tariff, np.full(8760, 1000.0))
    assert result.energy_usd == pytest.approx(8760 * 1000 * 0.12)
    assert result.demand_usd == 0 and result.fixed_usd == 0 and result.minimum_usd == 0
    assert result.annual_usd == pytest.approx(result.energy_usd)
    assert result.months[0]["energy_kwh"] == pytest.approx(744_000)


def test_two_tiers_split_at_the_bound(tmp_path):
    tariff = urdb_tariff(
        tmp_path,
        energyratestructure=[[{"max": 100_000, "rate": 0.10}, {"rate": 0.05}]],
        energyweekdayschedule=schedule([0] * 24),
        energyweekendschedule=schedule([0] * 24),
    )
    january = bill(tariff, np.full(8760, 500.0)).months[0]  # 372,000 kWh
    assert january["energy_usd"] == pytest.approx(100_000 * 0.10 + 272_000 * 0.05)


def test_tiers_apply_to_the_month_total_shared_by_period(tmp_path):
    """SAM: bounds on the month's total kWh; each period takes its share of every tier."""
    tariff = urdb_tariff(
        tmp_path,
        energyratestructure=[
            [{"max": 100_000, "rate": 0.10}, {"rate": 0.05}],
            [{"max": 100_000, "rate": 0.20}, {"rate": 0.15}],
        ],
        energyweekdayschedule=schedule([0] * 12 + [1] * 12),
        energyweekendschedule=schedule([0] * 12 + [1] * 12),
    )
    january = bill(tariff, np.full(8760, 500.0)).months[0]  # 372,000 kWh, half in each period
    expected = 0.5 * (100_000 * 0.10 + 272_000 * 0.05) + 0.5 * (100_000 * 0.20 + 272_000 * 0.15)
    assert january["energy_usd"] == pytest.approx(expected)


def test_demand_spike_raises_only_its_month(tmp_path):
    tariff = urdb_tariff(
        tmp_path,
        **flat_energy(0.1),
        flatdemandstructure=[[{"rate": 10}]],
        flatdemandmonths=[0] * 12,
    )
    base = np.full(8760, 1000.0)
    spiked = base.copy()
    spiked[HOURS_BEFORE_MARCH + 100] = 3000.0
    before, after = bill(tariff, base), bill(tariff, spiked)
    demand_rise = [
        a["demand_usd"] - b["demand_usd"] for a, b in zip(after.months, before.months, strict=True)
    ]
    assert demand_rise == pytest.approx([0, 0, 2000 * 10] + [0] * 9)
    assert after.months[2]["peak_kw"] == 3000
    assert after.annual_usd - before.annual_usd == pytest.approx(2000 * 10 + 2000 * 0.1)


def test_daily_fixed_charge_by_days_in_month(tmp_path):
    tariff = urdb_tariff(
        tmp_path, **flat_energy(0.1), fixedchargefirstmeter=2.5, fixedchargeunits="$/day"
    )
    result = bill(tariff, np.full(8760, 10.0))
    assert result.months[0]["fixed_usd"] == pytest.approx(31 * 2.5)
    assert result.months[1]["fixed_usd"] == pytest.approx(28 * 2.5)
    assert result.fixed_usd == pytest.approx(365 * 2.5)


def test_yearly_fixed_charge_is_per_month_over_twelve(tmp_path):
    tariff = urdb_tariff(
        tmp_path, **flat_energy(0.1), fixedchargefirstmeter=1200, fixedchargeunits="$/year"
    )
    assert tariff.fixed_usd_per_month == pytest.approx(100)


def test_tou_demand_peaks_per_period(tmp_path):
    # Weekday 12:00-17:59 is period 1 ($15/kW); every other hour is period 0 ($5/kW).
    tariff = urdb_tariff(
        tmp_path,
        **flat_energy(0.0),
        demandratestructure=[[{"rate": 5}], [{"rate": 15}]],
        demandweekdayschedule=schedule([0] * 12 + [1] * 6 + [0] * 6),
        demandweekendschedule=schedule([0] * 24),
    )
    load = np.full(8760, 1000.0)
    load[14] = 2000.0  # Monday 1 January 14:00: period 1
    load[5 * 24 + 14] = 4000.0  # Saturday 6 January 14:00: a weekend hour, period 0
    result = bill(tariff, load)
    assert result.months[0]["demand_usd"] == pytest.approx(4000 * 5 + 2000 * 15)
    assert result.months[1]["demand_usd"] == pytest.approx(1000 * 5 + 1000 * 15)


def test_minimum_charge_tops_up_the_month(tmp_path):
    tariff = urdb_tariff(
        tmp_path, **flat_energy(0.1), fixedmonthlycharge=100, minmonthlycharge=1000
    )
    result = bill(tariff, np.full(8760, 1.0))
    january = result.months[0]
    assert january["minimum_usd"] == pytest.approx(1000 - 100 - 744 * 0.1)
    assert january["total_usd"] == pytest.approx(1000)
    assert result.annual_usd == pytest.approx(12 * 1000)
    assert bill(tariff, np.full(8760, 100.0)).minimum_usd == 0


def test_bill_refuses_a_wrong_length_load(tmp_path):
    tariff = urdb_tariff(tmp_path, **flat_energy(0.1))
    with pytest.raises(ValueError, match="8760"):
        bill(tariff, np.ones(8784))


def test_flat_year_prices_of_the_bundled_tariffs():
    """At a constant 20 MW: Entergy demand = mean over months of its TOU periods' rates + adj."""
    entergy = Tariff.from_tables(read_real(ENTERGY), "5a592c995457a3371c423a7d")
    energy, demand, fixed = flat_year_price(entergy, 20_000)
    summer, winter = 18.18 + 5.33 + 2 * 0.707, 15.31 + 4.63 + 2 * 0.707
    assert demand == pytest.approx((4 * summer + 8 * winter) / 12)
    assert fixed == pytest.approx(12 * 468.6)
    assert 0.0093 + 0.01882 < energy < 0.01973 + 0.01882

    pge = Tariff.from_tables(read_real(PGE), "5cef0a415457a33576f60fe2")
    _, demand, fixed = flat_year_price(pge, 20_000)
    assert demand == pytest.approx(19.53 + (6 * 0.13 + 6 * (5.81 + 20.97)) / 12)
    assert fixed == pytest.approx(365 * 19.71253)

    peco = Tariff.from_tables(read_real(PECO), "53ac8daa5257a3406ac32a35")
    assert flat_year_price(peco, 20_000) == pytest.approx(
        (0.0015 + 0.0684, 3.55 + 1.71, 12 * 298.92)
    )
