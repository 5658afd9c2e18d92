"""A plan document as text a planner reads in a terminal (and as Markdown for the Dagster UI).

The rows here are shared with the reports (`pipelines.reports.report`). Every part renders
a plan made before its fields existed: older plan files lack the lever table, the site's
carbon, water and availability, and the serving configuration of allocation rows.
"""

from __future__ import annotations

from optimizer.types import AllocationRow, LeverRow, Objective, PlanDocument, cost_components

COST_LABELS = {
    "it_capex": "IT capex (annualized)",
    "cooling_capex": "cooling capex (annualized)",
    "power_capex": "power chain capex (annualized)",
    "shell_capex": "shell capex (annualized)",
    "grid_connection_capex": "grid connection capex (annualized)",
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


def amount_text(value: float | None, digits: int = 3) -> str:
    """A quantity to `digits` significant digits (0.0223, 4.56), whole above 10^digits."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"


def ratio_text(value: float | None) -> str:
    """A ratio as `1.58x` (`-` for none)."""
    return "-" if value is None else f"{value:.2f}x"


def percent_text(fraction: float | None, digits: int = 1) -> str:
    return "-" if fraction is None else f"{100 * fraction:.{digits}f}%"


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
        ["kWh per million tokens", amount_text(plan["kwh_per_million_tokens"])],
        *site_rows(plan),
    ]


def why_no_site_figure(plan: PlanDocument, figure: str) -> str:
    """Why a plan has no carbon (or water) per million tokens: no on-site fleet (the figures
    count owned nodes only), or for carbon no carbon intensity in the scenario."""
    if plan["kwh_per_million_tokens"] is None or figure != "carbon":
        return "no on-site fleet"
    return "no carbon intensity in the scenario"


def site_rows(plan: PlanDocument) -> list[list[str]]:
    """Carbon, water and availability of the site, revenue and margin when the workloads have
    prices; none of them for a plan made before they were recorded."""
    rows = []
    if "carbon_kg_per_million_tokens" in plan:
        carbon = plan["carbon_kg_per_million_tokens"]
        rows.append(
            [
                "carbon per million tokens",
                f"- ({why_no_site_figure(plan, 'carbon')})"
                if carbon is None
                else f"{amount_text(carbon)} kg CO2e",
            ]
        )
    if "water_l_per_million_tokens" in plan:
        water = plan["water_l_per_million_tokens"]
        rows.append(
            [
                "water per million tokens",
                f"- ({why_no_site_figure(plan, 'water')})"
                if water is None
                else f"{amount_text(water)} L",
            ]
        )
    if "availability" in plan:
        rows.append(
            ["availability", f"{percent_text(plan['availability'])} of on-site GPUs serving"]
        )
    for field, label in (
        ("revenue_usd_per_year", "revenue per year"),
        ("margin_usd_per_year", "margin per year"),
    ):
        value = plan.get(field)
        if isinstance(value, int | float):
            rows.append([label, usd_text(value)])
    return rows


FLEET_HEADERS = ["system", "cooling", "power", "nodes", "GPUs", "grid kW", "annual cost"]
ALLOCATION_HEADERS = [
    "workload",
    "system",
    "configuration",
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


INTERPOLATED_MARK, DERIVED_MARK = "*", "†"
"""Marks after an allocation row's configuration: its point is interpolated between two
measured points; it is derived (scaled from another accelerator's measurements)."""


def configuration_text(row: AllocationRow) -> str:
    """The row's serving configuration, with its marks (`INTERPOLATED_MARK`, `DERIVED_MARK`).
    A plan made before configurations were recorded: framework and precision."""
    text = row.get("configuration") or " ".join(
        part for part in (row["framework"], row["precision"]) if part
    )
    marks = (INTERPOLATED_MARK if row["interpolated"] else "") + (
        DERIVED_MARK if row.get("derived") else ""
    )
    return f"{text or '-'} {marks}" if marks else text or "-"


DERIVATION_CHARS = 120
"""A derivation's text in the terminal is cut to this many characters (the reports and the
exports have it whole)."""


def derivation_text(source: str | None, limit: int | None = None) -> str:
    """What a derived point was derived from: the `derived from X x r (source)` part of its
    source (the rest names the measured point it was scaled from), else the whole source; cut
    to `limit` characters with an ellipsis."""
    if not source:
        return "-"
    start = source.find("derived from ")
    text = source if start < 0 else source[start:]
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                text = text[: index + 1]
                break
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 2].rstrip(" ,;")
    return cut + ("…)" if text.endswith(")") and cut.count("(") > cut.count(")") else "…")


def allocation_notes(plan: PlanDocument, limit: int | None = None) -> list[str]:
    """What the allocation table's marks mean, then for each system with derived points what
    they were derived from (`derivation_text`, cut to `limit`), with the workloads they serve;
    none when no row has a mark."""
    rows = sorted(plan["allocation"], key=lambda r: (r["workload"], r["sku"]))
    notes = []
    if any(r["interpolated"] for r in rows):
        notes.append(f"{INTERPOLATED_MARK} interpolated between two measured points")
    derivations: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.get("derived"):
            key = (r["sku"], derivation_text(r["source"], limit))
            derivations.setdefault(key, []).append(r["workload"])
    if derivations:
        notes.append(
            f"{DERIVED_MARK} derived: scaled from another accelerator's measurements "
            "(benchmarks/derived.csv)"
        )
        notes += [
            f"{DERIVED_MARK} {sku} ({', '.join(workloads)}): {text}"
            for (sku, text), workloads in derivations.items()
        ]
    return notes


def allocation_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        [
            r["workload"],
            r["sku"],
            configuration_text(r),
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
            f"{r['status']}: {r['reason']}" if r["reason"] else r["status"],
        ]
        for r in plan.get("alternatives", [])
    ]


