"""Benchmark time-resolved plans on the bundled data: flat, representative days, hourly.

Run: `uv run python benchmarks/bench_time.py` (`--quick`: the default tariff only).

For each tariff (the scenario's flat EIA Virginia rate, and the bundled URDB time-of-use
tariffs) the bundled scenario is planned at each time resolution. Printed per plan:
variables, constraints and nonzeros of the compiled model, build seconds (data, Pyomo
model, compile), HiGHS seconds, total seconds (for time-resolved plans the flat start
included), cost per million tokens and its difference to the flat plan of the same
inputs, and realized utilization. Then `tokenplan plan --time-resolution representative`
end to end, Python start included.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimizer.design import plan_inputs  # noqa: E402
from optimizer.inputs import SolverOptions  # noqa: E402
from optimizer.plan import plan_document  # noqa: E402
from optimizer.solve import solve  # noqa: E402
from pipelines.ingest.sources import read_inputs  # noqa: E402

TARIFFS = {
    "eia-2024-arkansas": "EIA Arkansas industrial (flat)",
    "5a592c995457a3371c423a7d": "Entergy Arkansas LPS TOU",
    "5cef0a415457a33576f60fe2": "PG&E E-19 secondary",
    "53ac8daa5257a3406ac32a35": "PECO GS HT",
}
OPTIONS = SolverOptions(mip_rel_gap=1e-4, time_limit_s=600)


def data_with_tariff(tariff_id: str, folder: Path) -> Path:
    """A copy of the bundled datasets whose scenario uses `tariff_id`."""
    data = folder / tariff_id
    shutil.copytree(REPO / "datasets", data)
    scenario = data / "scenario.yaml"
    scenario.write_text(re.sub(r"(?m)^tariff: .*$", f"tariff: {tariff_id}", scenario.read_text()))
    return data


def row(
    tariff: str, resolution: str, solution, seconds: float, flat_cost: float, inputs
) -> list[str]:
    cost = solution.cost_per_million_tokens_usd
    utilization = "-"
    if solution.time_resolution != "flat":
        document = plan_document(inputs, solution, "cost-per-token")
        utilization = f"{document['realized_utilization']['fleet']:.1%}"
    return [
        tariff,
        resolution,
        f"{solution.n_variables:,}",
        f"{solution.n_constraints:,}",
        f"{solution.n_nonzeros:,}",
        f"{solution.build_seconds:.2f}",
        f"{solution.solve_seconds:.2f}",
        f"{seconds:.2f}",
        f"${cost:.5f}",
        f"{cost / flat_cost - 1:+.2%}",
        utilization,
        solution.status,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the scenario's own tariff only")
    args = parser.parse_args()
    tariffs = list(TARIFFS)[:1] if args.quick else list(TARIFFS)
    header = [
        "tariff",
        "resolution",
        "vars",
        "cons",
        "nnz",
        "build s",
        "HiGHS s",
        "total s",
        "cost/M tok",
        "vs flat",
        "utilization",
        "status",
    ]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for tariff_id in tariffs:
            inputs = plan_inputs(read_inputs(data_with_tariff(tariff_id, Path(folder))))
            began = time.perf_counter()
            flat = solve(inputs, options=OPTIONS)
            flat_seconds = time.perf_counter() - began
            rows.append(
                row(
                    TARIFFS[tariff_id],
                    "flat",
                    flat,
                    flat_seconds,
                    flat.cost_per_million_tokens_usd,
                    inputs,
                )
            )
            for resolution in ("representative", "hourly"):
                began = time.perf_counter()
                solution = solve(inputs, options=OPTIONS, time_resolution=resolution, start=flat)
                seconds = time.perf_counter() - began + flat_seconds
                rows.append(
                    row(
                        TARIFFS[tariff_id],
                        resolution,
                        solution,
                        seconds,
                        flat.cost_per_million_tokens_usd,
                        inputs,
                    )
                )
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(cell.rjust(width) for cell, width in zip(r, widths, strict=True)))

        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "plan",
                "--time-resolution",
                "representative",
                "--warehouse",
                str(Path(folder) / "warehouse"),
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"\ntokenplan plan --time-resolution representative (bundled data, end to end): "
            f"{time.perf_counter() - began:.1f} s"
        )


if __name__ == "__main__":
    main()
