"""Finding a table's input files in the data folder and reading them all, problems together.

Every reader finds its files through `find_inputs`, so every input gets the same checks:
a name matching an input pattern must be a regular file inside the data folder. A
directory named `x.csv`, a device or a pipe is refused, and so is a link that leads out
of the data folder (a planner's folder should not silently read `/etc/...` or another
project's files) unless `TOKENPLAN_FOLLOW_LINKS=1` says it may.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from pipelines.contract.errors import InputError, Problem, ProblemList, gather

T = TypeVar("T")

FOLLOW_LINKS_VARIABLE = "TOKENPLAN_FOLLOW_LINKS"


def find_inputs(data_dir: Path, patterns: Iterable[str], exclude: Iterable[str] = ()) -> list[Path]:
    """The paths matching `patterns` (globs relative to `data_dir`) but not named in `exclude`
    (names relative to `data_dir`), sorted; raises one `InputError` naming every match that is
    not a regular file inside the data folder."""
    files, problems = scan_inputs(data_dir, patterns, exclude)
    problems.raise_if_any()
    return files


def scan_inputs(
    data_dir: Path, patterns: Iterable[str], exclude: Iterable[str] = ()
) -> tuple[list[Path], ProblemList]:
    """The input files matching `patterns` and not named in `exclude`, sorted, and a problem for
    each match refused."""
    files, problems = [], ProblemList()
    excluded = set(exclude)
    matches = {path for pattern in patterns for path in data_dir.glob(pattern)}
    for path in sorted(p for p in matches if relative_name(data_dir, p) not in excluded):
        reason = _not_readable_input(data_dir, path)
        if reason:
            problems.add(relative_name(data_dir, path), reason)
        else:
            files.append(path)
    return files, problems


def _not_readable_input(data_dir: Path, path: Path) -> str | None:
    """Why `path` is not an input file tokenplan reads, or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a link to a file that does not exist"
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        return f"not a regular file ({kind}) but named like an input file"
    target = path.resolve()
    if (
        not target.is_relative_to(data_dir.resolve())
        and os.environ.get(FOLLOW_LINKS_VARIABLE) != "1"
    ):
        return (
            f"a link to {target}, outside the data folder; set {FOLLOW_LINKS_VARIABLE}=1 to read "
            "files that links lead to"
        )
    return None


def input_files(
    data_dir: Path, patterns: Iterable[str], required: bool = True, exclude: Iterable[str] = ()
) -> list[Path]:
    """The input files matching `patterns`, globs in one folder (`hardware/*.csv`,
    `hardware/*.xlsx`), but not named in `exclude`; none is a problem of that folder when
    `required`."""
    patterns = tuple(patterns)
    files = find_inputs(data_dir, patterns, exclude)
    if required and not files:
        folder = PurePosixPath(os.path.commonpath([PurePosixPath(p).parent for p in patterns]))
        globs = ", ".join(str(PurePosixPath(p).relative_to(folder)) for p in patterns)
        raise InputError([Problem(f"{folder}/", f"no input files ({globs})")])
    return files


def input_file(data_dir: Path, file_name: str) -> Path:
    """The one input file `file_name` at the top of the data folder."""
    files = find_inputs(data_dir, (file_name,))
    if not files:
        raise InputError([Problem(file_name, "file not found in the data folder")])
    return files[0]


def relative_name(data_dir: Path, path: Path) -> str:
    """How errors and lineage name a file: relative to the data folder."""
    try:
        return path.relative_to(data_dir).as_posix()
    except ValueError:
        return str(path)


def read_each(data_dir: Path, files: list[Path], reader: Callable[[Path, str], T]) -> list[T]:
    """`reader(path, name)` on every file, all files' problems raised together."""
    return gather(*(lambda f=f: reader(f, relative_name(data_dir, f)) for f in files))
