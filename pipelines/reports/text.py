"""A plan document as text a planner reads in a terminal (and as Markdown for the Dagster UI).

Three layers, all here:

- **Number formats**, one per kind of quantity (`usd_text` amounts, `usd_per_mtok_text` and
  `usd_per_mtok_column` costs per million tokens, `ratio_text`, `percent_text`, `amount_text`
  for kWh, kg and L per million tokens, `tokens_text`, `gpus_text`, `mw_text`, `count_text`).
  Every figure of the terminal text, the reports and the exports' text goes through them.
- **Parts**: what a text is made of (`Title`, `Heading`, `Table`, `Paragraph`, `Notes`), with
  the kind of each table column (`NUMBER` right-aligned on the decimal point, `STATUS` and
  `MARK` that a terminal colours). `plan_parts`, `sweep_parts` build them.
- **Plain and Markdown rendering** (`render_text`, `table_text`, `plan_text`): what a pipe, a
  file or the Dagster UI gets. The CLI renders the same parts with `rich` when stdout is a
  terminal (`pipelines.cli.console`).

The rows here are shared with the reports (`pipelines.reports.report`). Every part renders
a plan made before its fields existed: older plan files lack the lever table, the site's
carbon, water and availability, the serving configuration of allocation rows and the tariff.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

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

# --------------------------------------------------------------------------- number formats

NONE_TEXT = "-"
"""What a missing figure shows."""
SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
"""Suffixes of large amounts and counts: trillion, billion, million, thousand (USD and tokens
alike: `$1.05B`, `1,074T` tokens)."""
COST_DIGITS = 4
"""Significant digits of a cost per million tokens ($0.09226, $0.5855, $1.529)."""
MAX_COST_DECIMALS = 6
"""A cost per million tokens shows at most this many decimals (a millionth of a dollar)."""


def _sign(value: float) -> str:
    return "-" if value < 0 else ""


def decimals_for(value: float, significant: int) -> int:
    """Decimals that show `value` to `significant` significant digits (0 for whole numbers from
    10^(significant−1) up)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, significant - 1 - math.floor(math.log10(abs(value))))


def usd_text(value: float | None) -> str:
    """A USD amount: `$1.05B`, `$99.07M`, `$700.98k`, `$512.30`, `-$3.10M`; below $10 to four
    significant digits (`$5.625`, `$0.09226`)."""
    if value is None:
        return NONE_TEXT
    size = abs(value)
    for limit, suffix in SCALES[1:]:
        if size >= limit:
            return f"{_sign(value)}${size / limit:,.2f}{suffix}"
    if size >= 10:
        return f"{_sign(value)}${size:,.2f}"
    return f"{_sign(value)}${size:.4g}"


def usd_cents_text(value: float) -> str:
    """USD to the cent, as a bill states it: `$10,750,810.00`."""
    return f"{_sign(value)}${abs(value):,.2f}"


def usd_per_mtok_text(value: float | None, decimals: int | None = None) -> str:
    """A cost per million tokens [USD]: `COST_DIGITS` significant digits (`$0.09226`, `$0.5855`,
    `$1.529`, `$1,234`), or `decimals` decimals (`usd_per_mtok_column` picks one for a column)."""
    if value is None:
        return NONE_TEXT
    if decimals is None:
        decimals = min(decimals_for(value, COST_DIGITS), MAX_COST_DECIMALS)
    return f"{_sign(value)}${abs(value):,.{decimals}f}"


def usd_per_mtok_column(
    values: Sequence[float | None], significant: int = COST_DIGITS
) -> list[str]:
    """Costs per million tokens down a column, all with the same decimals so that their decimal
    points line up: as many as the smallest needs for `significant` digits (`$0.58550`,
    `$0.09226`), at most `MAX_COST_DECIMALS`."""
    decimals = min(
        max((decimals_for(v, significant) for v in values if v is not None), default=0),
        MAX_COST_DECIMALS,
    )
    return [usd_per_mtok_text(v, decimals) for v in values]


