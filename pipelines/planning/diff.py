"""What changed between two plans: design, fleet, cost per token by component, input files.

Cost per token decomposed exactly. With component costs c_i (USD/year, Σ_i c_i = C) and
tokens per year T, from plan A to plan B:

    C_B/T_B − C_A/T_A = Σ_i (c_i,B − c_i,A) / T_B  +  C_A · (1/T_B − 1/T_A)

The first terms are each component's change in annual cost spread over B's tokens; the
last ("token volume") is A's whole cost spread over B's tokens instead of A's. They add
up to the total change with no residual (times 10⁶ for USD per million tokens).

Input files are compared by the content hashes in each plan's `inputs` list: changed
(same file, other SHA-256), added, removed.
"""

from __future__ import annotations

from optimizer.types import FleetRow, PlanDocument, cost_components
from pipelines.reports.text import COST_LABELS, number_text, table_text, usd_text

DESIGN_FIELDS = (
    ("budget_mw", "grid budget (MW)", 2),
    ("power_design", "power design", None),
    ("grid_power_mw", "grid power (MW)", 2),
    ("it_power_mw", "IT power (MW)", 2),
    ("pue", "PUE", 3),
    ("tokens_per_year", "tokens per year", "e"),
    ("annual_cost_usd", "annual cost (USD/year)", "usd"),
    ("capex_usd", "capex (USD)", "usd"),
    ("cost_per_million_tokens_usd", "cost per M tokens (USD)", "usd"),
    ("tokens_per_s_per_mw", "tokens/s per MW", 0),
    ("objective", "objective", None),
    ("status", "status", None),
)
"""(plan field, label, format: digits | "usd" | "e" | None for text)."""
VOLUME = "token_volume"
"""The decomposition's row for the change in tokens per year."""


def fleet_changes(a: PlanDocument, b: PlanDocument) -> list[dict]:
    """Nodes and GPUs per (sku, cooling_id, power_id) in A and B; rows in either plan."""

    def by_key(plan: PlanDocument) -> dict[tuple[str, str | None, str | None], FleetRow]:
        return {(r["sku"], r["cooling_id"], r["power_id"]): r for r in plan["fleet"]}

    rows_a, rows_b = by_key(a), by_key(b)
    changes = []
    for key in sorted(rows_a.keys() | rows_b.keys(), key=lambda k: tuple(x or "" for x in k)):
        nodes_a = rows_a[key]["nodes"] if key in rows_a else 0
        nodes_b = rows_b[key]["nodes"] if key in rows_b else 0
        gpus_a = rows_a[key]["gpus"] if key in rows_a else 0
        gpus_b = rows_b[key]["gpus"] if key in rows_b else 0
        changes.append(
            {
                "sku": key[0],
                "cooling_id": key[1],
                "power_id": key[2],
                "nodes_a": nodes_a,
                "nodes_b": nodes_b,
                "delta_nodes": nodes_b - nodes_a,
                "gpus_a": gpus_a,
                "gpus_b": gpus_b,
                "delta_gpus": gpus_b - gpus_a,
            }
        )
    return changes


def cost_decomposition(a: PlanDocument, b: PlanDocument) -> list[dict]:
    """Per cost component: annual cost in A and B, its change, and its exact contribution to the
    change in cost per million tokens; then the token-volume row (see the module docstring)."""
    tokens_a, tokens_b = a["tokens_per_year"], b["tokens_per_year"]
    costs_a, costs_b = cost_components(a), cost_components(b)
    components = list(dict.fromkeys([*costs_a, *costs_b]))
    rows = []
    for key in components:
        usd_a, usd_b = costs_a.get(key, 0.0), costs_b.get(key, 0.0)
        rows.append(
            {
                "component": key,
                "annual_cost_usd_a": usd_a,
                "annual_cost_usd_b": usd_b,
                "delta_annual_cost_usd": usd_b - usd_a,
                "usd_per_million_tokens_a": usd_a / tokens_a * 1e6,
                "usd_per_million_tokens_b": usd_b / tokens_b * 1e6,
                "contribution_usd_per_million_tokens": (usd_b - usd_a) / tokens_b * 1e6,
            }
        )
    rows.append(
        {
            "component": VOLUME,
            "annual_cost_usd_a": None,
            "annual_cost_usd_b": None,
            "delta_annual_cost_usd": None,
            "usd_per_million_tokens_a": None,
            "usd_per_million_tokens_b": None,
            "contribution_usd_per_million_tokens": a["annual_cost_usd"]
            * (1 / tokens_b - 1 / tokens_a)
            * 1e6,
        }
    )
    return rows


def input_changes(a: PlanDocument, b: PlanDocument) -> dict:
    """Input files changed (by SHA-256), added and removed from A to B, and how many are
    unchanged."""
    hashes_a = {f["file"]: f["sha256"] for f in a.get("inputs", [])}
    hashes_b = {f["file"]: f["sha256"] for f in b.get("inputs", [])}
    common = hashes_a.keys() & hashes_b.keys()
    return {
        "changed": [
            {"file": f, "sha256_a": hashes_a[f], "sha256_b": hashes_b[f]}
            for f in sorted(common)
            if hashes_a[f] != hashes_b[f]
        ],
        "added": sorted(hashes_b.keys() - hashes_a.keys()),
        "removed": sorted(hashes_a.keys() - hashes_b.keys()),
        "unchanged": sum(hashes_a[f] == hashes_b[f] for f in common),
    }


