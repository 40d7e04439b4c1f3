"""A run whose worker process is SIGKILLed (as when the daemon's process group is killed) does not stay
STARTED forever: the sensor's sweep marks it failed after the grace, its row says so, and 'retry'
on the row renders it again. Its FFmpeg dies with it. Nothing here marks the run failed itself.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.sensors import dead_runs
from talking_head_dagster.sensors.run_history import VERSION_TAG
from tests.services import nocodb
from tests.support.deployment import fresh_bucket, run_process_env, tick
from tests.support.job_process import HOLD_COMPOSITE_ENV, children, wait_for_file, wait_for_step_start

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]


def test_a_run_whose_worker_died_is_failed_after_the_grace_and_its_row_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nocodb_server, nocodb_table, s3_server, media_server, media_host
) -> None:
    table = nocodb_table("deadrun", STATUS_COLUMNS)
    [row_id] = nocodb.insert_rows(
        nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": "This run's worker is killed."}]
    )
    bucket = fresh_bucket(s3_server)
    env = run_process_env(tmp_path, nocodb_server, s3_server, table=table, bucket=bucket, media_host=media_host)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from talking_head_dagster.definitions import build_definitions

    # The instance of the embedded default without run retries: the row asks the user to retry.
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        defs = build_definitions()
        [request] = tick(defs, instance).run_requests

        # 1. The run in a worker process of its own; only the worker is killed (its FFmpeg is not).
        encoding, log = tmp_path / "encoding", tmp_path / "run.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.support.job_process", *_run_args(request)],
            cwd=REPO,
            env={**os.environ, HOLD_COMPOSITE_ENV: str(encoding)},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        try:
            run_id = wait_for_step_start(instance, request.run_key, "composite", worker, log)
            wait_for_file(encoding, worker, log)
            [ffmpeg] = _wait_for(lambda: children(worker.pid, "ffmpeg"), "the held FFmpeg to start")
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        try:
            # 2. Its FFmpeg died with it.
            _wait_for(lambda: not dead_runs.pid_alive(ffmpeg), "FFmpeg to die with its worker")
        finally:
            if dead_runs.pid_alive(ffmpeg):
                os.kill(ffmpeg, signal.SIGKILL)

        # 3. The first tick notices the dead worker; within the grace the run stays as it is.
        assert tick(defs, instance).run_requests == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
        assert nocodb.get_row(nocodb_server, table, row_id)["status"] == "compositing"

        # 4. After the grace (the sweep's clock moved on), the run is failed and the row says why.
        noticed = float(instance.get_run_by_id(run_id).tags[dead_runs.GONE_SINCE_TAG])
        monkeypatch.setattr(dead_runs, "clock", lambda: noticed + 121)
        assert tick(defs, instance).run_requests == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        row = nocodb.get_row(nocodb_server, table, row_id)
        assert row["status"] == "failed"
        assert row["error"] == (
            "The render was interrupted (its worker process ended unexpectedly); "
            "set the status to 'retry' to render it again."
        )

        # 5. 'retry' on the row runs it again.
        nocodb.update_rows(nocodb_server, table, [{"Id": row_id, "status": "retry"}])
        [again] = tick(defs, instance).run_requests
        assert again.partition_key == request.partition_key
        assert again.run_key == f"{request.run_key}:1"
        assert nocodb.get_row(nocodb_server, table, row_id)["status"] == "queued"


def test_the_sweep_leaves_live_workers_and_other_jobs_and_says_when_dagster_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With run retries on, the row says the render goes again by itself; a live worker, a worker
    that recorded no pid and a run of another job are left alone."""
    from dagster._core.events import EngineEventData
    from dagster._core.storage.dagster_run import DagsterRun

    gone = subprocess.Popen(["true"])
    gone.wait()
    with dg.instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 2}}) as instance:
        runs = {}
        for name, job, pid in [
            ("dead", "render_record", gone.pid),
            ("alive", "render_record", os.getpid()),
            ("no pid", "render_record", None),
            ("other job", "something_else", gone.pid),
        ]:
            run = instance.add_run(
                DagsterRun(job_name=job, run_id=f"{len(runs):032d}", status=dg.DagsterRunStatus.STARTED)
            )
            if pid is not None:
                instance.report_engine_event(
                    f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
                )
            runs[name] = run.run_id
        monkeypatch.setattr(dead_runs, "clock", lambda: 1000.0)
        assert dead_runs.sweep_dead_runs(instance, 120, {"render_record"}) == []
        monkeypatch.setattr(dead_runs, "clock", lambda: 1119.0)
        assert dead_runs.sweep_dead_runs(instance, 120, {"render_record"}) == []  # not past the grace yet
        monkeypatch.setattr(dead_runs, "clock", lambda: 1120.0)
        [swept] = dead_runs.sweep_dead_runs(instance, 120, {"render_record"})

        assert swept.run.run_id == runs["dead"]
        assert swept.message == (
            "The render was interrupted (its worker process ended unexpectedly); it is rendered again automatically."
        )
        statuses = {name: instance.get_run_by_id(run_id).status for name, run_id in runs.items()}
        assert statuses == {
            "dead": dg.DagsterRunStatus.FAILURE,
            "alive": dg.DagsterRunStatus.STARTED,
            "no pid": dg.DagsterRunStatus.STARTED,
            "other job": dg.DagsterRunStatus.STARTED,
        }


def _run_args(request: dg.RunRequest) -> list[str]:
    return [request.partition_key, request.run_key, request.tags[VERSION_TAG]]


def _wait_for(condition, what: str, limit_s: float = 60.0):
    deadline = time.monotonic() + limit_s
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.05)
    return found
