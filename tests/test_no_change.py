"""Plans do not change when code moves: plan documents of the bundled site (flat and
representative) and of generated instances, compared with the ones recorded in
`tests/golden/` (times and ids aside).

Record them again, only when a plan is meant to change, with
`python3 -m uv run python tests/test_no_change.py --record`.
"""

from __future__ import annotations

import json
import math
import sys

import pytest
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
VOLATILE = {"plan_id", "created_at"}
"""Keys whose values differ from run to run (and any key ending in `seconds`: times)."""
GENERATED = {
    "generated-3x2": (3, 2, 1, 2, 5),
    "generated-10x5": (10, 3, 2, 5, 20),
    "generated-25x10": (25, 3, 2, 10, 50),
}


def plan(case: str) -> dict:
    """The plan document of `case`, made the way `tokenplan plan` makes it."""
    from optimizer.inputs import SolverOptions

    options = SolverOptions(time_limit_s=300.0, mip_rel_gap=1e-6, threads=1)
    if case.startswith("bundled-"):
        from pipelines.planning.make_plan import make_plan

        return make_plan(
            REPO / "datasets", None, "cost-per-token", options, case.removeprefix("bundled-")
        )
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_optimizer import SEED, generate

    from optimizer.plan import plan_document
    from optimizer.solve import solve

    inputs = generate(*GENERATED[case], seed=SEED)
    return plan_document(inputs, solve(inputs, "cost-per-token", options), "cost-per-token")


def stable(value):
    """`value` without volatile keys, floats as 12 significant digits and below 1e-9 as 0 (the
    solver is deterministic on one thread; rounding hides only the last bits of a sum taken in
    another order)."""
    if isinstance(value, dict):
        return {
            k: stable(v)
            for k, v in value.items()
            if k not in VOLATILE and not k.endswith("seconds")
        }
    if isinstance(value, list):
        return [stable(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return (
            0.0 if abs(value) < 1e-9 else float(f"{value:.12g}")
        )  # a gap of 1e-16 is rounding noise
    return value


CASES = ["bundled-flat", "bundled-representative", *GENERATED]


@pytest.mark.parametrize("case", CASES)
def test_plan_is_as_recorded(case: str) -> None:
    recorded = json.loads((GOLDEN / f"{case}.json").read_text())
    assert stable(plan(case)) == recorded


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    sys.path.insert(0, str(REPO))
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        (GOLDEN / f"{case}.json").write_text(
            json.dumps(stable(plan(case)), indent=1, sort_keys=True) + "\n"
        )
        print("recorded", case)
