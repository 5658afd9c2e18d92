"""Options and helpers several commands share.

Every numeric option is parsed by a `type=` made here (`bounded_float`, `bounded_int`): a value
that is not a finite number in the option's documented range becomes a `BadValue`, and
`bad_options` turns every one of them into a `Problem` naming the option, so that one run lists
every bad option (argparse's own type errors stop at the first). The ranges, and why, are the
`Bounds` constants below.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from optimizer.inputs import SolverOptions
from optimizer.types import Objective, PlanDocument, TimeResolution, missing_plan_keys
from pipelines.contract.errors import InputError, Problem
from pipelines.warehouse import paths

# `optimizer.inputs` and `optimizer.types` import only the standard library: the CLI starts
# without numpy. Choices and defaults are the enums' texts: argparse names a bad choice's
# alternatives by their repr, and `replan` passes the values on to Dagster's run config.
OBJECTIVES = tuple(objective.value for objective in Objective)
TIME_RESOLUTIONS = tuple(resolution.value for resolution in TimeResolution)
"""As `optimizer.timeslices.TIME_RESOLUTIONS` (not imported: the CLI starts without numpy)."""

COMMAND_LINE = "command line"
"""The `file` of a problem with an option's value (its `field` is the option)."""


@dataclass(frozen=True)
class Bounds:
    """The range of a numeric option: low..high, each end open or closed, and why."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    why: str = ""

    def __contains__(self, value: float) -> bool:
        try:
            value = float(value)
        except OverflowError:  # an int beyond any float
            return False
        return (
            math.isfinite(value)
            and (value > self.low if self.low_open else value >= self.low)
            and (value < self.high if self.high_open else value <= self.high)
        )

    def describe(self, kind: str = "a finite number", unit: bool = True) -> str:
        """e.g. `a finite number > 0 and <= 10,000 MW (why)`; `unit=False` when `kind` names it."""
        low, high = f"{self.low:,.10g}", f"{self.high:,.10g}"
        text = (
            f"{kind} {'>' if self.low_open else '>='} {low} "
            f"and {'<' if self.high_open else '<='} {high}"
            f"{' ' + self.unit if self.unit and unit else ''}"
        )
        return f"{text} ({self.why})" if self.why else text


# The range of each numeric option, and why.
BUDGET_MW = Bounds(
    0,
    10_000,
    low_open=True,
    unit="MW",
    why="the largest announced campuses are a few GW; as budget_mw in scenario.yaml",
)
TIME_LIMIT_S = Bounds(0, 7 * 24 * 3600, low_open=True, unit="s", why="a week at most")
MIP_GAP = Bounds(
    0, 1, high_open=True, why="relative: 0 proves the optimum, 1 would accept any plan"
)
THREADS = Bounds(1, 256, why="more than any common server's hardware threads")
JOBS = Bounds(1, 256, why="worker processes; more than the CPUs only costs memory")
PORT = Bounds(1, 65_535, why="a TCP port")
LOAD_KW = Bounds(0, 10_000_000, unit="kW", why="10 GW, as the largest --budget-mw")
MAX_BUDGETS = 1_000
"""Budgets one sweep may solve: each is a full solve (and one more at +1 MW); 1,000 is hours
already."""


@dataclass(frozen=True)
class BadValue:
    """What an option's `type=` returns for a bad value; `bad_options` reports it."""

    option: str
    message: str

    def problem(self) -> Problem:
        return Problem(COMMAND_LINE, self.message, field=self.option)


def bounded_float(option: str, bounds: Bounds):
    """An argparse `type=`: the text as a float in `bounds`, else a `BadValue` naming `option`."""

    def parse(text: str) -> float | BadValue:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if value in bounds:
            return value
        return BadValue(option, f"must be {bounds.describe()}, got {text!r}")

    return parse


def bounded_int(option: str, bounds: Bounds):
    """An argparse `type=`: the text as an int in `bounds`, else a `BadValue` naming `option`."""

    def parse(text: str) -> int | BadValue:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is not None and value in bounds:
            return value
        return BadValue(option, f"must be {bounds.describe('a whole number')}, got {text!r}")

    return parse


def bad_options(args: argparse.Namespace) -> list[Problem]:
    """Every option value a `type=` of this module found bad, as problems naming the option."""
    return [value.problem() for value in vars(args).values() if isinstance(value, BadValue)]


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="input folder (default: $TOKENPLAN_DATA or the bundled datasets/)",
    )


def add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="where tables and plans are written (default: $TOKENPLAN_WAREHOUSE or warehouse/)",
    )


def add_solver(parser: argparse.ArgumentParser) -> None:
    """--objective, --time-limit, --gap, --threads; their defaults are `SolverOptions`'s."""
    defaults = SolverOptions()
    parser.add_argument("--objective", choices=OBJECTIVES, default=Objective.COST_PER_TOKEN.value)
    parser.add_argument(
        "--time-limit",
        type=bounded_float("--time-limit", TIME_LIMIT_S),
        default=defaults.time_limit_s,
        help="seconds for the whole solve, > 0 and <= 604,800 "
        f"(a week; default {defaults.time_limit_s:g})",
    )
    parser.add_argument(
        "--gap",
        type=bounded_float("--gap", MIP_GAP),
        default=defaults.mip_rel_gap,
        help=f"relative MIP gap, >= 0 and < 1 (default {defaults.mip_rel_gap:g})",
    )
    parser.add_argument(
        "--threads",
        type=bounded_int("--threads", THREADS),
        default=defaults.threads,
        help=f"HiGHS threads, 1 to 256 (default {defaults.threads})",
    )


