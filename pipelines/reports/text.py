"""A plan document as text a planner reads in a terminal (and as Markdown for the Dagster UI)."""

from __future__ import annotations

from optimizer.types import PlanDocument, cost_components

COST_LABELS = {
    "it_capex": "IT capex (annualized)",
    "cooling_capex": "cooling capex (annualized)",
    "power_capex": "power chain capex (annualized)",
    "shell_capex": "shell capex (annualized)",
    "energy": "energy",
    "demand_charges": "demand charges",
    "fixed_charges": "fixed charges",
    "maintenance": "maintenance",
    "other_opex": "other opex",
    "rental": "rental",
}


def usd_text(value: float | None) -> str:
    """Dollars with a scale suffix; small amounts (a cost per million tokens) to 4 significant
    digits."""
    if value is None:
        return "-"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"${value / limit:,.2f}{suffix}"
    return f"${value:,.2f}" if abs(value) >= 10 else f"${value:.4g}"


def number_text(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table_text(headers: list[str] | None, rows: list[list[str]], markdown: bool) -> str:
    """Columns aligned (numbers right); `headers` None: no header line."""
    if markdown:
        headers = headers or [""] * len(rows[0])
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    columns = len(headers) if headers else len(rows[0])
    widths = [
        max([len(r[i]) for r in rows] + ([len(headers[i])] if headers else []))
        for i in range(columns)
    ]
    numeric = [bool(rows) and all(r[i][:1] in "$-0123456789" for r in rows) for i in range(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    head = [line(headers), line(["-" * w for w in widths])] if headers else []
    return "\n".join([*head, *(line(r) for r in rows)])


def summary_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        ["cost per million tokens", usd_text(plan["cost_per_million_tokens_usd"])],
        ["tokens/s per MW (grid)", number_text(plan["tokens_per_s_per_mw"])],
        ["tokens per year", f"{plan['tokens_per_year']:.4g}"],
        ["annual cost", usd_text(plan["annual_cost_usd"])],
        ["capex (upfront)", usd_text(plan["capex_usd"])],
        ["grid power", f"{plan['grid_power_mw']:.2f} MW of {plan['budget_mw']:g} MW budget"],
        ["IT power", f"{plan['it_power_mw']:.2f} MW"],
        ["PUE", number_text(plan["pue"], 3)],
        ["power design", plan["power_design"] or "-"],
        ["kWh per million tokens", number_text(plan["kwh_per_million_tokens"], 1)],
    ]


FLEET_HEADERS = ["system", "cooling", "power", "nodes", "GPUs", "grid kW", "annual cost"]
ALLOCATION_HEADERS = [
    "workload",
    "system",
    "GPUs",
    "tokens/s",
    "tokens/s/GPU",
    "tok/s/user",
    "TTFT s",
]
COST_HEADERS = ["component", "USD/year", "share"]


def fleet_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        [
            r["sku"],
            r["cooling_id"] or "(rented)",
            r["power_id"] or "-",
            number_text(r["nodes"]),
            number_text(r["gpus"]),
            number_text(r["grid_power_kw"]),
            usd_text(r["annual_cost_usd"]),
        ]
        for r in plan["fleet"]
    ]


def allocation_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        [
            r["workload"],
            r["sku"],
            number_text(r["gpus"], 1),
            number_text(r["tokens_per_s"]),
            number_text(r["tokens_per_s_per_gpu"], 1),
            number_text(r["interactivity_tokens_per_s_per_user"], 1),
            number_text(r["ttft_s"], 2),
        ]
        for r in sorted(plan["allocation"], key=lambda r: (r["workload"], r["sku"]))
    ]


def cost_rows(plan: PlanDocument) -> list[list[str]]:
    costs, total = cost_components(plan), plan["annual_cost_usd"]
    rows = [
        [COST_LABELS.get(k, k), usd_text(v), f"{100 * v / total:.1f}%" if total else "-"]
        for k, v in costs.items()
        if v
    ]
    return rows + [["total", usd_text(total), "100.0%"]]


ALTERNATIVES_HEADERS = [
    "system alone",
    "cost per M tokens",
    "tokens/s per MW",
    "nodes",
    "plan's advantage",
    "status",
]


def alternatives_rows(plan: PlanDocument) -> list[list[str]]:
    """The best single-system plans (`pipelines.planning.comparisons`); advantage = their cost per
    token / the plan's."""
    return [
        [
            r["sku"],
            usd_text(r["cost_per_million_tokens_usd"]),
            number_text(r["tokens_per_s_per_mw"]),
            number_text(r["nodes"]),
            "-" if r["advantage_ratio"] is None else f"{r['advantage_ratio']:.2f}x",
            f"infeasible: {r['reason']}" if r["reason"] else r["status"],
        ]
        for r in plan.get("alternatives", [])
    ]


MONTHLY_HEADERS = ["month", "energy MWh", "energy", "peak grid MW", "demand charges"]


def time_rows(plan: PlanDocument) -> list[list[str]]:
    """A time-resolved plan against the flat year of the same inputs."""
    utilization = plan["realized_utilization"]
    return [
        ["cost per million tokens", usd_text(plan["cost_per_million_tokens_usd"])],
        ["flat year, same inputs", usd_text(plan["flat_cost_per_million_tokens_usd"])],
        [
            "realized utilization",
            f"{number_text(100 * (utilization['fleet'] or 0.0), 1)}% "
            f"(flat year assumes {100 * utilization['flat_assumption']:.0f}%)",
        ],
        ["slices", number_text(len(plan["slices"]["grid_kw"]))],
    ]


def monthly_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        [
            str(r["month"]),
            number_text(r["energy_kwh"] / 1000.0),
            usd_text(r["energy_usd"]),
            number_text(r["peak_grid_kw"] / 1000.0, 2),
            usd_text(r["demand_usd"]),
        ]
        for r in plan["monthly"]
    ]


def plan_text(plan: PlanDocument, markdown: bool = False) -> str:
    """Summary, fleet, allocation, annual costs and solver status of a plan."""
    title = f"Build plan: {plan.get('name', 'site')} ({plan['objective']}, status {plan['status']})"
    solver = plan["solver"]
    gap = "-" if solver["mip_gap"] is None else f"{solver['mip_gap']:.2e}"
    iterations = len(solver["iterations"])
    parts = [
        f"## {title}" if markdown else f"{title}\n{'=' * len(title)}",
        table_text(None, summary_rows(plan), markdown),
        "Fleet",
        table_text(FLEET_HEADERS, fleet_rows(plan), markdown),
        "Allocation",
        table_text(ALLOCATION_HEADERS, allocation_rows(plan), markdown),
        "Annual cost",
        table_text(COST_HEADERS, cost_rows(plan), markdown),
        f"Solver: HiGHS, {solver['status']}, gap {gap}, "
        f"{iterations} iteration{'s' * (iterations != 1)}, {solver['seconds']:.2f} s",
    ]
    if plan.get("time_resolution"):
        parts[-1:-1] = [
            f"Time-resolved year ({plan['time_resolution']} slices)",
            table_text(None, time_rows(plan), markdown),
            table_text(MONTHLY_HEADERS, monthly_rows(plan), markdown),
        ]
    if plan.get("alternatives"):
        parts[-1:-1] = [
            "Best plan with one system only",
            table_text(ALTERNATIVES_HEADERS, alternatives_rows(plan), markdown),
        ]
    if plan.get("notes"):
        parts.append("Notes:\n" + "\n".join(f"- {n}" for n in plan["notes"]))
    return "\n\n".join(parts) + "\n"
