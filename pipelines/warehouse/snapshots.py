"""The canonical tables as snapshots: a run's tables become visible together or not at all.

Layout, in the warehouse folder::

    snapshots/
      CURRENT                       the id of the current snapshot (one line, replaced atomically)
      <snapshot_id>/                every canonical table as `<table>.parquet`, and `manifest.json`
      .staging/<run_id>/            tables a run wrote, waiting for its commit
      .runs/<run_id>                the snapshot a run reads (pinned at its first read)
      .lock                         held while a commit builds a snapshot and switches CURRENT

A run's ingest steps write their tables to its staging folder. Its `tables_snapshot` step
then commits: under the lock it builds a new folder holding the current snapshot's tables
(hard links) with this run's staged tables over them, writes `manifest.json`, flushes
everything to disk, renames the folder into place and only then replaces `CURRENT`. A
reader follows `CURRENT` once and sees one complete snapshot; a run killed or failed at
any point leaves `CURRENT` at the last complete snapshot. Commits of concurrent runs wait
for each other, and each builds on the snapshot the one before it made, so none is lost.

Snapshot ids are the UTC time of the commit and the run id's first 8 characters
(`20261123T071502123456Z-3f9a1c2b`), so they sort by time. Files in a snapshot are never
changed once it is in place; old snapshots are pruned (the newest `KEEP`, the current one
and any a run pinned in the last `STALE_S` seconds are kept).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from filelock import FileLock

from pipelines.contract.schema import TABLES
from pipelines.warehouse.files import write_atomically

SNAPSHOTS = "snapshots"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STAGING = ".staging"
RUNS = ".runs"
LOCK = ".lock"
BUILDING = ".building-"
SOURCES_SUFFIX = ".sources.json"
"""Beside a staged table: the input files (name → SHA-256) it was read from."""
KEEP = 5
"""Snapshots kept besides the current one and those runs still read."""
STALE_S = 24 * 3600.0
"""Age after which a staging folder or a run's pin is left-over from a run that ended."""
LOCK_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Commit:
    snapshot_id: str | None
    """The current snapshot after the commit (None: there are still no tables)."""
    manifest: dict
    created: bool
    """False when the run had nothing staged, so CURRENT stayed as it was."""


def root(warehouse: Path) -> Path:
    return Path(warehouse) / SNAPSHOTS


def staging_dir(warehouse: Path, run_id: str) -> Path:
    return root(warehouse) / STAGING / run_id


def staged_path(warehouse: Path, run_id: str, table: str) -> Path:
    return staging_dir(warehouse, run_id) / f"{table}.parquet"


def snapshot_dir(warehouse: Path, snapshot_id: str) -> Path:
    return root(warehouse) / snapshot_id


def table_path(warehouse: Path, snapshot_id: str, table: str) -> Path:
    return snapshot_dir(warehouse, snapshot_id) / f"{table}.parquet"


def current_id(warehouse: Path) -> str | None:
    """The current snapshot's id; None before the first ingest (a warehouse from before
    snapshots, with `warehouse/<table>.parquet` files, has none either)."""
    try:
        return (root(warehouse) / CURRENT).read_text().strip() or None
    except FileNotFoundError:
        return None


def manifest(warehouse: Path, snapshot_id: str | None) -> dict:
    """A snapshot's manifest; an empty one for None (no snapshot yet)."""
    if snapshot_id is None:
        return {"snapshot_id": None, "tables": {}}
    return json.loads((snapshot_dir(warehouse, snapshot_id) / MANIFEST).read_text())


def table_file(warehouse: Path, snapshot_id: str | None, table: str) -> Path:
    """The Parquet file of one table of a snapshot; FileNotFoundError if the snapshot does not hold
    it."""
    if snapshot_id is None:
        raise FileNotFoundError(f"no tables in {root(warehouse)} yet: run `tokenplan ingest` first")
    path = table_path(warehouse, snapshot_id, table)
    if not path.exists():
        raise FileNotFoundError(f"snapshot {snapshot_id} has no table '{table}' ({path})")
    return path


def read_table(
    warehouse: Path, snapshot_id: str | None, table: str, lazy: bool = False
) -> pl.DataFrame | pl.LazyFrame:
    """One table of a snapshot, read or (`lazy`) scanned."""
    path = table_file(warehouse, snapshot_id, table)
    return pl.scan_parquet(path) if lazy else pl.read_parquet(path)


