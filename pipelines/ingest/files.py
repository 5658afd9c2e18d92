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

from pipelines.contract.errors import InputError, Problem

MAX_INPUT_VARIABLE = "TOKENPLAN_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_BYTES = 32 * 2**20
"""Largest input file accepted unless `TOKENPLAN_MAX_INPUT_MB` says otherwise. Price sheets,
tariffs and result files are kilobytes to a few megabytes; anything far larger is a wrong
file, not a bigger sheet."""
MAX_INPUT_BYTES: int | None = None
"""A fixed limit (tests set it); None: read `TOKENPLAN_MAX_INPUT_MB` when a file is checked."""


def max_input_bytes() -> int:
    """The size limit of an input file; a `TOKENPLAN_MAX_INPUT_MB` that is no whole number
    from 1 to 65,536 is bad input naming the variable."""
    if MAX_INPUT_BYTES is not None:
        return MAX_INPUT_BYTES
    text = os.environ.get(MAX_INPUT_VARIABLE)
    if text is None:
        return DEFAULT_MAX_INPUT_BYTES
    if not text.strip().isdigit() or not 1 <= int(text) <= 65_536:
        raise InputError(
            [
                Problem(
                    "environment",
                    f"expected a whole number of MiB from 1 to 65,536, got {text!r}",
                    field=MAX_INPUT_VARIABLE,
                )
            ]
        )
    return int(text) * 2**20


def display_name(path: Path) -> str:
    """The name errors use for a file: its path relative to the data folder when known."""
    return str(path)


def check_size(path: Path, name: str | None = None) -> None:
    size = path.stat().st_size
    name = name or display_name(path)
    if size == 0:
        raise InputError([Problem(name, "file is empty")])
    limit = max_input_bytes()
    if size > limit:
        raise InputError(
            [
                Problem(
                    name,
                    f"file is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB "
                    f"limit for an input file (set {MAX_INPUT_VARIABLE} to raise it)",
                )
            ]
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
            [
                Problem(
                    name,
                    f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start}",
                    row=line,
                )
            ]
        ) from None
    if not text.strip():
        raise InputError([Problem(name, "file is empty")])
    return text


def read_json(path: Path, name: str | None = None) -> Any:
    """A JSON document, refusing one nested deeper than `MAX_NESTING_DEPTH`."""
    name = name or display_name(path)
    text = read_text(path, name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            [Problem(name, f"not valid JSON: {error.msg} (column {error.colno})", row=error.lineno)]
        ) from None
    except RecursionError:
        raise InputError([_too_deep(name)]) from None
    if _depth(data) > MAX_NESTING_DEPTH:
        raise InputError([_too_deep(name)])
    return data


def read_yaml(path: Path, name: str | None = None) -> Any:
    """YAML through the safe loader only: an input file never constructs Python objects.

    The document is composed into nodes first and refused when it nests deeper than
    `MAX_NESTING_DEPTH` or when its aliases would expand it beyond `MAX_YAML_NODES`
    (a few kilobytes of nested aliases can otherwise stand for billions of values).
    """
    name = name or display_name(path)
    text = read_text(path, name)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        depth, size = _node_depth_and_size(node)
        if depth > MAX_NESTING_DEPTH:
            raise InputError([_too_deep(name)])
        if size > MAX_YAML_NODES:
            raise InputError(
                [
                    Problem(
                        name,
                        f"YAML aliases expand the document to {size:,} values or more, over "
                        f"the {MAX_YAML_NODES:,} an input may hold",
                    )
                ]
            )
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        raise InputError([Problem(name, f"not valid YAML: {reason}", row=row)]) from None
    except RecursionError:
        raise InputError([_too_deep(name)]) from None
    finally:
        loader.dispose()


MAX_NESTING_DEPTH = 64
"""Deepest nesting of lists and mappings an input document may have. URDB documents, result
files and scenarios nest four levels at most; deeper is a wrong or hostile file."""
MAX_YAML_NODES = 100_000
"""Most values a YAML document may expand to, aliases followed (a scenario has a few hundred)."""


def _too_deep(name: str) -> Problem:
    return Problem(
        name,
        f"nested more than {MAX_NESTING_DEPTH} levels deep (lists and objects within each "
        "other); no input format nests that deep",
    )


def _depth(data: Any) -> int:
    """How deeply lists and dicts nest in `data` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_NESTING_DEPTH:
            stack.extend((child, level + 1) for child in children)
    return deepest


def _node_depth_and_size(root: yaml.Node) -> tuple[int, int]:
    """Nesting depth and the number of nodes with every alias expanded, counted on the node
    graph (an aliased node is one object) without expanding it; stops counting past the caps."""
    sizes: dict[int, int] = {}
    depth = 0

    def size(node: yaml.Node, level: int) -> int:
        nonlocal depth
        depth = max(depth, level)
        if id(node) in sizes:
            return sizes[id(node)]
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        for child in children:
            if depth > MAX_NESTING_DEPTH or total > MAX_YAML_NODES:
                break
            total += size(child, level + 1)
        sizes[id(node)] = total
        return total

    return depth, size(root, 0)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
