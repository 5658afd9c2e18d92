"""Tariffs: OpenEI URDB documents and simple flat CSV tariffs into the canonical tables.

Both formats become the same four tables (`TARIFFS`, `TARIFF_ENERGY_RATES`,
`TARIFF_DEMAND_RATES`, `TARIFF_SCHEDULES`), so the tariff engine reads one shape.

URDB fields read (https://openei.org/services/doc/rest/util_rates):

| URDB field | canonical |
|---|---|
| `label`, `name`, `utility`, `uri` (else `source`) | tariffs row |
| `energyratestructure[p][t]` {rate, adj, max, unit} | energy rates, `max`: upper bound, kWh/month |
| `energyweekdayschedule`, `energyweekendschedule` (12 x 24) | schedules `energy` |
| `demandratestructure[p][t]` {rate, adj, max} | demand rates `tou`, `max` in kW |
| `demandweekdayschedule`, `demandweekendschedule` (12 x 24) | schedules `demand` |
| `flatdemandstructure[p][t]` | demand rates `flat` |
| `flatdemandmonths` (12) | schedules `flat_demand` |
| `fixedchargefirstmeter` + `fixedchargeunits` ($/month, $/day, $/year) | fixed charges |
| `fixedmonthlycharge` ($/month), when `fixedchargefirstmeter` is absent | fixed charges |
| `minmonthlycharge`; `mincharge` + `minchargeunits` | minimum monthly charge |
| `demandwindow` | demand averaging window, minutes |

Not read: coincident demand (`coincidentratestructure`), demand ratchets, sell rates,
additional-meter charges; energy tier units other than monthly kWh are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from optimizer.tariff import TariffTables
from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import (
    TARIFF_CSV,
    TARIFF_DEMAND_RATES,
    TARIFF_ENERGY_RATES,
    TARIFF_SCHEDULES,
    TARIFFS,
    Column,
)
from pipelines.ingest.files import read_json
from pipelines.ingest.folder import input_files, relative_name
from pipelines.ingest.source import Source, Tables
from pipelines.ingest.tabular import read_table_file, shown

MONTHS = 12
HOURS = 24
DAYS_PER_MONTH_AVERAGE = 365 / 12
"""Converts a per-day minimum charge to a monthly minimum (the canonical table has one)."""

ENERGY_TIER_UNITS = ("kWh",)
"""Energy tier bounds supported: kWh per month. 'kWh daily', 'kWh/kW' and 'kWh/kW daily'
bounds scale with days or with the month's peak and are refused."""
DEMAND_UNITS = ("kW",)
PATTERNS = ("tariffs/*.json", "tariffs/*.csv")
"""URDB documents and flat CSV tariffs: `read_tariffs` reads `.json` as URDB, `.csv` as flat."""
CHARGE_UNITS = ("$/month", "$/day", "$/year")

ENERGY_TIER_COLUMNS = (
    TARIFF_ENERGY_RATES.column("rate_usd_per_kwh"),
    TARIFF_ENERGY_RATES.column("adj_usd_per_kwh"),
    TARIFF_ENERGY_RATES.column("max_kwh"),
)
DEMAND_TIER_COLUMNS = (
    TARIFF_DEMAND_RATES.column("rate_usd_per_kw"),
    TARIFF_DEMAND_RATES.column("adj_usd_per_kw"),
    TARIFF_DEMAND_RATES.column("max_kw"),
)
FIXED_CHARGE = TARIFFS.column("fixed_usd_per_month")
MINIMUM_CHARGE = TARIFFS.column("min_usd_per_month")
"""The canonical columns a URDB number becomes: its range is theirs."""


@dataclass(frozen=True)
class _Tier:
    max: float | None
    rate: float
    adj: float