def current_tables(warehouse: Path) -> tuple[str | None, dict[str, pl.DataFrame]]:
    """The current snapshot's id and every table in it; (None, {}) before the first ingest."""
    for attempt in range(3):
        snapshot_id = current_id(warehouse)
        try:
            tables = manifest(warehouse, snapshot_id)["tables"]
            return snapshot_id, {
                name: pl.read_parquet(table_file(warehouse, snapshot_id, name)) for name in tables
            }
        except (
            FileNotFoundError
        ):  # pruned between reading CURRENT and the files: read CURRENT again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def snapshot_sources(warehouse: Path, snapshot_id: str | None) -> dict[str, str]:
    """Input file → SHA-256 of every file the snapshot's tables were read from."""
    files: dict[str, str] = {}
    for entry in manifest(warehouse, snapshot_id)["tables"].values():
        files |= entry.get("sources", {})
    return files


# Reading within a run ----------------------------------------------------------------------------


def pinned_id(warehouse: Path, run_id: str) -> str | None:
    """The snapshot run `run_id` reads: the first call in a run pins the current one, every
    later call (from any of the run's processes) gets the same, until the run commits its own."""
    pin = root(warehouse) / RUNS / run_id
    try:
        snapshot_id = pin.read_text().strip() or None
    except FileNotFoundError:
        snapshot_id = current_id(warehouse)
        if not _create_with(pin, snapshot_id or ""):  # another step pinned first: take its pin
            snapshot_id = pin.read_text().strip() or None
        return snapshot_id
    _touch(pin)  # a long run's pin is not pruned as stale
    return snapshot_id


def staged_or_pinned(
    warehouse: Path, run_id: str, table: str, lazy: bool = False
) -> pl.DataFrame | pl.LazyFrame:
    """A canonical table as run `run_id` sees it: what the run wrote itself if not yet
    committed, otherwise its pinned snapshot's."""
    try:
        frame = pl.read_parquet(staged_path(warehouse, run_id, table))
        return frame.lazy() if lazy else frame
    except FileNotFoundError:  # not written by this run, or committed (the pin was moved first)
        return read_table(warehouse, pinned_id(warehouse, run_id), table, lazy)


def stage(
    warehouse: Path, run_id: str, table: str, frame: pl.DataFrame, sources: Mapping[str, str]
) -> Path:
    """Write a run's table (and the input files it came from) to the run's staging folder."""
    path = staged_path(warehouse, run_id, table)
    write_atomically(
        path.with_name(table + SOURCES_SUFFIX),
        lambda tmp: Path(tmp).write_text(json.dumps(dict(sources), sort_keys=True)),
    )
    write_atomically(path, lambda tmp: frame.write_parquet(tmp))
    return path


def staged_tables(warehouse: Path, run_id: str) -> dict[str, Path]:
    """The canonical tables run `run_id` has staged (complete files only)."""
    folder = staging_dir(warehouse, run_id)
    return (
        {p.stem: p for p in sorted(folder.glob("*.parquet")) if p.stem in TABLES}
        if folder.is_dir()
        else {}
    )


def discard(warehouse: Path, run_id: str) -> None:
    """Forget a finished run: its staging folder and its pin."""
    shutil.rmtree(staging_dir(warehouse, run_id), ignore_errors=True)
    (root(warehouse) / RUNS / run_id).unlink(missing_ok=True)


# Committing --------------------------------------------------------------------------------------


def lock(warehouse: Path) -> FileLock:
    root(warehouse).mkdir(parents=True, exist_ok=True)
    return FileLock(root(warehouse) / LOCK, timeout=LOCK_TIMEOUT_S)


