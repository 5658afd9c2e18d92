"""End to end with real processes: `tokenplan ui` (= `dg dev -w workspace.yaml`: webserver,
daemon, code server) on loopback, driven through its GraphQL API, as a planner's machine runs it.

The module starts one `dg dev` on a free port with a temporary DAGSTER_HOME (a
dagster.yaml that dequeues runs every second), a copy of the bundled data
(TOKENPLAN_DATA) and a warehouse holding a plan made beforehand. The tests, in order:
the asset graph the UI serves is the code location's (assets, upstreams, checks); the
sensors and the schedule are on and an unchanged folder launches nothing; a changed
price in a price sheet makes the input-folder sensor launch one run that re-plans, and
the new plan's cost per token reflects the price; headless Chromium rendered the asset
graph page (started as soon as the UI is up, so it renders while the rest runs); and the
output had no Dagster warnings or notices a planner could do nothing about. The
processes are stopped (Ctrl-C, then SIGKILL to the process group and to anything left
with this DAGSTER_HOME) whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DATASETS, REPO, processes_using

from pipelines.cli.run_job import run_job
from pipelines.definitions import build_defs
from pipelines.defs.metadata import significant
from pipelines.ingest.files import sha256
from pipelines.warehouse.history import plan_files

START_WAIT_S = 180
RUN_WAIT_S = 420
"""A re-plan through the daemon: ~30 steps, one process each, on a machine the other test
worker shares (pytest-xdist); it takes 1-3 minutes here."""
CHROMIUM = Path("/usr/bin/chromium")
LOCATION = "tokenplan"
PRICE_SHEET = "hardware/price_sheet.csv"
GB200_CAPEX, GB200_CAPEX_LOWER = ",3640000,132,", ",3000000,132,"
FRONTIER_20_MW = {"start_mw": 20, "stop_mw": 20, "step_mw": 1, "jobs": 1}

DAGSTER_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
run_queue:
  dequeue_interval_seconds: 1
sensors:
  use_threads: true
  num_workers: 2
"""

ASSET_GRAPH = """{
  assetNodes {
    assetKey { path }
    groupName
    description
    kinds
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}"""

INSTIGATORS = """query ($location: String!) {
  repositoryOrError(
    repositorySelector: {repositoryLocationName: $location, repositoryName: "__repository__"}
  ) {
    __typename
    ... on Repository {
      sensors { name sensorState { status ticks(limit: 50) { status skipReason runIds } } }
      schedules { name cronSchedule scheduleState { status } }
    }
  }
}"""

SENSOR_RUNS = """query ($sensor: String!) {
  runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: $sensor}]}) {
    ... on Runs { results { runId status jobName assetSelection { path } tags { key value } } }
  }
}"""

LATEST_PLAN = """{
  assetNodes(assetKeys: [{path: ["build_plan"]}]) {
    assetMaterializations(limit: 1) {
      runId
      metadataEntries { label ... on FloatMetadataEntry { floatValue } }
    }
  }
}"""

RESOURCE = """query ($location: String!, $resource: String!) {
  topLevelResourceDetailsOrError(resourceSelector: {repositoryLocationName: $location,
                                                    repositoryName: "__repository__",
                                                    resourceName: $resource}) {
    __typename
    ... on ResourceDetails { configuredValues { key value type } configFields { name description } }
  }
}"""

START_SENSOR = """mutation ($location: String!, $sensor: String!) {
  startSensor(sensorSelector: {repositoryLocationName: $location, repositoryName: "__repository__",
                               sensorName: $sensor}) {
    __typename
  }
}"""


@dataclass
class Dagster:
    """A running `tokenplan ui` and the folders it works on."""

    url: str
    home: Path
    data: Path
    warehouse: Path
    log: Path
    process: subprocess.Popen

    def graphql(self, query: str, **variables: Any) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait(self, what: str, ready: Callable[[], Any], timeout_s: float) -> Any:
        """Poll `ready()` until it returns something truthy; fail with the log's tail after
        `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (
                f"dg dev exited ({self.process.returncode}):\n{self.tail()}"
            )
            with suppress(urllib.error.URLError, ConnectionError):
                if value := ready():
                    return value
            time.sleep(1)
        pytest.fail(f"waited {timeout_s} s for {what}\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def instigators(self) -> dict:
        return self.graphql(INSTIGATORS, location=LOCATION)["repositoryOrError"]

    def sensor(self, name: str) -> dict:
        return next(s for s in self.instigators()["sensors"] if s["name"] == name)

    def sensor_runs(self, name: str) -> list[dict]:
        return self.graphql(SENSOR_RUNS, sensor=name)["runsOrError"]["results"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen, home: Path) -> None:
    """Ctrl-C to `dg dev` (its own shutdown), then SIGKILL to its group and to anything left
    behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while (left := processes_using(home)) and time.monotonic() < deadline:
        for pid in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    assert not processes_using(home), "processes left behind"