def read_urdb(path: Path, name: str) -> TariffTables:
    """A URDB tariff document as published, or the API envelope `{"items": [doc, ...]}`.

    Every problem in every document is reported together; each names its field, e.g.
    `energyweekdayschedule[3]` for April of the weekday energy schedule (prefixed with
    `items[i].` inside an envelope).
    """
    data = read_json(path, name)
    problems = ProblemList()
    if isinstance(data, dict) and "items" in data:
        items = data["items"]
        if not isinstance(items, list) or not items:
            raise InputError(
                [Problem(name, "expected a non-empty list of tariff documents", field="items")]
            )
        documents = [(item, f"items[{i}].") for i, item in enumerate(items)]
    else:
        documents = [(data, "")]

    rows = _Rows()
    first_seen: dict[str, str] = {}
    for document, prefix in documents:
        if not isinstance(document, dict):
            problems.add(
                name,
                "expected a URDB tariff document (a JSON object)",
                field=prefix.rstrip(".") or None,
            )
            continue
        tariff_id = _UrdbDocument(document, name, prefix, problems).parse(rows)
        if tariff_id is None:
            continue
        if tariff_id in first_seen:
            problems.add(
                name,
                f"duplicate label '{tariff_id}' (first in {first_seen[tariff_id]})",
                field=f"{prefix}label",
            )
        else:
            first_seen[tariff_id] = f"{prefix}label"
    problems.raise_if_any()
    return rows.tables(name)


def read_tariff_csv(path: Path, name: str) -> TariffTables:
    """Simple flat tariffs, one per row of a `TARIFF_CSV` file.

    Each row becomes a tariff of kind `flat`: one energy period with one unbounded tier
    at `energy_usd_per_kwh`, every weekday and weekend hour in that period; when
    `demand_usd_per_kw_month` > 0, one flat demand period charged on the monthly peak
    in every month; `fixed_usd_per_month` as the fixed charge.
    """
    frame = read_table_file(path, name, TARIFF_CSV)
    rows = _Rows()
    for row in frame.iter_rows(named=True):
        tariff_id = row["tariff_id"]
        rows.tariffs.append(
            {
                "tariff_id": tariff_id,
                "name": None,
                "utility": None,
                "kind": "flat",
                "fixed_usd_per_month": row["fixed_usd_per_month"],
                "fixed_usd_per_day": 0.0,
                "min_usd_per_month": 0.0,
                "demand_window_min": None,
                "source": row["source"],
            }
        )
        rows.add_energy(tariff_id, [[_Tier(None, row["energy_usd_per_kwh"], 0.0)]])
        flat_schedule = [[0] * HOURS for _ in range(MONTHS)]
        rows.add_schedule(tariff_id, "energy", "weekday", flat_schedule)
        rows.add_schedule(tariff_id, "energy", "weekend", flat_schedule)
        if row["demand_usd_per_kw_month"] > 0:
            rows.add_demand(tariff_id, "flat", [[_Tier(None, row["demand_usd_per_kw_month"], 0.0)]])
            rows.add_flat_demand_months(tariff_id, [0] * MONTHS)
    return rows.tables(name)


def read_tariffs(data_dir: Path) -> TariffTables:
    """Every `tariffs/*.json` (URDB) and `tariffs/*.csv` (flat) under `data_dir`.

    Problems from all files are collected before one `InputError`. A tariff id (URDB
    `label` or CSV `tariff_id`) must be unique across files. The result is sorted by
    tariff id and then by the table's key.
    """
    files = input_files(data_dir, PATTERNS)

    problems = ProblemList()
    parts: list[TariffTables] = []
    first_file: dict[str, str] = {}
    for path in files:
        name = relative_name(data_dir, path)
        reader, id_field = (
            (read_urdb, "label") if path.suffix == ".json" else (read_tariff_csv, "tariff_id")
        )
        try:
            part = reader(path, name)
        except InputError as error:
            problems.extend(error.problems)
            continue
        for tariff_id in part.tariffs["tariff_id"]:
            if tariff_id in first_file:
                problems.add(
                    name,
                    f"tariff id '{tariff_id}' is already defined in {first_file[tariff_id]}",
                    field=id_field,
                )
            else:
                first_file[tariff_id] = name
        parts.append(part)
    problems.raise_if_any()
    return TariffTables(
        tariffs=_concat([p.tariffs for p in parts], TARIFFS.schema, TARIFFS.key),
        energy_rates=_concat(
            [p.energy_rates for p in parts], TARIFF_ENERGY_RATES.schema, TARIFF_ENERGY_RATES.key
        ),
        demand_rates=_concat(
            [p.demand_rates for p in parts], TARIFF_DEMAND_RATES.schema, TARIFF_DEMAND_RATES.key
        ),
        schedules=_concat(
            [p.schedules for p in parts], TARIFF_SCHEDULES.schema, TARIFF_SCHEDULES.key
        ),
    )


