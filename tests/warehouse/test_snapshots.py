"""Ingest is atomic per run: the tables a reader sees are all of one run's snapshot, never a mix.

Two `tokenplan ingest` processes at once, a `kill -9` anywhere in one, a failed ingest, a
run of one source: each leaves `snapshots/CURRENT` naming a complete snapshot whose tables
are all of one input folder (A or B, which differ in a number of every source). A re-plan
records the snapshot its tables came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from conftest import DATASETS, REPO, processes_using

from pipelines.cli.run_job import run_job
from pipelines.contract.errors import InputError
from pipelines.contract.schema import TABLES
from pipelines.definitions import build_defs
from pipelines.ingest.sources import read_inputs
from pipelines.warehouse import snapshots

CHANGES = {  # one number of every source raised by 1 %: folder B
    "hardware/price_sheet.csv": "node_capex_usd",
    "benchmarks/published.csv": "tokens_per_s_per_gpu",
    "cooling.csv": "capex_usd_per_kw_it",
    "power.csv": "capex_usd_per_kw_it",
    "tariffs/eia_state_industrial.csv": "energy_usd_per_kwh",
}
DEFAULT_PHASES = (5.5, 7.0, 8.0)
"""Seconds from the start of two ingests at once to the first staged table, to the last commit,
to the end (measured by the concurrency test; these when the kill test runs alone)."""


def make_b(folder: Path) -> Path:
    shutil.copytree(DATASETS, folder)
    for file, column in CHANGES.items():
        frame = pl.read_csv(folder / file, infer_schema=False)
        raised = pl.when(pl.int_range(pl.len()) == 0).then(pl.col(column).cast(pl.Float64) * 1.01)
        frame.with_columns(
            raised.otherwise(pl.col(column).cast(pl.Float64)).alias(column)
        ).write_csv(folder / file)
    scenario = folder / "scenario.yaml"
    text, budget = re.subn(
        r"^budget_mw: *([0-9.]+)",
        lambda m: f"budget_mw: {float(m[1]) + 5:g}",
        scenario.read_text(),
        flags=re.MULTILINE,
    )
    assert budget == 1
    scenario.write_text(text)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Input folders A (the bundled data) and B, their tables, and a warehouse holding a snapshot
    of A."""
    root = tmp_path_factory.mktemp("snapshots")
    a = root / "A"
    shutil.copytree(DATASETS, a)
    b = make_b(root / "B")
    tables = {"A": read_inputs(a), "B": read_inputs(b)}
    differ = {name for name in TABLES if not tables["A"][name].equals(tables["B"][name])}
    assert differ == {
        "hardware",
        "benchmarks",
        "cooling",
        "power",
        "tariff_energy_rates",
        "scenario",
    }
    warehouse_a = root / "warehouse_a"
    result = run_job("ingest_only", a, warehouse_a)
    assert result.snapshot_id == snapshots.current_id(warehouse_a)
    return {
        "A": a,
        "B": b,
        "tables": tables,
        "warehouse_a": warehouse_a,
        "root": root,
        "phases": [],
    }


def which(warehouse: Path, tables: dict) -> str:
    """'A' or 'B': the folder every table of the current snapshot was read from; fails on a mix."""
    snapshot_id, current = snapshots.current_tables(warehouse)
    assert set(current) == set(TABLES), snapshot_id
    matches = [
        name for name in ("A", "B") if all(current[t].equals(tables[name][t]) for t in TABLES)
    ]
    assert matches, f"snapshot {snapshot_id} mixes tables of A and B"
    manifest = snapshots.manifest(warehouse, snapshot_id)
    for name, entry in manifest["tables"].items():  # the manifest says what is in the folder
        assert current[name].height == entry["rows"], name
    return matches[0]