def number_text(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators and `digits` decimals (`4,240,080`, `1.285`)."""
    return NONE_TEXT if value is None else f"{value:,.{digits}f}"


def amount_text(value: float | None, digits: int = 3) -> str:
    """A small physical quantity (kWh, kg CO2e or L per million tokens) to `digits` significant
    digits (0.0752, 4.56), whole from 10^digits up (1,234)."""
    if value is None:
        return NONE_TEXT
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:,.{decimals_for(value, digits)}f}"


def ratio_text(value: float | None) -> str:
    """A ratio as `1.58x` (`-` for none)."""
    return NONE_TEXT if value is None else f"{value:.2f}x"


def percent_text(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.96 → `96.0%`."""
    return NONE_TEXT if fraction is None else f"{100 * fraction:.{digits}f}%"


def tokens_text(value: float | None, significant: int = 4) -> str:
    """A count of tokens to `significant` digits with a scale suffix, as USD amounts are:
    1.0738e15 → `1,074T`, 1.074e14 → `107.4T`, 5.2e11 → `520.0B`, 950 → `950`."""
    if value is None:
        return NONE_TEXT
    size = abs(value)
    for limit, suffix in SCALES:
        if size >= limit:
            scaled = size / limit
            return f"{_sign(value)}{scaled:,.{decimals_for(scaled, significant)}f}{suffix}"
    return f"{_sign(value)}{size:,.{decimals_for(size, significant)}f}"


def is_whole(value: float, tolerance: float = 1e-6) -> bool:
    """Whether `value` is a whole number up to solver rounding (2751.999999999997 is)."""
    return abs(value - round(value)) <= tolerance * max(1.0, abs(value))


def gpus_text(value: float | None, decimals: int | None = None) -> str:
    """GPUs: whole (`2,752`, also for 2751.999999999997), else one decimal (`765.9`; an
    allocation may split a node's GPUs between workloads over the year)."""
    if value is None:
        return NONE_TEXT
    if decimals is None:
        decimals = 0 if is_whole(value) else 1
    return f"{value:,.{decimals}f}"


def gpus_column(values: Sequence[float | None]) -> list[str]:
    """GPUs down a column: whole numbers when every one is, else all with one decimal."""
    decimals = 0 if all(v is None or is_whole(v) for v in values) else 1
    return [gpus_text(v, decimals) for v in values]


def mw_text(value: float | None) -> str:
    """Megawatts to at most two decimals, no trailing zeros: `20 MW`, `11.47 MW`, `0.5 MW`."""
    if value is None:
        return NONE_TEXT
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} MW"


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """`12,696 rows`, `1 row`, `0 rows`."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def gap_text(gap: float | None) -> str:
    """A relative MIP gap: `0`, `1.0e-05`, `-` when none was proven."""
    if gap is None:
        return NONE_TEXT
    return "0" if gap == 0 else f"{gap:.1e}"


def seconds_text(plan: PlanDocument) -> str:
    """`, 1.41 s`: the solve's time, after a list; empty for a plan recorded without times (the
    golden plans of the tests)."""
    seconds = plan["solver"].get("seconds")
    return "" if seconds is None else f", {seconds:.2f} s"


# --------------------------------------------------------------------------- parts

TEXT, NUMBER, STATUS, MARK = "text", "number", "status", "mark"
"""Column kinds: text (left), a number (right-aligned on its decimal point), a solve's status
(`optimal`, `time_limit`, `infeasible: why`), a yes/no mark (`used by plan`). A terminal colours
the last two: infeasible red, time_limit yellow, a used lever green."""

NUMBER_CELL = re.compile(r"^[+\-]?\$?\d[\d,]*(\.\d+)?(e[+\-]?\d+)?[kMBTx%]?$")
"""A cell that is one formatted number (`$0.09226`, `-$3.10M`, `1,074T`, `6.35x`, `96.0%`)."""


@dataclass(frozen=True)
class Title:
    text: str
    status: str | None = None
    """The plan's status, said at the end of the title (a terminal colours it)."""


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Notes:
    """Footnotes, one a line; Markdown: a list."""

    lines: list[str]
    lead: str | None = None
    """A line before them (`Notes:`); Markdown: a paragraph before the list."""


