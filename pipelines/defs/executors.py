"""The executors of the project's jobs: one process per step on this machine (forkserver), and
Dask for a cluster."""

import os

import dagster as dg

MULTIPROCESS = dg.multiprocess_executor.configured(
    {
        "start_method": {
            "forkserver": {
                "preload_modules": [
                    "pipelines.planning.make_plan",
                    "pipelines.definitions",
                    "sqlalchemy",
                    "alembic",
                ]
            }
        }
    }
)
"""One process per step when the daemon or the UI launches a run (the CLI runs `replan` in
process); steps fork from a server that has imported the project (and the instance's SQL
storage) once, instead of each importing it again: seconds per step."""

DASK_CLUSTERS = {
    "local": "distributed.LocalCluster",
    "yarn": "dask_yarn.YarnCluster",
    "ssh": "distributed.SSHCluster",
    "pbs": "dask_jobqueue.PBSCluster",
    "moab": "dask_jobqueue.MoabCluster",
    "sge": "dask_jobqueue.SGECluster",
    "lsf": "dask_jobqueue.LSFCluster",
    "slurm": "dask_jobqueue.SLURMCluster",
    "oar": "dask_jobqueue.OARCluster",
    "kube": "dask_kubernetes.KubeCluster",
}
"""The cluster kinds of dagster-dask's executor config, each the class that starts it."""


@dg.executor(
    name="dask",
    config_schema={
        "cluster": dg.Field(
            dg.Selector(
                {
                    "existing": dg.Field(
                        {"address": dg.StringSource},
                        description="Connect to an existing scheduler.",
                    ),
                    **{
                        kind: dg.Field(
                            dg.Permissive(),
                            is_required=False,
                            description=f"{kind} cluster configuration.",
                        )
                        for kind in DASK_CLUSTERS
                    },
                }
            )
        )
    },
    requirements=dg.multiple_process_executor_requirements(),
)
def dask_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """dagster-dask's executor (its config: `cluster` is `existing: {address}` or a cluster kind
    with that cluster class's keyword arguments), with two changes:

    - `dagster_dask` is imported when a run starts rather than when the code location loads:
      it also imports dask.dataframe and pandas (seconds), which every `tokenplan` command and
      every step of every other job would otherwise pay;
    - each step is sent the run serialized (`_SerializedRun`): dagster-dask passes the run
      object, which Dask walks into as a tuple, and the partitions subset of a partitioned
      run (the scenario runs) refuses to be iterated.
    """
    from pipelines.defs.dask_steps import DaskStepExecutor

    cluster = init_context.executor_config["cluster"]
    assert isinstance(cluster, dict)  # a selector: one kind and its settings
    ((kind, settings),) = cluster.items()
    return DaskStepExecutor(kind, settings)


def cluster_config() -> dict:
    """The Dask executor's `cluster` config: the scheduler at `TOKENPLAN_DASK_SCHEDULER`, else a
    LocalCluster."""
    scheduler = os.environ.get("TOKENPLAN_DASK_SCHEDULER")
    if scheduler:
        return {"existing": {"address": scheduler}}
    return {
        "local": {
            "n_workers": int(os.environ.get("TOKENPLAN_DASK_WORKERS", "2")),
            "threads_per_worker": 1,
            "dashboard_address": None,
        }
    }
