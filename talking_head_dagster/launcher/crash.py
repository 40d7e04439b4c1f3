"""A run worker that the warm process saw die (killed, out of memory, crashed) fails its run at once.

Dagster's code server does this for the workers it spawns; the warm process is the parent of its
workers, so it does it for them, from a short-lived child of its own (the warm process itself opens
no instance: every fork would inherit it). The dead-run sweep stays the backstop for a worker whose
warm process died with it.
"""

import signal

from dagster import DagsterInstance
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import deserialize_value

from talking_head_dagster.sensors.dead_runs import fail_dead_run


def how_it_ended(exit_code: int) -> str:
    """``-9`` -> ``was killed by SIGKILL``; ``1`` -> ``exited with code 1``."""
    if exit_code < 0:
        try:
            return f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"was killed by signal {-exit_code}"
    return f"exited with code {exit_code}"


def report_crashed_worker(request: str, pid: int, exit_code: int) -> None:
    """Fail the run of ``request`` (a serialized ``ExecuteRunArgs``) unless it finished before its worker died."""
    args = deserialize_value(request, ExecuteRunArgs)
    with DagsterInstance.from_ref(args.instance_ref) as instance:
        run = instance.get_run_by_id(args.run_id)
        if run is None or run.is_finished:
            return
        fail_dead_run(instance, run, f"its worker process {pid} {how_it_ended(exit_code)}")
