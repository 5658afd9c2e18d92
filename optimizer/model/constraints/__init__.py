"""The constraint families of the fleet MILP, one module per family group; each
`define_*_constraints` function states its maths and symbol table in its docstring.

    power_design   one power design per site; owned nodes only on it
    limits         the supply cap per system; the grid interconnect budget
    capacity       GPUs from the nodes: over the flat year | in each load state
    grid_power     busy power per load state, placed on combinations; monthly peaks
    tokens         token shares | demands | market caps; batch workloads day by day, daily quotas

The time-resolved model's large families (slice capacity, busy power, grid power, batch
day) are also stated as sparse rows, `*_rows(data, layout)` beside their
`define_*_constraints` (`optimizer.model.sparse`).
"""

from optimizer.model.constraints.capacity import (
    busy_gpus,
    define_gpu_capacity_constraints,
    define_slice_capacity_constraints,
    slice_capacity_rows,
)
from optimizer.model.constraints.grid_power import (
    busy_power_rows,
    define_busy_power_constraints,
    define_grid_power_constraints,
    define_peak_demand_constraints,
    grid_power_rows,
)
from optimizer.model.constraints.limits import define_budget_constraints, define_supply_constraints
from optimizer.model.constraints.power_design import (
    define_node_design_constraints,
    define_power_design_constraints,
)
from optimizer.model.constraints.tokens import (
    batch_day_rows,
    define_batch_day_constraints,
    define_batch_quota_constraints,
    define_demand_constraints,
    define_market_cap_constraints,
    define_token_share_constraints,
    mean_throughput,
    workload_throughput,
)

__all__ = [
    "batch_day_rows",
    "busy_gpus",
    "busy_power_rows",
    "define_batch_day_constraints",
    "define_batch_quota_constraints",
    "define_budget_constraints",
    "define_busy_power_constraints",
    "define_demand_constraints",
    "define_gpu_capacity_constraints",
    "define_market_cap_constraints",
    "define_grid_power_constraints",
    "define_node_design_constraints",
    "define_peak_demand_constraints",
    "define_power_design_constraints",
    "define_slice_capacity_constraints",
    "define_supply_constraints",
    "define_token_share_constraints",
    "grid_power_rows",
    "mean_throughput",
    "slice_capacity_rows",
    "workload_throughput",
]
