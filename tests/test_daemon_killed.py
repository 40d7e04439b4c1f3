"""The daemon killed with its whole process group mid-render, then restarted: the dead run is failed
by the sensor's sweep (nothing else marks it), its row says so, 'retry' renders it, and a row added
meanwhile flows (the dead run's slot is free). The embedded default's instance, the real daemon."""

import os
import signal
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.sensors.dead_runs import GONE_SINCE_TAG
from talking_head_dagster.sensors.run_history import IN_FLIGHT
from tests.services import nocodb
from tests.support.deployment import deployment_env, fresh_bucket
from tests.support.job_process import HOLD_COMPOSITE_ENV
from tests.support.processes import BIN, REPO, prepare_home, started, until

pytestmark = pytest.mark.integration
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]


@pytest.mark.timeout(1500)
def test_a_killed_daemons_dead_run_is_failed_after_restart_and_the_table_flows_again(
    tmp_path: Path, nocodb_server, nocodb_table, s3_server, media_server, media_host
) -> None:
    table = nocodb_table("daemonkill", STATUS_COLUMNS)
    clip = f"{media_server}/clip.mp4"
    [first] = nocodb.insert_rows(nocodb_server, table, [{"url": clip, "content": "Killed with the daemon."}])
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The project's instance without run retries: the dead run's row then asks the user to retry.
    config = (REPO / "dagster.yaml").read_text()
    assert "run_retries:\n  enabled: true" in config
    (home / "dagster.yaml").write_text(
        config.replace("run_retries:\n  enabled: true", "run_retries:\n  enabled: false")
    )
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - python_module:\n      module_name: tests.support.held_definitions\n"
        f"      working_directory: {REPO}\n      location_name: talking_head_dagster\n"
    )
    marker = tmp_path / "encoding"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
        "TALKING_HEAD_SENSOR_INTERVAL_S": "3",
        "TALKING_HEAD_DEAD_RUN_GRACE_S": "5",
        HOLD_COMPOSITE_ENV: str(marker),
        **deployment_env(
            nocodb_server,
            s3_server,
            table={"id": table, "status_column": "status", "error_column": "error"},
            bucket=fresh_bucket(s3_server),
            media_host=media_host,
            artifacts_dir=tmp_path / "artifacts",
        ),
    }
    command = [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]
    prepare_home(home)
    log = tmp_path / "daemon.log"

    # 1. The daemon renders the row; its whole process group is killed in the composite.
    with log.open("a") as out:
        daemon = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        until(marker.exists, "the composite to start", log)
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=30)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [dead] = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": f"{table}-{first}"}))
        assert dead.status == dg.DagsterRunStatus.STARTED
    assert nocodb.get_row(nocodb_server, table, first)["status"] == "compositing"
    [second] = nocodb.insert_rows(nocodb_server, table, [{"url": clip, "content": "Added while it was down."}])

    # 2. Restarted, the daemon's sensor fails the dead run; the row says so; 'retry' renders it.
    with started(command, env, log):
        row = until(
            lambda: (r := nocodb.get_row(nocodb_server, table, first))["status"] == "failed" and r,
            "the dead run's row to fail",
            log,
            limit_s=240.0,  # the restart, the code server's load, the grace (5 s) and a few ticks
        )
        assert row["error"] == (
            "The render was interrupted (its worker process ended unexpectedly); "
            "set the status to 'retry' to render it again."
        )
        nocodb.update_rows(nocodb_server, table, [{"Id": first, "status": "retry"}])
        for row_id in (first, second):
            until(lambda r=row_id: nocodb.get_row(nocodb_server, table, r)["status"] == "done", f"row {row_id}", log)
        # The runs record their end before the daemon (and its runs' process group) is stopped.
        with dg.DagsterInstance.from_config(str(home)) as instance:
            in_flight = dg.RunsFilter(statuses=list(IN_FLIGHT))
            until(lambda: not instance.get_runs(in_flight), "the runs to end", log)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": f"{table}-{first}"}))
        statuses = {run.run_id: run.status for run in runs}
        assert statuses[dead.run_id] == dg.DagsterRunStatus.FAILURE
        assert GONE_SINCE_TAG in instance.get_run_by_id(dead.run_id).tags
        assert sorted(s.value for s in statuses.values()) == ["FAILURE", "SUCCESS"]
