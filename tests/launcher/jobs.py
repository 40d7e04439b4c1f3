"""A code location for the launcher's tests: jobs that report what their worker process is."""

import os
import subprocess
import time

import dagster as dg


@dg.op
def worker_facts(context: dg.OpExecutionContext) -> None:
    """Where the step ran, and whether it can wait on a child process of its own (as stages wait on FFmpeg)."""
    child = subprocess.run(["sh", "-c", "exit 3"], check=False)
    context.log_event(
        dg.AssetObservation(
            asset_key="worker_facts",
            metadata={"pid": os.getpid(), "ppid": os.getppid(), "child_returncode": child.returncode},
        )
    )


@dg.op
def until_interrupted(context: dg.OpExecutionContext) -> None:
    context.log.info("waiting")
    while True:
        time.sleep(0.1)


@dg.job(executor_def=dg.in_process_executor)
def facts():
    worker_facts()


@dg.job(executor_def=dg.in_process_executor)
def endless():
    until_interrupted()


defs = dg.Definitions(jobs=[facts, endless], executor=dg.in_process_executor)  # as the render jobs
