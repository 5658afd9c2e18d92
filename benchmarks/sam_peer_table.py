"""Print the peer check of the tariff engine against NREL SAM `Utilityrate5`, as a table.

Run: `uv run python benchmarks/sam_peer_table.py` (needs the dev dependency nrel-pysam).

The bills are the ones `tests/optimizer/test_sam_peer.py` asserts on (same tariffs, load shapes
and SAM inputs): each bundled URDB tariff × each load shape, annual total and its
energy, demand and fixed parts on both sides, and the largest relative difference.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# test_sam_peer (tests/optimizer/) imports the suite's conftest (tests/).
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "optimizer")]

from test_sam_peer import LOADS, SIZE_KW, TARIFFS, our_bill, sam_bill, sam_rates, urdb_doc  # noqa: E402


def main() -> None:
    header = [
        "tariff",
        "load",
        "kW",
        "ours USD",
        "SAM USD",
        "energy ours/SAM",
        "demand ours/SAM",
        "fixed ours/SAM",
        "max rel diff",
    ]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, file in TARIFFS.items():
            doc = urdb_doc(file)
            for shape, make in LOADS.items():
                load = make(SIZE_KW[file])
                ours = our_bill(doc, load, Path(folder))
                sam = sam_bill(sam_rates(doc), load)
                pairs = [
                    (ours.annual_usd, float(sam["annual"])),
                    (ours.energy_usd, sam["energy"].sum()),
                    (ours.demand_usd, sam["demand"].sum()),
                    (ours.fixed_usd, sam["fixed"].sum()),
                ]
                worst = max(abs(a - b) / abs(b) for a, b in pairs if b)
                rows.append(
                    [
                        name,
                        shape,
                        f"{SIZE_KW[file]:,.0f}",
                        f"{pairs[0][0]:,.2f}",
                        f"{pairs[0][1]:,.2f}",
                        *(f"{a:,.0f} / {b:,.0f}" for a, b in pairs[1:]),
                        f"{worst:.1e}",
                    ]
                )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
