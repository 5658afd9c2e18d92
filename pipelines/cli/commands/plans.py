"""list the plans kept in the plan history, newest first: id, time, budget, objective, time
resolution, cost per million tokens"""

import argparse
import json

from pipelines.cli import options
from pipelines.reports.text import NUMBER, STATUS, TEXT, Paragraph, Table

HEADERS = [
    "plan id",
    "created (UTC)",
    "budget",
    "objective",
    "time resolution",
    "tariff",
    "cost per M tokens",
    "status",
]
KINDS = (TEXT, TEXT, NUMBER, TEXT, TEXT, TEXT, NUMBER, STATUS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_warehouse(parser)
    parser.add_argument(
        "--limit",
        type=options.bounded_int("--limit", options.LIMIT),
        default=None,
        metavar="N",
        help="only the N newest plans (default: all)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the list as JSON: plan_id, created_at, name, budget_mw, objective, "
        "time_resolution, tariff, status, cost_per_million_tokens_usd, file",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.console import emit
    from pipelines.warehouse.history import PLANS_FOLDER, list_plans

    warehouse = options.warehouse_dir(args)
    plans = list_plans(warehouse)[: args.limit]
    if args.json:
        print(json.dumps(plans, indent=2))
        return 0
    folder = warehouse / PLANS_FOLDER
    if not plans:
        print(f"no plans in {folder}: `tokenplan plan` makes one")
        return 0
    emit([plans_table(plans), Paragraph(plans_footer(plans, folder, warehouse))])
    return 0


def plans_table(plans: list[dict]) -> Table:
    """The listing's table (`pipelines.warehouse.history.list_plans` rows)."""
    from pipelines.reports.text import NONE_TEXT, mw_text, status_text, usd_per_mtok_column

    def number(value: object) -> float | None:
        return float(value) if isinstance(value, int | float) else None

    costs = usd_per_mtok_column([number(p.get("cost_per_million_tokens_usd")) for p in plans])
    rows = []
    for plan, cost in zip(plans, costs, strict=True):
        if "error" in plan:
            rows.append([plan["plan_id"], *[NONE_TEXT] * 6, plan["error"]])
            continue
        created = str(plan.get("created_at") or NONE_TEXT)
        rows.append(
            [
                str(plan["plan_id"]),
                created.replace("T", " ").removesuffix("+00:00"),
                mw_text(number(plan.get("budget_mw"))),
                str(plan.get("objective") or NONE_TEXT),
                str(plan.get("time_resolution") or NONE_TEXT),
                str(plan.get("tariff") or NONE_TEXT),
                cost,
                status_text(str(plan.get("status") or NONE_TEXT), None),
            ]
        )
    return Table(HEADERS, rows, KINDS)


def plans_footer(plans: list[dict], folder, warehouse) -> str:
    from pipelines.reports.text import count_text
    from pipelines.warehouse.history import plan_files

    kept = len(plan_files(warehouse))
    shown = "" if len(plans) == kept else f", the {len(plans)} newest shown"
    return (
        f"{count_text(kept, 'plan')} in {folder}{shown}. Name one by its id or a prefix of it "
        "(`tokenplan export --plan 2026`, `tokenplan diff PLAN_A latest`)."
    )
