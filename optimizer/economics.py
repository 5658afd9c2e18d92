"""Economics of one year of operation: pure functions, no Pyomo.

Everything the model needs as a coefficient is computed here, once, from `PlanInputs`
(DESIGN "Economics"):

- a feasible `Combination` of system × cooling × power design,
- its per-node annual costs `NodeCost` (USD/year) and grid power (kW),
- the site-level annual costs that do not depend on the fleet,
- the tokens one GPU delivers per year at an operating point,
- for time-resolved plans, a node's cost without energy and its idle and busy grid power
  (energy and demand charges are then priced per slice, `optimizer.timeslices`).

The plan document recomputes its cost breakdown with the same functions, so the model
and the report cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from optimizer.inputs import Cooling, Finance, OperatingPoint, PlanInputs, PowerDesign, System

COST_COMPONENTS = (
    "it_capex",
    "cooling_capex",
    "power_capex",
    "shell_capex",
    "grid_connection_capex",
    "energy",
    "demand_charges",
    "fixed_charges",
    "maintenance",
    "other_opex",
    "rental",
)
"""The plan's `costs_usd_per_year` keys, in report order."""

SECONDS_PER_HOUR = 3600.0
MONTHS_PER_YEAR = 12


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity (per year) that repays 1 USD over `years`.

    CRF(r, n) = r (1 + r)^n / ((1 + r)^n − 1), and CRF(0, n) = 1 / n  [1/year].
    """
    if years <= 0:
        raise ValueError(f"lifetime must be positive, got {years} years")
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def pue(cooling: Cooling, power: PowerDesign) -> float:
    """Power usage effectiveness of a cooling × power design [kW grid / kW IT].

    PUE(c, p) = 1 / η_p + o_c: the power chain loses (1/η − 1) per kW delivered to the
    chip, and cooling plus facility overhead adds o_c = `overhead_kw_per_kw_it`.
    """
    return 1.0 / power.efficiency + cooling.overhead_kw_per_kw_it


@dataclass(frozen=True)
class Combination:
    """A way to deploy a node: an on-site system (owned, or rented and hosted on site) with
    its cooling and power design, or a remote rental (cooling and power None: it uses no
    site power)."""

    system: System
    cooling: Cooling | None
    power: PowerDesign | None

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (
            self.system.sku,
            None if self.cooling is None else self.cooling.cooling_id,
            None if self.power is None else self.power.power_id,
        )

    @property
    def label(self) -> str:
        if not self.system.on_site:
            return f"{self.system.sku} (rented)"
        cooling, power = self.facility()
        return f"{self.system.sku} / {cooling.cooling_id} / {power.power_id}"

    def facility(self) -> tuple[Cooling, PowerDesign]:
        """The cooling and power design of an on-site combination (a remote rental has
        neither)."""
        if self.cooling is None or self.power is None:
            raise ValueError(
                f"{self.system.sku} is rented remotely: it has no cooling or power design"
            )
        return self.cooling, self.power


def combination_blockers(system: System, cooling: Cooling, power: PowerDesign) -> list[str]:
    """Why an on-site system cannot be deployed with `cooling` and `power` (empty: it can).

    Feasible when cooling.kind ∈ system.cooling_kinds, power.kind ∈ system.power_kinds and
    rack_kw = node_power_kw × nodes_per_rack ≤ min(max_rack_kw of cooling, of power).
    """
    blockers = []
    if cooling.kind not in system.cooling_kinds:
        blockers.append(
            f"cooling {cooling.cooling_id} is {cooling.kind}, "
            f"{system.sku} supports {';'.join(system.cooling_kinds) or 'none'}"
        )
    if power.kind not in system.power_kinds:
        blockers.append(
            f"power design {power.power_id} is {power.kind}, "
            f"{system.sku} takes {';'.join(system.power_kinds) or 'none'}"
        )
    if system.rack_kw > cooling.max_rack_kw:
        blockers.append(
            f"rack {system.rack_kw:g} kW exceeds cooling {cooling.cooling_id} "
            f"max_rack_kw {cooling.max_rack_kw:g}"
        )
    if system.rack_kw > power.max_rack_kw:
        blockers.append(
            f"rack {system.rack_kw:g} kW exceeds power design {power.power_id} "
            f"max_rack_kw {power.max_rack_kw:g}"
        )
    return blockers


def combinations(inputs: PlanInputs) -> list[Combination]:
    """All feasible deployments, in input order (systems, then coolings, then power designs).

    On site: every (system, cooling, power) with no `combination_blockers`.
    Rented remotely: one combination per system, cooling = power = None.
    """
    result = []
    for system in inputs.systems:
        if not system.on_site:
            result.append(Combination(system, None, None))
            continue
        for cooling in inputs.coolings:
            for power in inputs.power_designs:
                if not combination_blockers(system, cooling, power):
                    result.append(Combination(system, cooling, power))
    return result


@dataclass(frozen=True)
class NodeCost:
    """Annual cost of one node of a combination [USD/year], its power [kW] and upfront capex
    [USD]."""

    it_capex: float
    cooling_capex: float
    power_capex: float
    shell_capex: float
    energy: float
    demand_charges: float
    maintenance: float
    other_opex: float
    rental: float
    grid_kw: float
    """Provisioned grid power = node_power_kw × PUE (0 rented remotely)."""
    it_kw: float
    capex_usd: float
    """Upfront purchase: node capex + cooling + power chain + shell capex."""

    @property
    def annual_usd(self) -> float:
        """Total annual cost of one node [USD/year]."""
        return sum(getattr(self, name) for name in ANNUAL_NODE_FIELDS)


ANNUAL_NODE_FIELDS = tuple(
    f.name for f in fields(NodeCost) if f.name not in ("grid_kw", "it_kw", "capex_usd")
)


def node_cost(combination: Combination, inputs: PlanInputs) -> NodeCost:
    """Per-node annual cost coefficients of a combination (DESIGN "Economics").

    With P = node_power_kw, P0 = node_idle_power_kw, u = utilization, a = availability,
    H = hours/year, F = CRF(wacc, facility life):

    - it_capex      = node_capex × CRF(wacc, lifetime_years)
    - cooling_capex = P × capex_usd_per_kw_it(c) × F
    - power_capex   = P × capex_usd_per_kw_it(p) × F
    - shell_capex   = P × shell_capex_usd_per_kw_it × F
    - energy        = H × [P0 + u a (P − P0)] × PUE × energy_usd_per_kwh
    - demand        = demand_usd_per_kw_month × 12 × P × PUE
    - maintenance   = maintenance_pct/100 × node capex + opex_pct(c)/100 × P × capex(c)
                      + maintenance_usd_per_kw_year(p) × P
    - other_opex    = opex_usd_per_gpu_year × GPUs
    - rental        = rental_usd_per_gpu_hour × H × GPUs

    A rented node has no capex (it_capex = 0, no maintenance % of capex) and pays rental;
    rented remotely it has no site terms either (only rental and other_opex), hosted on
    site it pays the facility terms of its kW like an owned node.
    """
    system = combination.system
    finance = inputs.finance
    hours = finance.hours_per_year
    other_opex = system.opex_usd_per_gpu_year * system.gpus_per_node
    rental = (system.rental_usd_per_gpu_hour or 0.0) * hours * system.gpus_per_node
    if not system.on_site:
        return NodeCost(
            it_capex=0.0,
            cooling_capex=0.0,
            power_capex=0.0,
            shell_capex=0.0,
            energy=0.0,
            demand_charges=0.0,
            maintenance=0.0,
            other_opex=other_opex,
            rental=rental,
            grid_kw=0.0,
            it_kw=0.0,
            capex_usd=0.0,
        )
    cooling, power = combination.facility()
    capex = system.node_capex_usd or 0.0  # hosted rentals have none
    it_kw = system.node_power_kw
    site_pue = pue(cooling, power)
    grid_kw = it_kw * site_pue
    facility_crf = crf(finance.wacc, finance.facility_lifetime_years)
    cooling_upfront = it_kw * cooling.capex_usd_per_kw_it
    power_upfront = it_kw * power.capex_usd_per_kw_it
    shell_upfront = it_kw * finance.shell_capex_usd_per_kw_it
    return NodeCost(
        it_capex=capex * crf(finance.wacc, system.lifetime_years),
        cooling_capex=cooling_upfront * facility_crf,
        power_capex=power_upfront * facility_crf,
        shell_capex=shell_upfront * facility_crf,
        energy=grid_kwh_per_year(combination, finance) * inputs.energy.energy_usd_per_kwh,
        demand_charges=inputs.energy.demand_usd_per_kw_month * MONTHS_PER_YEAR * grid_kw,
        maintenance=(
            system.maintenance_pct_per_year / 100.0 * capex
            + cooling.opex_pct_per_year / 100.0 * cooling_upfront
            + power.maintenance_usd_per_kw_year * it_kw
        ),
        other_opex=other_opex,
        rental=rental if system.rented else 0.0,
        grid_kw=grid_kw,
        it_kw=it_kw,
        capex_usd=capex + cooling_upfront + power_upfront + shell_upfront,
    )


CAPEX_COMPONENTS = ("it", "cooling", "power", "shell", "grid_connection")
"""The plan's `capex_usd_by_component` keys: upfront USD."""