def plan_diff(a: PlanDocument, b: PlanDocument) -> dict:
    """Everything that differs from plan A to plan B, as plain data."""
    cost_a, cost_b = a["cost_per_million_tokens_usd"], b["cost_per_million_tokens_usd"]
    return {
        "plan_a": a.get("plan_id"),
        "plan_b": b.get("plan_id"),
        "design": [
            {
                "field": field,
                "a": a.get(field),
                "b": b.get(field),
                "changed": a.get(field) != b.get(field),
            }
            for field, _, _ in DESIGN_FIELDS
        ],
        "fleet": fleet_changes(a, b),
        "cost_per_million_tokens_usd": {
            "a": cost_a,
            "b": cost_b,
            "delta": None if cost_a is None or cost_b is None else cost_b - cost_a,
        },
        "cost_components": cost_decomposition(a, b),
        "inputs": input_changes(a, b),
    }


def _value(value, spec) -> str:
    if value is None:
        return "-"
    if spec is None:
        return str(value)
    if spec == "usd":
        return usd_text(value)
    if spec == "e":
        return f"{value:.4g}"
    return number_text(value, spec)


def _signed_usd(value: float | None) -> str:
    """+$0.007270 / -$0.000012; a change that rounds to zero has no sign."""
    if value is None:
        return "-"
    text = f"${abs(value):,.6f}"
    return text if text == "$0.000000" else ("+" if value > 0 else "-") + text


def diff_text(diff: dict) -> str:
    """The diff as tables a planner reads in a terminal."""
    specs = {field: (label, spec) for field, label, spec in DESIGN_FIELDS}
    design = [
        [
            specs[r["field"]][0],
            _value(r["a"], specs[r["field"]][1]),
            _value(r["b"], specs[r["field"]][1]),
            "changed" if r["changed"] else "",
        ]
        for r in diff["design"]
    ]
    changed_fleet = [r for r in diff["fleet"] if r["delta_nodes"]]
    fleet = [
        [
            r["sku"],
            r["cooling_id"] or "(rented)",
            r["power_id"] or "-",
            number_text(r["nodes_a"]),
            number_text(r["nodes_b"]),
            f"{r['delta_nodes']:+,}",
            f"{r['delta_gpus']:+,}",
        ]
        for r in changed_fleet
    ]
    costs = [
        [
            COST_LABELS.get(r["component"], r["component"])
            if r["component"] != VOLUME
            else "token volume: A's cost over B's tokens",
            _value(r["annual_cost_usd_a"], "usd"),
            _value(r["annual_cost_usd_b"], "usd"),
            "-"
            if r["delta_annual_cost_usd"] is None
            else f"{'+' if r['delta_annual_cost_usd'] >= 0 else '-'}"
            f"{usd_text(abs(r['delta_annual_cost_usd']))}",
            _signed_usd(r["contribution_usd_per_million_tokens"]),
        ]
        for r in diff["cost_components"]
        if r["component"] == VOLUME or r["annual_cost_usd_a"] or r["annual_cost_usd_b"]
    ]
    total = diff["cost_per_million_tokens_usd"]
    costs.append(
        [
            "total: cost per M tokens",
            usd_text(total["a"]),
            usd_text(total["b"]),
            "",
            _signed_usd(total["delta"]),
        ]
    )
    inputs = diff["inputs"]
    files = [
        [f["file"], "changed", f"{f['sha256_a'][:12]}… → {f['sha256_b'][:12]}…"]
        for f in inputs["changed"]
    ]
    files += [[f, "added", ""] for f in inputs["added"]] + [
        [f, "removed", ""] for f in inputs["removed"]
    ]
    parts = [
        f"Plan diff: A = {diff['plan_a']}  →  B = {diff['plan_b']}",
        "Design",
        table_text(["", "A", "B", ""], design, False),
        "Fleet (rows whose node count changed)",
        table_text(
            ["system", "cooling", "power", "nodes A", "nodes B", "Δ nodes", "Δ GPUs"], fleet, False
        )
        if fleet
        else "no change",
        "Cost per million tokens by component\n"
        "(Δ = Σ Δ annual cost / B's tokens + A's annual cost × (1/B's tokens − 1/A's tokens); "
        "the rows add up to the total)",
        table_text(
            ["component", "A USD/year", "B USD/year", "Δ USD/year", "Δ USD per M tokens"],
            costs,
            False,
        ),
        "Input files (by content hash)",
        (
            table_text(["file", "change", "SHA-256"], files, False)
            if files
            else "no input file changed"
        )
        + f"\n{inputs['unchanged']} file{'s' * (inputs['unchanged'] != 1)} unchanged",
    ]
    return "\n\n".join(parts) + "\n"
