"""The planning question: `scenario.yaml` into the scenario (one row) and workloads tables.

```yaml
name: arkansas-20mw
budget_mw: 20
tariff: 5a592c995457a3371c423a7d
wacc: 0.08
...
workloads:
  - {name: chat, model: deepseek-r1, isl: 1024, osl: 1024,
     min_interactivity_tokens_per_s_per_user: 50, max_ttft_s: 2, share: 0.5}
  - {name: offline, model: deepseek-r1, isl: 1024, osl: 1024, share: 0.5,
     load_shape: batch, batch_quota: daily}
```

A workload's `load_shape` (interactive | batch) matters in time-resolved plans; an
interactive one may give `load_profile`, a list of 24 hourly fractions of its peak
(hour 0 = midnight, values >= 0, not all 0).

A workload may restrict the benchmark rows it uses with `require:`, a mapping of
configuration columns to allowed values (a list, or one value):

```yaml
    require: {precision: [fp8], spec_decoding: none, framework: [sglang, dynamo-sglang],
              disaggregated: false, kv_offload: [false]}
```

Each key becomes the workloads column `require_<key>`, a list of lower-cased text
(booleans as `true` / `false`).

A multi-year plan adds a `horizon:` mapping, stored in the scenario columns `horizon_*`
(all empty without one):

```yaml
horizon:
  start_year: 2026
  years: 5
  budget_mw: [20, 20, 40, 40, 40]         # optional: one number per year, or one for all
  demand_tokens_per_s: [1.0e6, 2.0e6, 3.0e6, 4.0e6, 5.0e6]  # optional: the site's floor
  energy_price_escalation_pct_per_year: 2.5                  # optional, default 0
```

With a horizon, a workload's `demand_tokens_per_s` may be a list of one number per year:
the workloads column `demand_by_year` holds it, and `demand_tokens_per_s` the first year's.

Problems name the YAML field: `budget_mw`, `workloads[2].share`,
`workloads[2].require.precision`, `horizon.budget_mw`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import (
    BOOLEAN_REQUIREMENTS,
    LIST_OF_FLOATS,
    REQUIREMENTS,
    SCENARIO,
    WORKLOADS,
)
from pipelines.ingest.files import read_yaml
from pipelines.ingest.folder import input_file
from pipelines.ingest.names import model_key
from pipelines.ingest.source import Source, Tables
from pipelines.ingest.tabular import parse_boolean, read_records, shown

SCENARIO_FILE = "scenario.yaml"
SHARE_TOLERANCE = 1e-6
HOURS_PER_DAY = 24
REQUIRE = "require"
"""The workload field whose mapping fills the `require_<key>` columns (`REQUIREMENTS`)."""
REQUIRE_COLUMNS = {f"{REQUIRE}_{key}" for key in REQUIREMENTS}
DEMAND = "demand_tokens_per_s"
DEMAND_BY_YEAR = "demand_by_year"
"""The workloads column a per-year list of `demand_tokens_per_s` fills."""
WORKLOAD_FIELDS = {c.name for c in WORKLOADS.columns} - REQUIRE_COLUMNS - {DEMAND_BY_YEAR} | {
    REQUIRE
}
"""What a workload in scenario.yaml may hold: the table's columns, with `require:` in place of
the `require_<key>` columns it fills and `demand_tokens_per_s` in place of `demand_by_year`."""
HORIZON = "horizon"
HORIZON_FIELDS = {
    "start_year": "horizon_start_year",
    "years": "horizon_years",
    "budget_mw": "horizon_budget_mw",
    "demand_tokens_per_s": "horizon_demand_tokens_per_s",
    "energy_price_escalation_pct_per_year": "horizon_energy_escalation_pct_per_year",
}
"""`horizon:` field -> the scenario column it fills."""
HORIZON_COLUMNS = {column: f"{HORIZON}.{key}" for key, column in HORIZON_FIELDS.items()}
"""Scenario column -> the YAML field problems name."""
HORIZON_REQUIRED = ("start_year", "years")
PER_YEAR = ("budget_mw", "demand_tokens_per_s")
"""Horizon fields holding a number per year: a list of `years` numbers, or one number for all."""
SITE_FIELDS = {c.name for c in SCENARIO.columns} - set(HORIZON_FIELDS.values())
"""The scenario fields written at the top level of scenario.yaml (not under `horizon:`)."""


@dataclass(frozen=True)
class ScenarioTables:
    scenario: pl.DataFrame
    workloads: pl.DataFrame


def read_scenario(data_dir: Path) -> ScenarioTables:
    document = read_yaml(input_file(data_dir, SCENARIO_FILE), SCENARIO_FILE)
    if not isinstance(document, dict):
        raise InputError(
            [Problem(SCENARIO_FILE, "expected a mapping of scenario fields at the top level")]
        )

    problems = ProblemList()
    known = SITE_FIELDS | {"workloads", HORIZON}
    for key in document:
        if key not in known:
            problems.add(
                SCENARIO_FILE, f"unknown field (known: {', '.join(sorted(known))})", field=str(key)
            )
    workloads = document.get("workloads")
    if (
        not isinstance(workloads, list)
        or not workloads
        or not all(isinstance(w, dict) for w in workloads)
    ):
        problems.add(
            SCENARIO_FILE,
            "expected a non-empty list of workloads, each a mapping",
            field="workloads",
        )
        workloads = []
    for index, workload in enumerate(workloads, start=1):
        for key in workload:
            if key not in WORKLOAD_FIELDS:
                problems.add(
                    SCENARIO_FILE,
                    f"unknown field (known: {', '.join(sorted(WORKLOAD_FIELDS))})",
                    field=f"workloads[{index}].{key}",
                )
    site = {k: v for k, v in document.items() if k in SITE_FIELDS}
    site.setdefault("name", data_dir.resolve().name)
    horizon, counts = _horizon_as_columns(document.get(HORIZON), problems)

    scenario = _records([site | horizon], SCENARIO, problems, prefix="", fields=HORIZON_COLUMNS)
    if scenario is not None:
        scenario = _check_horizon(scenario, counts, problems)
    years = _horizon_years(document, scenario)
    demand_counts: dict[int, int] = {}
    workloads = [
        _demand_as_text(
            _requirements_as_text(
                _profile_as_text(
                    {k: v for k, v in w.items() if k in WORKLOAD_FIELDS}, index, problems
                ),
                index,
                problems,
            ),
            index,
            demand_counts,
            problems,
        )
        for index, w in enumerate(workloads, start=1)
    ]
    workload_frame = _records(
        workloads, WORKLOADS, problems, prefix="workloads", fields={DEMAND_BY_YEAR: DEMAND}
    )
    if workload_frame is not None:
        _check_demand_by_year(demand_counts, years, problems)
        workload_frame = _check_workloads(
            workload_frame.with_columns(
                pl.coalesce(DEMAND, pl.col(DEMAND_BY_YEAR).list.first()).alias(DEMAND)
            ),
            problems,
        )
    problems.raise_if_any()
    assert scenario is not None and workload_frame is not None  # else a problem was raised
    return ScenarioTables(scenario=scenario, workloads=workload_frame)


def _records(
    records, table, problems: ProblemList, prefix: str, fields: Mapping[str, str] | None = None
) -> pl.DataFrame | None:
    """Records through the table's checks, with problems renamed to YAML fields (`fields`:
    column -> the YAML field that fills it, where the two differ)."""
    if not records:
        return None
    try:
        return read_records(records, table, SCENARIO_FILE)
    except InputError as error:
        for p in error.problems:
            name = (fields or {}).get(p.field or "", p.field)
            field = (
                name if not prefix else f"{prefix}[{p.row}].{name}" if p.row else f"{prefix}.{name}"
            )
            problems.add(SCENARIO_FILE, p.message, field=field)
        return None


def _horizon_as_columns(horizon: object, problems: ProblemList) -> tuple[dict, dict[str, int]]:
    """The `horizon:` mapping as the scenario's `horizon_*` columns (lists as `;`-separated
    text), and how many values each per-year field given as a list holds; a field that cannot
    be one is a problem and left out."""
    if horizon is None:
        return {}, {}
    if not isinstance(horizon, dict):
        problems.add(
            SCENARIO_FILE,
            f"expected a mapping of {', '.join(HORIZON_FIELDS)}, got '{shown(horizon)}'",
            field=HORIZON,
        )
        return {}, {}
    columns, counts = {}, {}
    for key, value in horizon.items():
        field = f"{HORIZON}.{key}"
        if key not in HORIZON_FIELDS:
            problems.add(
                SCENARIO_FILE, f"unknown field (known: {', '.join(HORIZON_FIELDS)})", field=field
            )
        elif key in PER_YEAR and value is not None:
            text = _numbers_as_text(value, field, problems)
            if text is not None:
                columns[HORIZON_FIELDS[key]] = text
                if isinstance(value, list):
                    counts[key] = len(value)
        else:
            columns[HORIZON_FIELDS[key]] = value
    for key in HORIZON_REQUIRED:
        if horizon.get(key) is None:
            problems.add(
                SCENARIO_FILE,
                f"missing value (a horizon needs {' and '.join(HORIZON_REQUIRED)})",
                field=f"{HORIZON}.{key}",
            )
    return columns, counts


def _numbers_as_text(value: object, field: str, problems: ProblemList) -> str | None:
    """A number, or a list of numbers, as the `;`-separated text of a list column (parsed and
    range-checked with it); None, with a problem, when an item is a mapping, a list or empty."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict | list | bool) or item is None or ";" in str(item):
            problems.add(
                SCENARIO_FILE,
                f"expected a number or a list of numbers, got '{shown(value)}'",
                field=field,
            )
            return None
    return ";".join(str(item) for item in items)