def _read_source(data_dir: Path, _: Mapping[str, pl.DataFrame]) -> Tables:
    tables = read_tariffs(data_dir)
    return {
        "tariffs": tables.tariffs,
        "tariff_energy_rates": tables.energy_rates,
        "tariff_demand_rates": tables.demand_rates,
        "tariff_schedules": tables.schedules,
    }


SOURCE = Source(
    name="tariffs",
    patterns=PATTERNS,
    read=_read_source,
    tables=("tariffs", "tariff_energy_rates", "tariff_demand_rates", "tariff_schedules"),
    description="Energy tariffs: OpenEI URDB documents and flat CSV tariffs.",
)


def _concat(
    frames: list[pl.DataFrame], schema: dict[str, pl.DataType], key: tuple[str, ...]
) -> pl.DataFrame:
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return frame.sort(list(key), nulls_last=False)


class _Rows:
    """Canonical rows collected while reading, turned into frames at the end."""

    def __init__(self) -> None:
        self.tariffs: list[dict] = []
        self.energy_rates: list[dict] = []
        self.demand_rates: list[dict] = []
        self.schedules: list[dict] = []

    def add_energy(self, tariff_id: str, structure: list[list[_Tier]]) -> None:
        for period, tiers in enumerate(structure):
            for tier, t in enumerate(tiers):
                self.energy_rates.append(
                    {
                        "tariff_id": tariff_id,
                        "period": period,
                        "tier": tier,
                        "max_kwh": t.max,
                        "rate_usd_per_kwh": t.rate,
                        "adj_usd_per_kwh": t.adj,
                    }
                )

    def add_demand(self, tariff_id: str, kind: str, structure: list[list[_Tier]]) -> None:
        for period, tiers in enumerate(structure):
            for tier, t in enumerate(tiers):
                self.demand_rates.append(
                    {
                        "tariff_id": tariff_id,
                        "kind": kind,
                        "period": period,
                        "tier": tier,
                        "max_kw": t.max,
                        "rate_usd_per_kw": t.rate,
                        "adj_usd_per_kw": t.adj,
                    }
                )

    def add_schedule(
        self, tariff_id: str, schedule: str, day_type: str, periods: list[list[int]]
    ) -> None:
        for month, hours in enumerate(periods, start=1):
            for hour, period in enumerate(hours):
                self.schedules.append(
                    {
                        "tariff_id": tariff_id,
                        "schedule": schedule,
                        "day_type": day_type,
                        "month": month,
                        "hour": hour,
                        "period": period,
                    }
                )

    def add_flat_demand_months(self, tariff_id: str, periods: list[int]) -> None:
        for month, period in enumerate(periods, start=1):
            self.schedules.append(
                {
                    "tariff_id": tariff_id,
                    "schedule": "flat_demand",
                    "day_type": "all",
                    "month": month,
                    "hour": None,
                    "period": period,
                }
            )

    def tables(self, name: str) -> TariffTables:
        def frame(
            rows: list[dict], schema: dict[str, pl.DataType], key: tuple[str, ...]
        ) -> pl.DataFrame:
            columns = [c for c in schema if c != "source_file"]
            data = pl.DataFrame(
                [{c: r[c] for c in columns} for r in rows],
                schema={c: schema[c] for c in columns},
                orient="row",
            )
            return data.with_columns(source_file=pl.lit(name, dtype=pl.String)).sort(
                list(key), nulls_last=False
            )

        return TariffTables(
            tariffs=frame(self.tariffs, TARIFFS.schema, TARIFFS.key),
            energy_rates=frame(
                self.energy_rates, TARIFF_ENERGY_RATES.schema, TARIFF_ENERGY_RATES.key
            ),
            demand_rates=frame(
                self.demand_rates, TARIFF_DEMAND_RATES.schema, TARIFF_DEMAND_RATES.key
            ),
            schedules=frame(self.schedules, TARIFF_SCHEDULES.schema, TARIFF_SCHEDULES.key),
        )


