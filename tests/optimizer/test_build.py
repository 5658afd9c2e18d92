"""The compiled model: the large time-resolved families assembled with numpy
(`optimizer.model.sparse`, `compile_model`) are the rows of the Pyomo model of record.

The reference is the Pyomo model built whole (`create_model(data)`) and compiled by Pyomo's
`LinearStandardFormCompiler`. Compared two ways: as canonical forms (rows as sets of
(column name, coefficient) with their bounds, columns by name with bounds, integrality
and cost: the same maths whatever the order), and exactly (the same matrices in the same
row and column order, so that HiGHS reads the same problem and plans do not move).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import DATASETS
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from test_timeslices import every_month, tou_energy, urdb_tariff

from optimizer.design import plan_inputs
from optimizer.inputs import (
    Cooling,
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    PowerDesign,
    System,
    Workload,
)
from optimizer.model import ASSEMBLED, create_model, model_data
from optimizer.model.compiled import StandardForm, compile_model
from optimizer.tariff import flat_year_price, slice_prices
from pipelines.ingest.sources import read_inputs

AIR = Cooling("air", "air", 0.3, 100.0, 1.0, max_rack_kw=50)
LIQUID = Cooling("dlc", "liquid", 0.1, 300.0, 1.0, max_rack_kw=200)
# two designs of the same efficiency: a system on both has combinations of equal busy power
AC = PowerDesign("ac", "ac", 0.95, 200.0, 10.0, max_rack_kw=1000, kind="ac")
DC = PowerDesign("dc", "dc", 0.95, 150.0, 12.0, max_rack_kw=1000, kind="dc")


def system(sku: str, capex: float, kw: float, kinds=("air", "liquid"), power=("ac", "dc")):
    return System(
        sku=sku,
        accelerator=sku,
        gpus_per_node=8,
        node_capex_usd=capex,
        node_power_kw=kw,
        node_idle_power_kw=0.4 * kw,
        nodes_per_rack=2,
        cooling_kinds=kinds,
        lifetime_years=5,
        power_kinds=power,
    )


SYSTEMS = (
    system("A", 250_000, 12.0),  # four combinations: split, equal δ in pairs
    system("B", 150_000, 10.0, kinds=("air",), power=("ac",)),  # one combination
    System("R", "R", 8, None, 0.0, 0.0, 1, (), 5, max_nodes=6, rental_usd_per_gpu_hour=2.5),
)
NIGHT_OFF = tuple(0.0 if h < 6 else 0.5 + h / 46 for h in range(24))
WORKLOADS = (
    Workload("chat", 0.4, 2e4, price_usd_per_million_tokens=2.0, max_tokens_per_s=3e4),
    Workload(
        "api", 0.2, 1e4, load_profile=NIGHT_OFF, price_usd_per_million_tokens=1.5
    ),  # no load 00:00-05:59
    Workload(
        "offline", 0.3, 3e4, load_shape="batch", price_usd_per_million_tokens=0.8
    ),  # due over the year
    Workload(
        "nightly",
        0.1,
        5e3,
        load_shape="batch",
        batch_quota="daily",
        price_usd_per_million_tokens=0.7,
        max_tokens_per_s=8e3,
    ),
)
POINTS = (
    ("A", "chat", 900.0),
    ("A", "api", 700.0),
    ("A", "offline", 2400.0),
    ("A", "nightly", 2100.0),
    ("B", "chat", 500.0),
    ("B", "offline", 1500.0),
    ("B", "nightly", 1300.0),
    ("R", "chat", 800.0),
    ("R", "api", 650.0),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> PlanInputs:
    """A TOU tariff with a flat and a TOU demand charge, at a 0.5 MW site."""
    folder = tmp_path_factory.mktemp("tariff")
    peak = every_month([0] * 14 + [1] * 6 + [0] * 4)
    tariff = urdb_tariff(
        folder,
        **tou_energy([0.06, 0.21], peak),
        flatdemandstructure=[[{"rate": 7.0}]],
        flatdemandmonths=[0] * 12,
        demandratestructure=[[{"rate": 0.0}], [{"rate": 11.0}]],
        demandweekdayschedule=peak,
        demandweekendschedule=every_month([0] * 24),
    )
    energy, demand, fixed = flat_year_price(tariff, 500.0)
    return PlanInputs(
        budget_mw=0.5,
        systems=SYSTEMS,
        coolings=(AIR, LIQUID),
        power_designs=(AC, DC),
        workloads=WORKLOADS,
        operating_points=tuple(OperatingPoint(s, w, tps) for s, w, tps in POINTS),
        energy=EnergyPrice(tariff.tariff_id, energy, demand, fixed),
        finance=Finance(
            wacc=0.07,
            facility_lifetime_years=15,
            utilization=0.6,
            shell_capex_usd_per_kw_it=1000.0,
            fixed_opex_usd_per_year=5e4,
            availability=0.95,
        ),
        tariff_slices=slice_prices(tariff, 500.0),
    )


def interactive_only(inputs: PlanInputs) -> PlanInputs:
    """No batch workload: the load states are the 24 hours of the day."""
    keep = {"chat", "api"}
    return replace(
        inputs,
        workloads=tuple(w for w in inputs.workloads if w.name in keep),
        operating_points=tuple(p for p in inputs.operating_points if p.workload in keep),
    )


def pyomo_form(data) -> StandardForm:
    """The reference: the whole Pyomo model compiled by Pyomo."""
    model = create_model(data)
    compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
    rhs = np.asarray(compiled.rhs, dtype=float).reshape(-1)
    kinds = np.array([kind for _, kind in compiled.rows], dtype=int)
    bounds = [var.bounds for var in compiled.columns]
    return StandardForm(
        A=sp.csc_array(compiled.A),
        c=compiled.c.toarray().ravel(),
        offset=float(compiled.c_offset[0]),
        row_lower=np.where(kinds <= 0, rhs, -np.inf),
        row_upper=np.where(kinds >= 0, rhs, np.inf),
        col_lower=np.array([-np.inf if lb is None else lb for lb, _ in bounds], dtype=float),
        col_upper=np.array([np.inf if ub is None else ub for _, ub in bounds], dtype=float),
        integer=np.array([var.is_integer() for var in compiled.columns]),
        keys={},
        columns={},
        variables=list(compiled.columns),
        model=model,
    )


def canonical(form: StandardForm) -> tuple[dict, Counter]:
    """Columns by name (bounds, integrality, cost) and the rows as a multiset of (their
    entries by column name, bounds): the model whatever its row and column order."""
    names = form.names()
    columns = {
        name: (form.col_lower[j], form.col_upper[j], bool(form.integer[j]), form.c[j])
        for j, name in enumerate(names)
    }
    A = sp.csr_array(form.A)
    rows = Counter(
        (
            tuple(sorted(zip([names[j] for j in A.indices[a:b]], A.data[a:b], strict=True))),
            form.row_lower[i],
            form.row_upper[i],
        )
        for i, (a, b) in enumerate(zip(A.indptr[:-1], A.indptr[1:], strict=True))
    )
    return columns, rows


def assert_same_order(form: StandardForm, reference: StandardForm) -> None:
    assert form.names() == reference.names()
    assert form.A.shape == reference.A.shape
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(form.A, part), getattr(reference.A, part)), part
    for part in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integer"):
        assert np.array_equal(getattr(form, part), getattr(reference, part)), part
    assert form.offset == reference.offset


CASES = [
    ("representative", "cost-per-token", False),
    ("representative", "min-cost", False),
    ("representative", "max-profit", False),
    ("representative", "cost-per-token", True),
    ("representative", "min-cost", True),
    ("hourly", "cost-per-token", False),
    ("hourly", "max-profit", True),
]


@pytest.mark.parametrize(("resolution", "objective", "interactive"), CASES)
def test_the_assembled_model_is_the_pyomo_model(site, resolution, objective, interactive):
    inputs = interactive_only(site) if interactive else site
    data = model_data(inputs, objective, resolution)
    loads = data.resolved_loads
    assert loads.split and any(s not in loads.split for s in loads.combos)
    reference = pyomo_form(data)
    form = compile_model(data)
    assert canonical(form) == canonical(reference)
    assert_same_order(form, reference)
    assert_same_order(compile_model(data, assembled=False), reference)


def test_every_assembled_family_has_rows_and_leaves_none_to_pyomo(site):
    """The instance exercises every assembled family; assembled, Pyomo holds none of their
    rows (each is an empty, inactive placeholder)."""
    data = model_data(site, "cost-per-token", "representative")
    whole = create_model(data)
    assert all(len(getattr(whole, name)) > 0 for name in ASSEMBLED)
    assembled = create_model(data, assembled=True)
    for name in ASSEMBLED:
        component = getattr(assembled, name)
        assert len(component) == 0 and not component.active


@pytest.mark.parametrize("objective", ["cost-per-token", "max-profit"])
def test_the_bundled_representative_model_compiles_to_the_pyomo_one(objective):
    data = model_data(plan_inputs(read_inputs(DATASETS)), objective, "representative")
    reference = pyomo_form(data)
    assert_same_order(compile_model(data), reference)


def test_flat_models_compile_to_the_pyomo_one(site):
    for objective in ("cost-per-token", "min-cost", "max-profit"):
        data = model_data(site, objective)
        assert_same_order(compile_model(data), pyomo_form(data))