def _check_horizon(
    scenario: pl.DataFrame, counts: Mapping[str, int], problems: ProblemList
) -> pl.DataFrame:
    """Each per-year field given as a list has one value per year of the horizon; one given
    as a number is that number every year."""
    row = scenario.row(0, named=True)
    years = row["horizon_years"]
    if years is None:  # no horizon, or no valid one: a problem already says why
        return scenario
    filled = {}
    for key in PER_YEAR:
        column = HORIZON_FIELDS[key]
        if key in counts and counts[key] != years:
            problems.add(
                SCENARIO_FILE,
                f"has {counts[key]} values, horizon.years is {years} (give one per year, or one "
                "number for every year)",
                field=f"{HORIZON}.{key}",
            )
        elif key not in counts and row[column] is not None:
            filled[column] = [row[column] * years]
    return scenario.with_columns(
        pl.Series(column, values, dtype=LIST_OF_FLOATS) for column, values in filled.items()
    )


def _horizon_years(document: dict, scenario: pl.DataFrame | None) -> int | None:
    """The horizon's years; 0 when scenario.yaml has no horizon; None when it has one whose
    years are not known (a problem says why)."""
    if document.get(HORIZON) is None:
        return 0
    return None if scenario is None else scenario["horizon_years"][0]


def _demand_as_text(
    workload: dict, index: int, counts: dict[int, int], problems: ProblemList
) -> dict:
    """The workload with a `demand_tokens_per_s` list (one number per year of the horizon)
    written as the `demand_by_year` column's `;`-separated text; its length in `counts`."""
    demand = workload.get(DEMAND)
    if not isinstance(demand, list):
        return workload
    rest = {key: value for key, value in workload.items() if key != DEMAND}
    text = _numbers_as_text(demand, f"workloads[{index}].{DEMAND}", problems)
    if text is None:
        return rest
    counts[index] = len(demand)
    return rest | {DEMAND_BY_YEAR: text}


