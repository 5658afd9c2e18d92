"""What changed between two plans: design, fleet, cost per token by component, input files.

Cost per token decomposed exactly. With component costs c_i (USD/year, Σ_i c_i = C) and
tokens per year T, from plan A to plan B:

    C_B/T_B − C_A/T_A = Σ_i (c_i,B − c_i,A) / T_B  +  C_A · (1/T_B − 1/T_A)

The first terms are each component's change in annual cost spread over B's tokens; the
last ("token volume") is A's whole cost spread over B's tokens instead of A's. They add
up to the total change with no residual (times 10⁶ for USD per million tokens). A plan with
no tokens has no cost per token: its terms are None ("-").

Plans at different time resolutions are not like for like: a flat year assumes the
scenario's utilization, a time-resolved year realizes its own, and the token-volume term
carries that change of utilization. The diff says so, shows both utilizations, and, when the
time-resolved plans carry their flat-year comparators (`flat_cost_per_million_tokens_usd`,
`flat_at_realized_utilization_cost_per_million_tokens_usd`), splits the change exactly once
more, each plan's cost per token being

    cost = F + (F' − F) + (cost − F')      (a flat plan: F = cost, F' = F)

with F its flat year at the scenario's utilization and F' its flat year at the utilization it
realizes: Δcost = ΔF (the flat year: inputs and design) + Δ(F' − F) (utilization) +
Δ(cost − F') (tariff timing and load shape).

Input files are compared by the content hashes in each plan's `inputs` list: changed
(same file, other SHA-256), added, removed.
"""

from __future__ import annotations

import textwrap

from optimizer.types import FleetRow, PlanDocument, TimeResolution, cost_components
from pipelines.reports.text import COST_LABELS, number_text, percent_text, table_text, usd_text

DESIGN_FIELDS = (
    ("budget_mw", "grid budget (MW)", 2),
    ("time_resolution", "time resolution", None),
    ("tariff", "tariff", None),
    ("objective", "objective", None),
    ("utilization", "utilization", "utilization"),
    ("gpu_hours_serving", "GPU-hours serving", "share"),
    ("power_design", "power design", None),
    ("grid_power_mw", "grid power (MW)", 2),
    ("it_power_mw", "IT power (MW)", 2),
    ("pue", "PUE", 3),
    ("tokens_per_year", "tokens per year", "e"),
    ("annual_cost_usd", "annual cost (USD/year)", "usd"),
    ("capex_usd", "capex (USD)", "usd"),
    ("cost_per_million_tokens_usd", "cost per M tokens (USD)", "usd"),
    ("flat_cost_per_million_tokens_usd", "flat year: cost per M tokens (USD)", "usd"),
    (
        "flat_at_realized_utilization_cost_per_million_tokens_usd",
        "flat year at realized utilization (USD)",
        "usd",
    ),
    ("tokens_per_s_per_mw", "tokens/s per MW", 0),
    ("status", "status", None),
)
"""(plan field, label, format: digits | "usd" | "e" | "share" | "utilization" | None for text).
`time_resolution`, `utilization`, `gpu_hours_serving` and the flat-year costs are read with
`design_value`."""
FLAT_YEAR_FIELDS = {
    "flat_cost_per_million_tokens_usd",
    "flat_at_realized_utilization_cost_per_million_tokens_usd",
}
"""Design rows shown only when one of the plans is time-resolved."""
NOTE_WIDTH = 100
"""The resolution note is wrapped at this many characters."""
VOLUME = "token_volume"
"""The decomposition's row for the change in tokens per year."""
LIKE_FOR_LIKE_LABELS = {
    "flat_year": "flat year at the scenario's utilization (inputs and design)",
    "utilization": "utilization realized by the time resolution",
    "tariff_timing": "tariff timing and load shape",
}


def resolution(plan: PlanDocument) -> str:
    """The plan's time resolution (a plan without one is flat)."""
    return plan.get("time_resolution") or TimeResolution.FLAT.value


def _availability(plan: PlanDocument) -> float | None:
    assumptions = plan.get("assumptions")
    return plan.get("availability", None if assumptions is None else assumptions["availability"])


