"""Progress on stderr while a command works, only when stderr is a terminal.

`Progress` is a context manager around a `rich.progress` display (cleared when it ends, so
that what stays on the screen is the command's output). It takes the events of
`SolverOptions.on_progress` (`optimizer.inputs`): the solve's iterations, and the steps of the
plan pipeline (the solve, the single-system alternatives, the lever table, a sweep's
solves), one line each; and it shows a spinner for work that reports no steps (`spinner`: a
Dagster run, with the step it is in). On a pipe, a file or in the tests it shows nothing,
and `solver_options` leaves the solver quiet.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from optimizer.inputs import SolverOptions
from pipelines.cli.console import is_terminal
from pipelines.reports.text import (
    TIME_RESOLUTION_TEXT,
    count_text,
    gap_text,
    usd_per_mtok_text,
    usd_text,
)

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

STEP_LABELS = {
    "solve": "solving the plan",
    "alternatives": "single-system alternatives",
    "levers": "what each lever is worth",
    "sweep": "budget sweep",
}


class Progress:
    """Progress bars and spinners on stderr; nothing unless `enabled` (default: stderr is a
    terminal)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = is_terminal(sys.stderr) if enabled is None else enabled
        self.display: RichProgress | None = None
        self.stream: IO[str] | None = None
        self.tasks: dict[str, TaskID] = {}
        self.resolution = "flat"

    def __enter__(self) -> Progress:
        if self.enabled:
            # A copy of stderr's file descriptor: a Dagster run in this process points fd 2 at
            # its compute logs while a step runs; the copy still reaches the terminal.
            self.stream = os.fdopen(
                os.dup(sys.stderr.fileno()),
                "w",
                encoding=sys.stderr.encoding or "utf-8",
                errors="replace",
            )
            from rich.console import Console
            from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self.display = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                console=Console(
                    file=self.stream,
                    force_terminal=True,
                    highlight=False,
                    markup=False,
                    emoji=False,
                ),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=True,
            )
            self.display.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.display is not None:
            self.display.stop()
            self.display = None
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def solver_options(
        self, options: SolverOptions, time_resolution: str = "flat"
    ) -> SolverOptions:
        """`options` reporting to this display (quiet when it is off)."""
        self.resolution = time_resolution
        if not self.enabled:
            return replace(options, progress=False, on_progress=None)
        return replace(options, progress=True, on_progress=self.event)

    def event(self, event: dict[str, Any]) -> None:
        """One event of `SolverOptions.on_progress` (see there)."""
        if self.display is None:
            return
        kind = event.get("event")
        if kind == "iteration":
            self._describe(
                "solve",
                f"{self._solve_label()}: iteration {event['iteration']}, cost per M tokens "
                f"{usd_per_mtok_text(event['cost_per_million_tokens_usd'])}, "
                f"gap {gap_text(event['gap'])}",
            )
        elif kind == "milp":
            self._describe(
                "solve",
                f"{self._solve_label()}: {usd_text(event['annual_cost_usd'])} a year, "
                f"gap {gap_text(event['gap'])}",
            )
        elif kind == "step":
            self._step(event)

    def _solve_label(self) -> str:
        """`solving the plan (flat year)`; an hourly plan is the representative year's fleet
        dispatched hour by hour (`optimizer/solve/hourly.py`)."""
        if self.resolution == "hourly":
            return f"{STEP_LABELS['solve']} (representative year, then the 8,760 hours)"
        return f"{STEP_LABELS['solve']} ({TIME_RESOLUTION_TEXT.get(self.resolution, '')})"

    def _task(self, step: str, total: float | None) -> TaskID:
        assert self.display is not None
        if step not in self.tasks:
            self.tasks[step] = self.display.add_task(
                STEP_LABELS.get(step, step), total=total, count=""
            )
        return self.tasks[step]

    def _describe(self, step: str, description: str) -> None:
        assert self.display is not None
        self.display.update(self._task(step, None), description=description)

    def _step(self, event: dict[str, Any]) -> None:
        assert self.display is not None
        step, done, total = event["step"], event["done"], event["total"]
        if step == "solve":
            task = self._task(step, None)
            if done == 0:
                self.display.update(task, description=self._solve_label())
            else:
                self.display.update(task, total=1, completed=1)
            return
        task = self._task(step, total)
        label = STEP_LABELS.get(step, step)
        count = f"{done}/{total}"
        if step == "sweep":  # solves counted; the budgets asked for said in words
            label += (
                f": {event['budgets_done']} of {count_text(event['budgets'], 'budget')} done "
                "(each also solved at +1 MW)"
            )
            count = f"{done}/{count_text(total, 'solve')}"
        elif event.get("item") is not None:
            label += f": {event['item']}"
        self.display.update(task, total=total, completed=done, description=label, count=count)

    @contextmanager
    def spinner(self, description: str) -> Iterator[Spinner]:
        """A spinner with `description` while the block runs; the block may change its text."""
        if self.display is None:
            yield Spinner(None, None)
            return
        task = self.display.add_task(description, total=None, count="")
        try:
            yield Spinner(self.display, task)
        finally:
            self.display.update(task, visible=False)


class Spinner:
    """What a `Progress.spinner` block may do: say what it is doing now."""

    def __init__(self, display: RichProgress | None, task: TaskID | None) -> None:
        self.display, self.task = display, task

    def say(self, description: str) -> None:
        if self.display is not None and self.task is not None:
            self.display.update(self.task, description=description)
