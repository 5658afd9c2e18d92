"""Opening untrusted input files: size limit, strict UTF-8, safe JSON and YAML.

Every reader opens its files through these functions, so every file gets the same
checks and the same clear errors.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import InputError, Problem

MAX_INPUT_BYTES = int(os.environ.get("TOKENPLAN_MAX_INPUT_MB", "32")) * 1024 * 1024
"""Largest input file accepted. Price sheets, tariffs and result files are kilobytes
to a few megabytes; anything far larger is a wrong file, not a bigger sheet."""


def display_name(path: Path) -> str:
    """The name errors use for a file: its path relative to the data folder when known."""
    return str(path)


def check_size(path: Path, name: str | None = None) -> None:
    size = path.stat().st_size
    name = name or display_name(path)
    if size == 0:
        raise InputError([Problem(name, "file is empty")])
    if size > MAX_INPUT_BYTES:
        raise InputError(
            [Problem(name, f"file is {size / 2**20:.1f} MiB, over the {MAX_INPUT_BYTES / 2**20:.0f} MiB "
                           "limit for an input file (set TOKENPLAN_MAX_INPUT_MB to raise it)")]
        )


def read_text(path: Path, name: str | None = None) -> str:
    """The file's text, refusing empty, oversized and non-UTF-8 files."""
    name = name or display_name(path)
    check_size(path, name)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(
            [Problem(name, f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start}", row=line)]
        ) from None
    if not text.strip():
        raise InputError([Problem(name, "file is empty")])
    return text


def read_json(path: Path, name: str | None = None) -> Any:
    name = name or display_name(path)
    text = read_text(path, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError([Problem(name, f"not valid JSON: {error.msg} (column {error.colno})", row=error.lineno)]) from None


def read_yaml(path: Path, name: str | None = None) -> Any:
    """YAML through the safe loader only: an input file never constructs Python objects."""
    name = name or display_name(path)
    text = read_text(path, name)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        raise InputError([Problem(name, f"not valid YAML: {reason}", row=row)]) from None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