LEVER_HEADERS = [
    "lever",
    "without it",
    "cost per M tokens",
    "cost x",
    "tokens/s per MW",
    "tokens/MW x",
    "used by plan",
    "status",
]
LEVERS_LEAD = (
    "The plan solved again with one lever taken away at a time (same site, budget, prices and "
    "workloads). cost x = cost per token without the lever / the plan's; tokens/MW x = the "
    "plan's tokens/s per MW / without the lever: how many times better the lever makes it "
    "(1.00x: worth nothing here). A lever not in the data is not solved again."
)
FLAT_YEAR_LEVERS = (
    "The rows are flat-year plans, compared with the flat-year optimum of the same inputs."
)
MAX_PROFIT_LEVERS = (
    "The plans maximize margin: a lever is worth the margin it adds (the plan's {margin} a year "
    "minus margin/year without it); cost per token without it may well be lower."
)


def levers_lead(plan: PlanDocument) -> str:
    """What the lever table says, for this plan (time-resolved: against its flat year;
    max-profit: worth the margin)."""
    lead = LEVERS_LEAD
    if plan.get("time_resolution"):
        lead += " " + FLAT_YEAR_LEVERS
    if plan["objective"] == Objective.MAX_PROFIT:
        lead += " " + MAX_PROFIT_LEVERS.format(margin=usd_text(plan.get("margin_usd_per_year")))
    return lead


def used_text(row: LeverRow) -> str:
    if not row["in_data"]:
        return "not in data"
    return "yes" if row["used_by_plan"] else "no"


def lever_status_text(row: LeverRow) -> str:
    return f"{row['status']}: {row['reason']}" if row["reason"] else row["status"]


def lever_headers(plan: PlanDocument) -> list[str]:
    """`LEVER_HEADERS`, with the margin per year without the lever when the plan has one."""
    if plan.get("margin_usd_per_year") is None:
        return LEVER_HEADERS
    return [*LEVER_HEADERS[:6], "margin/year", *LEVER_HEADERS[6:]]


def lever_rows(plan: PlanDocument) -> list[list[str]]:
    """What each lever is worth (`pipelines.planning.levers`), in the plan's order; none for a
    plan made before levers were recorded."""
    with_margin = plan.get("margin_usd_per_year") is not None
    rows = []
    for r in plan.get("levers", []):
        row = [
            r["name"],
            r["without"],
            usd_text(r["cost_per_million_tokens_usd"]),
            ratio_text(r["cost_ratio"]),
            number_text(r["tokens_per_s_per_mw"]),
            ratio_text(r["tokens_per_mw_ratio"]),
        ]
        if with_margin:
            row.append(usd_text(r["margin_usd_per_year"]))
        rows.append([*row, used_text(r), lever_status_text(r)])
    return rows


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


def seconds_text(plan: PlanDocument) -> str:
    """`, 1.41 s`: the solve's time, after a list; empty for a plan recorded without times (the
    golden plans of the tests)."""
    seconds = plan["solver"].get("seconds")
    return "" if seconds is None else f", {seconds:.2f} s"


def _notes_text(notes: list[str], markdown: bool) -> list[str]:
    """Footnote lines as one part (none without notes); Markdown: a list, one note per item,
    `*` escaped (a footnote mark would start a list or emphasis)."""
    if not notes:
        return []
    if markdown:
        return ["\n".join("- " + n.replace("*", "\\*") for n in notes)]
    return ["\n".join(notes)]


def plan_text(plan: PlanDocument, markdown: bool = False) -> str:
    """Summary, fleet, allocation, annual costs, the single-system alternatives, what each lever
    is worth, and solver status of a plan."""
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
        *_notes_text(allocation_notes(plan, None if markdown else DERIVATION_CHARS), markdown),
        "Annual cost",
        table_text(COST_HEADERS, cost_rows(plan), markdown),
        f"Solver: HiGHS, {solver['status']}, gap {gap}, "
        f"{iterations} iteration{'s' * (iterations != 1)}{seconds_text(plan)}",
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
    if plan.get("levers"):
        parts[-1:-1] = [
            "What each lever is worth",
            levers_lead(plan),
            table_text(lever_headers(plan), lever_rows(plan), markdown),
        ]
    if plan.get("notes"):
        parts.append("Notes:\n" + "\n".join(f"- {n}" for n in plan["notes"]))
    return "\n\n".join(parts) + "\n"