class _UrdbDocument:
    """One URDB document: reads and checks its fields, recording each problem with its field."""

    def __init__(self, document: dict[str, Any], name: str, prefix: str, problems: ProblemList):
        self.document = document
        self.name = name
        self.prefix = prefix
        self.problems = problems

    def problem(self, field: str, message: str) -> None:
        self.problems.add(self.name, message, field=self.prefix + field)

    def parse(self, rows: _Rows) -> str | None:
        """Append the document's canonical rows to `rows` when it has no problem; its label."""
        before = len(self.problems)
        label = self.document.get("label")
        if not isinstance(label, str) or not label.strip():
            self.problem("label", "missing tariff label (the URDB id used as tariff_id)")
            label = None

        energy = self.structure(
            "energyratestructure", ENERGY_TIER_COLUMNS, unit_field="unit", units=ENERGY_TIER_UNITS
        )
        energy_schedules = self.schedules("energy", energy, "energyratestructure")
        demand = self.structure(
            "demandratestructure",
            DEMAND_TIER_COLUMNS,
            unit_field=None,
            units=DEMAND_UNITS,
            document_unit="demandrateunit",
        )
        demand_schedules = self.schedules("demand", demand, "demandratestructure")
        flat = self.structure(
            "flatdemandstructure",
            DEMAND_TIER_COLUMNS,
            unit_field=None,
            units=DEMAND_UNITS,
            document_unit="flatdemandunit",
        )
        flat_months = self.flat_demand_months(flat)
        if energy is None and demand is None and flat is None:
            self.problem(
                "energyratestructure",
                "no energy or demand charges: the document has neither energyratestructure nor "
                "demandratestructure nor flatdemandstructure",
            )

        fixed_per_month, fixed_per_day = self.fixed_charges()
        minimum = self.minimum_charge()
        window = self.number("demandwindow", TARIFFS.column("demand_window_min"))
        text = {key: self.text(key) for key in ("name", "utility", "uri", "source")}
        if label is None or len(self.problems) > before:
            return label

        rows.tariffs.append(
            {
                "tariff_id": label,
                "name": text["name"],
                "utility": text["utility"],
                "kind": "urdb",
                "fixed_usd_per_month": fixed_per_month,
                "fixed_usd_per_day": fixed_per_day,
                "min_usd_per_month": minimum,
                "demand_window_min": window,
                "source": text["uri"] or text["source"],
            }
        )
        if energy is not None:
            assert energy_schedules is not None  # else `schedules` recorded a problem
            rows.add_energy(label, energy)
            rows.add_schedule(label, "energy", "weekday", energy_schedules[0])
            rows.add_schedule(label, "energy", "weekend", energy_schedules[1])
        if demand is not None:
            assert demand_schedules is not None  # else `schedules` recorded a problem
            rows.add_demand(label, "tou", demand)
            rows.add_schedule(label, "demand", "weekday", demand_schedules[0])
            rows.add_schedule(label, "demand", "weekend", demand_schedules[1])
        if flat is not None:
            assert flat_months is not None  # else `flat_demand_months` recorded a problem
            rows.add_demand(label, "flat", flat)
            rows.add_flat_demand_months(label, flat_months)
        return label

    def text(self, key: str) -> str | None:
        value = self.document.get(key)
        return (value.strip() or None) if isinstance(value, str) else None

    def number(self, key: str, column: Column) -> float | None:
        """The document's number at `key`, None when absent."""
        return self.value_number(key, self.document.get(key), column)

    def value_number(self, field: str, value: Any, column: Column) -> float | None:
        """`value` as a number, None when absent; a problem naming `field` when it is not a
        finite number within the range of the canonical `column` it becomes."""
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            self.problem(field, f"expected a finite number, got {shown(value)}")
            return None
        if not column.within_range(value):
            self.problem(field, f"{value:g} is out of range (must be {column.range_text()})")
            return None
        return float(value)

    def structure(
        self,
        key: str,
        columns: tuple[Column, Column, Column],
        unit_field: str | None,
        units: tuple[str, ...],
        document_unit: str | None = None,
    ) -> list[list[_Tier]] | None:
        """A rate structure: periods, each a list of tiers {rate, adj, max}; None when absent or
        empty.

        rate and adj default to 0; `max` is the tier's upper bound and only the last tier
        of a period may omit it; bounds increase from tier to tier.
        """
        value = self.document.get(key)
        if value is None or value == []:
            return None
        if not isinstance(value, list):
            self.problem(key, "expected a list of periods, each a list of tiers")
            return None
        if document_unit is not None and self.document.get(document_unit) not in (None, *units):
            self.problem(
                document_unit,
                f"unit {self.document[document_unit]!r} is not supported "
                f"(supported: {', '.join(units)})",
            )
        periods: list[list[_Tier]] = []
        for p, tiers in enumerate(value):
            if not isinstance(tiers, list) or not tiers:
                self.problem(f"{key}[{p}]", "expected a non-empty list of tiers")
                periods.append([])  # keeps later periods' indices for the schedule checks
                continue
            before = len(self.problems)
            periods.append(
                [
                    self.tier(f"{key}[{p}][{t}]", tier, columns, unit_field, units)
                    for t, tier in enumerate(tiers)
                ]
            )
            if len(self.problems) == before:
                self.check_tier_bounds(f"{key}[{p}]", periods[-1])
        return periods

    def tier(
        self,
        field: str,
        tier: Any,
        columns: tuple[Column, Column, Column],
        unit_field: str | None,
        units: tuple[str, ...],
    ) -> _Tier:
        """One tier {rate, adj, max}, each checked against its canonical column (`columns`)."""
        if not isinstance(tier, dict):
            self.problem(field, "expected a tier object {rate, adj, max}")
            return _Tier(None, 0.0, 0.0)
        if unit_field is not None and tier.get(unit_field) not in (None, *units):
            self.problem(
                f"{field}.{unit_field}",
                f"tier unit {tier[unit_field]!r} is not supported (supported: {', '.join(units)}: "
                "tier bounds per month)",
            )
        rate_column, adj_column, max_column = columns
        rate = self.value_number(f"{field}.rate", tier.get("rate"), rate_column)
        adj = self.value_number(f"{field}.adj", tier.get("adj"), adj_column)
        upper = self.value_number(f"{field}.max", tier.get("max"), max_column)
        return _Tier(upper, rate or 0.0, adj or 0.0)

    def check_tier_bounds(self, field: str, tiers: list[_Tier]) -> None:
        """Tier upper bounds strictly increase; only the last tier is unbounded."""
        previous: float | None = None
        for t, tier in enumerate(tiers):
            if tier.max is None:
                if t < len(tiers) - 1:
                    self.problem(
                        f"{field}[{t}].max", "only the last tier may be unbounded (no max)"
                    )
                continue
            if previous is not None and tier.max <= previous:
                self.problem(
                    f"{field}[{t}].max",
                    f"tier bounds must increase: max {tier.max:g} is not above the previous "
                    f"{previous:g}",
                )
            previous = tier.max

    def schedules(
        self, kind: str, structure: list[list[_Tier]] | None, structure_key: str
    ) -> tuple[list[list[int]], list[list[int]]] | None:
        """Weekday and weekend 12 x 24 period schedules of `kind` (energy | demand), when it has a
        structure."""
        if structure is None:
            return None
        found: list[list[list[int]] | None] = []
        for day_type in ("weekday", "weekend"):
            key = f"{kind}{day_type}schedule"
            if self.document.get(key) is None:
                self.problem(key, f"missing: required with {structure_key}")
                found.append(None)
            else:
                found.append(self.schedule(key, len(structure), structure_key))
        if found[0] is None or found[1] is None:
            return None
        return found[0], found[1]

    def schedule(self, key: str, periods: int, structure_key: str) -> list[list[int]] | None:
        """12 months x 24 hours of period indices, each a period of the structure."""
        value = self.document[key]
        if not isinstance(value, list) or len(value) != MONTHS:
            got = f"{len(value)} rows" if isinstance(value, list) else type(value).__name__
            self.problem(key, f"expected 12 monthly rows of 24 period indices, got {got}")
            return None
        rows = []
        for m, hours in enumerate(value):
            field = f"{key}[{m}]"
            if not isinstance(hours, list) or len(hours) != HOURS:
                got = f"{len(hours)} values" if isinstance(hours, list) else type(hours).__name__
                self.problem(
                    field, f"expected 24 hourly period indices for month {m + 1}, got {got}"
                )
                continue
            if not all(_is_index(h) for h in hours):
                bad = next(h for h in hours if not _is_index(h))
                self.problem(field, f"expected whole-number period indices, got {bad!r}")
                continue
            row = [int(h) for h in hours]
            missing = sorted({h for h in row if h >= periods})
            if missing:
                self.problem(
                    field,
                    f"period {', '.join(map(str, missing))} is not in {structure_key} "
                    f"({periods} periods: 0..{periods - 1})",
                )
                continue
            rows.append(row)
        return rows if len(rows) == MONTHS else None

    def flat_demand_months(self, flat: list[list[_Tier]] | None) -> list[int] | None:
        """`flatdemandmonths`: for each month, its period of `flatdemandstructure`."""
        if flat is None:
            return None
        value = self.document.get("flatdemandmonths")
        if value is None:
            self.problem("flatdemandmonths", "missing: required with flatdemandstructure")
            return None
        if not isinstance(value, list) or len(value) != MONTHS:
            got = f"{len(value)} values" if isinstance(value, list) else repr(value)
            self.problem(
                "flatdemandmonths",
                f"expected 12 period indices of flatdemandstructure (one per month), got {got}",
            )
            return None
        ok = True
        for m, period in enumerate(value):
            if not _is_index(period) or period >= len(flat):
                self.problem(
                    f"flatdemandmonths[{m}]",
                    f"period {period!r} for month {m + 1} is not in flatdemandstructure "
                    f"({len(flat)} periods: 0..{len(flat) - 1})",
                )
                ok = False
        return [int(p) for p in value] if ok else None

    def fixed_charges(self) -> tuple[float, float]:
        """($/month, $/day) fixed charges.

        `fixedchargefirstmeter` (URDB v3+) with `fixedchargeunits` $/month, $/day or
        $/year (per month = / 12) replaces the older `fixedmonthlycharge` ($/month),
        which is read only when the newer field is absent.
        """
        units = self.document.get("fixedchargeunits") or "$/month"
        if units not in CHARGE_UNITS:
            self.problem(
                "fixedchargeunits",
                f"unit {units!r} is not supported (supported: {', '.join(CHARGE_UNITS)})",
            )
            return 0.0, 0.0
        if "fixedchargefirstmeter" in self.document:
            amount = self.number("fixedchargefirstmeter", FIXED_CHARGE) or 0.0
        else:
            amount, units = self.number("fixedmonthlycharge", FIXED_CHARGE) or 0.0, "$/month"
        return self.per_month_or_day("fixedchargeunits", amount, units)

    def minimum_charge(self) -> float:
        """Minimum monthly charge: `minmonthlycharge` ($/month), else `mincharge` in
        `minchargeunits`.

        A $/day minimum becomes $/month at 365/12 days; a $/year minimum / 12.
        """
        if "minmonthlycharge" in self.document:
            return self.number("minmonthlycharge", MINIMUM_CHARGE) or 0.0
        amount = self.number("mincharge", MINIMUM_CHARGE) or 0.0
        per_month, per_day = self.per_month_or_day(
            "minchargeunits", amount, self.document.get("minchargeunits") or "$/month"
        )
        return per_month + per_day * DAYS_PER_MONTH_AVERAGE

    def per_month_or_day(self, units_key: str, amount: float, units: Any) -> tuple[float, float]:
        if units == "$/month":
            return amount, 0.0
        if units == "$/day":
            return 0.0, amount
        if units == "$/year":
            return amount / 12, 0.0
        self.problem(
            units_key, f"unit {units!r} is not supported (supported: {', '.join(CHARGE_UNITS)})"
        )
        return 0.0, 0.0


def _is_index(value: Any) -> bool:
    """A non-negative whole number (JSON may write it 3 or 3.0)."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
        isinstance(value, float) and value.is_integer() and value >= 0
    )
