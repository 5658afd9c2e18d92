"""The model in standard form: the matrices a solver reads.

    min c·x + offset   s.t.   row_lower ≤ A x ≤ row_upper,   col_lower ≤ x ≤ col_upper,
                              x_j integer where integer[j]

`compile_model` builds the Pyomo model (`create_model`) and compiles it with Pyomo's
`LinearStandardFormCompiler` (mixed form: a row per equality or one-sided inequality, a
ranged constraint as two rows). With `assembled` (the default), the families of
`ASSEMBLED` are not Pyomo rows: their `SparseRows` (`optimizer.model.sparse`) are put in
their place. The result is what Pyomo's compiler gives for the whole model, row for row
and column for column:

- rows: the constraint components in declaration order, each one's rows in index order;
- columns: the Var components in the order the objective, then the rows, first mention
  them (within a row, in the order of its terms), each component's elements in index
  order, less the variables with no nonzero coefficient anywhere;
- entries: duplicates summed, zeros dropped.

tests/optimizer/test_build.py checks that equal to the Pyomo model compiled whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.dependencies import DeferredImportCallbackFinder
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn.plugins.standard_form import (
    LinearStandardFormCompiler,
    _LinearStandardFormCompiler_impl,
)

from optimizer.model import ASSEMBLED, ModelData, create_model
from optimizer.model.sparse import SparseRows, VariableLayout

# Pyomo finalizes scipy by importing scipy.stats, .integrate and .spatial too (about a second, for
# modules nothing here uses): at once if scipy is imported before Pyomo, else by an import hook
# on scipy's first import. With that hook off, scipy imported after Pyomo brings only
# scipy.sparse; Pyomo still finalizes scipy if it ever uses scipy itself.
DeferredImportCallbackFinder._callbacks.pop("scipy", None)
import scipy.sparse as sp  # noqa: E402 (once the hook is off)

# The compiler's array hooks (class attributes, there for others to set), set as Pyomo would set
# them on first use: Pyomo's way resolves its deferred scipy, and so finalizes scipy after all.
_LinearStandardFormCompiler_impl._to_vector = np.fromiter
_LinearStandardFormCompiler_impl._csc_matrix = sp.csc_array
_LinearStandardFormCompiler_impl._csr_matrix = sp.csr_array


@dataclass(frozen=True)
class StandardForm:
    """The compiled model (module docstring), and where each Pyomo variable went."""

    A: sp.csc_array
    c: np.ndarray
    offset: float
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    """bool per column"""
    keys: dict[str, list] = field(repr=False)
    """Var component → its index keys, in index order."""
    columns: dict[str, np.ndarray] = field(repr=False)
    """Var component → the column of each of its elements (in `keys` order); −1: not a column
    (no nonzero coefficient)."""
    variables: list = field(repr=False)
    """The Pyomo variable of each column."""
    model: Any = field(default=None, repr=False)
    """The Pyomo model compiled (its variables name themselves only while it lives)."""

    def names(self) -> list[str]:
        """The name of each column, `component[key]` (Pyomo's)."""
        return [var.name for var in self.variables]

    @property
    def shape(self) -> tuple[int, int]:
        n_rows, n_columns = self.A.shape
        return n_rows, n_columns

    def column(self, component: str, key: Any = None) -> int:
        """The column of `component[key]` (KeyError if it is none)."""
        place = self.keys[component].index(key)
        j = int(self.columns[component][place])
        if j < 0:
            raise KeyError(f"{component}[{key}] is not a column of the compiled model")
        return j

    def column_map(self, component: str) -> dict[Any, int]:
        """key → column for every element of `component` that is a column."""
        return {
            key: int(j)
            for key, j in zip(self.keys[component], self.columns[component], strict=True)
            if j >= 0
        }


@dataclass
class _Block:
    """One constraint component's rows: entries (row, var id, coef) and the rank of each entry
    within its row (the order of first mention)."""

    rows: SparseRows
    rank: np.ndarray


def compile_model(data: ModelData, assembled: bool = True) -> StandardForm:
    """`data`'s model in standard form (module docstring); `assembled`: the families of
    `ASSEMBLED` from numpy (`optimizer.model.sparse`), else every row from Pyomo."""
    return standard_form(create_model(data, assembled=assembled), data if assembled else None)


def standard_form(model: pyo.ConcreteModel, data: ModelData | None = None) -> StandardForm:
    """A linear Pyomo model in standard form; with `data`, the deactivated families of
    `ASSEMBLED` are taken from numpy (`compile_model`)."""
    assembled = data is not None
    layout = VariableLayout(model)
    compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
    var_ids = _var_ids(layout, compiled.columns)

    # Pyomo's rows, by constraint component
    A = sp.csr_array(compiled.A)
    rhs = np.asarray(compiled.rhs, dtype=float).reshape(-1)
    kinds = np.array([kind for _, kind in compiled.rows], dtype=int)
    owners = [row.constraint.parent_component().local_name for row in compiled.rows]
    pyomo_rows: dict[str, tuple[int, int]] = {}
    for i, owner in enumerate(owners):
        first, _ = pyomo_rows.get(owner, (i, i))
        pyomo_rows[owner] = (first, i + 1)

    blocks = []
    for component in model.component_objects(pyo.Constraint, descend_into=False):
        name = component.local_name
        if assembled and name in ASSEMBLED and not component.active:
            rows = ASSEMBLED[name](data, layout)  # type: ignore[arg-type]
            blocks.append(_Block(rows, np.arange(len(rows.row))))  # entries in term order
        elif name in pyomo_rows:
            first, end = pyomo_rows[name]
            part = A[first:end]
            counts = np.diff(part.indptr)
            local = part.indices  # Pyomo's columns are in order of first mention
            inf = np.inf
            kind = kinds[first:end]
            blocks.append(
                _Block(
                    SparseRows(
                        row=np.repeat(np.arange(end - first), counts),
                        var=var_ids[local],
                        coef=part.data,
                        lower=np.where(kind <= 0, rhs[first:end], -inf),
                        upper=np.where(kind >= 0, rhs[first:end], inf),
                    ),
                    local.astype(np.int64),
                )
            )

    order = _component_order(model, layout, blocks)
    stacked = SparseRows.stacked([b.rows for b in blocks])
    c_part = sp.csr_array(compiled.c)
    c_ids = var_ids[c_part.indices]
    c_values = c_part.data

    # columns: the components in order of first mention, less variables with no nonzero
    candidates = np.concatenate(
        [np.arange(layout.bounds[i], layout.bounds[i + 1]) for i in order]
        or [np.zeros(0, dtype=np.int64)]
    )
    used = np.zeros(layout.size, dtype=bool)
    used[stacked.var[stacked.coef != 0]] = True
    used[c_ids[c_values != 0]] = True
    column_ids = candidates[used[candidates]]
    column_of = np.full(layout.size, -1, dtype=np.int64)
    column_of[column_ids] = np.arange(len(column_ids))

    nonzero = stacked.coef != 0
    matrix = sp.csc_array(
        (stacked.coef[nonzero], (stacked.row[nonzero], column_of[stacked.var[nonzero]])),
        shape=(stacked.n_rows, len(column_ids)),
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    cost = np.zeros(len(column_ids))
    np.add.at(cost, column_of[c_ids[c_values != 0]], c_values[c_values != 0])

    variables, lower, upper, integer = _columns(layout, column_ids)
    return StandardForm(
        A=matrix,
        c=cost,
        offset=float(np.asarray(compiled.c_offset).reshape(-1)[0]) if compiled.c.shape[0] else 0.0,
        row_lower=stacked.lower,
        row_upper=stacked.upper,
        col_lower=lower,
        col_upper=upper,
        integer=integer,
        keys=layout.keys,
        columns={
            name: column_of[layout.bounds[i] : layout.bounds[i + 1]]
            for i, name in enumerate(layout.names)
        },
        variables=variables,
        model=model,
    )


def _var_ids(layout: VariableLayout, variables: list) -> np.ndarray:
    """The layout id of each Pyomo variable of `variables`."""
    ids = {
        id(var): i
        for i, var in enumerate(
            var for component in layout.components for var in component.values()
        )
    }
    return np.array([ids[id(var)] for var in variables], dtype=np.int64)


def _component_order(
    model: pyo.ConcreteModel, layout: VariableLayout, blocks: list[_Block]
) -> list[int]:
    """The Var components (places in `layout.names`) in the order the objective, then the
    rows, first mention them."""
    order: dict[int, None] = {}
    place = {name: i for i, name in enumerate(layout.names)}
    for objective in model.component_data_objects(pyo.Objective, active=True):
        for var in identify_variables(objective.expr, include_fixed=False):
            order.setdefault(place[var.parent_component().local_name], None)
    for block in blocks:
        rows = block.rows
        if not len(rows.row):
            continue
        components = layout.component_of(rows.var)
        first = np.lexsort((block.rank, rows.row))  # entries by row, then rank in the row
        found, where = np.unique(components[first], return_index=True)
        for component in found[np.argsort(where)]:
            order.setdefault(int(component), None)
    return list(order)


def _columns(
    layout: VariableLayout, column_ids: np.ndarray
) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """The Pyomo variable, bounds (±inf: none) and integrality of each column."""
    every = [var for component in layout.components for var in component.values()]
    variables = [every[i] for i in column_ids.tolist()]
    bounds = [var.bounds for var in variables]
    lower = np.array([-np.inf if lb is None else lb for lb, _ in bounds], dtype=float)
    upper = np.array([np.inf if ub is None else ub for _, ub in bounds], dtype=float)
    integer = np.array([var.is_integer() for var in variables], dtype=bool)
    return variables, lower, upper, integer
