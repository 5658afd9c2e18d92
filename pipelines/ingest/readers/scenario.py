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

Problems name the YAML field: `budget_mw`, `workloads[2].share`,
`workloads[2].require.precision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import BOOLEAN_REQUIREMENTS, REQUIREMENTS, SCENARIO, WORKLOADS
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
WORKLOAD_FIELDS = {c.name for c in WORKLOADS.columns} - REQUIRE_COLUMNS | {REQUIRE}
"""What a workload in scenario.yaml may hold: the table's columns, with `require:` in place of
the `require_<key>` columns it fills."""


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
    known = {c.name for c in SCENARIO.columns} | {"workloads"}
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
    site = {k: v for k, v in document.items() if k != "workloads" and k in known}
    site.setdefault("name", data_dir.resolve().name)

    scenario = _records([site], SCENARIO, problems, prefix="")
    workloads = [
        _requirements_as_text(
            _profile_as_text({k: v for k, v in w.items() if k in WORKLOAD_FIELDS}, index, problems),
            index,
            problems,
        )
        for index, w in enumerate(workloads, start=1)
    ]
    workload_frame = _records(workloads, WORKLOADS, problems, prefix="workloads")
    if workload_frame is not None:
        workload_frame = _check_workloads(workload_frame, problems)
    problems.raise_if_any()
    assert scenario is not None and workload_frame is not None  # else a problem was raised
    return ScenarioTables(scenario=scenario, workloads=workload_frame)


def _records(records, table, problems: ProblemList, prefix: str) -> pl.DataFrame | None:
    """Records through the table's checks, with problems renamed to YAML fields."""
    if not records:
        return None
    try:
        return read_records(records, table, SCENARIO_FILE)
    except InputError as error:
        for p in error.problems:
            field = (
                p.field
                if not prefix
                else f"{prefix}[{p.row}].{p.field}"
                if p.row
                else f"{prefix}.{p.field}"
            )
            problems.add(SCENARIO_FILE, p.message, field=field)
        return None


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
