"""Stress tests and robust plans as text parts (`pipelines.reports.text`): the regret table of a
multi-year plan over the scenarios; the robust plan's shared first year, each scenario's plan
and its regret table. The documents are `pipelines.planning.stress`'s."""

from __future__ import annotations

from typing import Any

from pipelines.reports.text import (
    NONE_TEXT,
    NUMBER,
    STATUS,
    TEXT,
    Heading,
    Notes,
    Paragraph,
    Part,
    Table,
    Title,
    gap_text,
    gpus_text,
    mw_text,
    number_text,
    tokens_text,
    usd_per_mtok_column,
    usd_per_mtok_text,
    usd_text,
)

REGRET_HEADERS = [
    "scenario",
    "probability",
    "plan: cost per M tokens",
    "own optimum",
    "regret per M tokens",
    "regret",
]
REGRET_KINDS = (TEXT, NUMBER, STATUS, STATUS, NUMBER, NUMBER)
REGRET_LEAD = (
    "Regret: the plan's levelized cost per million tokens in each scenario less that scenario's "
    "own optimum (the best plan had it been known); the expected row weighs each column by the "
    "probabilities."
)
STRESS_LEAD = (
    "The plan's purchases and nodes in service are kept in each scenario; only the GPU "
    "allocation and the facility are solved again."
)
EXPECTED_LABEL = "expected levelized cost per million tokens (Σ p·PV cost / Σ p·PV tokens)"
FIRST_YEAR_HEADERS = ["system", "accelerator", "cooling", "power", "kind", "nodes", "GPUs"]
FIRST_YEAR_KINDS = (TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, NUMBER)
SCENARIO_HEADERS = [
    "scenario",
    "probability",
    "levelized cost per M tokens",
    "present value of the cost",
    "present value of the tokens",
]
SCENARIO_YEAR_HEADERS = [
    "scenario",
    "year",
    "budget",
    "grid power",
    "tokens",
    "cost",
    "cost per M tokens",
    "bought",
]
SCENARIO_YEAR_KINDS = (TEXT, TEXT, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, TEXT)


def span_text(start_year: int | None, years: int) -> str:
    return f"{start_year}-{start_year + years - 1}" if start_year is not None else f"{years} year"


def probability_text(probability: float) -> str:
    return f"{probability:.3g}"


def regret_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The regret table's cells: a side without a plan shows its status (`infeasible`)."""
    plan_costs = usd_per_mtok_column([r["plan_cost_per_million_tokens_usd"] for r in rows])
    own_costs = usd_per_mtok_column([r["own_cost_per_million_tokens_usd"] for r in rows])
    regrets = usd_per_mtok_column([r["regret_usd_per_million_tokens"] for r in rows])
    return [
        [
            r["scenario"],
            probability_text(r["probability"]),
            plan if r["plan_reason"] is None else r["plan_status"],
            own if r["own_reason"] is None else r["own_status"],
            regret,
            NONE_TEXT if r["regret_pct"] is None else f"{r['regret_pct']:.2f}%",
        ]
        for r, plan, own, regret in zip(rows, plan_costs, own_costs, regrets, strict=True)
    ]


def regret_notes(rows: list[dict[str, Any]]) -> list[str]:
    """Why a side has no plan, one line each (the expected row's only when it adds a reason)."""
    notes = []
    for r in rows:
        if r["expected"]:
            continue
        for side, what in (("plan", "the plan"), ("own", "its own optimum")):
            if r[f"{side}_reason"] is not None:
                notes.append(
                    f"{r['scenario']}, {what}: {r[f'{side}_status']}: {r[f'{side}_reason']}"
                )
    return notes


def regret_parts(rows: list[dict[str, Any]]) -> list[Part]:
    notes = regret_notes(rows)
    parts: list[Part] = [
        Paragraph(REGRET_LEAD),
        Table(REGRET_HEADERS, regret_rows(rows), REGRET_KINDS),
    ]
    return parts + ([Notes(notes, "No plan:")] if notes else [])