def _check_demand_by_year(
    counts: Mapping[int, int], years: int | None, problems: ProblemList
) -> None:
    """A workload's demand per year needs a horizon, and one number per year of it."""
    for index, count in counts.items():
        field = f"workloads[{index}].{DEMAND}"
        if years == 0:
            problems.add(
                SCENARIO_FILE,
                "a list of demands per year needs a horizon in scenario.yaml (horizon: "
                "start_year, years); a one-year plan takes one number",
                field=field,
            )
        elif years is not None and count != years:
            problems.add(
                SCENARIO_FILE, f"has {count} values, horizon.years is {years}", field=field
            )


def _profile_as_text(workload: dict, index: int, problems: ProblemList) -> dict:
    """The workload with its `load_profile` list written as the table's `;`-separated text."""
    profile = workload.get("load_profile")
    if profile is None:
        return workload
    if not isinstance(profile, list):
        problems.add(
            SCENARIO_FILE,
            f"expected a list of {HOURS_PER_DAY} hourly fractions, got {profile!r}",
            field=f"workloads[{index}].load_profile",
        )
        return {key: value for key, value in workload.items() if key != "load_profile"}
    return workload | {"load_profile": ";".join(str(value) for value in profile)}


def _requirements_as_text(workload: dict, index: int, problems: ProblemList) -> dict:
    """The workload with its `require:` mapping written as the `require_<key>` columns'
    `;`-separated text; a key or value that cannot be one is a problem and left out."""
    require = workload.get(REQUIRE)
    workload = {key: value for key, value in workload.items() if key != REQUIRE}
    field = f"workloads[{index}].{REQUIRE}"
    if require is None:
        return workload
    if not isinstance(require, dict):
        problems.add(
            SCENARIO_FILE,
            f"expected a mapping of {', '.join(REQUIREMENTS)} to allowed values, got "
            f"'{shown(require)}'",
            field=field,
        )
        return workload
    for key, value in require.items():
        if key not in REQUIREMENTS:
            problems.add(
                SCENARIO_FILE,
                f"unknown requirement (known: {', '.join(REQUIREMENTS)})",
                field=f"{field}.{key}",
            )
            continue
        values = _requirement_values(key, value, f"{field}.{key}", problems)
        if values is not None:
            workload[f"{REQUIRE}_{key}"] = ";".join(values)
    return workload


