"""Watching the input folder by content: which files changed, which sources they feed, when to act.

The input-folder sensor keeps in its cursor the SHA-256 of every input file as the last
run it requested read them. Each tick hashes the folder again. Files whose hash differs
(new, changed or removed) name the ingest sources to read again
(`pipelines.ingest.sources.SOURCES`). Modification times are never used: touching a file, or
copying the same bytes over it, triggers nothing.

A burst of changes (a planner copying several price sheets) becomes one run: a changed
folder is acted on only once its content has stayed the same for `settle_s` seconds,
measured across ticks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from pipelines.ingest.files import sha256
from pipelines.ingest.folder import relative_name, scan_inputs
from pipelines.ingest.source import Source
from pipelines.ingest.sources import SOURCES


def folder_hashes(data_dir: Path) -> dict[str, str]:
    """Every file some source reads: name relative to the input folder → SHA-256.

    A path the readers refuse (a directory named like an input, a link out of the folder)
    stands in as its problem, so it counts as a change and the run it requests fails in
    ingest with that problem, instead of the sensor failing every tick.
    """
    hashes: dict[str, str] = {}
    for source in SOURCES:
        files, problems = scan_inputs(data_dir, source.patterns)
        hashes |= {relative_name(data_dir, path): sha256(path) for path in files}
        hashes |= {problem.file: f"refused: {problem.message}" for problem in problems}
    return hashes


def changed_files(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Files added, removed or whose content differs between two listings."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def _matches(name: str, pattern: str) -> bool:
    """`name` (relative to the input folder) is one `pattern` globs: same depth, same shape."""
    path, glob = PurePosixPath(name), PurePosixPath(pattern)
    return len(path.parts) == len(glob.parts) and path.match(pattern)


def sources_reading(files: Iterable[str]) -> list[Source]:
    """The sources whose patterns match any of `files` (not one they exclude), in `SOURCES`
    order."""
    names = list(files)
    return [
        s
        for s in SOURCES
        if any(_matches(n, p) and n not in s.exclude for n in names for p in s.patterns)
    ]


@dataclass(frozen=True)
class Cursor:
    """What the sensor remembers between ticks (stored as JSON).

    `files` is the folder as the last requested run read it; `generation` counts the
    runs requested, so that going back to earlier content (A → B → A) re-plans rather
    than reusing A's run key; `pending` is a changed folder waiting to settle since
    `pending_since` (seconds since the epoch).
    """

    files: dict[str, str] = field(default_factory=dict)
    generation: int = 0
    pending: dict[str, str] | None = None
    pending_since: float | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "files": self.files,
                "generation": self.generation,
                "pending": self.pending,
                "pending_since": self.pending_since,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        data = json.loads(text)
        return cls(
            files=data["files"],
            generation=data.get("generation", 0),
            pending=data.get("pending"),
            pending_since=data.get("pending_since"),
        )

    @property
    def run_key(self) -> str:
        """The run key of the run requested with this cursor: a hash of the cursor itself."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Tick:
    """One evaluation: the cursor to store, the files that differ, whether to request a run, and
    why."""

    cursor: Cursor
    changed: list[str]
    request: bool
    reason: str


def next_tick(cursor: Cursor, current: Mapping[str, str], now: float, settle_s: float) -> Tick:
    """Compare the folder with the cursor and decide.

    Unchanged → nothing, and any pending change is forgotten. Changed → wait until the
    same content has been seen for `settle_s` seconds (0: act at once), then request one
    run and store the new listing, whatever that run's outcome: a bad file is requested
    once, and the next run comes when a file changes again.
    """
    current = dict(current)
    changed = changed_files(cursor.files, current)
    if not changed:
        return Tick(Cursor(cursor.files, cursor.generation), [], False, "no input file changed")
    count = f"{len(changed)} file{'s' * (len(changed) != 1)} changed ({', '.join(changed)})"
    if settle_s > 0:
        since = cursor.pending_since
        if cursor.pending != current or since is None:
            return Tick(
                replace(cursor, pending=current, pending_since=now),
                changed,
                False,
                f"{count}; waiting {settle_s:g} s for the folder to settle",
            )
        if now - since < settle_s:
            return Tick(
                cursor,
                changed,
                False,
                f"{count}; settling ({now - since:.0f} of {settle_s:g} s)",
            )
    return Tick(Cursor(current, cursor.generation + 1), changed, True, f"{count}: re-plan")
