"""Progress: the solver's hook (`SolverOptions.on_progress`) and the plan pipeline's steps feed
the CLI's bars; they show only on a terminal, and nothing of them reaches a pipe."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATASETS

from optimizer.design import plan_inputs
from optimizer.inputs import SolverOptions
from optimizer.solve import solve
from pipelines.cli.progress import Progress
from pipelines.ingest.sources import read_inputs


@pytest.fixture(scope="module")
def tables():
    return read_inputs(DATASETS)


def test_dinkelbach_reports_each_iteration_to_the_hook(tables):
    events: list[dict] = []
    options = SolverOptions(progress=True, on_progress=events.append)
    solution = solve(plan_inputs(tables), "cost-per-token", options)
    assert events and {e["event"] for e in events} == {"iteration"}
    assert [e["iteration"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["cost_per_million_tokens_usd"] == pytest.approx(
        solution.cost_per_million_tokens_usd, rel=1e-9
    )
    quiet: list[dict] = []
    solve(
        plan_inputs(tables),
        "cost-per-token",
        replace(options, progress=False, on_progress=quiet.append),
    )
    assert quiet == []


def test_without_a_hook_progress_is_a_plain_line_without_solver_internals(tables, capsys):
    solve(plan_inputs(tables), "cost-per-token", SolverOptions(progress=True))
    err = capsys.readouterr().err
    assert "iteration 1:" in err and "USD per million tokens" in err and "F =" not in err


def test_the_plan_pipeline_reports_its_steps(tables):
    from pipelines.planning.make_plan import make_plan

    events: list[dict] = []
    plan = make_plan(
        DATASETS,
        options=SolverOptions(progress=True, on_progress=events.append),
        tables=tables,
    )
    steps = [e for e in events if e["event"] == "step"]
    assert steps[0] == {"event": "step", "step": "solve", "done": 0, "total": 1, "item": "flat"}
    alternatives = [e for e in steps if e["step"] == "alternatives"]
    assert [e["done"] for e in alternatives] == list(range(len(plan["alternatives"]) + 1))
    assert {e["total"] for e in alternatives} == {len(plan["alternatives"])}
    levers = [e for e in steps if e["step"] == "levers"]
    solved = sum(row["in_data"] for row in plan["levers"])
    assert [e["done"] for e in levers] == list(range(solved + 1))
    assert levers[0]["item"] == next(r["without"] for r in plan["levers"] if r["in_data"])
    # the sub-solves report steps, not their iterations: only the plan's own solve iterates
    first_step_after_solve = events.index(next(e for e in steps if e["step"] == "alternatives"))
    assert all(e["event"] == "step" for e in events[first_step_after_solve:])


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_sweep_counts_its_solves_and_the_budgets_asked_for(tables, jobs):
    """Two budgets are four solves (each also at +1 MW); with workers, the callback stays in
    this process (it could not be pickled)."""
    from pipelines.planning.sweep import sweep

    events: list[dict] = []
    options = SolverOptions(progress=True, on_progress=lambda event: events.append(event))
    frontier = sweep(tables, [10.0, 20.0], options=options, jobs=jobs)
    assert len(frontier["rows"]) == 2
    assert [e["done"] for e in events] == [0, 1, 2, 3, 4]
    assert {e["total"] for e in events} == {4} and {e["budgets"] for e in events} == {2}
    assert events[0]["budgets_done"] == 0 and events[-1]["budgets_done"] == 2


def test_progress_is_off_when_stderr_is_not_a_terminal(capsys):
    with Progress() as progress:
        options = progress.solver_options(SolverOptions(progress=True, on_progress=print))
        assert not progress.enabled and progress.display is None
        assert options.progress is False and options.on_progress is None
        with progress.spinner("Dagster job replan") as spinner:
            spinner.say("build_plan")
        progress.event({"event": "iteration", "iteration": 1})
    assert capsys.readouterr().err == ""


def test_on_a_terminal_each_step_is_a_bar(tmp_path: Path, monkeypatch):
    """The display writes to a copy of stderr's file descriptor (a Dagster run points fd 2 at
    its compute logs while a step runs)."""
    log = (tmp_path / "stderr").open("w")
    monkeypatch.setattr(sys, "stderr", log)
    with Progress(enabled=True) as progress:
        options = progress.solver_options(SolverOptions(), "hourly")
        assert options.progress and options.on_progress is not None
        options.report({"event": "step", "step": "solve", "done": 0, "total": 1, "item": "hourly"})
        options.report(
            {
                "event": "iteration",
                "iteration": 3,
                "cost_per_million_tokens_usd": 0.0923,
                "gap": 1e-5,
                "seconds": 0.4,
            }
        )
        display = progress.display
        assert display is not None
        [solve_task] = display.tasks
        assert solve_task.description == (
            "solving the plan (representative year, then the 8,760 hours): iteration 3, "
            "cost per M tokens $0.09230, gap 1.0e-05"
        )
        options.report({"event": "step", "step": "solve", "done": 1, "total": 1, "item": None})
        for done in range(3):
            options.report(
                {
                    "event": "step",
                    "step": "alternatives",
                    "done": done,
                    "total": 2,
                    "item": None if done == 2 else f"system {done}",
                }
            )
        options.report(
            {
                "event": "step",
                "step": "sweep",
                "done": 3,
                "total": 4,
                "item": 11.0,
                "budgets_done": 1,
                "budgets": 2,
            }
        )
        solve_task, alternatives, budgets = display.tasks
        assert solve_task.finished and alternatives.finished
        assert (alternatives.completed, alternatives.total) == (2, 2)
        assert alternatives.fields["count"] == "2/2"
        assert (
            budgets.description == "budget sweep: 1 of 2 budgets done (each also solved at +1 MW)"
        )
        assert budgets.fields["count"] == "3/4 solves"
    log.close()
    assert "solving the plan" in (tmp_path / "stderr").read_text()


def test_the_spinner_says_the_step_of_a_run(tmp_path: Path, monkeypatch):
    log = (tmp_path / "stderr").open("w")
    monkeypatch.setattr(sys, "stderr", log)
    with Progress(enabled=True) as progress, progress.spinner("Dagster job replan") as spinner:
        spinner.say("Dagster job replan: build_plan")
        assert progress.display is not None
        assert progress.display.tasks[0].description == "Dagster job replan: build_plan"
    log.close()
