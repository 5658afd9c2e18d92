"""Finding a table's input files in the data folder and reading them all, problems together."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pipelines.errors import InputError, Problem, gather

T = TypeVar("T")


def input_files(data_dir: Path, folder: str, patterns: Iterable[str], required: bool = True) -> list[Path]:
    """The files matching `patterns` in `data_dir/folder`, sorted; none is a problem when `required`."""
    base = data_dir / folder
    files = sorted({path for pattern in patterns for path in base.glob(pattern) if path.is_file()})
    if required and not files:
        raise InputError([Problem(relative_name(data_dir, base), f"no input files ({', '.join(patterns)})")])
    return files


def relative_name(data_dir: Path, path: Path) -> str:
    """How errors and lineage name a file: relative to the data folder."""
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def read_each(data_dir: Path, files: list[Path], reader: Callable[[Path, str], T]) -> list[T]:
    """`reader(path, name)` on every file, all files' problems raised together."""
    return gather(*(lambda f=f: reader(f, relative_name(data_dir, f)) for f in files))
