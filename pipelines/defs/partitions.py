"""The scenarios of a multi-year plan as Dagster partitions.

One partition per row of the current snapshot's `scenarios` table (`scenarios/*.yaml`): the set
is data, not code, so it is a dynamic partitions definition that `tables_snapshot` keeps equal
to the snapshot it makes current (`sync_scenario_partitions`). A scenario file added or removed
becomes a partition added or removed at the next ingest, without reloading the code location.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.warehouse import snapshots

SCENARIO_PARTITIONS = dg.DynamicPartitionsDefinition(name="scenarios")
SCENARIOS_GROUP = "scenarios"
"""The asset group of the scenario runs (`pipelines.defs.scenarios.assets`): partitioned, or
reading every partition, so `replan` and the input-folder sensor leave them to the automation
condition sensor, which requests each partition."""


def snapshot_scenarios(warehouse: Path, snapshot_id: str | None) -> list[str]:
    """The scenario names of a snapshot, in file order (none when it has no `scenarios` table)."""
    if "scenarios" not in snapshots.manifest(warehouse, snapshot_id)["tables"]:
        return []
    frame = snapshots.read_table(warehouse, snapshot_id, "scenarios")
    assert isinstance(frame, pl.DataFrame)  # read eagerly
    return frame["name"].to_list()


def sync_scenario_partitions(
    instance: dg.DagsterInstance, names: list[str]
) -> tuple[list[str], list[str]]:
    """Make the scenario partitions `names`; the partitions (added, removed)."""
    partition_set = SCENARIO_PARTITIONS.name
    assert partition_set is not None
    existing = instance.get_dynamic_partitions(partition_set)
    added = [n for n in names if n not in existing]
    removed = [n for n in existing if n not in names]
    if added:
        instance.add_dynamic_partitions(partition_set, added)
    for name in removed:
        instance.delete_dynamic_partition(partition_set, name)
    return added, removed
