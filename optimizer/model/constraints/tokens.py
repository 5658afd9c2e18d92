"""Tokens delivered: split by workload shares (cost-per-token), at least each workload's
demand (min-cost) or at most what its market takes (max-profit), and batch workloads day by
day with their daily quotas."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.data import TOKENS_PER_S_UNIT, ModelData
from optimizer.model.sparse import Slot, SparseRows, VariableLayout, placeholder, term_rows
from optimizer.timeslices import HOURS_PER_DAY


def define_token_share_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Delivered tokens split by workload shares (cost-per-token).

    T_w = σ_w Σ_{w'} T_w'; divided by κ, with θ = Σ_w' T_w' / κ:

    τ_w = σ_w · θ     ∀ w with σ_w > 0      [tokens/s]

    Flat: τ_w = Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w], the throughput while serving.
    Time-resolved: τ_w = T_w / (3600 H), the mean throughput over the year
    (`mean_throughput`). Summed over w (Σ σ_w = 1) the rows give θ = Σ_w τ_w.

    ==========  ======================  ===========================================
    symbol      Pyomo attribute         meaning
    ==========  ======================  ===========================================
    tps[s,w]    data.points[s, w]       tokens/s per GPU at the operating point
    σ_w         data.shares[w]          share of delivered tokens
    θ           model.tokens_per_s      fleet throughput [tokens/s]
    κ           data.serving_seconds    T = κ θ [s/year]
    ==========  ======================  ===========================================
    """
    skus_of = data.workload_skus
    throughput = workload_throughput if data.time is None else mean_throughput
    model.token_share = pyo.Constraint(
        list(data.shares),
        rule=lambda m, w: throughput(m, data, skus_of, w) == data.shares[w] * m.tokens_per_s,
    )


def define_demand_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Serve each workload's demand (min-cost).

    Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w] ≥ d_w     ∀ w with d_w > 0      [tokens/s]

    Flat: while serving (T_w / κ ≥ d_w). Time-resolved, interactive w: at its peak (the
    fleet is sized for it); batch w: its mean over the year `mean_throughput` ≥ d_w ·
    utilization, the tokens the flat year would serve (`model_data` stores that).

    ==========  ===============================  ================================
    symbol      Pyomo attribute                  meaning
    ==========  ===============================  ================================
    tps[s,w]    data.points[s, w]                tokens/s per GPU
    d_w         data.demands_tokens_per_s[w]     demand [tokens/s]
    ==========  ===============================  ================================
    """
    skus_of = data.workload_skus
    batch = data.time.batch if data.time is not None else ()

    def rule(m, w):
        throughput = mean_throughput if w in batch else workload_throughput
        return throughput(m, data, skus_of, w) >= data.demands_tokens_per_s[w] / TOKENS_PER_S_UNIT

    model.demand = pyo.Constraint(list(data.demands_tokens_per_s), rule=rule)


def define_market_cap_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Sell no more than the market takes (max-profit).

    Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w] ≤ m_w     ∀ w with a cap m_w      [tokens/s]

    In the same terms as a demand (`define_demand_constraints`): flat, while serving;
    time-resolved, at an interactive workload's peak and as a batch workload's mean over the
    year (m_w · utilization, stored by `model_data`).

    ==========  ===============================  ================================
    symbol      Pyomo attribute                  meaning
    ==========  ===============================  ================================
    m_w         data.caps_tokens_per_s[w]        what the market takes [tokens/s]
    ==========  ===============================  ================================
    """
    skus_of = data.workload_skus
    batch = data.time.batch if data.time is not None else ()

    def rule(m, w):
        throughput = mean_throughput if w in batch else workload_throughput
        return throughput(m, data, skus_of, w) <= data.caps_tokens_per_s[w] / TOKENS_PER_S_UNIT

    caps = [w for w in data.caps_tokens_per_s if w in skus_of]
    model.market_cap = pyo.Constraint(caps, rule=rule)


def define_batch_day_constraints(
    model: pyo.ConcreteModel, data: ModelData, assembled: bool = False
) -> None:
    """Batch throughput day by day.

    y[w,D] = (1/24) Σ_{q ∈ D} Σ_s tps[s,w] · b[s,w,q]       ∀ w batch, days D      [tokens/s]

    is w's mean throughput on day D (representative: a month's weekdays or weekends;
    hourly: a day of the year). The year's mean is Σ_D (Σ_{q ∈ D} W_q / H) · y[w,D]
    (`mean_throughput`), so the annual rows read 365 day values, not every state.

    ========  ====================================  =====================================
    symbol    Pyomo attribute                       meaning
    ========  ====================================  =====================================
    y[w,D]    model.batch_day_tokens_per_s[w, D]    mean tokens/s of batch w on day D
    b[s,w,q]  model.batch_gpus[s, w, q]             GPUs serving batch w in state q
    D         data.time.day_states[D]               the 24 states of day D
    ========  ====================================  =====================================

    With `assembled`, the rows are `batch_day_rows` (`optimizer.model.sparse`).
    """
    if assembled:
        model.batch_day = placeholder()
        return
    time = data.resolved_time
    skus_of = data.workload_skus
    days = range(len(time.day_states))

    def day_mean(m, w, day):
        return quicksum(
            data.points[s, w].tokens_per_s_per_gpu
            / (HOURS_PER_DAY * TOKENS_PER_S_UNIT)
            * m.batch_gpus[s, w, q]
            for q in time.day_states[day]
            for s in skus_of.get(w, ())
        )

    model.batch_day = pyo.Constraint(
        [(w, day) for w in time.batch for day in days],
        rule=lambda m, w, day: m.batch_day_tokens_per_s[w, day] == day_mean(m, w, day),
    )


