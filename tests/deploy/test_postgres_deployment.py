"""The production deployment on this machine: rows flow through both code locations on Postgres, unattended.

The machine's real PostgreSQL server (a database of the test's own), the real dagster-daemon, both
code servers started with compose.yaml's commands, the real NocoDB and SeaweedFS, and intermediates
in S3 (as between machines). Five rows are inserted; the daemon is killed and restarted while they
render; every row must end done, each stage done exactly once, and no two avatar steps at once
(pool `gpu` limited to 1), as the event log tells.
"""

import itertools
import os
import signal
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import requests

from talking_head_dagster.locations import AVATAR_JOB, FINISH_JOB, PREPARE_JOB
from tests.services import nocodb
from tests.support.deployment import deployment_env, fresh_bucket
from tests.support.production import postgres_database, two_location_deployment

pytestmark = pytest.mark.integration
ROWS = 5
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]
STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"]


def _settings_env(tmp_path: Path, nocodb_server, s3_server, table: str, bucket: str, media_host: str) -> dict:
    table_columns = {"id": table, "status_column": "status", "error_column": "error"}
    return {
        **deployment_env(
            nocodb_server,
            s3_server,
            table=table_columns,
            bucket=bucket,
            media_host=media_host,
            artifacts_dir=tmp_path / "cache",
        ),
        "TALKING_HEAD_SENSOR_INTERVAL_S": "3",
        "TALKING_HEAD_STAGE_SENSOR_INTERVAL_S": "2",
        # Intermediates in S3, as between machines; each location keeps its own local cache.
        "TALKING_HEAD_ARTIFACTS__BACKEND": "s3",
        "TALKING_HEAD_AVATAR__BACKEND": "lite",
    }


def _runs(instance: dg.DagsterInstance) -> list[dg.RunRecord]:
    return list(instance.get_run_records())


def _wait(condition, what: str, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(3)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2500:]}" for log in logs if log.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def _avatar_step_intervals(instance: dg.DagsterInstance, runs: list[dg.RunRecord]) -> list[tuple[float, float]]:
    """(start, end) of every avatar_video step, from the event log."""
    intervals = []
    for record in runs:
        if record.dagster_run.job_name != AVATAR_JOB:
            continue
        events = instance.all_logs(record.dagster_run.run_id)
        starts = [e.timestamp for e in events if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"]
        ends = [
            e.timestamp
            for e in events
            if e.dagster_event and e.dagster_event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE")
        ]
        intervals += list(zip(starts, ends, strict=True))
    return sorted(intervals)


@pytest.mark.timeout(1800)
def test_rows_flow_through_both_locations_on_postgres_through_a_daemon_restart(
    tmp_path: Path, nocodb_server, s3_server, media_server, media_host
) -> None:
    table = nocodb.create_table(nocodb_server, f"prod_{uuid.uuid4().hex[:8]}", extra_columns=STATUS_COLUMNS)
    bucket = fresh_bucket(s3_server)
    settings_env = _settings_env(tmp_path, nocodb_server, s3_server, table, bucket, media_host)
    with (
        postgres_database() as database,
        two_location_deployment(tmp_path, database, settings_env) as deployment,
        deployment.instance() as instance,
    ):
        logs = [tmp_path / name for name in ("daemon.log", "daemon-restarted.log", "code-cpu.log", "code-gpu.log")]
        rows = [
            {"url": f"{media_server}/clip.mp4", "content": f"Row number {n} goes through two code locations."}
            for n in range(1, ROWS + 1)
        ]
        row_ids = nocodb.insert_rows(nocodb_server, table, rows)
        keys = {f"{table}-{row_id}" for row_id in row_ids}

        # 1. The daemon picks the rows up; it is killed outright in the middle of the flow.
        with deployment.daemon("daemon") as daemon:
            _wait(
                lambda: any(
                    r.dagster_run.job_name == AVATAR_JOB and r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
                    for r in _runs(instance)
                ),
                "a first avatar run",
                900,
                logs,
            )
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=30)
        done_at_kill = sum(
            1
            for r in _runs(instance)
            if r.dagster_run.job_name == FINISH_JOB and r.dagster_run.status.name == "SUCCESS"
        )
        assert done_at_kill < ROWS, "the flow ended before the restart: nothing was tested"

        # 2. A new daemon on the same instance takes over.
        with deployment.daemon("daemon-restarted"):
            _wait(
                lambda: all(nocodb.get_row(nocodb_server, table, row_id).get("chengpinurl") for row_id in row_ids),
                "every row's URL",
                1200,
                logs,
            )

        # Every row done, with a video behind its URL.
        for row_id in row_ids:
            row = nocodb.get_row(nocodb_server, table, row_id)
            assert row["status"] == "done", row
            response = requests.get(row["chengpinurl"], timeout=30)
            assert response.status_code == 200 and response.content[4:8] == b"ftyp"

        runs = _runs(instance)
        # No manual step: every run was requested by a sensor (NocoDB, or a stage hand-on).
        assert all(r.dagster_run.tags.get("dagster/sensor_name") for r in runs), [r.dagster_run.tags for r in runs]
        # Both locations rendered: each stage group ran in its own location, once per row.
        for job, location in (
            (PREPARE_JOB, "talking_head_cpu"),
            (AVATAR_JOB, "talking_head_gpu"),
            (FINISH_JOB, "talking_head_cpu"),
        ):
            succeeded = [r for r in runs if r.dagster_run.job_name == job and r.dagster_run.status.name == "SUCCESS"]
            assert sorted(r.dagster_run.tags["dagster/partition"] for r in succeeded) == sorted(keys), job
            assert {r.dagster_run.remote_job_origin.location_name for r in succeeded} == {location}
        # No duplicate: each stage materialised exactly once per row.
        for stage in STAGES:
            materialized = instance.fetch_materializations(dg.AssetKey(stage), limit=100).records
            assert sorted(m.partition_key for m in materialized) == sorted(keys), stage
        # The gpu pool (limit 1): no two avatar steps overlapped in time.
        intervals = _avatar_step_intervals(instance, runs)
        assert len(intervals) == ROWS
        for (_, end), (next_start, _) in itertools.pairwise(intervals):
            assert next_start >= end, intervals