def _requirement_values(
    key: str, value: object, field: str, problems: ProblemList
) -> list[str] | None:
    """The allowed values of one requirement as lower-cased text (booleans `true` / `false`);
    None, with a problem, when they are not a non-empty list of single values (or one value)."""
    items = value if isinstance(value, list) else [value]
    if not items or value is None:
        problems.add(
            SCENARIO_FILE,
            "expected allowed values (a list, or one value); leave the key out to allow any",
            field=field,
        )
        return None
    texts: list[str] = []
    for item in items:
        if isinstance(item, dict | list) or item is None or not str(item).strip():
            problems.add(
                SCENARIO_FILE,
                f"expected a value or a list of values, got '{shown(value)}'",
                field=field,
            )
            return None
        if key in BOOLEAN_REQUIREMENTS:
            flag = parse_boolean(item)
            if flag is None:
                problems.add(
                    SCENARIO_FILE, f"expected true or false, got '{shown(item)}'", field=field
                )
                return None
            texts.append(str(flag).lower())
        elif isinstance(item, bool):
            texts.append(str(item).lower())
        elif ";" in str(item):
            problems.add(SCENARIO_FILE, f"a value holds no ';', got '{shown(item)}'", field=field)
            return None
        else:
            texts.append(str(item).strip().lower())
    return texts


def _check_load_profile(row: dict, index: int, problems: ProblemList) -> None:
    """24 hourly fractions >= 0, not all 0, and only for an interactive workload."""
    profile, field = row["load_profile"], f"workloads[{index}].load_profile"
    if profile is None:
        return
    if row["load_shape"] == "batch":
        problems.add(
            SCENARIO_FILE,
            "a batch workload has no load profile: the plan places its tokens",
            field=field,
        )
    elif len(profile) != HOURS_PER_DAY:
        problems.add(
            SCENARIO_FILE,
            f"expected {HOURS_PER_DAY} hourly fractions, got {len(profile)}",
            field=field,
        )
    elif min(profile) < 0 or max(profile) <= 0:
        problems.add(SCENARIO_FILE, "hourly fractions must be >= 0 and not all 0", field=field)


def _check_workloads(workloads: pl.DataFrame, problems: ProblemList) -> pl.DataFrame:
    """Each workload has a share, a demand or a price; shares, if given, sum to 1;
    load profiles of 24 fractions on interactive workloads."""
    for index, row in enumerate(workloads.iter_rows(named=True), start=1):
        if (
            row["share"] is None
            and row["demand_tokens_per_s"] is None
            and row["price_usd_per_million_tokens"] is None
        ):
            problems.add(
                SCENARIO_FILE,
                "a workload needs a share (cost-per-token), demand_tokens_per_s (min-cost) or "
                "price_usd_per_million_tokens (max-profit)",
                field=f"workloads[{index}].share",
            )
        _check_load_profile(row, index, problems)
    shares = workloads["share"]
    if shares.is_not_null().any():
        total = float(shares.sum())  # a Float64 column: polars types its sum as any number
        if shares.is_null().any():
            problems.add(
                SCENARIO_FILE,
                "either every workload has a share or none has",
                field="workloads.share",
            )
        elif abs(total - 1.0) > SHARE_TOLERANCE:
            problems.add(SCENARIO_FILE, f"shares sum to {total:g}, not 1", field="workloads.share")
    return workloads.with_columns(pl.col("model").map_elements(model_key, return_dtype=pl.String))


def check_tariff_reference(scenario: pl.DataFrame, tariffs: pl.DataFrame) -> None:
    """The scenario's tariff names a tariff of the tariffs table (by id, i.e. URDB label)."""
    tariff = scenario["tariff"][0]
    known = tariffs["tariff_id"].to_list()
    if tariff not in known:
        raise InputError(
            [
                Problem(
                    SCENARIO_FILE,
                    f"tariff '{tariff}' is not in tariffs/ (known: {', '.join(known)})",
                    field="tariff",
                )
            ]
        )


def _read_source(data_dir: Path, upstream: Mapping[str, pl.DataFrame]) -> Tables:
    tables = read_scenario(data_dir)
    if "tariffs" in upstream:
        check_tariff_reference(tables.scenario, upstream["tariffs"])
    return {"scenario": tables.scenario, "workloads": tables.workloads}


SOURCE = Source(
    name="scenario",
    patterns=(SCENARIO_FILE,),
    tables=("scenario", "workloads"),
    read=_read_source,
    description="The planning question: site, finance and workloads with SLOs.",
    upstream=("tariffs",),
)