@dataclass(frozen=True)
class Table:
    headers: list[str] | None
    """None: no header line (a key-value table)."""
    rows: list[list[str]]
    kinds: Sequence[str] | None = None
    """The kind of each column (`TEXT`, `NUMBER`, `STATUS`, `MARK`); None: a column is a
    `NUMBER` when every cell starts like one."""

    @property
    def width(self) -> int:
        if self.headers is not None:
            return len(self.headers)
        return len(self.rows[0]) if self.rows else 0

    def column_kinds(self) -> list[str]:
        if self.kinds is not None:
            return list(self.kinds)
        return [
            NUMBER if self.rows and all(r[i][:1] in "$-+0123456789" for r in self.rows) else TEXT
            for i in range(self.width)
        ]

    def aligned_rows(self) -> list[list[str]]:
        """The rows with each `NUMBER` column padded so that its decimal points line up
        (`align_decimals`); other cells as they are."""
        columns = [[row[i] for row in self.rows] for i in range(self.width)]
        columns = [
            align_decimals(cells) if kind == NUMBER else cells
            for cells, kind in zip(columns, self.column_kinds(), strict=True)
        ]
        return [list(row) for row in zip(*columns, strict=True)] if self.rows else []


Part = Title | Heading | Paragraph | Notes | Table


def _split_number(cell: str) -> tuple[str, str]:
    """A number cell as (up to its decimal point, from it): `$0.5855` → (`$0`, `.5855`),
    `1,074T` → (`1,074`, `T`)."""
    point = cell.find(".")
    if point < 0:
        point = len(cell.rstrip("kMBTx%"))
    return cell[:point], cell[point:]


def align_decimals(cells: list[str]) -> list[str]:
    """Cells of equal width whose decimal points line up (`$0.5855 ` over `$0.09226`), when
    every cell is one number or `-`; else the cells as they are (right-aligned by the
    renderer). A `-` is right-aligned."""
    numbers = [c for c in cells if c != NONE_TEXT]
    if not numbers or not all(NUMBER_CELL.match(c) for c in numbers):
        return cells
    parts = [_split_number(c) for c in numbers]
    whole = max(len(w) for w, _ in parts)
    fraction = max(len(f) for _, f in parts)
    aligned = iter(w.rjust(whole) + f.ljust(fraction) for w, f in parts)
    return [NONE_TEXT.rjust(whole + fraction) if c == NONE_TEXT else next(aligned) for c in cells]


def table_text(
    headers: list[str] | None,
    rows: list[list[str]],
    markdown: bool,
    kinds: Sequence[str] | None = None,
) -> str:
    """Columns aligned (numbers right, on their decimal points); `headers` None: no header
    line. Markdown: a pipe table of the cells as they are."""
    return _table_text(Table(headers, rows, kinds), markdown)


def _table_text(table: Table, markdown: bool) -> str:
    if markdown:
        names = table.headers or [""] * table.width
        lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in table.rows])
    rows, kinds = table.aligned_rows(), table.column_kinds()
    headers = table.headers
    widths = [
        max([len(r[i]) for r in rows] + ([len(headers[i])] if headers else []))
        for i in range(table.width)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if k == NUMBER else c.ljust(w)
            for c, w, k in zip(cells, widths, kinds, strict=True)
        ).rstrip()

    head = [line(headers), line(["-" * w for w in widths])] if headers else []
    return "\n".join([*head, *(line(r) for r in rows)])


def render_text(parts: Sequence[Part], markdown: bool = False) -> str:
    """The parts as plain text (a pipe, a file, the Dagster log) or Markdown (the Dagster UI),
    separated by blank lines, ending in a newline."""
    texts = []
    for part in parts:
        if isinstance(part, Title):
            text = part.text + (f" · status {part.status}" if part.status else "")
            texts.append(f"## {text}" if markdown else f"{text}\n{'=' * len(text)}")
        elif isinstance(part, Heading):
            texts.append(f"### {part.text}" if markdown else part.text)
        elif isinstance(part, Paragraph):
            texts.append(part.text)
        elif isinstance(part, Notes):
            if part.lines:
                texts.append(_notes_text(part, markdown))
        elif part.rows:
            texts.append(_table_text(part, markdown))
    return "\n\n".join(texts) + "\n"


def _notes_text(notes: Notes, markdown: bool) -> str:
    """Markdown: a list, one note per item, `*` escaped (a footnote mark would start a list or
    emphasis)."""
    if markdown:
        items = "\n".join("- " + n.replace("*", "\\*") for n in notes.lines)
        return f"{notes.lead}\n\n{items}" if notes.lead else items
    lines = notes.lines if notes.lead is None else [f"- {n}" for n in notes.lines]
    return "\n".join(([notes.lead] if notes.lead else []) + lines)


# --------------------------------------------------------------------------- plan rows


TIME_RESOLUTION_TEXT = {
    "flat": "flat year",
    "representative": "representative year",
    "hourly": "hourly year",
}
"""How a plan's title names its time resolution."""


