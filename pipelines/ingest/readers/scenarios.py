"""Futures of a multi-year plan: `scenarios/*.yaml`, each an overlay on scenario.yaml.

```yaml
# scenarios/high-demand.yaml
name: high-demand                 # optional; default: the file's stem
probability: 0.3                  # required: > 0 and <= 1; all files' sum to 1
wacc: 0.1                         # any site or finance field of scenario.yaml
horizon:                          # budget_mw, demand_tokens_per_s, energy escalation
  demand_tokens_per_s: [40.0e6, 60.0e6, 90.0e6, 130.0e6, 180.0e6]
  energy_price_escalation_pct_per_year: 4
capex_multipliers: {GB300: 1.2, HGX B200 8-GPU: 0.9}   # a sku or an accelerator -> factor
throughput_multipliers: {VR200: 0.8}
energy_price_multiplier: 1.5
```

The folder is optional: without it there are no scenarios (stress tests and robust plans
need at least one). Each file is read into an `Overlay`, plain data; `overridden_scenario`
applies its fields to the canonical `scenario` row, through the same checks as scenario.yaml,
and `multiplier` says which factor a system takes (`pipelines.planning.scenarios` applies
them to the plan's inputs).

- Top-level fields: those of scenario.yaml's site and finance (`budget_mw`, `tariff`,
  `wacc`, `utilization`, `availability`, ...), each one value, checked as scenario.yaml
  checks it. Not `name` (a scenario's own name), `workloads` or the `horizon_*` columns.
  `budget_mw` only where scenario.yaml's horizon gives no `budget_mw` per year (else the
  year's budgets win: override `horizon.budget_mw`).
- `horizon:` overrides `budget_mw`, `demand_tokens_per_s` (a list of one number per year of
  scenario.yaml's horizon, or one number for every year) and
  `energy_price_escalation_pct_per_year`. Not `start_year` or `years`: every scenario plans
  the same years. A horizon override needs a horizon in scenario.yaml.
- `capex_multipliers`: a system's price × factor (`node_capex_usd` of a bought system,
  `rental_usd_per_gpu_hour` of a rented one); `throughput_multipliers`: its tokens/s per GPU
  at every operating point × factor. Keys are skus or accelerators of hardware/ (an
  accelerator compared as a key: `gb300` is `GB300`); a sku wins over its accelerator.
  Factors are > 0 and <= 100.
- `energy_price_multiplier`: energy prices × factor (the flat year's price per kWh, and each
  time slice's); demand and fixed charges are unchanged.
- Probabilities sum to 1 within 10⁻⁶ over the folder; names are unique.

Problems name the file and the YAML field: `scenarios/high-demand.yaml: capex_multipliers.
GB300: -1 is out of range (must be > 0 and <= 100: a factor)`, `scenarios/x.yaml:
horizon.budget_mw: has 3 values, horizon.years is 5 (...)`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import SCENARIO, SCENARIOS
from pipelines.ingest.files import read_yaml
from pipelines.ingest.folder import find_inputs, relative_name
from pipelines.ingest.names import accelerator_key
from pipelines.ingest.readers.scenario import (
    HORIZON,
    HORIZON_COLUMNS,
    HORIZON_FIELDS,
    PER_YEAR,
    SCENARIO_FILE,
    SITE_FIELDS,
)
from pipelines.ingest.source import Source, Tables
from pipelines.ingest.tabular import read_records, shown

SCENARIOS_FOLDER = "scenarios/"
SCENARIOS_PATTERN = "scenarios/*.yaml"
PROBABILITY_TOLERANCE = 1e-6
CAPEX, THROUGHPUT, ENERGY = "capex_multipliers", "throughput_multipliers", "energy_price_multiplier"
MULTIPLIERS = (CAPEX, THROUGHPUT)
MAX_MULTIPLIER = 100.0
MULTIPLIER_RANGE = f"> 0 and <= {MAX_MULTIPLIER:g}"
FIELDS = tuple(sorted(SITE_FIELDS - {"name"}))
"""The scenario.yaml fields an overlay may set at its top level."""
HORIZON_OVERRIDES = ("budget_mw", "demand_tokens_per_s", "energy_price_escalation_pct_per_year")
"""The `horizon:` fields an overlay may set: not `start_year` or `years`."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,63}")
KNOWN = ("name", "probability", *FIELDS, HORIZON, *MULTIPLIERS, ENERGY)


