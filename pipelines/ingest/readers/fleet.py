"""The installed fleet of a multi-year plan: `fleet.csv` into the `fleet` table.

Each row is nodes the site already owns, on a cooling option and a power design, in service
since `installed_year`:

```
sku,cooling_id,power_id,nodes,installed_year
HGX H100 8-GPU,air,ac415,120,2024
GB200 NVL72,dlc,ac415,8,2025
```

The file is optional: without it the table is empty. With it, scenario.yaml needs a
`horizon:` (the fleet is sunk capital of a multi-year plan), and each row is checked
against the other inputs: `sku` a bought row of the price sheets, `cooling_id` an option
whose kind the system supports, `power_id` a design whose kind the system takes, and
`installed_year` not after the horizon's `start_year`. (sku, cooling_id, power_id,
installed_year) is unique. Nodes already past their lifetime at the start are no error:
the plan leaves them out with a note (`optimizer.design.plan_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import FLEET
from pipelines.ingest.folder import find_inputs
from pipelines.ingest.readers.facility import COOLING_FILE, POWER_FILE
from pipelines.ingest.readers.scenario import SCENARIO_FILE
from pipelines.ingest.source import Source, Tables
from pipelines.ingest.tabular import HEADER_ROWS, read_table_file

FLEET_FILE = "fleet.csv"


def read_fleet(data_dir: Path) -> pl.DataFrame:
    """`fleet.csv` in input order; empty (with the table's schema) when the file is absent."""
    files = find_inputs(data_dir, (FLEET_FILE,))
    if not files:
        return FLEET.empty()
    return read_table_file(files[0], FLEET_FILE, FLEET)


def check_fleet(fleet: pl.DataFrame, upstream: Mapping[str, pl.DataFrame]) -> None:
    """The fleet against the tables it names, each of them read without problems: a horizon
    in the scenario, bought systems, cooling and power they take, installed by the start."""
    if fleet.height == 0:
        return
    problems = ProblemList()
    scenario = upstream.get("scenario")
    if scenario is not None and scenario["horizon_start_year"][0] is None:
        raise InputError(
            [
                Problem(
                    FLEET_FILE,
                    f"an installed fleet needs a horizon in {SCENARIO_FILE} (horizon: start_year, "
                    "years): it is part of a multi-year plan",
                )
            ]
        )
    start = None if scenario is None else scenario["horizon_start_year"][0]
    systems = _by_key(upstream.get("hardware"), "sku")
    coolings = _by_key(upstream.get("cooling"), "cooling_id")
    powers = _by_key(upstream.get("power"), "power_id")
    for line, row in enumerate(fleet.iter_rows(named=True), start=HEADER_ROWS + 1):
        system = None if systems is None else _system(row, systems, line, problems)
        if coolings is not None:
            wording = ("cooling", "support")
            args = ("cooling_id", coolings, COOLING_FILE, "cooling_kinds", wording)
            _check_design(row, system, *args, problems, line)
        if powers is not None:
            wording = ("power design", "take")
            args = ("power_id", powers, POWER_FILE, "power_kinds", wording)
            _check_design(row, system, *args, problems, line)
        if start is not None and row["installed_year"] > start:
            problems.add(
                FLEET_FILE,
                f"installed in {row['installed_year']}, after the horizon's start_year {start}: "
                "the fleet is what the site has when the plan starts",
                row=line,
                field="installed_year",
            )
    problems.raise_if_any()


def _by_key(table: pl.DataFrame | None, key: str) -> dict[str, dict] | None:
    """The rows of an upstream table by key; None when it was not read."""
    return None if table is None else {row[key]: row for row in table.iter_rows(named=True)}


def _system(row: dict, systems: dict[str, dict], line: int, problems: ProblemList) -> dict | None:
    """The price-sheet row of a fleet row's sku, when it is a bought system; else a problem."""
    sku = row["sku"]
    system = systems.get(sku)
    bought = sorted(s for s, r in systems.items() if r["node_capex_usd"] is not None)
    if system is None:
        problems.add(
            FLEET_FILE,
            f"sku '{sku}' is not in hardware/ (bought systems: {', '.join(bought) or 'none'})",
            row=line,
            field="sku",
        )
        return None
    if system["node_capex_usd"] is None:
        problems.add(
            FLEET_FILE,
            f"sku '{sku}' is rented (no node_capex_usd in {system['source_file']}): the fleet is "
            "systems the site owns",
            row=line,
            field="sku",
        )
        return None
    return system


def _check_design(
    row: dict,
    system: dict | None,
    field: str,
    options: dict[str, dict],
    source: str,
    kinds: str,
    wording: tuple[str, str],
    problems: ProblemList,
    line: int,
) -> None:
    """`row[field]` (cooling_id or power_id) names a row of `options` (from `source`) whose
    `kind` the system lists in its `kinds` column; `wording`: what a row is called and what the
    system does with it ("cooling", "support")."""
    noun, verb = wording
    chosen = options.get(row[field])
    if chosen is None:
        problems.add(
            FLEET_FILE,
            f"{field} '{row[field]}' is not in {source} (known: {', '.join(sorted(options))})",
            row=line,
            field=field,
        )
    elif system is not None and chosen["kind"] not in system[kinds]:
        problems.add(
            FLEET_FILE,
            f"{noun} '{row[field]}' is {chosen['kind']}, which '{row['sku']}' does not {verb} "
            f"(its {kinds}: {', '.join(system[kinds])})",
            row=line,
            field=field,
        )


def _read_source(data_dir: Path, upstream: Mapping[str, pl.DataFrame]) -> Tables:
    fleet = read_fleet(data_dir)
    check_fleet(fleet, upstream)
    return {"fleet": fleet}


SOURCE = Source(
    name="fleet",
    patterns=(FLEET_FILE,),
    tables=("fleet",),
    read=_read_source,
    description="The installed fleet of a multi-year plan (optional): nodes the site already "
    "owns, with their cooling, power design and year installed.",
    upstream=("hardware", "cooling", "power", "scenario"),
    optional=True,
)
