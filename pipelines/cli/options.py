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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.inputs import SolverOptions
from optimizer.types import Objective, PlanDocument, TimeResolution, missing_plan_keys
from pipelines.contract.errors import InputError, Problem
from pipelines.contract.ranges import (  # noqa: F401 (the options' ranges, for the commands)
    BUDGET_MW,
    JOBS,
    MAX_BUDGETS,
    MIP_GAP,
    THREADS,
    TIME_LIMIT_S,
    Bounds,
)
from pipelines.warehouse import paths

if TYPE_CHECKING:
    import polars as pl

# `optimizer.inputs` and `optimizer.types` import only the standard library: the CLI starts
# without numpy. Choices and defaults are the enums' texts: argparse names a bad choice's
# alternatives by their repr, and `replan` passes the values on to Dagster's run config.
OBJECTIVES = tuple(objective.value for objective in Objective)
TIME_RESOLUTIONS = tuple(resolution.value for resolution in TimeResolution)
"""As `optimizer.timeslices.TIME_RESOLUTIONS` (not imported: the CLI starts without numpy)."""

COMMAND_LINE = "command line"
"""The `file` of a problem with an option's value (its `field` is the option)."""


# The range of each numeric option, and why (those Dagster's run config shares are in
# `pipelines.contract.ranges`).
PORT = Bounds(1, 65_535, why="a TCP port")
LOAD_KW = Bounds(0, 10_000_000, unit="kW", why="10 GW, as the largest --budget-mw")
LIMIT = Bounds(1, 1_000_000, why="how many plans to list")


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


def add_solver(parser: argparse.ArgumentParser, objectives: Sequence[str] = OBJECTIVES) -> None:
    """--objective (one of `objectives`), --time-limit, --gap, --threads; their defaults are
    `SolverOptions`'s."""
    defaults = SolverOptions()
    parser.add_argument("--objective", choices=objectives, default=Objective.COST_PER_TOKEN.value)
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


def add_tariff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tariff",
        default=None,
        metavar="ID",
        help="price energy with this tariff of the data folder's tariffs/ (a URDB label or a CSV "
        "tariff_id; default: the scenario's tariff)",
    )


def add_plan(parser: argparse.ArgumentParser) -> None:
    """Data, warehouse, budget, tariff, solver options and --json: what `plan` and `replan`
    take."""
    add_data(parser)
    add_warehouse(parser)
    parser.add_argument(
        "--budget-mw",
        type=bounded_float("--budget-mw", BUDGET_MW),
        default=None,
        help="grid interconnect, > 0 and <= 10,000 MW (default: the scenario's)",
    )
    add_tariff(parser)
    add_solver(parser)
    parser.add_argument(
        "--time-resolution",
        choices=TIME_RESOLUTIONS,
        default=TimeResolution.FLAT.value,
        help="flat year (default), representative days (12 months x weekday/weekend x 24 h) "
        "or all 8760 hours: time-of-use prices, monthly peaks, load shapes",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print only the plan document (JSON) on stdout; where it is kept goes to stderr",
    )


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
    """The HiGHS settings of the command line, quiet (`pipelines.cli.progress.Progress` turns
    progress on where there is a terminal to show it)."""
    return SolverOptions(time_limit_s=args.time_limit, mip_rel_gap=args.gap, threads=args.threads)


def print_plan(plan: PlanDocument, as_json: bool) -> None:
    """The plan document as JSON, or as text (`rich` tables on a terminal)."""
    from pipelines.cli.console import emit
    from pipelines.reports.text import plan_parts

    if as_json:
        print(json.dumps(plan, indent=2))
    else:
        emit(plan_parts(plan))


def say(text: str) -> None:
    """A line on stderr: what was done beside the output (where a plan was kept)."""
    print(text, file=sys.stderr)


SCENARIO_FILE = "scenario.yaml"
OBJECTIVE_INPUTS = {
    Objective.MIN_COST.value: (
        "demand_tokens_per_s",
        "the tokens/s each workload must serve",
        "demand_tokens_per_s: 2000000",
    ),
    Objective.MAX_PROFIT.value: (
        "price_usd_per_million_tokens",
        "the price each workload sells at (and optionally max_tokens_per_s, what its market takes)",
        "price_usd_per_million_tokens: 1.37",
    ),
}
"""What `--objective` needs of the workloads in scenario.yaml (cost-per-token: their shares,
which every scenario has), what it is, and an example line."""


def check_plan_inputs(
    tables: Mapping[str, pl.DataFrame], objective: str, tariff_id: str | None
) -> None:
    """Bad input, before any solve, when no workload has what `objective` plans with (its
    demand for min-cost, its price for max-profit: what is missing and where), or `tariff_id`
    names no tariff of the data folder (the known ids)."""
    problems = []
    if objective in OBJECTIVE_INPUTS:
        column, what, example = OBJECTIVE_INPUTS[objective]
        workloads = tables["workloads"]
        given = workloads.filter(workloads[column].fill_null(0) > 0)
        if given.is_empty():
            names = ", ".join(workloads["name"].to_list())
            problems.append(
                Problem(
                    SCENARIO_FILE,
                    f"--objective {objective} needs {what}; no workload has a {column} > 0. "
                    f"Give it under each workload ({names}), e.g. `{example}` under "
                    f"`- name: {workloads['name'][0]}`",
                    field=f"workloads[].{column}",
                )
            )
    if tariff_id is not None:
        known = tables["tariffs"]["tariff_id"].to_list()
        if tariff_id not in known:
            problems.append(
                Problem(
                    COMMAND_LINE,
                    f"no tariff {tariff_id!r} in the data folder's tariffs/; known ids "
                    f"({len(known)}): {', '.join(known)}",
                    field="--tariff",
                )
            )
    if problems:
        raise InputError(problems)


def load_plan(reference: str, warehouse: Path) -> PlanDocument:
    """A plan from the history (`latest`, a plan id or its prefix) or a plan JSON file; a plan
    file without a plan id is named by its file name. Not found, not a JSON object, or an object
    without the keys every plan has (`optimizer.types.PlanDocument`): bad input."""
    from pipelines.warehouse.history import PlanNotFound, plan_path, plan_summary, read_plan

    try:
        path = plan_path(reference, warehouse)
        plan = read_plan(path)
    except PlanNotFound as error:
        lines = [str(error)] + [
            "    " + _candidate_text(plan_summary(candidate)) for candidate in error.candidates
        ]
        raise InputError([Problem(reference, "\n".join(lines))]) from None
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


def _candidate_text(summary: dict) -> str:
    """One plan a reference matches: `<plan_id>  cost-per-token, 20 MW, flat, $0.09226`."""
    from pipelines.reports.text import mw_text, usd_per_mtok_text

    if "error" in summary:
        return f"{summary['plan_id']}  ({summary['error']})"
    budget = summary["budget_mw"]
    details = [
        str(summary["objective"]),
        mw_text(budget) if isinstance(budget, int | float) else "-",
        str(summary["time_resolution"]),
    ]
    cost = summary["cost_per_million_tokens_usd"]
    if isinstance(cost, int | float):
        details.append(f"{usd_per_mtok_text(cost)} per M tokens")
    return f"{summary['plan_id']}  {', '.join(details)}"