@dataclass(frozen=True)
class Overlay:
    """One file of scenarios/: a future of the scenario, as plain data."""

    file: str
    """The file, relative to the input folder (`scenarios/high-demand.yaml`)."""
    name: str
    probability: float
    fields: dict[str, object] = field(default_factory=dict)
    """scenario.yaml fields set at the top level, as written."""
    horizon: dict[str, object] = field(default_factory=dict)
    """`horizon:` fields set, as written."""
    capex_multipliers: dict[str, float] = field(default_factory=dict)
    throughput_multipliers: dict[str, float] = field(default_factory=dict)
    energy_price_multiplier: float = 1.0


def read_scenarios(
    data_dir: Path, tables: Mapping[str, pl.DataFrame] | None = None
) -> list[Overlay]:
    """The overlays of `scenarios/*.yaml` in file order; none without the folder. With
    `tables` (the canonical `scenario`, `hardware` and `tariffs`, those given), each is also
    checked against them: its fields applied to the scenario, its multipliers' names. Raises
    one `InputError` with every problem of every file."""
    problems = ProblemList()
    overlays: list[Overlay] = []
    for path in find_inputs(data_dir, (SCENARIOS_PATTERN,)):
        name = relative_name(data_dir, path)
        try:
            overlay, found = _read_overlay(path, name)
        except InputError as error:  # not YAML, or not a mapping
            problems.extend(error.problems)
            continue
        problems.extend(found)
        if tables is not None:  # the parts read without problems, checked against the tables
            problems.extend(overlay_problems(overlay, tables))
        overlays.append(overlay)
    _check_names(overlays, problems)
    if overlays and not problems:
        total = math.fsum(o.probability for o in overlays)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            listed = ", ".join(f"{o.name} {o.probability:g}" for o in overlays)
            problems.add(
                SCENARIOS_FOLDER,
                f"probabilities sum to {total:g}, not 1 ({listed})",
                field="probability",
            )
    problems.raise_if_any()
    return overlays


def overlays_frame(overlays: list[Overlay]) -> pl.DataFrame:
    """The canonical `scenarios` table of `overlays`: name, probability, settings (what else the
    file sets, as JSON, in the YAML's own form) and source_file."""
    return pl.DataFrame(
        [
            {
                "name": o.name,
                "probability": o.probability,
                "settings": json.dumps(_settings(o), sort_keys=True, default=str),
                "source_file": o.file,
            }
            for o in overlays
        ],
        schema=SCENARIOS.schema,
    )


def _settings(overlay: Overlay) -> dict[str, object]:
    settings: dict[str, object] = dict(overlay.fields)
    if overlay.horizon:
        settings[HORIZON] = overlay.horizon
    for key in MULTIPLIERS:
        if getattr(overlay, key):
            settings[key] = getattr(overlay, key)
    if overlay.energy_price_multiplier != 1.0:
        settings[ENERGY] = overlay.energy_price_multiplier
    return settings


def table_overlays(scenarios: pl.DataFrame) -> list[Overlay]:
    """The overlays of a canonical `scenarios` table (as `overlays_frame` wrote them)."""
    overlays = []
    for row in scenarios.iter_rows(named=True):
        settings = json.loads(row["settings"])
        overlays.append(
            Overlay(
                file=row["source_file"],
                name=row["name"],
                probability=row["probability"],
                fields={k: v for k, v in settings.items() if k in FIELDS},
                horizon=settings.get(HORIZON, {}),
                capex_multipliers=settings.get(CAPEX, {}),
                throughput_multipliers=settings.get(THROUGHPUT, {}),
                energy_price_multiplier=settings.get(ENERGY, 1.0),
            )
        )
    return overlays


def _read_source(data_dir: Path, upstream: Mapping[str, pl.DataFrame]) -> Tables:
    return {"scenarios": overlays_frame(read_scenarios(data_dir, upstream))}


SOURCE = Source(
    name="scenarios",
    patterns=(SCENARIOS_PATTERN,),
    tables=("scenarios",),
    read=_read_source,
    description="The futures of a multi-year plan (optional): each file of scenarios/ an overlay "
    "on scenario.yaml with its probability, checked against scenario.yaml, the price sheets and "
    "the tariffs.",
    upstream=("scenario", "hardware", "tariffs"),
    optional=True,
)


def read_overlay(path: Path, name: str) -> Overlay:
    """One scenario file, its form checked: known fields, single values, numbers in range."""
    overlay, problems = _read_overlay(path, name)
    problems.raise_if_any()
    return overlay