def plan_title(plan: PlanDocument) -> str:
    """`Build plan: arkansas-20mw · 20 MW · cost-per-token · flat year`: the site, the budget
    actually planned (a `--budget-mw` override shows here), the objective and the time
    resolution (a plan without one is a flat year)."""
    resolution = plan.get("time_resolution") or "flat"
    return " · ".join(
        [
            f"Build plan: {plan.get('name', 'site')}",
            mw_text(plan["budget_mw"]),
            str(plan["objective"]),
            TIME_RESOLUTION_TEXT.get(resolution, resolution),
        ]
    )


def summary_rows(plan: PlanDocument) -> list[list[str]]:
    rows = [
        ["cost per million tokens", usd_per_mtok_text(plan["cost_per_million_tokens_usd"])],
        ["tokens/s per MW (grid)", number_text(plan["tokens_per_s_per_mw"])],
        ["tokens per year", tokens_text(plan["tokens_per_year"])],
        ["annual cost", usd_text(plan["annual_cost_usd"])],
        ["capex (upfront)", usd_text(plan["capex_usd"])],
        [
            "grid power",
            f"{mw_text(plan['grid_power_mw'])} of {mw_text(plan['budget_mw'])} budget",
        ],
        ["IT power", mw_text(plan["it_power_mw"])],
        ["PUE", number_text(plan["pue"], 3)],
        ["power design", plan["power_design"] or NONE_TEXT],
        ["kWh per million tokens", amount_text(plan["kwh_per_million_tokens"])],
    ]
    if plan.get("tariff"):
        rows.append(["tariff", str(plan.get("tariff"))])
    return rows + site_rows(plan)


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
    for key, label in (
        ("revenue_usd_per_year", "revenue per year"),
        ("margin_usd_per_year", "margin per year"),
    ):
        value = plan.get(key)
        if isinstance(value, int | float):
            rows.append([label, usd_text(value)])
    return rows


FLEET_HEADERS = ["system", "cooling", "power", "nodes", "GPUs", "grid kW", "annual cost"]
FLEET_KINDS = (TEXT, TEXT, TEXT, NUMBER, NUMBER, NUMBER, NUMBER)
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
ALLOCATION_KINDS = (TEXT, TEXT, TEXT, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER)
COST_HEADERS = ["component", "USD/year", "share"]
COST_KINDS = (TEXT, NUMBER, NUMBER)