def node_capex(combination: Combination, inputs: PlanInputs) -> dict[str, float]:
    """Upfront capex of one node by `CAPEX_COMPONENTS` key [USD]: its price and the facility
    it stands in, P × capex per kW IT of its cooling, power chain and shell (0 rented
    remotely; no grid connection: that is the site's, `site_capex_usd`)."""
    capex = dict.fromkeys(CAPEX_COMPONENTS, 0.0)
    system = combination.system
    if system.on_site:
        cooling, power = combination.facility()
        it_kw = system.node_power_kw
        capex |= {
            "it": system.node_capex_usd or 0.0,
            "cooling": it_kw * cooling.capex_usd_per_kw_it,
            "power": it_kw * power.capex_usd_per_kw_it,
            "shell": it_kw * inputs.finance.shell_capex_usd_per_kw_it,
        }
    return capex


def site_capex_usd(inputs: PlanInputs) -> float:
    """Upfront capex of the site whatever is installed: the grid connection for the budget,
    1000 × budget_mw × grid_connection_capex_usd_per_kw [USD]."""
    return 1000.0 * inputs.budget_mw * inputs.finance.grid_connection_capex_usd_per_kw


def node_cost_without_energy(combination: Combination, inputs: PlanInputs) -> NodeCost:
    """`node_cost` with energy = demand charges = 0: a time-resolved plan prices both per
    slice from the fleet's grid power (`optimizer.timeslices`), not per node."""
    return replace(node_cost(combination, inputs), energy=0.0, demand_charges=0.0)