def utilization(plan: PlanDocument) -> dict | None:
    """The utilization a plan's cost per token rests on, in the flat year's terms (share of the
    hours the available GPUs serve): a flat plan's `assumed` (the scenario's), a time-resolved
    plan's `realized` (the flat utilization that serves as many GPU-hours as it does); None
    when the plan does not record it (plans made before their assumptions were)."""
    if resolution(plan) == TimeResolution.FLAT:
        assumptions = plan.get("assumptions")
        if assumptions is None:
            return None
        return {"utilization": assumptions["utilization"], "kind": "assumed"}
    gain = plan.get("gain_vs_flat_usd_per_million_tokens")
    realized = gain["realized_flat_utilization"] if gain else None
    share, availability = gpu_hours_serving(plan), _availability(plan)
    if realized is None and share is not None and availability:
        realized = min(1.0, share / availability)
    return None if realized is None else {"utilization": realized, "kind": "realized"}


def gpu_hours_serving(plan: PlanDocument) -> float | None:
    """Share of the fleet's GPU-hours of the year serving: a time-resolved plan's realized
    share, a flat plan's utilization × availability."""
    realized = plan.get("realized_utilization")
    if realized is not None:
        return realized["fleet"]
    assumed = utilization(plan) if resolution(plan) == TimeResolution.FLAT else None
    availability = _availability(plan)
    if assumed is None or availability is None:
        return None
    return assumed["utilization"] * availability


def design_value(plan: PlanDocument, field: str):
    """A design row's value of `plan`: the plan's field, or for the rows computed here
    (`resolution`, `utilization`, `gpu_hours_serving`) their value; a flat plan's flat-year
    cost per token is its own."""
    if field == "time_resolution":
        return resolution(plan)
    if field == "utilization":
        return utilization(plan)
    if field == "gpu_hours_serving":
        return gpu_hours_serving(plan)
    if field in FLAT_YEAR_FIELDS and resolution(plan) == TimeResolution.FLAT:
        return plan["cost_per_million_tokens_usd"]
    return plan.get(field)


def _per_million(usd: float | None, tokens: float) -> float | None:
    return None if usd is None or not tokens else usd / tokens * 1e6


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
                "usd_per_million_tokens_a": _per_million(usd_a, tokens_a),
                "usd_per_million_tokens_b": _per_million(usd_b, tokens_b),
                "contribution_usd_per_million_tokens": _per_million(usd_b - usd_a, tokens_b),
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
            * 1e6
            if tokens_a and tokens_b
            else None,
        }
    )
    return rows


def flat_year_parts(plan: PlanDocument) -> dict[str, float] | None:
    """The plan's cost per million tokens as flat year + utilization + tariff timing (module
    docstring); None without a cost per token, or for a time-resolved plan recorded without its
    flat-year comparators."""
    cost = plan["cost_per_million_tokens_usd"]
    if cost is None:
        return None
    if resolution(plan) == TimeResolution.FLAT:
        return {"flat_year": cost, "utilization": 0.0, "tariff_timing": 0.0}
    flat = plan.get("flat_cost_per_million_tokens_usd")
    same_use = plan.get("flat_at_realized_utilization_cost_per_million_tokens_usd")
    if flat is None or same_use is None:
        return None
    return {"flat_year": flat, "utilization": same_use - flat, "tariff_timing": cost - same_use}


def like_for_like(a: PlanDocument, b: PlanDocument) -> list[dict] | None:
    """When one of the plans is time-resolved: the change in cost per million tokens split
    exactly into the flat year, utilization and tariff timing (module docstring); None when
    both are flat or a part is unknown."""
    if resolution(a) == resolution(b) == TimeResolution.FLAT:
        return None
    parts_a, parts_b = flat_year_parts(a), flat_year_parts(b)
    if parts_a is None or parts_b is None:
        return None
    return [
        {
            "part": part,
            "usd_per_million_tokens_a": parts_a[part],
            "usd_per_million_tokens_b": parts_b[part],
            "contribution_usd_per_million_tokens": parts_b[part] - parts_a[part],
        }
        for part in LIKE_FOR_LIKE_LABELS
    ]


