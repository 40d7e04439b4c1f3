"""The real thing, no test harness in between: Dagster's daemon ticks the sensor and launches the run.

A SQLite Dagster instance with the project's dagster.yaml, `dagster-daemon run` on the
project's workspace.yaml, the real NocoDB and SeaweedFS: a row inserted into the table ends up
with a URL that serves the rendered MP4, and no one calls anything but the daemon.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import requests

from tests.services import nocodb
from tests.support.deployment import deployment_env, fresh_bucket
from tests.support.processes import prepare_home

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent


def test_daemon_turns_a_new_row_into_a_video(
    tmp_path: Path, nocodb_server, s3_server, media_server, media_host
) -> None:
    table = nocodb.create_table(nocodb_server, f"daemon_{uuid.uuid4().hex[:8]}")
    bucket = fresh_bucket(s3_server)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        # The shared 2-core test machine can be slow to answer the daemon's gRPC calls.
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
        "TALKING_HEAD_SENSOR_INTERVAL_S": "3",
        **deployment_env(
            nocodb_server,
            s3_server,
            table={"id": table},
            bucket=bucket,
            media_host=media_host,
            artifacts_dir=tmp_path / "artifacts",
        ),
    }
    [row_id] = nocodb.insert_rows(
        nocodb_server,
        table,
        [{"url": f"{media_server}/clip.mp4", "content": "This row was picked up by the Dagster daemon."}],
    )
    prepare_home(home)
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Generous: on a loaded 2-core machine a cold run (imports, voice and face models) takes minutes.
        deadline = time.monotonic() + 780
        url = None
        while time.monotonic() < deadline and not url:
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            url = nocodb.get_row(nocodb_server, table, row_id).get("chengpinurl")
            time.sleep(3)
        assert url, "the row got no result URL; daemon log:\n" + (tmp_path / "daemon.log").read_text()[-3000:]
        response = requests.get(url, timeout=30)
        assert response.status_code == 200 and response.content[4:8] == b"ftyp"
    finally:
        os.killpg(daemon.pid, signal.SIGINT)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)

    # The run was launched by the sensor through the instance, not by this test.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/sensor_name": "nocodb_rows"}))
        assert {r.dagster_run.tags["dagster/partition"] for r in runs} == {f"{table}-{row_id}"}
        # One success; any other run is a retry of a run that failed to start (dagster.yaml run_retries).
        statuses = [r.dagster_run.status for r in runs]
        assert statuses.count(dg.DagsterRunStatus.SUCCESS) == 1, statuses
