"""The sensor's decision per row: run, wait, or mark a lost final status (our own logic, no services)."""

import dagster as dg
import pytest

from talking_head_dagster.sensors.row_plan import STALE_AFTER_S, Candidate, decide, run_key
from talking_head_dagster.sensors.run_history import RecordRuns

NOW = 1_000_000.0


def ran(*versions: str, in_flight: bool = False, last: dg.DagsterRunStatus | None = None, ended: float = NOW - 999):
    runs = RecordRuns(in_flight=in_flight, last_status=last, last_run_id="r1" if last else None)
    for version in versions:
        runs.runs_per_version[version] += 1
        runs.run_keys.add(run_key("t-1", version, runs.runs_per_version[version] - 1))
    runs.last_end_time = ended if last else None
    return runs


def row(status: str | None = "", has_result: bool = False, version: str = "v1") -> Candidate:
    return Candidate(key="t-1", version=version, status=status, has_result=has_result)


def test_a_new_row_runs_once() -> None:
    assert decide(row(), ran(), NOW).run_key == "t-1:v1"
    assert decide(row(status=None), ran(), NOW).run_key == "t-1:v1"  # a table without status column


def test_nothing_runs_twice_at_once() -> None:
    for status in ("", "retry", "queued", "failed"):
        assert decide(row(status), ran("v1", in_flight=True), NOW).action == "wait"
    # Not even a new version: it waits for the run in flight to end.
    assert decide(row(version="v2"), ran("v1", in_flight=True), NOW).action == "wait"


def test_a_failed_row_waits_until_the_user_acts() -> None:
    assert decide(row("failed"), ran("v1", last=dg.DagsterRunStatus.FAILURE), NOW).action == "wait"
    # Without a status column a row is rendered once per version, as before.
    assert decide(row(None), ran("v1", last=dg.DagsterRunStatus.FAILURE), NOW).action == "wait"


@pytest.mark.parametrize(
    ("status", "has_result"),
    [("retry", False), ("retry", True), ("RETRY ", False), ("", False), ("done", False)],
)
def test_a_retry_or_a_cleared_row_runs_again_under_a_new_key(status: str, has_result: bool) -> None:
    runs = ran("v1", last=dg.DagsterRunStatus.SUCCESS)
    first = decide(row(status.strip().lower(), has_result), runs, NOW)
    assert first.action == "run" and first.run_key == "t-1:v1:1"
    # Its run recorded, the next retry gets the next key.
    runs.runs_per_version["v1"] += 1
    runs.run_keys.add(first.run_key)
    assert decide(row("retry"), runs, NOW).run_key == "t-1:v1:2"


def test_an_edited_script_is_a_new_version() -> None:
    assert decide(row("failed", version="v2"), ran("v1", last=dg.DagsterRunStatus.FAILURE), NOW).run_key == "t-1:v2"
    assert decide(row("retry", True, version="v2"), ran("v1", last=dg.DagsterRunStatus.SUCCESS), NOW).run_key == (
        "t-1:v2"
    )


def test_a_done_row_with_its_result_is_left_alone() -> None:
    assert decide(row("done", True), ran("v1", last=dg.DagsterRunStatus.SUCCESS), NOW).action == "wait"


def test_a_row_whose_run_died_without_reporting_is_marked_stale() -> None:
    dead = ran("v1", last=dg.DagsterRunStatus.FAILURE, ended=NOW - STALE_AFTER_S - 1)
    decision = decide(row("compositing"), dead, NOW)
    assert decision.action == "stale" and "retry" in decision.reason
    # Not while the run just ended (its last write may be on its way), nor after a success.
    assert decide(row("compositing"), ran("v1", last=dg.DagsterRunStatus.FAILURE, ended=NOW - 5), NOW).action == "wait"
    assert decide(row("uploading"), ran("v1", last=dg.DagsterRunStatus.SUCCESS), NOW).action == "wait"