def _read_overlay(path: Path, name: str) -> tuple[Overlay, ProblemList]:
    """The overlay of what the file holds without problems, and the problems; raises when
    the file is no YAML mapping."""
    document = read_yaml(path, name)
    if not isinstance(document, dict):
        raise InputError([Problem(name, "expected a mapping of scenario fields at the top level")])
    problems = ProblemList()
    for key in document:
        if key not in KNOWN:
            problems.add(name, f"unknown field (known: {', '.join(KNOWN)})", field=str(key))
    title = _name(document.get("name", Path(name).stem), name, problems)
    probability = _factor(
        document.get("probability"),
        name,
        "probability",
        problems,
        maximum=1.0,
        why="a scenario's probability",
    )
    fields = {}
    for key in FIELDS:
        if key in document:
            value = document[key]
            if isinstance(value, dict | list):
                problems.add(name, f"expected a single value, got '{shown(value)}'", field=key)
            else:
                fields[key] = value
    horizon = _horizon(document.get(HORIZON), name, problems)
    multipliers = {key: _multipliers(document.get(key), name, key, problems) for key in MULTIPLIERS}
    energy = 1.0
    if ENERGY in document:
        energy = _factor(document[ENERGY], name, ENERGY, problems) or 1.0
    overlay = Overlay(
        file=name,
        name=title,
        probability=math.nan if probability is None else probability,
        fields=fields,
        horizon=horizon,
        capex_multipliers=multipliers[CAPEX],
        throughput_multipliers=multipliers[THROUGHPUT],
        energy_price_multiplier=energy,
    )
    return overlay, problems


def _name(value: object, file: str, problems: ProblemList) -> str:
    """A scenario name: it names a Dagster partition and a file of the warehouse, so letters,
    digits, `.`, `_`, `-` and spaces, up to 64 characters, beginning with a letter or digit."""
    text = "" if isinstance(value, dict | list | bool) or value is None else str(value).strip()
    if not NAME.fullmatch(text):
        problems.add(
            file,
            f"expected a scenario name (letters, digits, '.', '_', '-' and spaces, up to 64 "
            f"characters, beginning with a letter or digit), got '{shown(value)}'",
            field="name",
        )
        return Path(file).stem
    return text


def _factor(
    value: object,
    file: str,
    where: str,
    problems: ProblemList,
    maximum: float = MAX_MULTIPLIER,
    why: str = "a factor",
) -> float | None:
    """A number > 0 and <= `maximum`; else None, with a problem naming `where`."""
    if value is None:
        problems.add(file, f"missing value (a number > 0 and <= {maximum:g})", field=where)
        return None
    number = None
    if not isinstance(value, bool | dict | list):
        try:
            number = float(str(value))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        problems.add(
            file, f"expected a number > 0 and <= {maximum:g}, got '{shown(value)}'", field=where
        )
        return None
    if not 0 < number <= maximum:
        problems.add(
            file,
            f"{number:g} is out of range (must be > 0 and <= {maximum:g}: {why})",
            field=where,
        )
        return None
    return number