def stress_parts(document: dict[str, Any]) -> list[Part]:
    """The parts of a stress test document (`pipelines.planning.stress.make_stress_test`)."""
    plan = document["plan"]
    span = span_text(plan["start_year"], plan["years"])
    made = plan["cost_per_million_tokens_usd"]
    count = sum(1 for r in document["regret"] if not r["expected"])
    return [
        Title(f"Stress test of {plan['file']} ({plan['name']}, {span})"),
        Table(
            None,
            [
                ["levelized cost per million tokens, as planned", usd_per_mtok_text(made)],
                [EXPECTED_LABEL, expected_text(document)],
                ["scenarios", str(count)],
                ["objective", document["objective"]],
            ],
            (TEXT, TEXT),
        ),
        Paragraph(STRESS_LEAD),
        *regret_parts(document["regret"]),
    ]


def expected_text(document: dict[str, Any]) -> str:
    """The plan's expected levelized cost, or why there is none (no plan in some scenario)."""
    cost = document["expected_cost_per_million_tokens_usd"]
    return "infeasible in some scenario" if cost is None else usd_per_mtok_text(cost)


def bought_text(plan: dict[str, Any], year: int) -> str:
    """What a plan buys (or starts renting) in `year`: `50 Vera Rubin NVL72, 53 HGX B200 8-GPU`."""
    bought = [
        f"{number_text(r['bought'])} {r['sku']}"
        for r in plan["build_plan"]
        if r["year"] == year and r["bought"] > 0
    ]
    return ", ".join(bought) or NONE_TEXT


def robust_parts(document: dict[str, Any]) -> list[Part]:
    """The parts of a robust plan document (`pipelines.planning.stress.make_robust_plan`)."""
    span = span_text(document["start_year"], document["years"])
    scenarios = document["scenarios"]
    levelized = usd_per_mtok_column([s["plan"]["cost_per_million_tokens_usd"] for s in scenarios])
    year_rows = []
    for s in scenarios:
        plan = s["plan"]
        costs = usd_per_mtok_column([y["cost_per_million_tokens_usd"] for y in plan["yearly"]])
        for y, cost in zip(plan["yearly"], costs, strict=True):
            year_rows.append(
                [
                    s["name"],
                    str(y["year"]),
                    mw_text(y["budget_mw"]),
                    mw_text(y["grid_power_mw"]),
                    tokens_text(y["tokens_per_year"]),
                    usd_text(y["cost_usd"]),
                    cost,
                    bought_text(plan, y["year"]),
                ]
            )
    return [
        Title(f"Robust plan for {document['name']}, {span}", document["status"]),
        Table(
            None,
            [
                [EXPECTED_LABEL, expected_text(document)],
                ["scenarios", str(len(scenarios))],
                ["objective", document["objective"]],
            ],
            (TEXT, TEXT),
        ),
        Heading(f"First year ({document['start_year']}), shared by every scenario"),
        Paragraph(
            "Decided before the future is known: what every scenario's plan buys or rents alike "
            "in the first year. The years after are each scenario's own."
        ),
        Table(FIRST_YEAR_HEADERS, first_year_rows(document), FIRST_YEAR_KINDS)
        if document["first_year"]
        else Paragraph("Nothing bought or rented alike in every scenario in the first year."),
        Heading("Scenarios"),
        Table(
            SCENARIO_HEADERS,
            [
                [
                    s["name"],
                    probability_text(s["probability"]),
                    cost,
                    usd_text(s["plan"]["present_value_cost_usd"]),
                    tokens_text(s["plan"]["present_value_tokens"]),
                ]
                for s, cost in zip(scenarios, levelized, strict=True)
            ],
        ),
        Heading("Year by year"),
        Table(SCENARIO_YEAR_HEADERS, year_rows, SCENARIO_YEAR_KINDS),
        Heading("Regret"),
        *regret_parts(document["regret"]),
        Paragraph(
            f"Solver: HiGHS, {document['status']}, gap {gap_text(document['mip_gap'])}, "
            f"{document['solver']['seconds']:.2f} s"
        ),
    ]


def first_year_rows(document: dict[str, Any]) -> list[list[str]]:
    return [
        [
            r["sku"],
            r["accelerator"],
            r["cooling_id"] or NONE_TEXT,
            r["power_id"] or NONE_TEXT,
            r["kind"],
            number_text(r["nodes"]),
            gpus_text(r["gpus"]),
        ]
        for r in document["first_year"]
    ]
