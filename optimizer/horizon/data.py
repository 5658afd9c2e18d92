"""The coefficients of a multi-year plan: years, vintages and what a node of each costs when.

Years t = y0 … y0 + Y − 1 (`Horizon`), discount factor d_t = (1 + wacc)^−(t − y0), energy
escalation e_t = (1 + escalation/100)^(t − y0).

A *vintage* v is the nodes of one combination k (system, cooling, power design) that enter
service in one year: bought in year v.year (integer purchases, `buy[v]`), or installed before
the horizon (the existing fleet, `fleet.csv`: `installed` nodes, capital sunk), or rented for
one year (a rental is a vintage with no capital and a one-year life). A vintage is in service
in years v.year ≤ t < v.year + lifetime (and inside the horizon). Per node of v in year t:

    opex[v,t] = e_t (energy + demand charges) + maintenance(v) + other opex + rental

with energy, demand charges, other opex and rental as in the one-year model (`node_cost`) and
maintenance(v) = maintenance_pct × capex(v) + cooling opex + power-chain maintenance, where a
vintage bought in year y costs capex(v) = node_capex × (1 − decline/100)^(y − y0) (an existing
one: its row's node_capex). A bought vintage pays the annuity capex(v) × CRF(wacc, lifetime)
every year from its purchase year while within its lifetime and inside the horizon, retired
or not. The facility (cooling per option, power chain per design, shell: kW IT) is built
in steps that never shrink and pay their annuity (facility CRF) from the year built; the
existing fleet's kW IT of each is sunk, there for free.

Everything else is the one-year model's (`optimizer.model.data.model_data` of the first
year's inputs): the operating points, workload shares, availability, which systems serve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from optimizer.economics import Combination, NodeCost, combinations, crf, node_cost, site_costs
from optimizer.inputs import Horizon, PlanInputs
from optimizer.model import ModelData, model_data


@dataclass(frozen=True)
class Vintage:
    """Nodes of combination `k` entering service in `year`."""

    k: int
    year: int
    kind: str
    """`bought` (integer purchases in `year`), `existing` (installed before the horizon) or
    `rented` (one year)."""
    last_year: int
    """The last year in service, within the horizon."""
    installed: int = 0
    """Existing nodes."""
    installed_year: int | None = None
    """When the existing nodes were installed (before the horizon)."""
    capex_usd: float = 0.0
    """What one node cost (bought: in its year; existing: its row's capex, sunk)."""
    annuity_usd: float = 0.0
    """Capital paid per node per year while within its lifetime (bought)."""
    opex_usd: tuple[float, ...] = ()
    """Per node per year of service, from `year` to `last_year`."""

    def years(self) -> range:
        return range(self.year, self.last_year + 1)


@dataclass(frozen=True)
class HorizonData:
    """What the multi-year model reads (module docstring)."""

    base: ModelData
    """The one-year model data of the first year: points, shares, serving systems."""
    horizon: Horizon
    combinations: tuple[Combination, ...]
    node_costs: tuple[NodeCost, ...]
    """First-year per-node costs of each combination (`node_cost`)."""
    vintages: tuple[Vintage, ...]
    discount: tuple[float, ...]
    escalation: tuple[float, ...]
    budget_kw: tuple[float, ...]
    site_cost_usd: tuple[float, ...]
    """Each year's site costs: fixed charges (escalated), fixed opex, grid connection."""
    floor_tokens_per_s: tuple[float, ...] | None
    """The site's served floor each year (cost-per-token)."""
    demands_tokens_per_s: dict[str, tuple[float, ...]]
    """Each workload's demand each year (min-cost)."""
    facility_kw_sunk: dict[str, float]
    """kW IT of facility the existing fleet stands in, by part: `cooling:<id>`, `power:<id>`,
    `shell`."""
    facility_capex_usd_per_kw: dict[str, float]
    """Upfront capex of one kW IT of each facility part."""
    facility_usd_per_kw_year: dict[str, float]
    """The annuity of one kW IT of each facility part (facility CRF × capex per kW)."""
    objective: str

    @property
    def years(self) -> tuple[int, ...]:
        return self.horizon.year_list

    def index(self, year: int) -> int:
        return year - self.horizon.start_year


def horizon_data(inputs: PlanInputs, objective: str = "cost-per-token") -> HorizonData:
    """The coefficients of the multi-year model of `inputs` (a `PlanInputs.horizon`; without
    one, a one-year horizon at `budget_mw`)."""
    horizon = inputs.horizon or Horizon(0, 1, (inputs.budget_mw,))
    y0, count = horizon.start_year, horizon.years
    # Every system of any year: the years' windows are the vintages'.
    first = replace(inputs, budget_mw=max(horizon.budget_mw), horizon=None)
    base = model_data(first, objective, "flat")
    finance = inputs.finance
    discount = tuple((1 + finance.wacc) ** -t for t in range(count))
    escalation = tuple(
        (1 + horizon.energy_escalation_pct_per_year / 100) ** t for t in range(count)
    )
    serving = set(base.skus)
    combos = [c for c in combinations(inputs) if c.system.sku in serving]
    keys = {c.key: k for k, c in enumerate(combos)}
    for row in inputs.fleet:  # an existing node may be on a combination the plan would not pick
        key = (row.sku, row.cooling_id, row.power_id)
        if key not in keys:
            combo = _fleet_combination(inputs, row.sku, row.cooling_id, row.power_id)
            keys[key] = len(combos)
            combos.append(combo)
    costs = [node_cost(combo, inputs) for combo in combos]
    last = y0 + count - 1
    vintages: list[Vintage] = []
    for row in inputs.fleet:
        k = keys[(row.sku, row.cooling_id, row.power_id)]
        system = combos[k].system
        end = min(last, _last_year(row.installed_year, system.lifetime_years))
        if end < y0:
            continue  # past its lifetime at the start (the design step notes it)
        capex = system.node_capex_usd or 0.0
        vintages.append(
            Vintage(
                k=k,
                year=y0,
                kind="existing",
                last_year=end,
                installed=row.nodes,
                installed_year=row.installed_year,
                capex_usd=capex,
                opex_usd=_opex(costs[k], combos[k], capex, escalation, y0, y0, end),
            )
        )
    for k, combo in enumerate(combos):
        system = combo.system
        if system.sku not in serving:
            continue
        first_year = max(y0, system.available_from_year or y0)
        last_buy = min(last, system.available_until_year or last)
        for year in range(first_year, last_buy + 1):
            if system.rented:
                vintages.append(
                    Vintage(
                        k=k,
                        year=year,
                        kind="rented",
                        last_year=year,
                        opex_usd=_opex(costs[k], combo, 0.0, escalation, y0, year, year),
                    )
                )
                continue
            capex = (system.node_capex_usd or 0.0) * (
                1 - system.capex_decline_pct_per_year / 100
            ) ** (year - y0)
            end = min(last, _last_year(year, system.lifetime_years))
            vintages.append(
                Vintage(
                    k=k,
                    year=year,
                    kind="bought",
                    last_year=end,
                    capex_usd=capex,
                    annuity_usd=capex * crf(finance.wacc, system.lifetime_years),
                    opex_usd=_opex(costs[k], combo, capex, escalation, y0, year, end),
                )
            )
    facility_crf = crf(finance.wacc, finance.facility_lifetime_years)
    upfront: dict[str, float] = {"shell": finance.shell_capex_usd_per_kw_it}
    upfront |= {f"cooling:{c.cooling_id}": c.capex_usd_per_kw_it for c in inputs.coolings}
    upfront |= {f"power:{p.power_id}": p.capex_usd_per_kw_it for p in inputs.power_designs}
    per_kw = {part: usd * facility_crf for part, usd in upfront.items()}
    sunk: dict[str, float] = dict.fromkeys(per_kw, 0.0)
    for row in inputs.fleet:
        combo = combos[keys[(row.sku, row.cooling_id, row.power_id)]]
        for part in facility_parts(combo):
            sunk[part] += combo.system.node_power_kw * row.nodes
    site = []
    for t in range(count):
        year_inputs = replace(inputs, budget_mw=horizon.budget_mw[t])
        parts = site_costs(year_inputs)
        site.append(
            parts["fixed_charges"] * escalation[t]
            + parts["other_opex"]
            + parts["grid_connection_capex"]
        )
    demands = {
        w.name: w.demand_by_year or (w.demand_tokens_per_s,) * count
        for w in inputs.workloads
        if w.name in base.demands_tokens_per_s
    }
    return HorizonData(
        base=base,
        horizon=horizon,
        combinations=tuple(combos),
        node_costs=tuple(costs),
        vintages=tuple(vintages),
        discount=discount,
        escalation=escalation,
        budget_kw=tuple(1000.0 * b for b in horizon.budget_mw),
        site_cost_usd=tuple(site),
        floor_tokens_per_s=horizon.demand_tokens_per_s if objective == "cost-per-token" else None,
        demands_tokens_per_s={w: tuple(float(d or 0.0) for d in ds) for w, ds in demands.items()},
        facility_kw_sunk=sunk,
        facility_capex_usd_per_kw=upfront,
        facility_usd_per_kw_year=per_kw,
        objective=objective,
    )


def facility_parts(combo: Combination) -> list[str]:
    """The facility parts a node of `combo` stands in: its cooling, its power chain, the
    shell (none for a remote rental)."""
    if not combo.system.on_site or combo.cooling is None or combo.power is None:
        return []
    return [f"cooling:{combo.cooling.cooling_id}", f"power:{combo.power.power_id}", "shell"]


def _last_year(first_year: int, lifetime_years: float) -> int:
    """The last year in service of a node entering service in `first_year`: years t with
    t < first_year + lifetime."""
    return first_year + math.ceil(lifetime_years) - 1


def _opex(
    cost: NodeCost,
    combo: Combination,
    capex: float,
    escalation: tuple[float, ...],
    y0: int,
    first: int,
    last: int,
) -> tuple[float, ...]:
    """Per-node operating cost of each year first … last (module docstring)."""
    system = combo.system
    base_capex = system.node_capex_usd or 0.0
    maintenance = cost.maintenance + system.maintenance_pct_per_year / 100 * (capex - base_capex)
    steady = maintenance + cost.other_opex + cost.rental
    energy = cost.energy + cost.demand_charges
    return tuple(steady + escalation[t - y0] * energy for t in range(first, last + 1))


def _fleet_combination(
    inputs: PlanInputs, sku: str, cooling_id: str | None, power_id: str | None
) -> Combination:
    systems = {s.sku: s for s in inputs.systems}
    coolings = {c.cooling_id: c for c in inputs.coolings}
    designs = {p.power_id: p for p in inputs.power_designs}
    return Combination(
        systems[sku],
        None if cooling_id is None else coolings[cooling_id],
        None if power_id is None else designs[power_id],
    )