def _multipliers(value: object, file: str, key: str, problems: ProblemList) -> dict[str, float]:
    """A mapping of skus or accelerators to factors; what is bad, a problem and left out."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(
            file,
            f"expected a mapping of skus or accelerators to factors ({MULTIPLIER_RANGE}), got "
            f"'{shown(value)}'",
            field=key,
        )
        return {}
    factors = {}
    for name, factor in value.items():
        number = _factor(factor, file, f"{key}.{name}", problems)
        if number is not None:
            factors[str(name)] = number
    return factors


def _horizon(value: object, file: str, problems: ProblemList) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(
            file,
            f"expected a mapping of {', '.join(HORIZON_OVERRIDES)}, got '{shown(value)}'",
            field=HORIZON,
        )
        return {}
    fields = {}
    for key, item in value.items():
        where = f"{HORIZON}.{key}"
        if key in ("start_year", "years"):
            problems.add(
                file,
                f"the horizon's years are {SCENARIO_FILE}'s: every scenario plans the same years "
                f"(a scenario may set {', '.join(HORIZON_OVERRIDES)})",
                field=where,
            )
        elif key not in HORIZON_OVERRIDES:
            problems.add(
                file, f"unknown field (known: {', '.join(HORIZON_OVERRIDES)})", field=where
            )
        elif key in PER_YEAR:
            items = item if isinstance(item, list) else [item]
            if not items or any(
                isinstance(i, dict | list | bool) or i is None or ";" in str(i) for i in items
            ):
                problems.add(
                    file,
                    f"expected a number or a list of numbers, got '{shown(item)}'",
                    field=where,
                )
            else:
                fields[key] = item
        elif isinstance(item, dict | list):
            problems.add(file, f"expected a single value, got '{shown(item)}'", field=where)
        else:
            fields[key] = item
    return fields


def _check_names(overlays: list[Overlay], problems: ProblemList) -> None:
    first: dict[str, str] = {}
    for overlay in overlays:
        if overlay.name in first:
            problems.add(
                overlay.file,
                f"scenario name '{overlay.name}' is also that of {first[overlay.name]}: names "
                "are unique",
                field="name",
            )
        else:
            first[overlay.name] = overlay.file


def overlay_problems(overlay: Overlay, tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    """What is wrong with `overlay` against the tables given (`scenario`, `hardware`,
    `tariffs`): its fields applied to the scenario, its tariff, its multipliers' names."""
    problems = ProblemList()
    if "scenario" in tables:
        try:
            scenario = overridden_scenario(tables["scenario"], overlay)
        except InputError as error:
            problems.extend(error.problems)
        else:
            tariff = scenario["tariff"][0]
            if "tariff" in overlay.fields and "tariffs" in tables:
                known = tables["tariffs"]["tariff_id"].to_list()
                if tariff not in known:
                    problems.add(
                        overlay.file,
                        f"tariff '{tariff}' is not in tariffs/ (known: {', '.join(known)})",
                        field="tariff",
                    )
    if "hardware" in tables:
        skus = tables["hardware"]["sku"].to_list()
        accelerators = list(dict.fromkeys(tables["hardware"]["accelerator"].to_list()))
        for key in MULTIPLIERS:
            for name in getattr(overlay, key):
                if name not in skus and accelerator_key(name) not in accelerators:
                    problems.add(
                        overlay.file,
                        f"'{name}' is neither a sku nor an accelerator of hardware/ (skus: "
                        f"{', '.join(skus)}; accelerators: {', '.join(accelerators)})",
                        field=f"{key}.{name}",
                    )
    return problems


def overridden_scenario(scenario: pl.DataFrame, overlay: Overlay) -> pl.DataFrame:
    """The canonical scenario row with the overlay's fields set, read again through the
    scenario table's checks; problems name the overlay's file and YAML field."""
    row = scenario.row(0, named=True)
    problems = ProblemList()
    years = row["horizon_years"]
    if overlay.horizon and years is None:
        problems.add(
            overlay.file,
            f"a horizon override needs a horizon in {SCENARIO_FILE} (horizon: start_year, years)",
            field=HORIZON,
        )
    if "budget_mw" in overlay.fields and row["horizon_budget_mw"] is not None:
        problems.add(
            overlay.file,
            f"{SCENARIO_FILE}'s horizon gives budget_mw per year, which a plan's years use: set "
            "horizon.budget_mw instead",
            field="budget_mw",
        )
    record = {column: _as_text(value) for column, value in row.items() if column in SCENARIO.schema}
    record |= {key: _as_text(value) for key, value in overlay.fields.items()}
    for key, value in overlay.horizon.items():
        column = HORIZON_FIELDS[key]
        if key in PER_YEAR and years is not None:
            values = value if isinstance(value, list) else [value] * years
            if len(values) != years:
                problems.add(
                    overlay.file,
                    f"has {len(values)} values, horizon.years is {years} (give one per year, or "
                    "one number for every year)",
                    field=f"{HORIZON}.{key}",
                )
                continue
            record[column] = ";".join(str(v) for v in values)
        else:
            record[column] = _as_text(value)
    overridden: pl.DataFrame | None = None
    try:
        overridden = read_records([record], SCENARIO, overlay.file)
    except InputError as error:
        problems.extend(
            Problem(overlay.file, p.message, field=HORIZON_COLUMNS.get(p.field or "", p.field))
            for p in error.problems
        )
    problems.raise_if_any()
    assert overridden is not None  # else a problem was raised
    return overridden


def _as_text(value: object) -> str | None:
    """A scenario value as the text of a cell (a list as `;`-separated text)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def multiplier(factors: Mapping[str, float], sku: str, accelerator: str) -> float:
    """The factor of a system: its sku's, else its accelerator's (a key compared as an
    accelerator key), else 1."""
    if sku in factors:
        return factors[sku]
    for name, factor in factors.items():
        if accelerator_key(name) == accelerator:
            return factor
    return 1.0
