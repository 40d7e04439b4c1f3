"""The sensor that turns new NocoDB rows into runs, and shows in each row that it did."""

import time
from typing import Any

import dagster as dg

from talking_head_dagster.errors import TalkingHeadError
from talking_head_dagster.partitions import RecordKey, records
from talking_head_dagster.records import row_record
from talking_head_dagster.resources.nocodb import NocoDBResource, TableMapping
from talking_head_dagster.row_status import RowStatus, read_status
from talking_head_dagster.run_tags import record_tags, row_title
from talking_head_dagster.sensors.cursor import SweepCursor
from talking_head_dagster.sensors.dead_runs import DeadRun, sweep_dead_runs
from talking_head_dagster.sensors.row_plan import Candidate, decide, run_key
from talking_head_dagster.sensors.run_history import VERSION_TAG, load_record_runs

# Reading stops after this long (the cursor keeps the place): Dagster gives a tick 60 s in all.
READ_BUDGET_S = 30.0

__all__ = ["VERSION_TAG", "build_nocodb_rows_sensor", "run_key"]


def build_nocodb_rows_sensor(
    job,
    minimum_interval_seconds: int = 10,
    max_runs_per_tick: int = 100,
    dead_run_grace_s: float = 120.0,
    swept_jobs: tuple[str, ...] = (),
):
    @dg.sensor(
        name="nocodb_rows",
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the configured NocoDB tables for rows with a URL and a script and no result yet.",
    )
    def nocodb_rows(context: dg.SensorEvaluationContext, nocodb: NocoDBResource) -> dg.SensorResult:
        """Sweep each table for candidate rows and request one run per new row version or retry.

        Steps: 0. runs of this location whose worker process is gone are marked failed
        (``dead_runs``), so their rows can be run again; 1. for each table, read candidate rows
        after the cursor, filtered and paged by NocoDB (a table NocoDB cannot answer for is skipped
        with the reason, its cursor kept);
        2. decide per row: run it, wait, or mark its lost final status (``row_plan.decide``);
        3. add the new partitions and request the runs; 4. move the cursor on, back to the start
        once a sweep reaches the end (so a row that becomes a candidate again is found); 5. show
        'queued' (or the lost status, or the interruption, as 'failed') in the rows, best effort.
        """
        # 0. Dead runs first: their rows are no longer in flight in step 2.
        dead = sweep_dead_runs(context.instance, dead_run_grace_s, {job.name, *swept_jobs})
        for gone in dead:
            context.log.warning(f"Run {gone.run.run_id} marked failed: its worker process is gone")
        if not nocodb.configured or not nocodb.tables:
            return dg.SensorResult(skip_reason="No NocoDB table is configured (TALKING_HEAD_NOCODB__*).")
        cursor = SweepCursor.parse(context.cursor)
        budget = max_runs_per_tick
        candidates: dict[str, str] = {}
        states: dict[str, Candidate] = {}
        identity: dict[str, dict[str, str]] = {}  # the tags that say which row a run renders
        skipped: list[str] = []
        scan_limit = max(budget, 1) * 4
        deadline = time.monotonic() + READ_BUDGET_S
        for mapping in nocodb.tables:
            # 1. Candidate rows after the cursor.
            if time.monotonic() > deadline:
                skipped.append(f"{mapping.id}: not read this tick (out of time)")
                continue
            after = cursor.after_id.get(mapping.id, 0)
            rows_read, last_seen = 0, after
            try:
                for row in nocodb.pending_rows(mapping, after_id=after, limit=scan_limit):
                    rows_read, last_seen = rows_read + 1, int(row["Id"])
                    key = str(RecordKey(mapping.id, str(row["Id"])))
                    record = row_record(key, row, mapping)
                    candidates[key] = record.version
                    identity[key] = record_tags(key, record.content, row_title(row, mapping.title_column))
                    states[key] = _candidate(key, candidates[key], row, mapping)
                    if time.monotonic() > deadline:
                        break
            except TalkingHeadError as exc:
                # The cursor stays where it was: nothing is lost, the next tick tries again.
                skipped.append(f"{mapping.id}: {exc}")
                continue
            # 4. Cursor: continue after the last row seen, or restart the sweep at the end.
            more = rows_read >= scan_limit or time.monotonic() > deadline
            cursor.after_id[mapping.id] = last_seen if more else 0

        # 2. Per row: run, wait, or mark stale.
        history = load_record_runs(context.instance, list(states))
        decisions = {key: decide(state, history[key]) for key, state in states.items()}
        new = [(d.run_key, key) for key, d in decisions.items() if d.action == "run"][:budget]

        # 3. Partitions and runs.
        existing_partitions = set(context.instance.get_dynamic_partitions(records.name))
        new_partitions = sorted({k for _, k in new} - existing_partitions)
        run_requests = [
            dg.RunRequest(run_key=rk, partition_key=k, tags={VERSION_TAG: states[k].version, **identity[k]})
            for rk, k in new
        ]

        # 5. What the rows show.
        shown = _interrupted(nocodb, dead)
        shown |= {k: nocodb.status_fields(RecordKey.parse(k).table, RowStatus.QUEUED, error="") for _, k in new}
        for key, decision in decisions.items():
            if decision.action == "stale":
                shown[key] = nocodb.status_fields(RecordKey.parse(key).table, RowStatus.FAILED, error=decision.reason)
        _show_in_rows(context, nocodb, shown)
        for problem in skipped:
            context.log.warning(f"Skipped table {problem}")
        context.log.info(f"{len(candidates)} candidate rows, {len(run_requests)} new runs")
        return dg.SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=[records.build_add_request(new_partitions)] if new_partitions else [],
            cursor=cursor.dump(),
            skip_reason=None if run_requests else ("; ".join(skipped) or "No new rows."),
        )

    return nocodb_rows


def _candidate(key: str, version: str, row: dict[str, Any], mapping: TableMapping) -> Candidate:
    return Candidate(
        key=key,
        version=version,
        status=read_status(row.get(mapping.status_column)) if mapping.status_column else None,
        has_result=bool(str(row.get(mapping.result_column) or "").strip()),
    )


def _interrupted(nocodb: NocoDBResource, dead: list[DeadRun]) -> dict[str, dict]:
    """The failed status and message of each NocoDB row whose run died."""
    shown, tables = {}, {mapping.id for mapping in nocodb.tables}
    for gone in dead:
        partition = gone.run.tags.get("dagster/partition")
        key = RecordKey.parse(partition) if partition else None
        if key and key.table in tables and key.row.isdigit():
            shown[partition] = nocodb.status_fields(key.table, RowStatus.FAILED, error=gone.message)
    return shown


def _show_in_rows(context: dg.SensorEvaluationContext, nocodb: NocoDBResource, shown: dict[str, dict]) -> None:
    """Write status cells, table by table; a row that cannot be written is only logged."""
    by_table: dict[str, dict[int, dict]] = {}
    for key, fields in shown.items():
        record_key = RecordKey.parse(key)
        if fields:
            by_table.setdefault(record_key.table, {})[int(record_key.row)] = fields
    for table, rows in by_table.items():
        failed = nocodb.set_statuses(table, rows)
        if failed:
            context.log.warning(f"Could not show the status of rows {failed} of table {table} (NocoDB unavailable)")
