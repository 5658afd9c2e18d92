"""dagster-dask's executor, each step sent the run serialized (see `executors.dask_executor`).

Imported when a Dask run starts: it imports dagster_dask (and with it dask.dataframe and pandas).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import dagster as dg
import dask.distributed
from dagster._core.events import DagsterEvent
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.plan.state import KnownExecutionState
from dagster._serdes import deserialize_value, serialize_value
from dagster_dask.executor import DaskExecutor, get_dask_resource_requirements, query_on_dask_worker

from pipelines.defs.executors import DASK_CLUSTERS


class _SerializedRun:
    """A run as Dask passes it to a worker: its serialized form (no tuple for Dask to walk
    into), unpickled on the worker as the run itself."""

    def __init__(self, run: dg.DagsterRun) -> None:
        self.text = serialize_value(run)

    def __reduce__(self):
        return deserialize_value, (self.text, dg.DagsterRun)


class DaskStepExecutor(DaskExecutor):
    def execute(self, plan_context, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        """`DaskExecutor.execute`: one Dask task per step, each after the tasks of its inputs'
        steps; the events of each step as it completes."""
        instance = plan_context.instance
        if not instance.is_persistent:
            raise dg.DagsterInvariantViolationError(
                "Dask execution needs a persistent Dagster instance (DAGSTER_HOME)"
            )
        job_name = plan_context.job_name
        known: KnownExecutionState | None = execution_plan.known_state
        run = _SerializedRun(plan_context.dagster_run)
        with dask.distributed.Client(self._cluster(job_name)) as client:
            futures: dict[str, dask.distributed.Future] = {}
            for level in execution_plan.get_steps_to_execute_by_level():
                for step in level:
                    after = [futures[k] for i in step.step_inputs for k in i.dependency_keys]
                    futures[step.key] = client.submit(
                        query_on_dask_worker,
                        after,
                        plan_context.reconstructable_job,
                        run,
                        plan_context.run_config,
                        [step.key],
                        instance.get_ref(),
                        known,
                        key=f"{job_name}.{step.key}",
                        resources=get_dask_resource_requirements(step.tags),
                    )
            for _, events in dask.distributed.as_completed(
                list(futures.values()), with_results=True
            ):
                yield from events

    def _cluster(self, job_name: str) -> object:
        """The scheduler's address (`existing`), or the cluster of the configured kind."""
        if self.cluster_type == "existing":
            return self.cluster_configuration["address"]
        module, name = DASK_CLUSTERS[self.cluster_type].rsplit(".", 1)
        return getattr(importlib.import_module(module), name)(**self.build_dict(job_name))