def add_plan(parser: argparse.ArgumentParser) -> None:
    """Data, warehouse, budget, solver options and --json: what `plan` and `replan` take."""
    add_data(parser)
    add_warehouse(parser)
    parser.add_argument(
        "--budget-mw",
        type=bounded_float("--budget-mw", BUDGET_MW),
        default=None,
        help="grid interconnect, > 0 and <= 10,000 MW (default: the scenario's)",
    )
    add_solver(parser)
    parser.add_argument(
        "--time-resolution",
        choices=TIME_RESOLUTIONS,
        default=TimeResolution.FLAT.value,
        help="flat year (default), representative days (12 months x weekday/weekend x 24 h) "
        "or all 8760 hours: time-of-use prices, monthly peaks, load shapes",
    )
    parser.add_argument("--json", action="store_true", help="print only the plan document (JSON)")


def _folder(
    args: argparse.Namespace, option: str, variable: str, default
) -> tuple[Path, str | None]:
    """The folder an option names, else the environment variable's, else the default; and what
    named it (the option, `$VARIABLE`, or None for the default), for problems to say."""
    given = getattr(args, option.lstrip("-"), None)
    if given is not None:
        return Path(given).resolve(), option
    return default().resolve(), f"${variable}" if os.environ.get(variable) else None


def data_dir(args: argparse.Namespace) -> Path:
    """The input folder (`--data`, `$TOKENPLAN_DATA` or the bundled datasets/); bad input unless it
    is a folder."""
    data, named_by = _folder(args, "--data", "TOKENPLAN_DATA", paths.data_dir)
    if data.is_file():
        raise InputError([Problem(str(data), "is a file, not an input folder", field=named_by)])
    if not data.is_dir():
        raise InputError([Problem(str(data), "input folder not found", field=named_by)])
    return data


def warehouse_dir(args: argparse.Namespace, write: bool = False) -> Path:
    """The warehouse (`--warehouse`, `$TOKENPLAN_WAREHOUSE` or warehouse/). With `write`, for
    commands that write to it: made if missing, and bad input unless this process can write in it
    (checked before any solve or ingest starts, so that no work is lost at the end)."""
    warehouse, named_by = _folder(args, "--warehouse", "TOKENPLAN_WAREHOUSE", paths.warehouse_dir)
    return writable_folder(warehouse, named_by) if write else warehouse


def writable_folder(folder: Path, named_by: str | None) -> Path:
    """`folder`, made if missing, once a file was written in it and removed; else bad input naming
    the folder, the option (or variable) that named it, and what is wrong."""

    def bad(message: str) -> InputError:
        return InputError([Problem(str(folder), message, field=named_by)])

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise bad(
            "is a file, not a folder"
            if existing == folder
            else f"cannot be a folder: {existing} is a file"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise bad(f"cannot make the folder: {error.strerror or error}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".tokenplan-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise bad(f"cannot write in the folder: {error.strerror or error}") from None
    return folder


def solver_options(args: argparse.Namespace) -> SolverOptions:
    return SolverOptions(
        time_limit_s=args.time_limit,
        mip_rel_gap=args.gap,
        threads=args.threads,
        progress=sys.stderr.isatty(),
    )


def print_plan(plan: PlanDocument, as_json: bool) -> None:
    from pipelines.reports.text import plan_text

    if as_json:
        print(json.dumps(plan, indent=2))
    else:
        print(plan_text(plan), end="")


def load_plan(reference: str, warehouse: Path) -> PlanDocument:
    """A plan from the history (`latest`, a plan id or its prefix) or a plan JSON file; a plan
    file without a plan id is named by its file name. Not found, not a JSON object, or an object
    without the keys every plan has (`optimizer.types.PlanDocument`): bad input."""
    from pipelines.warehouse.history import plan_path, read_plan

    try:
        path = plan_path(reference, warehouse)
        plan = read_plan(path)
    except FileNotFoundError as error:
        raise InputError([Problem(reference, str(error))]) from None
    except json.JSONDecodeError as error:
        raise InputError(
            [
                Problem(
                    reference,
                    f"not a plan JSON: {error.msg} (column {error.colno})",
                    row=error.lineno,
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise InputError([Problem(reference, "not a plan JSON: not UTF-8 text")]) from None
    if not isinstance(plan, dict):
        raise InputError(
            [Problem(reference, f"not a plan JSON: a {type(plan).__name__}, not an object")]
        )
    missing = missing_plan_keys(plan)
    if missing:
        raise InputError([Problem(str(path), f"not a plan: no {', '.join(missing)}")])
    if "plan_id" not in plan:
        plan["plan_id"] = Path(reference).stem
    return plan
