"""WarmRunLauncher on a real instance and workspace: runs fork from one warm process per code location.

The workspace is a managed code server of ``tests/launcher/jobs.py``, as the daemon's workspace.yaml
gives it one; runs are launched through the instance as the run queue launches them.
"""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack

import dagster as dg
import pytest
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget

from talking_head_dagster.launcher.warm import WARM_TAG, WarmRunLauncher
from talking_head_dagster.process_state import pid_alive
from talking_head_dagster.run_tags import ERROR_TAG
from talking_head_dagster.sensors.dead_runs import INTERRUPTED, worker_pid
from tests.launcher import jobs
from tests.support.processes import REPO

LOCATION = "launcher_jobs"
LAUNCHER = {"module": "talking_head_dagster.launcher", "class": "WarmRunLauncher"}


@pytest.fixture
def workspace(tmp_path) -> Iterator[tuple[dg.DagsterInstance, WorkspaceProcessContext]]:
    """An instance whose run launcher is the warm one, and a workspace with a managed code server."""
    with ExitStack() as stack:
        instance = stack.enter_context(
            dg.instance_for_test(temp_dir=str(tmp_path), overrides={"run_launcher": LAUNCHER})
        )
        target = ModuleTarget(
            module_name="tests.launcher.jobs", attribute="defs", working_directory=str(REPO), location_name=LOCATION
        )
        context = stack.enter_context(WorkspaceProcessContext(instance, target))
        stack.callback(instance.run_launcher.dispose)
        yield instance, context


def launch(instance: dg.DagsterInstance, context: WorkspaceProcessContext, job: dg.JobDefinition) -> str:
    """Create a run of ``job`` with the location's origins and launch it, as the run queue does."""
    request = context.create_request_context()
    remote_job = request.get_code_location(LOCATION).get_repository("__repository__").get_full_job(job.name)
    run = instance.create_run_for_job(
        job_def=job,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        status=dg.DagsterRunStatus.NOT_STARTED,
    )
    instance.launch_run(run.run_id, request)
    return run.run_id


def finished(instance: dg.DagsterInstance, run_id: str, timeout: float = 120) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run and run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def started_worker(instance: dg.DagsterInstance, run_id: str) -> int:
    """The pid of the run's worker once the run has started."""
    deadline = time.monotonic() + 60
    while worker_pid(instance, run_id) is None or instance.get_run_by_id(run_id).status != dg.DagsterRunStatus.STARTED:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    return worker_pid(instance, run_id)


def observed(instance: dg.DagsterInstance, run_id: str) -> dict:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION).records
    observation = records[0].event_log_entry.dagster_event.event_specific_data.asset_observation
    return {key: value.value for key, value in observation.metadata.items()}


def warm_pids(instance: dg.DagsterInstance) -> list[int]:
    launcher = instance.run_launcher
    assert isinstance(launcher, WarmRunLauncher)
    return [warm.process.pid for _server, warm in launcher._warm.values()]


def test_runs_fork_from_one_warm_process(workspace) -> None:
    instance, context = workspace
    first = finished(instance, launch(instance, context, jobs.facts))
    second = finished(instance, launch(instance, context, jobs.facts))
    assert first.status == second.status == dg.DagsterRunStatus.SUCCESS
    [warm] = warm_pids(instance)
    facts = [observed(instance, run.run_id) for run in (first, second)]
    # Both workers are children of the same warm process, each its own process.
    assert [f["ppid"] for f in facts] == [warm, warm]
    assert facts[0]["pid"] != facts[1]["pid"]
    # The worker recorded its pid as Dagster's workers do (the dead-run sweep reads it).
    assert [worker_pid(instance, run.run_id) for run in (first, second)] == [f["pid"] for f in facts]
    assert first.tags[WARM_TAG] == "true"
    # A step still waits on its own child processes (the warm process's reaper is not inherited).
    assert [f["child_returncode"] for f in facts] == [3, 3]


def test_a_warm_run_is_cancelled(workspace) -> None:
    instance, context = workspace
    run_id = launch(instance, context, jobs.endless)
    pid = started_worker(instance, run_id)
    try:
        assert instance.run_launcher.terminate(run_id)
        assert finished(instance, run_id).status == dg.DagsterRunStatus.CANCELED
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            assert time.monotonic() < deadline, "the cancelled worker lives on"
            time.sleep(0.2)
    finally:  # an endless worker must not outlive a failing test
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_warm_worker_fails_its_run_at_once(workspace) -> None:
    instance, context = workspace
    run_id = launch(instance, context, jobs.endless)
    pid = started_worker(instance, run_id)
    os.kill(pid, signal.SIGKILL)
    # The warm process saw it die: no sweep, no grace.
    run = finished(instance, run_id, timeout=60)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert run.tags[ERROR_TAG] == f"{INTERRUPTED}; set the status to 'retry' to render it again."
    failure = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    message = failure[0].event_log_entry.dagster_event.message
    assert message == f"{INTERRUPTED}: its worker process {pid} was killed by SIGKILL."


def test_a_warm_process_that_cannot_start_leaves_the_run_to_the_code_server(workspace, monkeypatch) -> None:
    instance, context = workspace
    monkeypatch.setattr("talking_head_dagster.launcher.warm.ZYGOTE_MODULE", "talking_head_dagster.no_such_module")
    run = finished(instance, launch(instance, context, jobs.facts))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert WARM_TAG not in run.tags
    messages = [
        e.dagster_event.message or "" for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    ]
    assert any("Starting the run through the code server: the warm process did not start" in m for m in messages)


def test_a_reloaded_location_gets_a_new_warm_process(workspace) -> None:
    instance, context = workspace
    finished(instance, launch(instance, context, jobs.facts))
    [old] = warm_pids(instance)
    context.reload_code_location(LOCATION)
    run = finished(instance, launch(instance, context, jobs.facts))
    [new] = warm_pids(instance)
    assert new != old
    assert observed(instance, run.run_id)["ppid"] == new
    deadline = time.monotonic() + 30
    while pid_alive(old):  # retired: it exits once its runs have ended
        assert time.monotonic() < deadline, "the retired warm process lives on"
        time.sleep(0.2)


def test_the_warm_process_ends_with_the_launcher(workspace) -> None:
    instance, context = workspace
    finished(instance, launch(instance, context, jobs.facts))
    [warm] = warm_pids(instance)
    instance.run_launcher.dispose()
    deadline = time.monotonic() + 30
    while pid_alive(warm):
        assert time.monotonic() < deadline, "the warm process outlived its launcher"
        time.sleep(0.2)