def commit(
    warehouse: Path, run_id: str, tables: Iterable[str] | None = None, ancestors: Iterable[str] = ()
) -> Commit:
    """Make the current snapshot plus run `run_id`'s staged tables (those of `tables`, or all)
    the new current snapshot, in one step; then pin the run to it and prune.

    `ancestors`: the runs a re-execution re-executes, parent first. Their staged tables (steps
    the re-execution did not run again) go in too, under the run's own.
    """
    warehouse = Path(warehouse)
    with lock(warehouse):
        staged: dict[str, Path] = {}
        for ancestor in reversed(list(ancestors)):
            staged |= staged_tables(warehouse, ancestor)
        staged |= staged_tables(warehouse, run_id)
        if tables is not None:
            staged = {name: path for name, path in staged.items() if name in set(tables)}
        base_id = current_id(warehouse)
        base = manifest(warehouse, base_id)
        if not staged:
            _pin(warehouse, run_id, base_id)
            return Commit(base_id, base, created=False)
        now = datetime.now(UTC)
        snapshot_id = f"{now:%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"
        while snapshot_dir(warehouse, snapshot_id).exists():
            snapshot_id += "x"
        building = Path(tempfile.mkdtemp(dir=root(warehouse), prefix=BUILDING))
        try:
            entries = {}
            for name, entry in base["tables"].items():
                if name not in staged:
                    _link_or_copy(
                        table_file(warehouse, base_id, name), building / f"{name}.parquet"
                    )
                    entries[name] = entry
            for name, path in staged.items():
                _link_or_copy(path, building / f"{name}.parquet")
                sources = path.with_name(name + SOURCES_SUFFIX)
                entries[name] = {
                    "rows": pl.scan_parquet(path).select(pl.len()).collect().item(),
                    "bytes": path.stat().st_size,
                    "run_id": path.parent.name,
                    "sources": json.loads(sources.read_text()) if sources.exists() else {},
                }
            document = {
                "snapshot_id": snapshot_id,
                "created_at": now.isoformat(timespec="microseconds"),
                "run_id": run_id,
                "previous": base_id,
                "tables": {name: entries[name] for name in TABLES if name in entries},
            }
            (building / MANIFEST).write_text(json.dumps(document, indent=2))
            for file in building.iterdir():
                _fsync(file)
            os.chmod(building, 0o755)  # mkdtemp makes the folder private
            _fsync(building)
            os.rename(building, snapshot_dir(warehouse, snapshot_id))
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _fsync(root(warehouse))
        _replace(root(warehouse) / CURRENT, snapshot_id + "\n")
        _fsync(root(warehouse))
        _pin(
            warehouse, run_id, snapshot_id
        )  # before the staged files go: a reader falls back to the pin
        if tables is None:
            shutil.rmtree(staging_dir(warehouse, run_id), ignore_errors=True)
        else:  # other steps of the run may be staging other tables meanwhile
            for name, path in staged.items():
                if path.parent.name == run_id:
                    path.with_name(name + SOURCES_SUFFIX).unlink(missing_ok=True)
                    path.unlink(missing_ok=True)
        prune(warehouse)
        return Commit(snapshot_id, document, created=True)


def prune(warehouse: Path, keep: int = KEEP, stale_s: float = STALE_S) -> list[Path]:
    """Remove old snapshots, folders of commits that died, and staging folders and pins of
    runs that ended long ago. Call with the lock held. Returns what was removed."""
    base = root(warehouse)
    now = time.time()
    removed: list[Path] = []
    pinned: set[str] = set()
    for kind in (STAGING, RUNS):
        for path in (base / kind).glob("*"):
            try:
                if now - path.stat().st_mtime > stale_s:
                    removed.append(path)
                elif kind == RUNS and path.is_file():
                    pinned.add(path.read_text().strip())
            except FileNotFoundError:  # a run forgot itself meanwhile
                continue
    snapshots = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    keep_ids = {p.name for p in snapshots[-keep:]} | {current_id(warehouse)} | pinned
    removed += [p for p in snapshots if p.name not in keep_ids]
    removed += list(base.glob(BUILDING + "*"))  # only a commit holding the lock builds: these died
    removed += list(base.glob(f".{CURRENT}.*.tmp"))
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def _pin(warehouse: Path, run_id: str, snapshot_id: str | None) -> None:
    _replace(root(warehouse) / RUNS / run_id, snapshot_id or "")


def _create_with(path: Path, text: str) -> bool:
    """Create `path` holding `text` unless it exists (atomically: nobody sees it empty)."""
    tmp = _synced_temporary(path, text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` through a synced temporary file and an atomic rename."""
    tmp = _synced_temporary(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _synced_temporary(path: Path, text: str) -> str:
    """A temporary file beside `path` holding `text`, flushed to disk and readable by all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
