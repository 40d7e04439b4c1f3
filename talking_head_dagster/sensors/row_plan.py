"""What the sensor does with one candidate row, given what the row says and what Dagster remembers."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import dagster as dg

from talking_head_dagster.row_status import IN_PROGRESS, RowStatus
from talking_head_dagster.sensors.run_history import RecordRuns

# A row still showing a stage this long after its last run ended lost its final status (NocoDB was
# down when the run ended): it is marked failed. The wait keeps a row read just before its run
# wrote 'done' from being overwritten.
STALE_AFTER_S = 120.0

# The stale check's clock; tests replace it to pass STALE_AFTER_S without waiting.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Candidate:
    key: str
    version: str
    status: str | None  # trimmed, lower case; None when the table has no status column
    has_result: bool


@dataclass(frozen=True)
class Decision:
    action: Literal["run", "wait", "stale"]
    run_key: str | None = None
    reason: str = ""


def run_key(partition_key: str, version: str, attempt: int = 0) -> str:
    """One run per row version; a user's retry of the same version gets the next attempt number."""
    return f"{partition_key}:{version}" if attempt == 0 else f"{partition_key}:{version}:{attempt}"


def decide(row: Candidate, runs: RecordRuns, now: float | None = None) -> Decision:
    """Run the row, leave it, or mark it stale.

    Steps: 1. a run of this record is queued or running: wait for it (never two at once);
    2. this version never ran: run it; 3. the user asked again (status 'retry', or both status and
    result cleared, or 'done' with the result cleared): run it under the next attempt's run key;
    4. the row shows a stage but no run is in flight, and the last one failed a while ago: its
    final status was lost, mark it failed; 5. otherwise (failed, or done) leave it.
    """
    # 1. Never two runs of one record at once.
    if runs.in_flight:
        return Decision("wait", reason="a run of this row is in flight")
    # 2. A new version.
    attempts = runs.runs_per_version[row.version]
    if attempts == 0 and run_key(row.key, row.version) not in runs.run_keys:
        return Decision("run", run_key(row.key, row.version))
    # 3. Asked again.
    asked_again = row.status == RowStatus.RETRY or (
        row.status in ("", RowStatus.DONE) and not row.has_result and row.status is not None
    )
    if asked_again:
        attempt = max(attempts, 1)
        while run_key(row.key, row.version, attempt) in runs.run_keys:
            attempt += 1
        return Decision("run", run_key(row.key, row.version, attempt))
    # 4. A lost final status: the run's own reason when its hook tagged it, else what happened.
    now = clock() if now is None else now
    ended_long_ago = runs.last_end_time is not None and now - runs.last_end_time > STALE_AFTER_S
    failed = runs.last_status is not None and runs.last_status != dg.DagsterRunStatus.SUCCESS
    if row.status in IN_PROGRESS and failed and ended_long_ago:
        if runs.last_error:
            return Decision("stale", reason=runs.last_error)
        return Decision(
            "stale",
            reason=f"The render stopped without reporting back (run {runs.last_run_id} ended "
            f"{runs.last_status.value.lower()}); set the status to 'retry' to render again.",
        )
    # 5. Nothing to do.
    return Decision("wait", reason="this version already ran")