@pytest.fixture(scope="module")
def dagster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dagster]:
    root = tmp_path_factory.mktemp("e2e")
    home, data, warehouse, log = (
        root / "dagster_home",
        root / "data",
        root / "warehouse",
        root / "dagster_dev.log",
    )
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    shutil.copytree(DATASETS, data)
    # No futures: their runs (eager, one per scenario) would share the machine with the re-plans
    # under test; tests/defs/test_scenario_assets.py runs them.
    shutil.rmtree(data / "scenarios")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        # The last good plan, on the instance the UI will use (a one-budget frontier, for time).
        run_job("replan", data, warehouse, {"ops": {"pareto_frontier": {"config": FRONTIER_20_MW}}})
    port = free_port()
    # The sensors tick at the daemon's pace (every 5 s); a change waits one tick to settle.
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "yes",
        "TOKENPLAN_SENSOR_INTERVAL_S": "1",
        "TOKENPLAN_SENSOR_SETTLE_S": "1",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "ui",
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--data",
                str(data),
                "--warehouse",
                str(warehouse),
            ],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Dagster(f"http://127.0.0.1:{port}", home, data, warehouse, log, process)
    try:
        server.wait(
            "the code location to load",
            lambda: server.instigators().get("__typename") == "Repository",
            START_WAIT_S,
        )
        yield server
    finally:
        stop(process, home)


@dataclass
class Page:
    """Headless Chromium's screenshot and DOM of one UI page, being made."""

    screenshot: Path
    dom: Path
    browsers: list[subprocess.Popen]