def batch_day_rows(data: ModelData, layout: VariableLayout) -> SparseRows:
    """The rows of `define_batch_day_constraints`, (w, D) by w then D (y in 10⁶ tokens/s):

    y[w,D] − Σ_{q ∈ D} Σ_s (tps[s,w] / (24 · 10⁶)) · b[s,w,q] = 0."""
    time = data.resolved_time
    days = len(time.day_states)
    width = max((len(states) for states in time.day_states), default=0)
    hours = np.zeros((days, width), dtype=np.int64)  # the states of day D, padded
    stated = np.zeros((days, width), dtype=bool)
    for day, states in enumerate(time.day_states):
        hours[day, : len(states)], stated[day, : len(states)] = states, True
    blocks = []
    for w in time.batch:
        slots: list[Slot] = [
            (layout.series("batch_day_tokens_per_s", (w,), np.arange(days)), 1.0, True)
        ]
        skus = data.workload_skus.get(w, ())
        ids = {s: layout.series("batch_gpus", (s, w), np.arange(time.states)) for s in skus}
        for place in range(width):
            for s in skus:
                rate = data.points[s, w].tokens_per_s_per_gpu / (HOURS_PER_DAY * TOKENS_PER_S_UNIT)
                slots.append((ids[s][hours[:, place]], -rate, stated[:, place]))
        blocks.append(term_rows(slots, 0.0, 0.0, days))
    return SparseRows.stacked(blocks)


def define_batch_quota_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Daily quotas: a batch workload with a daily quota serves the same tokens every day.

    y[w,D] = σ_w · θ  (cost-per-token)  |  y[w,D] ≥ d_w  (min-cost)  |  y[w,D] = y[w,D₀]
    (max-profit)      ∀ w with a daily quota, D

    (σ_w θ, d_w: w's mean over the year; D₀ the first day; y[w,D] as in
    `define_batch_day_constraints`.)
    """
    time = data.resolved_time
    days = range(len(time.day_states))

    def quota(m, w, day):
        if data.objective == "cost-per-token":
            return m.batch_day_tokens_per_s[w, day] == data.shares[w] * m.tokens_per_s
        if data.objective == "max-profit":
            return m.batch_day_tokens_per_s[w, day] == m.batch_day_tokens_per_s[w, 0]
        return m.batch_day_tokens_per_s[w, day] >= data.demands_tokens_per_s[w] / TOKENS_PER_S_UNIT

    model.batch_quota = pyo.Constraint([(w, day) for w in time.daily for day in days], rule=quota)


def workload_throughput(
    model: pyo.ConcreteModel, data: ModelData, skus_of: dict[str, list[str]], workload: str
):
    """Σ_s tps[s,w] · g[s,w] for w = `workload`, in TOKENS_PER_S_UNIT: while serving (flat),
    at w's peak (time-resolved, interactive)."""
    return quicksum(
        data.points[s, workload].tokens_per_s_per_gpu / TOKENS_PER_S_UNIT * model.gpus[s, workload]
        for s in skus_of.get(workload, ())
    )


def mean_throughput(
    model: pyo.ConcreteModel, data: ModelData, skus_of: dict[str, list[str]], workload: str
):
    """τ_w = T_w / (3600 H), w's mean throughput over the year (time-resolved), in
    TOKENS_PER_S_UNIT:

    interactive:  ā_w Σ_s tps[s,w] · g[s,w],   ā_w = Σ_q W_q f_w(h_q) / H  (the profile's mean)
    batch:        Σ_q (W_q / H) Σ_s tps[s,w] · b[s,w,q] = Σ_D (Σ_{q ∈ D} W_q / H) · y[w,D]
    """
    time = data.resolved_time
    if workload in time.profiles:
        profile = time.profiles[workload][list(time.state_hour)]
        mean = float(time.state_weight_hours @ profile) / time.hours_per_year
        return mean * workload_throughput(model, data, skus_of, workload)
    return quicksum(
        float(share) * model.batch_day_tokens_per_s[workload, day]
        for day, share in enumerate(time.day_share_of_year)
    )