def fleet_rows(plan: PlanDocument) -> list[list[str]]:
    fleet = plan["fleet"]
    gpus = gpus_column([r["gpus"] for r in fleet])
    return [
        [
            r["sku"],
            r["cooling_id"] or "(rented)",
            r["power_id"] or NONE_TEXT,
            number_text(r["nodes"]),
            gpus[index],
            number_text(r["grid_power_kw"]),
            usd_text(r["annual_cost_usd"]),
        ]
        for index, r in enumerate(fleet)
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
    return f"{text or NONE_TEXT} {marks}" if marks else text or NONE_TEXT


DERIVATION_CHARS = 120
"""A derivation's text in the terminal is cut to this many characters (the reports and the
exports have it whole)."""


def derivation_text(source: str | None, limit: int | None = None) -> str:
    """What a derived point was derived from: the `derived from X x r (source)` part of its
    source (the rest names the measured point it was scaled from), else the whole source; cut
    to `limit` characters with an ellipsis."""
    if not source:
        return NONE_TEXT
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
    rows = sorted(plan["allocation"], key=lambda r: (r["workload"], r["sku"]))
    gpus = gpus_column([r["gpus"] for r in rows])
    return [
        [
            r["workload"],
            r["sku"],
            configuration_text(r),
            gpus[index],
            number_text(r["tokens_per_s"]),
            number_text(r["tokens_per_s_per_gpu"], 1),
            number_text(r["interactivity_tokens_per_s_per_user"], 1),
            number_text(r["ttft_s"], 2),
        ]
        for index, r in enumerate(rows)
    ]


def cost_rows(plan: PlanDocument) -> list[list[str]]:
    costs, total = cost_components(plan), plan["annual_cost_usd"]
    rows = [
        [COST_LABELS.get(k, k), usd_text(v), percent_text(v / total) if total else NONE_TEXT]
        for k, v in costs.items()
        if v
    ]
    return rows + [["total", usd_text(total), percent_text(1.0)]]


def status_text(status: str, reason: str | None) -> str:
    """A solve's status, with the reason when it has one (`infeasible: why`)."""
    return f"{status}: {reason}" if reason else status


ALTERNATIVES_HEADERS = [
    "system alone",
    "cost per M tokens",
    "tokens/s per MW",
    "nodes",
    "plan's advantage",
    "status",
]
ALTERNATIVES_KINDS = (TEXT, NUMBER, NUMBER, NUMBER, NUMBER, STATUS)


def alternatives_rows(plan: PlanDocument) -> list[list[str]]:
    """The best single-system plans (`pipelines.planning.comparisons`); advantage = their cost per
    token / the plan's."""
    alternatives = plan.get("alternatives", [])
    costs = usd_per_mtok_column([r["cost_per_million_tokens_usd"] for r in alternatives])
    return [
        [
            r["sku"],
            costs[index],
            number_text(r["tokens_per_s_per_mw"]),
            number_text(r["nodes"]),
            ratio_text(r["advantage_ratio"]),
            status_text(r["status"], r["reason"]),
        ]
        for index, r in enumerate(alternatives)
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
    return status_text(row["status"], row["reason"])


def lever_headers(plan: PlanDocument) -> list[str]:
    """`LEVER_HEADERS`, with the margin per year without the lever when the plan has one."""
    if plan.get("margin_usd_per_year") is None:
        return LEVER_HEADERS
    return [*LEVER_HEADERS[:6], "margin/year", *LEVER_HEADERS[6:]]


def lever_kinds(plan: PlanDocument) -> tuple[str, ...]:
    margin = (NUMBER,) if plan.get("margin_usd_per_year") is not None else ()
    return (TEXT, TEXT, NUMBER, NUMBER, NUMBER, NUMBER, *margin, MARK, STATUS)


def lever_rows(plan: PlanDocument) -> list[list[str]]:
    """What each lever is worth (`pipelines.planning.levers`), in the plan's order; none for a
    plan made before levers were recorded."""
    with_margin = plan.get("margin_usd_per_year") is not None
    levers = plan.get("levers", [])
    costs = usd_per_mtok_column([r["cost_per_million_tokens_usd"] for r in levers])
    rows = []
    for index, r in enumerate(levers):
        row = [
            r["name"],
            r["without"],
            costs[index],
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
    """A time-resolved plan against the flat year of the same inputs (and, when recorded, the
    flat year at the utilization the plan realizes)."""
    utilization = plan["realized_utilization"]
    costs = usd_per_mtok_column(
        [
            plan["cost_per_million_tokens_usd"],
            plan["flat_cost_per_million_tokens_usd"],
            plan.get("flat_at_realized_utilization_cost_per_million_tokens_usd"),
        ]
    )
    rows = [
        ["cost per million tokens", costs[0]],
        ["flat year, same inputs", costs[1]],
    ]
    if "flat_at_realized_utilization_cost_per_million_tokens_usd" in plan:
        rows.append(["flat year at the realized utilization", costs[2]])
    rows += [
        [
            "realized utilization",
            f"{percent_text(utilization['fleet'] or 0.0)} "
            f"(flat year assumes {percent_text(utilization['flat_assumption'], 0)})",
        ],
        ["slices", number_text(len(plan["slices"]["grid_kw"]))],
    ]
    return rows


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


def solver_text(plan: PlanDocument) -> str:
    """`Solver: HiGHS, optimal, gap 0, 2 iterations, 1.62 s`."""
    solver = plan["solver"]
    iterations = len(solver["iterations"])
    return (
        f"Solver: HiGHS, {solver['status']}, gap {gap_text(solver['mip_gap'])}, "
        f"{count_text(iterations, 'iteration')}{seconds_text(plan)}"
    )


def plan_parts(plan: PlanDocument, markdown: bool = False) -> list[Part]:
    """Title, summary, fleet, allocation, annual costs, the time-resolved year, the
    single-system alternatives, what each lever is worth, solver status and notes of a plan.
    `markdown`: derivations whole (the terminal cuts them to `DERIVATION_CHARS`)."""
    parts: list[Part] = [
        Title(plan_title(plan), plan["status"]),
        Table(None, summary_rows(plan), (TEXT, TEXT)),
        Heading("Fleet"),
        Table(FLEET_HEADERS, fleet_rows(plan), FLEET_KINDS),
        Heading("Allocation"),
        Table(ALLOCATION_HEADERS, allocation_rows(plan), ALLOCATION_KINDS),
        Notes(allocation_notes(plan, None if markdown else DERIVATION_CHARS)),
        Heading("Annual cost"),
        Table(COST_HEADERS, cost_rows(plan), COST_KINDS),
    ]
    if plan.get("time_resolution"):
        parts += [
            Heading(f"Time-resolved year ({plan['time_resolution']} slices)"),
            Table(None, time_rows(plan), (TEXT, TEXT)),
            Table(MONTHLY_HEADERS, monthly_rows(plan)),
        ]
    if plan.get("alternatives"):
        parts += [
            Heading("Best plan with one system only"),
            Table(ALTERNATIVES_HEADERS, alternatives_rows(plan), ALTERNATIVES_KINDS),
        ]
    if plan.get("levers"):
        parts += [
            Heading("What each lever is worth"),
            Paragraph(levers_lead(plan)),
            Table(lever_headers(plan), lever_rows(plan), lever_kinds(plan)),
        ]
    parts.append(Paragraph(solver_text(plan)))
    if plan.get("notes"):
        parts.append(Notes(list(plan["notes"]), lead="Notes:"))
    return parts


def plan_text(plan: PlanDocument, markdown: bool = False) -> str:
    """The plan as plain text (`plan_parts`), or Markdown for the Dagster UI."""
    return render_text(plan_parts(plan, markdown), markdown)


# --------------------------------------------------------------------------- sweeps


SWEEP_HEADERS = [
    "budget MW",
    "cost per M tokens",
    "tokens/s per MW",
    "grid MW",
    "+1 MW: Δ tokens/year",
    "+1 MW: Δ cost per M tokens",
    "+1 MW: USD per extra M tokens",
    "design (systems × cooling: nodes)",
]
SWEEP_KINDS = (NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, STATUS)


def _change(delta: float | None, base: float | None, text: str) -> str:
    """`+107.4T (+11.36%)`: a change and its share of the value it changes."""
    if delta is None or not base:
        return NONE_TEXT
    return f"{'+' if delta >= 0 else '-'}{text.lstrip('-')} ({100 * delta / base:+.2f}%)"


def sweep_rows(frontier: dict) -> list[list[str]]:
    """A budget sweep's rows (`pipelines.planning.sweep.frontier_document`) in the terminal's
    formats; the +1 MW changes also as a percentage of the value at the budget. An infeasible
    budget's design column is its status and reason."""
    rows = frontier["rows"]
    costs = usd_per_mtok_column([r["cost_per_million_tokens_usd"] for r in rows])
    deltas = usd_per_mtok_column(
        [
            None
            if r["marginal_cost_per_million_tokens_usd"] is None
            else abs(r["marginal_cost_per_million_tokens_usd"])
            for r in rows
        ],
        significant=3,
    )
    extra = usd_per_mtok_column([r["marginal_usd_per_million_extra_tokens"] for r in rows])
    return [
        [
            f"{r['budget_mw']:,.10g}",
            costs[index],
            number_text(r["tokens_per_s_per_mw"]),
            number_text(r["grid_power_mw"], 2),
            _change(
                r["marginal_tokens_per_year"],
                r["tokens_per_year"],
                tokens_text(r["marginal_tokens_per_year"]),
            ),
            _change(
                r["marginal_cost_per_million_tokens_usd"],
                r["cost_per_million_tokens_usd"],
                deltas[index],
            ),
            extra[index],
            r["design"],
        ]
        for index, r in enumerate(rows)
    ]


def sweep_parts(frontier: dict) -> list[Part]:
    """A budget sweep as one table (`sweep_rows`)."""
    return [Table(SWEEP_HEADERS, sweep_rows(frontier), SWEEP_KINDS)]


def sweep_summary(frontier: dict) -> str:
    """`2 budgets (each also solved at +1 MW: 4 solves) in 5.5 s with 2 workers`."""
    budgets, jobs = len(frontier["rows"]), frontier["jobs"]
    solves = len(
        {r["budget_mw"] for r in frontier["rows"]}
        | {r["marginal_budget_mw"] for r in frontier["rows"]}
    )
    return (
        f"{count_text(budgets, 'budget')} (each also solved at +{frontier['marginal_mw']:g} MW "
        f"for the marginal value: {count_text(solves, 'solve')}) in {frontier['seconds']:.1f} s "
        f"with {count_text(jobs, 'worker')}"
    )