@pytest.fixture(scope="module", autouse=True)
def asset_graph_page(
    dagster: Dagster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Page | None]:
    """build_plan's lineage two levels each way (every group: ingest → design → plan → export),
    rendered by Chromium from the moment the UI is up, while the other tests run."""
    if not CHROMIUM.exists():
        yield None
        return
    root = tmp_path_factory.mktemp("chromium")
    page = f"{dagster.url}/assets/build_plan?view=lineage&lineageScope=neighbors&lineageDepth=2"
    made = Page(
        Path(os.environ.get("TOKENPLAN_SCREENSHOT", root / "asset_graph.png")),
        root / "asset_graph.html",
        [],
    )

    def chromium(action: str, profile: str, output=subprocess.DEVNULL) -> subprocess.Popen:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={root / profile}",
            "--virtual-time-budget=15000",
            "--window-size=1600,1000",
        ]
        return subprocess.Popen(
            [str(CHROMIUM), *flags, action, page],
            stdout=output,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    with made.dom.open("wb") as html:
        made.browsers = [
            chromium(f"--screenshot={made.screenshot}", "shot"),
            chromium("--dump-dom", "dom", html),
        ]
    try:
        yield made
    finally:
        for browser in made.browsers:
            with suppress(ProcessLookupError):
                os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()


def test_the_ui_serves_the_asset_graph_with_upstreams_and_checks(dagster: Dagster):
    defs = build_defs()
    expected = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
    checks: dict[str, set[str]] = {}
    for key in defs.resolve_asset_graph().asset_check_keys:
        checks.setdefault(key.asset_key.to_user_string(), set()).add(key.name)

    nodes = {"/".join(n["assetKey"]["path"]): n for n in dagster.graphql(ASSET_GRAPH)["assetNodes"]}
    assert set(nodes) == set(expected)
    for name, node in nodes.items():
        spec = expected[name]
        assert node["groupName"] == spec.group_name, name
        assert node["description"] and node["kinds"], name
        assert {"/".join(k["path"]) for k in node["dependencyKeys"]} == {
            d.asset_key.to_user_string() for d in spec.deps
        }, name
        assert {c["name"] for c in node["assetChecksOrError"].get("checks", [])} == checks.get(
            name, set()
        ), name
    assert {"ingest", "design", "plan"} <= {n["groupName"] for n in nodes.values()}
    assert "design_space" in {"/".join(k["path"]) for k in nodes["build_plan"]["dependencyKeys"]}


@pytest.mark.parametrize(
    ("resource", "field", "variable"),
    [
        ("input_folder", "path", "TOKENPLAN_DATA"),
        ("warehouse", "path", "TOKENPLAN_WAREHOUSE"),
        ("io_manager", "base_dir", "TOKENPLAN_WAREHOUSE"),
    ],
)
def test_the_ui_shows_which_variable_each_folder_comes_from(
    dagster: Dagster, resource: str, field: str, variable: str
):
    details = dagster.graphql(RESOURCE, location=LOCATION, resource=resource)[
        "topLevelResourceDetailsOrError"
    ]
    assert details["__typename"] == "ResourceDetails", details
    assert {"key": field, "value": variable, "type": "ENV_VAR"} in details["configuredValues"]
    (described,) = [f for f in details["configFields"] if f["name"] == field]
    assert variable in described["description"]


def test_sensors_and_schedule_are_on_and_an_unchanged_folder_launches_nothing(dagster: Dagster):
    for name in ("input_folder_sensor", "automation_condition_sensor"):
        if dagster.sensor(name)["sensorState"]["status"] != "RUNNING":
            dagster.graphql(START_SENSOR, location=LOCATION, sensor=name)
        assert dagster.sensor(name)["sensorState"]["status"] == "RUNNING"
    (schedule,) = dagster.instigators()["schedules"]
    assert (schedule["name"], schedule["cronSchedule"], schedule["scheduleState"]["status"]) == (
        "scheduled_replan",
        "0 6 * * 1",
        "RUNNING",
    )

    def finished_ticks():
        ticks = [
            t
            for t in dagster.sensor("input_folder_sensor")["sensorState"]["ticks"]
            if t["status"] != "STARTED"
        ]
        return len(ticks) >= 2 and ticks

    ticks = dagster.wait("two input-folder sensor ticks", finished_ticks, 60)
    assert {t["status"] for t in ticks} == {"SKIPPED"}
    assert all(t["skipReason"].startswith("no input file changed") for t in ticks)
    assert dagster.sensor_runs("input_folder_sensor") == []


def test_a_changed_price_replans_through_the_sensor(dagster: Dagster):
    before = json.loads((dagster.warehouse / "build_plan.json").read_text())
    plans_before = plan_files(dagster.warehouse)

    sheet = dagster.data / PRICE_SHEET
    assert sheet.read_text().count(GB200_CAPEX) == 1
    sheet.write_text(sheet.read_text().replace(GB200_CAPEX, GB200_CAPEX_LOWER))

    def finished_run():
        runs = dagster.sensor_runs("input_folder_sensor")
        return runs if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

    (run,) = dagster.wait("the sensor's run to finish", finished_run, RUN_WAIT_S)
    assert run["status"] == "SUCCESS", dagster.tail()
    assert run["jobName"] == "replan"
    assert {"/".join(k["path"]) for k in run["assetSelection"]} >= {
        "hardware",
        "design_space",
        "build_plan",
    }
    assert "benchmarks" not in {"/".join(k["path"]) for k in run["assetSelection"]}
    assert {t["key"]: t["value"] for t in run["tags"]}["tokenplan/changed_files"] == PRICE_SHEET

    after = json.loads((dagster.warehouse / "build_plan.json").read_text())
    assert after["plan_id"] != before["plan_id"]
    # The old fleet costs less at the lower price, so the optimum is lower still.
    assert after["cost_per_million_tokens_usd"] < before["cost_per_million_tokens_usd"] * 0.99
    assert {f["file"]: f["sha256"] for f in after["inputs"]}[PRICE_SHEET] == sha256(sheet)
    assert len(plan_files(dagster.warehouse)) == len(plans_before) + 1

    (materialization,) = dagster.graphql(LATEST_PLAN)["assetNodes"][0]["assetMaterializations"]
    assert materialization["runId"] == run["runId"]
    metadata = {m["label"]: m.get("floatValue") for m in materialization["metadataEntries"]}
    assert metadata["cost_per_million_tokens_usd"] == significant(
        after["cost_per_million_tokens_usd"]
    )  # rounded to 4 significant digits, as a planner reads it


def test_the_asset_graph_page_renders(asset_graph_page: Page | None):
    if asset_graph_page is None:
        pytest.skip("Debian chromium not installed")
    assert [browser.wait(timeout=90) for browser in asset_graph_page.browsers] == [0, 0]
    assert asset_graph_page.screenshot.stat().st_size > 10_000
    page_text = asset_graph_page.dom.read_text(errors="replace")
    for name in ("hardware", "design_space", "build_plan"):
        assert name in page_text, name


def test_the_ui_starts_without_warnings_or_notices(dagster: Dagster):
    """No telemetry notice, no "use dg dev" supersession warning, no code location name
    mismatch (which Dagster logged on every load): what a planner sees is the URL and the
    services starting."""
    output = dagster.log.read_text(errors="replace")
    assert "Dagster UI on http://127.0.0.1:" in output
    for noise in ("Telemetry", "Welcome to Dagster", "Warning:", "does not match the name"):
        assert noise not in output, noise