def idle_grid_kw(combination: Combination) -> float:
    """ι_k: grid power of one idle node = node_idle_power_kw × PUE [kW] (0 rented remotely)."""
    if not combination.system.on_site:
        return 0.0
    return combination.system.node_idle_power_kw * pue(*combination.facility())


def busy_grid_kw_per_gpu(combination: Combination) -> float:
    """δ_k: grid power one serving GPU adds to its idle node
    = (node_power_kw − node_idle_power_kw) × PUE / gpus_per_node [kW] (0 rented),
    so a node with all GPUs busy draws node_power_kw × PUE (0 rented remotely)."""
    system = combination.system
    if not system.on_site:
        return 0.0
    busy_kw = system.node_power_kw - system.node_idle_power_kw
    return busy_kw * pue(*combination.facility()) / system.gpus_per_node


def it_kwh_per_year(combination: Combination, finance: Finance) -> float:
    """IT energy of one node per year: hours × [idle + utilization × availability ×
    (busy − idle)] [kWh/year] (0 rented remotely). A GPU that is not available (failed,
    in maintenance, a spare) draws idle power."""
    system = combination.system
    if not system.on_site:
        return 0.0
    busy_share = finance.utilization * finance.availability
    average_kw = system.node_idle_power_kw + busy_share * (
        system.node_power_kw - system.node_idle_power_kw
    )
    return finance.hours_per_year * average_kw


def grid_kwh_per_year(combination: Combination, finance: Finance) -> float:
    """Grid energy of one node per year: `it_kwh_per_year` × PUE [kWh/year] (0 rented
    remotely)."""
    if not combination.system.on_site:
        return 0.0
    return it_kwh_per_year(combination, finance) * pue(*combination.facility())


def water_l_per_year(combination: Combination, finance: Finance) -> float:
    """Cooling water of one node per year: `it_kwh_per_year` × water_l_per_kwh of its cooling
    (water per kWh of IT energy, as WUE is defined) [L/year] (0 rented remotely)."""
    if combination.cooling is None:
        return 0.0
    return it_kwh_per_year(combination, finance) * combination.cooling.water_l_per_kwh


def site_costs(inputs: PlanInputs) -> dict[str, float]:
    """Site-level annual costs independent of the fleet [USD/year], by `COST_COMPONENTS` key.

    fixed_charges = tariff fixed charges for the year; other_opex = scenario fixed opex;
    grid_connection_capex = 1000 × budget_mw × grid_connection_capex_usd_per_kw × F: the
    interconnect is built for the whole budget, whatever is installed, so its annuity is a
    fixed cost that a plan lowers per token by filling the site.
    """
    finance = inputs.finance
    return {
        "grid_connection_capex": 1000.0
        * inputs.budget_mw
        * finance.grid_connection_capex_usd_per_kw
        * crf(finance.wacc, finance.facility_lifetime_years),
        "fixed_charges": inputs.energy.fixed_usd_per_year,
        "other_opex": finance.fixed_opex_usd_per_year,
    }


def site_cost_usd_per_year(inputs: PlanInputs) -> float:
    """Sum of `site_costs` [USD/year]."""
    return sum(site_costs(inputs).values())


def serving_seconds_per_year(finance: Finance) -> float:
    """Seconds per year the fleet serves at its operating point:
    κ = 3600 × hours × utilization [s/year]."""
    return SECONDS_PER_HOUR * finance.hours_per_year * finance.utilization


def tokens_per_gpu_year(point: OperatingPoint, finance: Finance) -> float:
    """Tokens one GPU allocated to `point` delivers per year:
    tokens_per_s_per_gpu × κ [tokens/year]."""
    return point.tokens_per_s_per_gpu * serving_seconds_per_year(finance)
