"""`tokenplan bill`: a year of hourly load billed under a tariff file or a tariff id.

The bills themselves are checked by hand in tests/optimizer/test_tariffs.py and against
NREL SAM in tests/optimizer/test_sam_peer.py; here the command: its inputs, its two outputs,
and bad load files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DATASETS

from optimizer.tariff import Tariff, bill
from pipelines.cli.main import main
from pipelines.ingest.readers.tariffs import read_urdb

ENTERGY_ID = "5a592c995457a3371c423a7d"
ENTERGY = DATASETS / "tariffs" / f"entergy_arkansas_LPS_TOU_industrial_{ENTERGY_ID}.json"
BILL_FIELDS = {"annual_usd", "energy_usd", "demand_usd", "fixed_usd", "months"}
MONTH_FIELDS = {
    "month",
    "energy_kwh",
    "peak_kw",
    "energy_usd",
    "demand_usd",
    "fixed_usd",
    "minimum_usd",
    "total_usd",
}


def bill_json(capsys, *args: str) -> dict:
    assert main(["bill", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def write_load(path: Path, values, header: str | None = None) -> Path:
    lines = ([header] if header else []) + [str(v) for v in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_constant_load_under_a_flat_csv_tariff_by_hand(tmp_path, capsys):
    tariff = tmp_path / "flat.csv"
    tariff.write_text(
        "tariff_id,energy_usd_per_kwh,demand_usd_per_kw_month,fixed_usd_per_month\nplain,0.1,10,100\n"
    )
    result = bill_json(capsys, "--tariff", str(tariff), "--load", "1000")
    assert result["energy_usd"] == pytest.approx(8760 * 1000 * 0.1)
    assert result["demand_usd"] == pytest.approx(12 * 1000 * 10)
    assert result["fixed_usd"] == pytest.approx(12 * 100)
    assert result["annual_usd"] == pytest.approx(876_000 + 120_000 + 1_200)
    assert [m["month"] for m in result["months"]] == list(range(1, 13))
    assert result["months"][1]["energy_kwh"] == pytest.approx(28 * 24 * 1000)


def test_json_fields_match_the_tariff_engine(capsys):
    result = bill_json(capsys, "--tariff", str(ENTERGY), "--load", "20000")
    assert BILL_FIELDS <= set(result)
    assert all(set(m) == MONTH_FIELDS for m in result["months"])
    expected = bill(
        Tariff.from_tables(read_urdb(ENTERGY, "entergy"), ENTERGY_ID), np.full(8760, 20_000.0)
    )
    assert result["annual_usd"] == pytest.approx(expected.annual_usd)
    assert result["demand_usd"] == pytest.approx(expected.demand_usd)
    assert sum(m["total_usd"] for m in result["months"]) == pytest.approx(result["annual_usd"])


def test_csv_load_by_tariff_id_of_the_data_folder(tmp_path, capsys):
    """A load high on weekday afternoons costs Entergy's on-peak energy and demand only in
    summer."""
    hours = np.arange(8760)
    load = np.where((hours % 24 >= 13) & (hours % 24 < 20), 3000.0, 1000.0)
    path = write_load(tmp_path / "load.csv", load)
    result = bill_json(capsys, "--tariff", ENTERGY_ID, "--load", str(path), "--data", str(DATASETS))
    expected = bill(Tariff.from_tables(read_urdb(ENTERGY, "entergy"), ENTERGY_ID), load)
    assert result["annual_usd"] == pytest.approx(expected.annual_usd)
    assert [m["peak_kw"] for m in result["months"]] == [3000.0] * 12
    with_header = write_load(
        tmp_path / "header.csv", [f"{h},{kw}" for h, kw in enumerate(load)], "hour,load_kw"
    )
    assert bill_json(capsys, "--tariff", ENTERGY_ID, "--load", str(with_header))[
        "annual_usd"
    ] == pytest.approx(expected.annual_usd)


def test_text_output_has_the_annual_bill_and_twelve_months(capsys):
    assert main(["bill", "--tariff", ENTERGY_ID, "--load", "20000"]) == 0
    out = capsys.readouterr().out
    assert "annual bill" in out and "$10,750,810.00" in out
    month_lines = [line for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
    assert [int(line.split()[0]) for line in month_lines] == list(range(1, 13))


@pytest.mark.parametrize(
    ("values", "row", "message"),
    [
        (["100"] * 41 + ["abc"] + ["100"] * 8718, 42, "expected a number of kW, got 'abc'"),
        (["100"] * 99 + ["-5"] + ["100"] * 8660, 100, "negative"),
        (["100"] * 8000, 8000, "only 8000 hourly values, expected 8760"),
        (["100"] * 8761, 8761, "8761 hourly values, expected 8760"),
        (["100"] * 9 + [""] + ["100"] * 8750, 10, "missing value"),
    ],
)
def test_bad_load_csv_exits_2_naming_file_and_row(tmp_path, capsys, values, row, message):
    path = write_load(tmp_path / "bad_load.csv", values)
    assert main(["bill", "--tariff", ENTERGY_ID, "--load", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{row}: " in err and message in err


def test_unknown_tariff_and_missing_load_exit_2(tmp_path, capsys):
    assert main(["bill", "--tariff", "no-such-tariff", "--load", "10"]) == 2
    assert "'no-such-tariff' is neither a file nor a tariff id" in capsys.readouterr().err
    assert main(["bill", "--tariff", ENTERGY_ID, "--load", str(tmp_path / "missing.csv")]) == 2
    assert "load file not found" in capsys.readouterr().err
    assert main(["bill", "--tariff", ENTERGY_ID, "--load", "-3"]) == 2
    assert "finite kW >= 0" in capsys.readouterr().err
