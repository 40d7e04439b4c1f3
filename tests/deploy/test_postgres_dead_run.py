"""The two-location shape on Postgres: a run's worker process dies mid-composite, and the row still
ends done with one video, with nothing in the test marking a run.

The local launcher stands in for Docker's (tests/support/production.py): the code server that
spawned the worker sees it die and fails the run (the CPU location's dead-run sweep is the backstop
when the code server is gone too), and the daemon's run retries re-run the finish stages in a new
run. With the Docker or Kubernetes launcher, run monitoring does the detecting (README: Row lifecycle).
"""

import os
import signal
from pathlib import Path

import dagster as dg
import pytest
import requests

from talking_head_dagster.locations import FINISH_JOB
from talking_head_dagster.sensors.dead_runs import worker_pid
from talking_head_dagster.sensors.run_history import IN_FLIGHT
from tests.services import nocodb
from tests.support.deployment import deployment_env, fresh_bucket
from tests.support.job_process import HOLD_COMPOSITE_ENV
from tests.support.processes import until
from tests.support.production import postgres_database, two_location_deployment

pytestmark = pytest.mark.integration
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]


@pytest.mark.timeout(1500)
def test_a_finish_run_whose_worker_dies_is_failed_and_retried_to_done(
    tmp_path: Path, nocodb_server, nocodb_table, s3_server, media_server, media_host
) -> None:
    table = nocodb_table("proddead", STATUS_COLUMNS)
    marker = tmp_path / "encoding"
    settings_env = {
        **deployment_env(
            nocodb_server,
            s3_server,
            table={"id": table, "status_column": "status", "error_column": "error"},
            bucket=fresh_bucket(s3_server),
            media_host=media_host,
            artifacts_dir=tmp_path / "cache",
        ),
        "TALKING_HEAD_SENSOR_INTERVAL_S": "2",
        "TALKING_HEAD_STAGE_SENSOR_INTERVAL_S": "2",
        "TALKING_HEAD_DEAD_RUN_GRACE_S": "5",
        "TALKING_HEAD_ARTIFACTS__BACKEND": "s3",
        "TALKING_HEAD_AVATAR__BACKEND": "lite",
        HOLD_COMPOSITE_ENV: str(marker),
    }
    [row_id] = nocodb.insert_rows(
        nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": "A worker dies in the composite."}]
    )
    key = f"{table}-{row_id}"
    with (
        postgres_database() as database,
        two_location_deployment(
            tmp_path, database, settings_env, modules={"code-cpu": "tests.support.held_cpu_location"}
        ) as deployment,
        deployment.instance() as instance,
        deployment.daemon(),
    ):
        logs = [tmp_path / name for name in ("daemon.log", "code-cpu.log", "code-gpu.log")]
        # 1. The finish run's worker is killed while its composite encodes.
        until(marker.exists, "the composite to start", logs, limit_s=900)
        [held] = instance.get_runs(dg.RunsFilter(job_name=FINISH_JOB, tags={"dagster/partition": key}))
        pid = until(lambda: worker_pid(instance, held.run_id), "the finish run's worker pid", logs)
        os.kill(pid, signal.SIGKILL)

        # 2. The row ends done, by a retry of that run.
        row = until(
            lambda: (r := nocodb.get_row(nocodb_server, table, row_id)).get("status") == "done" and r,
            "the row to be done",
            logs,
        )
        in_flight = dg.RunsFilter(statuses=list(IN_FLIGHT))
        until(lambda: not instance.get_runs(in_flight), "the runs to end", logs)
        dead = instance.get_run_by_id(held.run_id)
        finish_runs = instance.get_runs(dg.RunsFilter(job_name=FINISH_JOB, tags={"dagster/partition": key}))
        engine_messages = [
            e.dagster_event.message or ""
            for e in instance.all_logs(held.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        ]

    assert dead.status == dg.DagsterRunStatus.FAILURE
    # Failed by what watches its workers (the code server here), not by the test.
    assert any(f"Run execution process for {held.run_id}" in m for m in engine_messages), engine_messages
    [retry] = [run for run in finish_runs if run.run_id != dead.run_id]
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert retry.tags["dagster/parent_run_id"] == dead.run_id
    response = requests.get(row["chengpinurl"], timeout=30)
    assert response.status_code == 200 and response.content[4:8] == b"ftyp"
    assert not row.get("error")