def files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def start_ingest(data: Path, warehouse: Path, home: Path) -> subprocess.Popen:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "yes"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "ingest",
            "--data",
            str(data),
            "--warehouse",
            str(warehouse),
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def kill(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


@pytest.mark.parametrize("homes", ["one home", "a home each"])
def test_two_ingests_at_once_leave_all_of_one(homes: str, folders: dict, tmp_path: Path):
    warehouse = tmp_path / "warehouse"
    shared = folders["root"] / "shared_home"
    started = time.monotonic()
    processes = [
        start_ingest(
            folders[name],
            warehouse,
            tmp_path / f"home_{name}" if homes == "a home each" else shared,
        )
        for name in ("A", "B")
    ]
    staged = committed = None  # when the first table was staged, when the last commit was seen
    while any(p.poll() is None for p in processes) and time.monotonic() < started + 120:
        if staged is None and list((warehouse / "snapshots" / ".staging").glob("*/*.parquet")):
            staged = time.monotonic() - started
        if len(list((warehouse / "snapshots").glob("2*"))) == 2 and committed is None:
            committed = time.monotonic() - started
        time.sleep(0.02)
    outputs = [p.communicate(timeout=10)[0].decode() for p in processes]
    if staged is not None and committed is not None:
        folders["phases"].append((staged, committed, time.monotonic() - started))
    assert [p.returncode for p in processes] == [0, 0], outputs
    made = [
        line.split()[1]
        for out in outputs
        for line in out.splitlines()
        if line.startswith("snapshot ")
    ]
    assert len(set(made)) == 2

    # Each made a snapshot; the later one is current and was built on the earlier: none was lost.
    first, last = sorted(made)
    assert snapshots.current_id(warehouse) == last
    assert snapshots.manifest(warehouse, last)["previous"] == first
    winner = which(warehouse, folders["tables"])
    assert snapshots.manifest(warehouse, last)["run_id"] in outputs[("A", "B").index(winner)]
    assert not list((warehouse / "snapshots" / ".staging").iterdir())
    for home in {shared} if homes == "one home" else {tmp_path / "home_A", tmp_path / "home_B"}:
        with dg.DagsterInstance.from_config(
            str(home)
        ) as instance:  # set up by two processes, it still opens
            assert instance.get_runs(limit=1)


def test_commits_from_many_threads_serialize_and_none_is_lost(folders: dict, tmp_path: Path):
    """The commit alone, many times over: every commit is one snapshot, each built on the one
    before."""
    warehouse = tmp_path / "warehouse"
    errors = []

    def ingest(name: str, rounds: int) -> None:
        try:
            for i in range(rounds):
                run_id = f"{name}{i:03d}-run"
                for table, frame in folders["tables"][name].items():
                    snapshots.stage(warehouse, run_id, table, frame, {})
                snapshots.commit(warehouse, run_id)
                snapshots.discard(warehouse, run_id)  # the run ended (`run_job` does this)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=ingest, args=(name, 6)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    which(warehouse, folders["tables"])
    chain, snapshot_id = [], snapshots.current_id(warehouse)
    while snapshot_id is not None and snapshots.snapshot_dir(warehouse, snapshot_id).exists():
        chain.append(snapshot_id)
        snapshot_id = snapshots.manifest(warehouse, snapshot_id)["previous"]
    assert (
        len(chain) == snapshots.KEEP
    )  # the newest five, each the previous of the next; the rest pruned
    assert len({snapshots.manifest(warehouse, s)["run_id"] for s in chain}) == snapshots.KEEP


def test_kill_9_anywhere_leaves_all_of_a_or_all_of_b(folders: dict, tmp_path: Path):
    """`tokenplan ingest --data B` over a snapshot of A, killed (with its process group) after 8
    delays from 0 to past the end: one while Python starts, five from the first staged table to
    just past the commit (as the concurrency test measured them), one at the end; two at a time,
    as they were measured."""
    staged, committed, _ = max(folders["phases"] or [DEFAULT_PHASES])
    step = (committed - staged + 0.4) / 5
    delays = [0.0, staged / 2, *(staged - 0.2 + i * step for i in range(6))]
    delays[-1] = None  # no kill: it finishes
    home = folders["root"] / "shared_home"
    seen = []
    for pair in range(len(delays) // 2):
        warehouses = [tmp_path / f"warehouse_{pair}_{i}" for i in range(2)]
        processes = []
        for warehouse in warehouses:
            shutil.copytree(folders["warehouse_a"], warehouse)
            processes.append(start_ingest(folders["B"], warehouse, home))
        started = time.monotonic()
        for process, delay in zip(processes, delays[2 * pair : 2 * pair + 2], strict=True):
            if delay is None:
                output = process.communicate(timeout=120)[0].decode()
                assert process.returncode == 0, output
            time.sleep(max(0.0, started + (delay or 0) - time.monotonic()))
            kill(process)
        for warehouse in warehouses:
            seen.append(which(warehouse, folders["tables"]))
            snapshot_id = snapshots.current_id(warehouse)
            entries = snapshots.manifest(warehouse, snapshot_id)["tables"]
            assert set(entries) == set(TABLES)
            with snapshots.lock(warehouse).acquire(timeout=5):  # a killed commit holds no lock
                pass
    assert seen[0] == "A" and seen[-1] == "B", seen
    assert not processes_using(home)


def test_a_failed_ingest_changes_nothing(folders: dict, tmp_path: Path, data: Path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    sheet = data / "hardware" / "price_sheet.csv"
    sheet.write_text(sheet.read_text().replace(",225000,10.2,", ",two hundred k,10.2,", 1))
    before = files(warehouse)
    current = snapshots.current_id(warehouse)
    with pytest.raises(InputError, match="node_capex_usd"):
        run_job(
            "ingest_only", data, warehouse
        )  # straight through Dagster: the other sources stage theirs
    assert snapshots.current_id(warehouse) == current
    assert files(warehouse) == before  # CURRENT, the snapshot's files, and no staging left behind


def test_a_run_of_one_source_keeps_the_other_tables(folders: dict, tmp_path: Path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    before = snapshots.current_id(warehouse)
    job = build_defs(folders["B"], warehouse).resolve_job_def("ingest_only")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("hardware"), dg.AssetKey("tables_snapshot")],
        )
    assert result.success
    snapshot_id, tables = snapshots.current_tables(warehouse)
    assert snapshot_id != before
    assert tables["hardware"].equals(folders["tables"]["B"]["hardware"])
    for name in set(TABLES) - {"hardware"}:
        assert tables[name].equals(folders["tables"]["A"][name]), name
        assert os.path.samefile(
            snapshots.table_path(warehouse, snapshot_id, name),
            snapshots.table_path(warehouse, before, name),
        )  # linked, not copied
    manifest = snapshots.manifest(warehouse, snapshot_id)
    assert manifest["previous"] == before
    assert {n for n, e in manifest["tables"].items() if e["run_id"] == result.run_id} == {
        "hardware"
    }
    assert set(manifest["tables"]["hardware"]["sources"]) == {
        "hardware/price_sheet.csv",
        "hardware/amd_quote.xlsx",
    }


def test_a_run_without_the_snapshot_step_commits_each_table_it_writes(
    folders: dict, tmp_path: Path
):
    """Materializing only `hardware` (from the UI, say): nothing is left staged and lost."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    before = snapshots.current_id(warehouse)
    job = build_defs(folders["B"], warehouse).resolve_job_def("ingest_only")
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("hardware")]
        ).success
    snapshot_id, tables = snapshots.current_tables(warehouse)
    assert snapshots.manifest(warehouse, snapshot_id)["previous"] == before
    assert tables["hardware"].equals(folders["tables"]["B"]["hardware"])
    assert all(
        tables[name].equals(folders["tables"]["A"][name]) for name in set(TABLES) - {"hardware"}
    )


def test_a_replan_records_the_snapshot_it_made_and_read(folders: dict, tmp_path: Path):
    """As the input-folder sensor runs it: a changed price sheet, its ingest asset and everything
    downstream; the commit comes before the design, so the plan is of the new snapshot."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    before = snapshots.current_id(warehouse)
    defs = build_defs(folders["B"], warehouse)
    graph = defs.resolve_asset_graph()
    plan_and_upstream = dg.AssetSelection.assets("build_plan").upstream().resolve(graph)
    selection = dg.AssetSelection.assets("hardware").downstream().resolve(graph) & plan_and_upstream
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("replan").execute_in_process(
            instance=instance, asset_selection=list(selection)
        )
    assert result.success
    plan = result.output_for_node("build_plan")
    current = snapshots.current_id(warehouse)
    assert current != before
    assert plan["inputs_snapshot"] == current
    assert json.loads((warehouse / "design_space.json").read_text())["inputs_snapshot"] == current
    sheet = folders["B"] / "hardware" / "price_sheet.csv"
    assert {f["file"]: f["sha256"] for f in plan["inputs"]}[
        "hardware/price_sheet.csv"
    ] == hashlib.sha256(sheet.read_bytes()).hexdigest()


def test_a_warehouse_from_before_snapshots_has_no_tables_until_the_next_ingest(
    folders: dict, tmp_path: Path
):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    for name, frame in folders["tables"]["B"].items():  # the old layout: warehouse/<table>.parquet
        frame.write_parquet(warehouse / f"{name}.parquet")
    assert snapshots.current_tables(warehouse) == (None, {})
    defs = build_defs(folders["A"], warehouse)
    with dg.instance_for_test() as instance:  # the design reads no table of the old layout
        result = defs.resolve_job_def("replan").execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("design_space")], raise_on_error=False
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "run `tokenplan ingest` first" in str(failure.step_failure_data.error)
    result = run_job("ingest_only", folders["A"], warehouse)
    assert which(warehouse, folders["tables"]) == "A"
    assert result.snapshot_id == snapshots.current_id(warehouse)
    assert pl.read_parquet(warehouse / "hardware.parquet").equals(
        folders["tables"]["B"]["hardware"]
    )  # left alone


def test_a_run_reads_the_snapshot_it_pinned_until_it_commits_its_own(folders: dict, tmp_path: Path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    a = snapshots.current_id(warehouse)
    assert snapshots.pinned_id(warehouse, "reader") == a
    snapshots.stage(warehouse, "writer", "hardware", folders["tables"]["B"]["hardware"], {})
    assert snapshots.staged_or_pinned(warehouse, "writer", "hardware").equals(
        folders["tables"]["B"]["hardware"]
    )
    b = snapshots.commit(warehouse, "writer").snapshot_id
    assert not snapshots.staging_dir(warehouse, "writer").exists()
    assert snapshots.current_id(warehouse) == b != a
    assert snapshots.pinned_id(warehouse, "reader") == a  # another run's commit does not move a pin
    assert snapshots.pinned_id(warehouse, "writer") == b  # a run reads what it committed
    assert snapshots.staged_or_pinned(warehouse, "reader", "hardware").equals(
        folders["tables"]["A"]["hardware"]
    )
    assert snapshots.staged_or_pinned(warehouse, "writer", "hardware").equals(
        folders["tables"]["B"]["hardware"]
    )

    # Pruning keeps the newest snapshots and any a live run pinned; stale staging and pins go.
    snapshots.discard(warehouse, "writer")
    for i in range(snapshots.KEEP + 1):
        snapshots.stage(warehouse, f"later{i}", "cooling", folders["tables"]["B"]["cooling"], {})
        snapshots.commit(warehouse, f"later{i}")
        snapshots.discard(warehouse, f"later{i}")
    kept = {
        p.name
        for p in (warehouse / "snapshots").iterdir()
        if p.is_dir() and not p.name.startswith(".")
    }
    assert a in kept and b not in kept and len(kept) == snapshots.KEEP + 1
    stale = snapshots.staging_dir(warehouse, "dead-run")
    stale.mkdir(parents=True)
    old = time.time() - snapshots.STALE_S - 60
    os.utime(stale, (old, old))
    os.utime(warehouse / "snapshots" / ".runs" / "reader", (old, old))
    with snapshots.lock(warehouse):
        snapshots.prune(warehouse)
    assert not stale.exists()
    assert a not in {p.name for p in (warehouse / "snapshots").iterdir()}


def test_a_commit_that_fails_at_any_point_leaves_a_complete_current_snapshot(
    folders: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The commit stopped at each of its flushes to disk (as by a full disk): CURRENT names the old
    snapshot or the new one, complete either way; the next commit clears what was left."""
    # every file, the folder, the snapshots folder before and after the switch
    flushes = len(TABLES) + 4
    for stop_at in range(1, flushes + 1):
        warehouse = tmp_path / f"warehouse_{stop_at}"
        shutil.copytree(folders["warehouse_a"], warehouse)
        for table, frame in folders["tables"]["B"].items():
            snapshots.stage(warehouse, "b-run", table, frame, {})
        calls = []
        real_fsync = snapshots._fsync

        def failing_fsync(
            path: Path, calls: list = calls, stop_at: int = stop_at, real_fsync=real_fsync
        ) -> None:
            calls.append(path)
            if len(calls) == stop_at:
                raise OSError(28, "No space left on device")
            real_fsync(path)

        monkeypatch.setattr(snapshots, "_fsync", failing_fsync)
        with pytest.raises(OSError):
            snapshots.commit(warehouse, "b-run")
        monkeypatch.setattr(snapshots, "_fsync", real_fsync)
        assert which(warehouse, folders["tables"]) == ("A" if stop_at < flushes else "B"), stop_at
        snapshots.commit(
            warehouse, "b-run"
        )  # the staged tables are still there: the retry commits them
        assert which(warehouse, folders["tables"]) == "B"
        assert not list((warehouse / "snapshots").glob(".building-*"))


def test_a_reexecution_commits_what_its_failed_parent_run_staged(folders: dict, tmp_path: Path):
    """Re-executed from failure, a run ingests only the failed source; the sources that
    succeeded in the parent run are taken from the parent's staging folder."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(folders["warehouse_a"], warehouse)
    b = folders["tables"]["B"]
    for table in set(TABLES) - {"hardware"}:
        snapshots.stage(warehouse, "parent", table, b[table], {})
    snapshots.stage(warehouse, "child", "hardware", b["hardware"], {})
    commit = snapshots.commit(warehouse, "child", ancestors=["parent"])
    assert which(warehouse, folders["tables"]) == "B"
    assert {name: e["run_id"] for name, e in commit.manifest["tables"].items()} == {
        name: "child" if name == "hardware" else "parent" for name in TABLES
    }
