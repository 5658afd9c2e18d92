"""The model's data: `PlanInputs` → plain coefficients and index sets (floats, ints, tuples,
dicts; no Pyomo).

`model_data` reduces the index sets to what can matter (`node_upper_bound`, `undominated`)
and builds every index set the constraint families share once, with the named functions
below (`combinations_by_sku`, `skus_by_workload`, …); the families read them from
`ModelData` instead of deriving them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer.economics import (
    SECONDS_PER_HOUR,
    Combination,
    NodeCost,
    busy_grid_kw_per_gpu,
    combinations,
    idle_grid_kw,
    node_cost,
    node_cost_without_energy,
    serving_seconds_per_year,
    site_cost_usd_per_year,
)
from optimizer.inputs import OperatingPoint, PlanInputs, best_points
from optimizer.timeslices import TIME_RESOLUTIONS, TimeSlices, time_slices

OBJECTIVES = ("cost-per-token", "min-cost", "max-profit")
WORKLOAD_AMOUNTS = {
    "cost-per-token": "share",
    "min-cost": "demand_tokens_per_s",
    "max-profit": "price_usd_per_million_tokens",
}
"""What makes a workload part of a plan, per objective: its share, its demand, its price."""
TOKENS_PER_S_UNIT = 1e6
"""Throughput rows and θ are in million tokens/s."""
USD_UNIT = 1e6
"""The objective is in million USD/year."""
GRID_KW_UNIT = 1e3
"""Grid power variables of time-resolved models are in MW."""


@dataclass(frozen=True)
class _SkuLoads:
    """Per system, what its busy GPUs in a load state are made of (time-resolved)."""

    interactive: dict[str, list[str]]
    """s → interactive workloads it has an operating point for."""
    batch: dict[str, list[str]]
    """s → batch workloads it has an operating point for."""
    combos: dict[str, list[int]]
    """s → its combinations K_s."""
    split: dict[str, list[int]]
    """S_split: owned systems with several combinations → K_s, by δ_k ascending."""
    states: dict[str, list[int]]
    """Q_s: the states in which s's load can differ: all with a batch workload, else one per
    hour of day."""

    def state(self, sku: str, q: int, time: TimeSlices) -> int:
        """q_s: the state of Q_s that stands for state q."""
        return q if self.batch[sku] else time.first_state_of_hour[time.state_hour[q]]


@dataclass(frozen=True)
class ModelData:
    """Plain coefficients of one MILP instance. Index k runs over `combinations`."""

    objective: str
    combinations: tuple[Combination, ...]
    node_costs: tuple[NodeCost, ...]
    node_cost_usd: tuple[float, ...]
    """c_k: annual cost of one node of combination k [USD/year] (time-resolved: with its idle
    draw's energy and demand charges)."""
    grid_kw: tuple[float, ...]
    node_upper: tuple[int, ...]
    """U_k: most nodes of combination k the budget, the supply cap (and in min-cost mode the
    demand) allow."""
    power_ids: tuple[str, ...]
    skus: tuple[str, ...]
    gpus_per_node: dict[str, int]
    supply_cap: dict[str, int]
    """N_s for systems with `max_nodes`."""
    serving_fraction: dict[str, float]
    """a_s: the fraction of s's GPUs serving at any time: the scenario's availability on
    site, 1 for a remote rental (the provider keeps it available)."""
    points: dict[tuple[str, str], OperatingPoint]
    """The operating point of each (sku, workload) the model may allocate GPUs to: the best
    configuration's (`best_points`)."""
    shares: dict[str, float]
    """σ_w > 0, normalized to sum to 1 (cost-per-token)."""
    demands_tokens_per_s: dict[str, float]
    """d_w > 0 (min-cost)."""
    prices_usd_per_million_tokens: dict[str, float] = field(default_factory=dict)
    """p_w > 0 (max-profit)."""
    caps_tokens_per_s: dict[str, float] = field(default_factory=dict)
    """m_w: what the market takes while serving (max-profit; workloads with a cap only)."""
    site_cost_usd: float = 0.0
    serving_seconds: float = 0.0
    """κ: tokens per year = κ θ. Flat: 3600 × hours × utilization; time-resolved: 3600 × hours
    [s/year]."""
    budget_kw: float = 0.0
    notes: tuple[str, ...] = ()
    time: TimeSlices | None = None
    """The year's slices (time-resolved); None: the flat year."""
    idle_grid_kw: tuple[float, ...] = ()
    """ι_k: grid kW of an idle node of combination k (time-resolved)."""
    busy_grid_kw_per_gpu: tuple[float, ...] = ()
    """δ_k: grid kW one busy GPU of combination k adds (time-resolved)."""
    sku_combinations: dict[str, list[int]] = field(default_factory=dict)
    """K_s: sku s → its combinations k, ascending (`combinations_by_sku`)."""
    sku_workloads: dict[str, list[str]] = field(default_factory=dict)
    """s → the workloads w with (s, w) ∈ O, in the order of `points` (`workloads_by_sku`)."""
    workload_skus: dict[str, list[str]] = field(default_factory=dict)
    """w → the skus s with (s, w) ∈ O, in the order of `points`; only w with a point
    (`skus_by_workload`)."""
    loads: _SkuLoads | None = None
    """What each system's busy GPUs are made of (time-resolved; `sku_loads`)."""
    flat_demand_months: list[int] = field(default_factory=list)
    """Months m with a flat demand charge r_m > 0 (time-resolved; `flat_demand_months`)."""
    tou_demand_periods: list[tuple[int, int]] = field(default_factory=list)
    """(m, d) with a TOU demand charge r_d > 0 (time-resolved; `tou_demand_periods`)."""

    @property
    def resolved_time(self) -> TimeSlices:
        """`time` where only a time-resolved model can be meant (a flat model has none)."""
        if self.time is None:
            raise ValueError("a flat model has no time slices")
        return self.time

    @property
    def resolved_loads(self) -> _SkuLoads:
        """`loads` where only a time-resolved model can be meant (a flat model has none)."""
        if self.loads is None:
            raise ValueError("a flat model has no load states")
        return self.loads

    def serving_gpus(self, sku: str) -> float:
        """a_s · gpus_s: the GPUs of one node of s serving at any time."""
        return self.serving_fraction[sku] * self.gpus_per_node[sku]

    def combos_of(self, sku: str) -> list[int]:
        """K_s: the combinations of system `sku`."""
        return list(self.sku_combinations.get(sku, ()))


def active_workloads(inputs: PlanInputs, objective: str) -> dict[str, float]:
    """Workloads the plan serves: name → share (cost-per-token), demand tokens/s (min-cost) or
    price per million tokens (max-profit), > 0 only."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    attribute = WORKLOAD_AMOUNTS[objective]
    amounts = {w.name: getattr(w, attribute) or 0.0 for w in inputs.workloads}
    return {name: amount for name, amount in amounts.items() if amount > 0}


def budget_node_limit(grid_kw: float, budget_kw: float) -> int | None:
    """floor(budget_kw / grid_kw): the most nodes the budget alone allows (None: no site power
    used)."""
    if grid_kw <= 0:
        return None
    return math.floor(budget_kw / grid_kw * (1 + 1e-12))


def model_data(
    inputs: PlanInputs, objective: str = "cost-per-token", time_resolution: str = "flat"
) -> ModelData:
    """Coefficients of the MILP, with the index sets reduced to what can matter.

    Left out: systems that cannot be bought in the year planned (the horizon's first, when
    `inputs` has one), combinations of systems with no operating point for an active workload,
    combinations with U_k = 0 (`node_upper_bound`), and combinations dominated by
    another of the same sku and power design (`undominated`).

    Time-resolved (`time_resolution` representative | hourly): node costs c_k leave out
    the energy and demand charges of busy power (priced per load state) and carry those
    of the idle draw, ι_k · Ê (`idle_cost_usd_per_kw`); a batch workload's min-cost demand
    becomes its mean throughput over the year d_w · utilization; κ = 3600 × hours.
    """
    if time_resolution not in TIME_RESOLUTIONS:
        raise ValueError(
            f"time resolution must be one of {TIME_RESOLUTIONS}, got {time_resolution!r}"
        )
    timed = time_resolution != "flat"
    workloads = active_workloads(inputs, objective)
    budget_kw = inputs.budget_mw * 1000.0
    year = inputs.horizon.start_year if inputs.horizon is not None else None
    systems = {s.sku: s for s in inputs.systems if s.available_in(year)}
    notes: list[str] = [
        f"{s.sku} can be bought only {s.window_text()}, not in {year}: left out of this "
        "one-year plan (`tokenplan horizon` plans the years)"
        for s in inputs.systems
        if not s.available_in(year)
    ]
    points = best_points(
        [
            p
            for p in inputs.operating_points
            if p.workload in workloads and p.sku in systems and p.tokens_per_s_per_gpu > 0
        ]
    )
    serving_skus = {sku for sku, _ in points}
    cost_of = node_cost_without_energy if timed else node_cost
    candidates = [
        (combo, cost_of(combo, inputs))
        for combo in combinations(inputs)
        if combo.system.sku in serving_skus
    ]
    serving_fraction = {
        s.sku: inputs.finance.availability if s.on_site else 1.0 for s in inputs.systems
    }
    caps = {
        w.name: w.max_tokens_per_s
        for w in inputs.workloads
        if w.name in workloads and w.max_tokens_per_s is not None
    }
    rates = {"min-cost": workloads, "max-profit": caps}.get(objective)
    bounded = []
    for combo, cost in candidates:
        # Time-resolved, more on-site nodes than the demand needs can pay for themselves by
        # moving batch work to cheap hours: the demand bounds only remote rentals.
        by_rates = rates is not None and (not timed or not combo.system.on_site)
        bound, note = node_upper_bound(
            combo,
            cost,
            budget_kw,
            rates if by_rates else None,
            points,
            serving_fraction[combo.system.sku],
        )
        if note:
            notes.append(note)
        if bound >= 1:
            bounded.append((combo, cost, bound))
    kept = undominated(bounded)

    kept_skus = {combo.system.sku for combo, _, _ in kept}
    skus = tuple(s.sku for s in inputs.systems if s.sku in kept_skus)
    shares: dict[str, float] = {}
    demands: dict[str, float] = {}
    prices: dict[str, float] = {}
    if objective == "cost-per-token":
        total_share = sum(workloads.values())
        if abs(total_share - 1.0) > 1e-6:
            notes.append(f"workload shares sum to {total_share:g}; normalized to 1")
        shares = {w: share / total_share for w, share in workloads.items()}
    elif objective == "min-cost":
        demands = dict(workloads)
    else:
        prices = dict(workloads)
    time = time_slices(inputs, time_resolution, workloads) if timed else None
    idle_cost = 0.0
    if time is not None:  # a batch workload's rates are means over the year
        demands = _batch_means(demands, time, inputs.finance.utilization)
        caps = _batch_means(caps, time, inputs.finance.utilization)
        idle_cost = idle_cost_usd_per_kw(time)
    kept_combos = tuple(combo for combo, _, _ in kept)
    kept_points = {key: p for key, p in points.items() if key[0] in kept_skus}
    busy_kw = tuple(busy_grid_kw_per_gpu(combo) for combo in kept_combos)
    sku_combinations = combinations_by_sku(kept_combos, skus)
    return ModelData(
        objective=objective,
        combinations=kept_combos,
        node_costs=tuple(cost for _, cost, _ in kept),
        node_cost_usd=tuple(
            cost.annual_usd + idle_grid_kw(combo) * idle_cost for combo, cost, _ in kept
        ),
        grid_kw=tuple(cost.grid_kw for _, cost, _ in kept),
        node_upper=tuple(bound for _, _, bound in kept),
        power_ids=tuple(p.power_id for p in inputs.power_designs),
        skus=skus,
        gpus_per_node={s: systems[s].gpus_per_node for s in skus},
        supply_cap={s: cap for s in skus if (cap := systems[s].max_nodes) is not None},
        serving_fraction={s: serving_fraction[s] for s in skus},
        points=kept_points,
        shares=shares,
        demands_tokens_per_s=demands,
        prices_usd_per_million_tokens=prices,
        caps_tokens_per_s=caps,
        site_cost_usd=site_cost_usd_per_year(inputs),
        serving_seconds=(
            SECONDS_PER_HOUR * time.hours_per_year
            if time
            else serving_seconds_per_year(inputs.finance)
        ),
        budget_kw=budget_kw,
        notes=tuple(notes),
        time=time,
        idle_grid_kw=tuple(idle_grid_kw(combo) for combo in kept_combos),
        busy_grid_kw_per_gpu=busy_kw,
        sku_combinations=sku_combinations,
        sku_workloads=workloads_by_sku(kept_points, skus),
        workload_skus=skus_by_workload(kept_points),
        loads=(
            None
            if time is None
            else sku_loads(kept_combos, sku_combinations, kept_points, busy_kw, time)
        ),
        flat_demand_months=[] if time is None else flat_demand_months(time),
        tou_demand_periods=[] if time is None else tou_demand_periods(time),
    )


# --------------------------------------------------------------------------- index sets


def combinations_by_sku(
    combos: tuple[Combination, ...], skus: tuple[str, ...]
) -> dict[str, list[int]]:
    """K_s: each sku's combinations k, ascending."""
    by_sku: dict[str, list[int]] = {s: [] for s in skus}
    for k, combo in enumerate(combos):
        by_sku[combo.system.sku].append(k)
    return by_sku


def workloads_by_sku(
    points: dict[tuple[str, str], OperatingPoint], skus: tuple[str, ...]
) -> dict[str, list[str]]:
    """s → the workloads w with (s, w) ∈ O, in the order of `points`."""
    by_sku: dict[str, list[str]] = {s: [] for s in skus}
    for s, w in points:
        by_sku[s].append(w)
    return by_sku


def skus_by_workload(points: dict[tuple[str, str], OperatingPoint]) -> dict[str, list[str]]:
    """w → the skus s with (s, w) ∈ O, in the order of `points` (only w with a point)."""
    by_workload: dict[str, list[str]] = {}
    for s, w in points:
        by_workload.setdefault(w, []).append(s)
    return by_workload


def sku_loads(
    combos: tuple[Combination, ...],
    sku_combinations: dict[str, list[int]],
    points: dict[tuple[str, str], OperatingPoint],
    busy_kw_per_gpu: tuple[float, ...],
    time: TimeSlices,
) -> _SkuLoads:
    """Per system: its interactive and batch workloads, K_s, S_split (K_s by δ_k ascending)
    and Q_s (time-resolved)."""
    interactive: dict[str, list[str]] = {s: [] for s in sku_combinations}
    batch: dict[str, list[str]] = {s: [] for s in sku_combinations}
    for s, w in points:
        (batch if w in time.batch else interactive)[s].append(w)
    split = {
        s: sorted(ks, key=lambda k: busy_kw_per_gpu[k])
        for s, ks in sku_combinations.items()
        if len(ks) > 1 and combos[ks[0]].system.on_site
    }
    every_state, daily = list(range(time.states)), sorted(set(time.first_state_of_hour))
    states = {s: every_state if batch[s] else daily for s in sku_combinations}
    return _SkuLoads(
        interactive=interactive, batch=batch, combos=sku_combinations, split=split, states=states
    )


def flat_demand_months(time: TimeSlices) -> list[int]:
    """Months m (1–12) with a flat demand charge r_m > 0."""
    rates = time.slices.flat_demand_usd_per_kw
    return [m for m in range(1, 13) if rates[m - 1] > 0]


def tou_demand_periods(time: TimeSlices) -> list[tuple[int, int]]:
    """(month m, TOU demand period d) with a demand charge r_d > 0."""
    rates = time.slices.demand_usd_per_kw
    return [(m, d) for m, d in time.period_states if rates[d] > 0]


# --------------------------------------------------------------------------- reductions


def idle_cost_usd_per_kw(time: TimeSlices) -> float:
    """Ê: energy and demand charges of 1 kW drawn in every slice of the year [USD/year]:
    Σ_q E_q + Σ_m r_m + Σ_{(m,d)} r_d (a constant draw is part of every monthly peak)."""
    slices = time.slices
    return float(
        time.state_energy_usd_per_kw.sum()
        + slices.flat_demand_usd_per_kw.sum()
        + sum(slices.demand_usd_per_kw[d] for _, d in time.period_states)
    )


def _batch_means(rates: dict[str, float], time: TimeSlices, utilization: float) -> dict[str, float]:
    """A batch workload's rate while serving → its mean over the year (× utilization, the
    flat year's tokens); an interactive one's stays a peak."""
    return {w: r * utilization if w in time.batch else r for w, r in rates.items()}


def _capped(limit: float | None, cap: int | None) -> float:
    return min(math.inf if limit is None else limit, math.inf if cap is None else cap)


def node_upper_bound(
    combo: Combination,
    cost: NodeCost,
    budget_kw: float,
    rates: dict[str, float] | None,
    points: dict[tuple[str, str], OperatingPoint],
    serving_fraction: float = 1.0,
) -> tuple[int, str | None]:
    """U_k and, for a system nothing bounds, a note saying it is left out.

    U_k = min(max_nodes_s, floor(budget_kw / grid_kw_k)); with `rates` (min-cost: the
    demands d_w; max-profit: the market caps m_w, when every workload s serves has one)
    also ≤ ceil(Σ_w r_w / (tps[s,w] · gpus_s · a_s)): more nodes of k never lower the cost
    or add revenue. A remote rental without `max_nodes` uses no site power, so only its
    demand or market bounds it; with neither, renting more would dilute the site's fixed
    costs without end (cost-per-token) or earn without end (max-profit), so it is left out
    (U_k = 0) with a note: its capacity belongs in `max_nodes`.
    """
    system = combo.system
    bound = _capped(budget_node_limit(cost.grid_kw, budget_kw), system.max_nodes)
    served = [w for (s, w) in points if s == system.sku]
    if rates is not None and all(w in rates for w in served):
        needed = sum(
            rates[w]
            / (points[system.sku, w].tokens_per_s_per_gpu * system.gpus_per_node * serving_fraction)
            for w in served
        )
        bound = min(bound, math.ceil(needed - 1e-9))
    if math.isfinite(bound):
        return int(bound), None
    return 0, (
        f"{system.sku} is rented with no max_nodes and nothing else bounds it: left out "
        "(state the capacity the rental offers in max_nodes)"
    )


def undominated(
    bounded: list[tuple[Combination, NodeCost, int]],
) -> list[tuple[Combination, NodeCost, int]]:
    """Drop a combination when another of the same sku and power design costs no more
    per node and needs no more grid kW (ties: the first in input order stays).
    Any plan using the dropped one is matched, at no more cost and no more power, by
    the same plan using the other; U and the supply cap are shared, so it stays feasible.
    Input order is kept."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (combo, _, _) in enumerate(bounded):
        groups.setdefault((combo.system.sku, combo.key[2]), []).append(i)

    def dominated(i: int) -> bool:
        combo, cost, _ = bounded[i]
        for j in groups[combo.system.sku, combo.key[2]]:
            other = bounded[j][1]
            no_worse = other.annual_usd <= cost.annual_usd and other.grid_kw <= cost.grid_kw
            better = other.annual_usd < cost.annual_usd or other.grid_kw < cost.grid_kw or j < i
            if j != i and no_worse and better:
                return True
        return False

    return [item for i, item in enumerate(bounded) if not dominated(i)]
