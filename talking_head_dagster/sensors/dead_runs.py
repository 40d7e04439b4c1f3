"""Runs whose worker process is gone are marked failed, so they free their slots and their rows move on.

Only for the local run launcher (the embedded default), which records each run worker's pid and
cannot check a worker's health itself: the sensor runs on the same machine, so ``os.kill(pid, 0)``
tells whether the worker lives. The Docker and Kubernetes launchers check their containers and jobs
themselves (``supports_check_run_worker_health``, driven by ``run_monitoring`` in dagster.yaml).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.tags import MAX_RETRIES_TAG, RETRY_NUMBER_TAG

from talking_head_dagster.process_state import pid_alive
from talking_head_dagster.run_tags import ERROR_TAG

# When the sweep first found the run's worker gone (epoch seconds): the grace counts from here.
GONE_SINCE_TAG = "talking_head/worker_gone_since"
INTERRUPTED = "The render was interrupted (its worker process ended unexpectedly)"

# The sweep's clock; tests replace it to pass the grace without waiting.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class DeadRun:
    run: dg.DagsterRun
    message: str  # what the row shows


def sweep_dead_runs(instance: dg.DagsterInstance, grace_s: float, job_names: set[str]) -> list[DeadRun]:
    """Mark failed the started runs of ``job_names`` whose worker died more than ``grace_s`` ago.

    Steps: 1. only the local launcher's runs (other launchers check their workers themselves);
    2. per started run, its worker's pid from the event log: alive, or not recorded yet, it is left;
    3. a dead worker seen for the first time is noted on the run (the grace starts); 4. after the
    grace, the run is marked failed (as interrupted, which run retries retry) and its pool slots freed.
    """
    # 1. The local launcher only.
    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return []
    started = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    dead: list[DeadRun] = []
    for run in started:
        if run.job_name not in job_names:
            continue
        # 2. Is its worker alive?
        pid = worker_pid(instance, run.run_id)
        if pid is None or pid_alive(pid):
            continue
        # 3. The grace starts when the sweep first sees the worker gone.
        now = clock()
        since = run.tags.get(GONE_SINCE_TAG)
        if since is None:
            instance.add_run_tags(run.run_id, {GONE_SINCE_TAG: f"{now:.0f}"})
            continue
        if now - float(since) < grace_s:
            continue
        # 4. Failed as interrupted; the slots go back at once.
        message = fail_dead_run(instance, run, f"no process {pid} on this machine for {now - float(since):.0f} s")
        dead.append(DeadRun(run, message))
    return dead


def fail_dead_run(instance: dg.DagsterInstance, run: dg.DagsterRun, detail: str) -> str:
    """Mark ``run`` failed as interrupted (run retries retry it), free its slots; what its row will say.

    The sweep calls it for a worker found gone, the warm launcher's process for a worker it saw die.
    """
    message = _row_message(instance, run)
    instance.add_run_tags(run.run_id, {ERROR_TAG: message})
    instance.report_run_failed(
        run,
        message=f"{INTERRUPTED}: {detail}.",
        job_failure_data=JobFailureData(None, RunFailureReason.UNEXPECTED_TERMINATION, None),
    )
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return message


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker: the first engine event that names one ('Started process for run')."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value)
    return None


def _row_message(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """Whether Dagster's run retries will render it again, or the user must ask."""
    max_retries = int(run.tags.get(MAX_RETRIES_TAG, instance.run_retries_max_retries))
    if instance.run_retries_enabled and int(run.tags.get(RETRY_NUMBER_TAG, 0)) < max_retries:
        return f"{INTERRUPTED}; it is rendered again automatically."
    return f"{INTERRUPTED}; set the status to 'retry' to render it again."