def _utilization_text(plan: PlanDocument) -> str:
    """`assumes 70% utilization (67.2% of GPU-hours serving)`, `realizes 100.0% utilization
    (96.0% of GPU-hours serving)`."""
    use, share = utilization(plan), gpu_hours_serving(plan)
    hours = "" if share is None else f" ({percent_text(share)} of GPU-hours serving)"
    if use is None:
        return "utilization not recorded" + hours
    verb = "assumes" if use["kind"] == "assumed" else "realizes"
    return f"{verb} {percent_text(use['utilization'])} utilization{hours}"


def resolution_note(a: PlanDocument, b: PlanDocument) -> str | None:
    """What a change of time resolution does to the comparison, in words; None when both plans
    are at the same resolution."""
    if resolution(a) == resolution(b):
        return None
    return (
        f"plans at different time resolutions: A ({resolution(a)}) {_utilization_text(a)}, "
        f"B ({resolution(b)}) {_utilization_text(b)}; the token-volume row carries that change "
        "of utilization, not only of demand. Compare like for like with --time-resolution "
        "(both plans at one resolution), or read the split by flat year, utilization and tariff "
        "timing below."
    )


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
    timed = resolution(a) != TimeResolution.FLAT or resolution(b) != TimeResolution.FLAT
    return {
        "plan_a": a.get("plan_id"),
        "plan_b": b.get("plan_id"),
        "design": [
            {
                "field": field,
                "a": design_value(a, field),
                "b": design_value(b, field),
                "changed": design_value(a, field) != design_value(b, field),
            }
            for field, _, _ in DESIGN_FIELDS
            if field not in FLAT_YEAR_FIELDS or timed
        ],
        "fleet": fleet_changes(a, b),
        "cost_per_million_tokens_usd": {
            "a": cost_a,
            "b": cost_b,
            "delta": None if cost_a is None or cost_b is None else cost_b - cost_a,
        },
        "cost_components": cost_decomposition(a, b),
        "time_resolution": {
            "a": resolution(a),
            "b": resolution(b),
            "differs": resolution(a) != resolution(b),
            "note": resolution_note(a, b),
        },
        "like_for_like": like_for_like(a, b),
        "inputs": input_changes(a, b),
    }


def _value(value, spec) -> str:
    if value is None:
        return "-"
    if spec == "utilization":
        return f"{percent_text(value['utilization'])} {value['kind']}"
    if spec == "share":
        return percent_text(value)
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
    resolutions = diff.get("time_resolution") or {}
    volume = "token volume: A's cost over B's tokens" + (
        ", utilization included" if resolutions.get("differs") else ""
    )
    costs = [
        [
            COST_LABELS.get(r["component"], r["component"]) if r["component"] != VOLUME else volume,
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
    split = diff.get("like_for_like")
    like = [
        [
            LIKE_FOR_LIKE_LABELS[r["part"]],
            usd_text(r["usd_per_million_tokens_a"]),
            usd_text(r["usd_per_million_tokens_b"]),
            _signed_usd(r["contribution_usd_per_million_tokens"]),
        ]
        for r in split or []
    ]
    if like:
        like.append(
            [
                "total: cost per M tokens",
                usd_text(total["a"]),
                usd_text(total["b"]),
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
        *([textwrap.fill(resolutions["note"], NOTE_WIDTH)] if resolutions.get("note") else []),
        table_text(
            ["component", "A USD/year", "B USD/year", "Δ USD/year", "Δ USD per M tokens"],
            costs,
            False,
        ),
        *(
            [
                "Cost per million tokens like for like: flat year, utilization, tariff timing\n"
                "(each plan's cost per token = its flat year + what its utilization changes + "
                "what tariff timing and load shape change; a flat plan is all flat year)",
                table_text(
                    ["part", "A USD per M", "B USD per M", "Δ USD per M tokens"], like, False
                ),
            ]
            if like
            else []
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
