"""HiGHS's thread pool is one per process: solves may still ask for any thread count in any
order (`optimizer.solve.highs.SCHEDULER`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

# Run in a process of its own: the pool is what other tests' solves left it otherwise.
SCRIPT = """
import json, sys
from dataclasses import replace
sys.path.insert(0, sys.argv[1])
from instances import EXACT, owned, plan_inputs
from optimizer.solve import solve

inputs = plan_inputs(
    [owned("A", 100_000, 10), owned("B", 150_000, 12)],
    [("A", "chat", 500.0), ("B", "chat", 800.0)],
    budget_mw=0.2,
    fixed_opex=1e4,
)
found = []
for threads in (1, 2, 1, 2):
    solution = solve(inputs, options=replace(EXACT, threads=threads))
    found.append([threads, solution.status, solution.cost_per_million_tokens_usd])
print(json.dumps(found))
"""


def test_solves_with_threads_1_2_1_2_in_one_process_all_reach_the_same_optimum():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(TESTS)],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert [threads for threads, _, _ in found] == [1, 2, 1, 2]
    assert {status for _, status, _ in found} == {"optimal"}
    first = found[0][2]
    assert all(cost == pytest.approx(first, rel=1e-9) for _, _, cost in found)
