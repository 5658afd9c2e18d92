"""Constraint families stated as sparse rows (numpy) as well as in Pyomo.

An hourly model has ~10⁵ rows and ~10⁶ nonzeros, nearly all of them in four families
(slice capacity, busy power, grid power, batch day), and Pyomo builds and compiles a row
in tens of microseconds. Each of those families has, next to its `define_*_constraints`,
a `*_rows(data, layout)` stating the same rows as arrays. `create_model(data,
assembled=True)` leaves their rows out of the Pyomo model (an empty, inactive constraint,
`placeholder`, keeps each family's place in the row order) and
`optimizer.model.compiled` puts them together with Pyomo's compiled rows;
tests/optimizer/test_build.py checks that equal to the Pyomo model compiled whole.

Variables are numbered by `VariableLayout` (every Var component of the model in
declaration order, each one's elements in index order). A row's entries are listed in the
order of its terms in the Pyomo statement: the compiled columns follow the order in which
the rows first mention each variable, as Pyomo's compiler orders them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.model.data import ModelData


@dataclass(frozen=True)
class SparseRows:
    """Rows r = 0..n−1 of one family: entry e puts coef[e] on variable var[e] (a
    `VariableLayout` id) in row row[e], and lower[r] ≤ row r ≤ upper[r] (±inf: no bound).
    Entries run row by row, each row's in the order of its terms; an entry may hold 0 (a
    term stated with a zero coefficient: it orders the columns, the matrix drops it)."""

    row: np.ndarray
    var: np.ndarray
    coef: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.lower)

    @staticmethod
    def stacked(blocks: Sequence[SparseRows]) -> SparseRows:
        """The rows of `blocks`, one block after the other."""
        if not blocks:
            empty_int, empty_float = np.zeros(0, dtype=np.int64), np.zeros(0)
            return SparseRows(empty_int, empty_int, empty_float, empty_float, empty_float)
        starts = np.cumsum([0] + [b.n_rows for b in blocks[:-1]])
        return SparseRows(
            row=np.concatenate([b.row + start for b, start in zip(blocks, starts, strict=True)]),
            var=np.concatenate([b.var for b in blocks]),
            coef=np.concatenate([b.coef for b in blocks]),
            lower=np.concatenate([b.lower for b in blocks]),
            upper=np.concatenate([b.upper for b in blocks]),
        )


Slot = tuple[np.ndarray | int, np.ndarray | float, np.ndarray | bool]
"""One term of every row of a block: (variable ids, coefficients, whether the row has the
term), each an array with one value per row or one value for all rows."""


def term_rows(slots: Sequence[Slot], lower: float, upper: float, n_rows: int) -> SparseRows:
    """`n_rows` rows, row r = Σ_t coef_t[r] · x[var_t[r]] over the slots t it has, in slot order,
    each with the bounds `lower` ≤ row ≤ `upper`."""
    shape = (n_rows, len(slots))
    var = np.empty(shape, dtype=np.int64)
    coef = np.empty(shape)
    present = np.empty(shape, dtype=bool)
    for t, (ids, coefficients, has) in enumerate(slots):
        var[:, t], coef[:, t], present[:, t] = ids, coefficients, has
    keep = present.ravel()
    return SparseRows(
        row=np.repeat(np.arange(n_rows), len(slots))[keep],
        var=var.ravel()[keep],
        coef=coef.ravel()[keep],
        lower=np.full(n_rows, lower),
        upper=np.full(n_rows, upper),
    )


class VariableLayout:
    """Every variable of a Pyomo model numbered 0..n−1: the Var components in declaration
    order, each one's elements in index order (the ids of `SparseRows`)."""

    def __init__(self, model: pyo.ConcreteModel):
        self.components: list[pyo.Var] = list(model.component_objects(pyo.Var, descend_into=False))
        self.names = [var.local_name for var in self.components]
        self.keys = {var.local_name: list(var.keys()) for var in self.components}
        sizes = [len(self.keys[name]) for name in self.names]
        self.start = dict(zip(self.names, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
        self.size = int(sum(sizes))
        self.bounds = np.cumsum([0, *sizes])
        """Component c holds ids bounds[c] ≤ id < bounds[c + 1]."""
        self._positions: dict[str, dict[Hashable, int]] = {}
        self._series: dict[tuple[str, tuple], tuple[np.ndarray, np.ndarray]] = {}
        self._indexed: set[str] = set()

    def position(self, name: str) -> dict[Hashable, int]:
        """Key → its place in component `name`."""
        if name not in self._positions:
            self._positions[name] = {key: i for i, key in enumerate(self.keys[name])}
        return self._positions[name]

    def id(self, name: str, key: Hashable) -> int:
        """The id of `name[key]`."""
        return self.start[name] + self.position(name)[key]

    def series(self, name: str, prefix: tuple, last: np.ndarray) -> np.ndarray:
        """The ids of `name[(*prefix, v)]` for v in `last` (every such element must exist):
        the elements indexed by a state, for many states at once."""
        if name not in self._indexed:
            self._index_series(name)
        if (name, prefix) not in self._series:
            raise KeyError(f"{name}[{prefix}, …]: no such element")
        values, ids = self._series[name, prefix]
        places = np.searchsorted(values, last)
        if not np.array_equal(values[np.minimum(places, len(values) - 1)], last):
            raise KeyError(f"{name}[{prefix}, …]: not every element of {last} exists")
        return ids[places]

    def _index_series(self, name: str) -> None:
        """Group `name`'s elements by their key less its last part (sorted by that part)."""
        self._indexed.add(name)
        groups: dict[tuple, tuple[list, list]] = {}
        start = self.start[name]
        for i, key in enumerate(self.keys[name]):
            key = key if isinstance(key, tuple) else (key,)
            values, ids = groups.setdefault(key[:-1], ([], []))
            values.append(key[-1])
            ids.append(start + i)
        for prefix, (values, ids) in groups.items():
            order = np.argsort(values, kind="stable")
            self._series[name, prefix] = (np.asarray(values)[order], np.asarray(ids)[order])

    def component_of(self, ids: np.ndarray) -> np.ndarray:
        """The component (its place in `names`) of each id."""
        return np.searchsorted(self.bounds, ids, side="right") - 1


def placeholder() -> pyo.Constraint:
    """An empty, inactive constraint component: the place of an assembled family's rows in the
    model's row order (its rows are `SparseRows`, `optimizer.model.compiled`)."""
    component = pyo.Constraint(pyo.Any)
    component.deactivate()
    return component


def busy_slots(data: ModelData, layout: VariableLayout, sku: str, states: np.ndarray) -> list[Slot]:
    """busy[s,q] = Σ_{w interactive} f_w(h_q) · g[s,w] + Σ_{w batch} b[s,w,q] for q in `states`
    (`busy_gpus`) as term slots: an interactive term where f_w(h_q) > 0."""
    loads = data.resolved_loads
    time = data.resolved_time
    hours = np.asarray(time.state_hour)[states]
    slots: list[Slot] = []
    for w in loads.interactive[sku]:
        profile = time.profiles[w][hours]
        slots.append((layout.id("gpus", (sku, w)), profile, profile > 0))
    for w in loads.batch[sku]:
        slots.append((layout.series("batch_gpus", (sku, w), states), 1.0, True))
    return slots


def scaled(slots: Sequence[Slot], factor: np.ndarray | float, rows: np.ndarray) -> list[Slot]:
    """`slots` of a block taken at its rows `rows`, each coefficient times `factor`
    (factor · coefficient, as Pyomo multiplies a sum by a number)."""
    return [
        (
            ids if np.ndim(ids) == 0 else np.asarray(ids)[rows],
            factor * (coef if np.ndim(coef) == 0 else np.asarray(coef)[rows]),
            has if np.ndim(has) == 0 else np.asarray(has)[rows],
        )
        for ids, coef, has in slots
    ]
