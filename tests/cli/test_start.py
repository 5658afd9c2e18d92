"""`tokenplan plan` starts fast: planning imports neither Dagster nor the parts of scipy it does
not use (Pyomo would import scipy.stats, .integrate and .spatial along with scipy.sparse, about a
second). Each check runs in a fresh interpreter, since this one has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DATASETS, REPO

NOT_NEEDED = ("scipy.stats", "scipy.integrate", "scipy.spatial", "dagster")


def left_imported(script: str) -> list[str]:
    """The modules of `NOT_NEEDED` in `sys.modules` after `script`, run in a fresh interpreter
    (with the tests' folder on its path, for `instances`)."""
    report = f"""
import json, sys
print(json.dumps([name for name in {NOT_NEEDED!r} if name in sys.modules]))
"""
    tests = str(REPO / "tests")
    path = os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script) + report],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_plan_imports_neither_dagster_nor_scipy_stats(tmp_path: Path):
    script = f"""
        import contextlib, io
        from pipelines.cli.main import main
        args = ["plan", "--no-save", "--data", {str(DATASETS)!r}, "--warehouse", {str(tmp_path)!r}]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(args) == 0
    """
    assert left_imported(script) == []


@pytest.mark.parametrize("first", ["", "import pyomo.environ"], ids=["alone", "after Pyomo"])
def test_solving_imports_no_scipy_stats(first: str):
    script = f"""
        {first}
        from instances import owned, plan_inputs
        from optimizer.solve import solve
        solution = solve(plan_inputs([owned("A", 100_000, 10)], [("A", "chat", 1000)]))
        assert solution.nodes, solution
    """
    assert left_imported(script) == []
