"""The sensor that turns new NocoDB rows into runs."""

import dagster as dg

from talking_head_dagster.errors import TransientError
from talking_head_dagster.jobs import render_record_job
from talking_head_dagster.partitions import RecordKey, records
from talking_head_dagster.records import record_version
from talking_head_dagster.resources.nocodb import NocoDBConfigError, NocoDBResource
from talking_head_dagster.sensors.cursor import SweepCursor

RUN_KEY_TAG = "dagster/run_key"
VERSION_TAG = "talking_head/record_version"


def run_key(partition_key: str, version: str) -> str:
    """One run per row version: the same row with the same URL and script is never run twice."""
    return f"{partition_key}:{version}"


def build_nocodb_rows_sensor(minimum_interval_seconds: int = 30, max_runs_per_tick: int = 100):
    @dg.sensor(
        name="nocodb_rows",
        job=render_record_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the configured NocoDB tables for rows with a URL and a script and no result yet.",
    )
    def nocodb_rows(context: dg.SensorEvaluationContext, nocodb: NocoDBResource) -> dg.SensorResult:
        """Sweep each table for candidate rows and request one run per new row version.

        Steps: 1. for each table, read candidate rows after the cursor, filtered and paged by
        NocoDB; 2. drop row versions that already have a run; 3. add the new partitions and
        request the runs; 4. move the cursor on, back to the start once a sweep reaches the end
        (so a row that becomes a candidate again, e.g. its result was cleared, is found).
        """
        if not nocodb.configured or not nocodb.tables:
            return dg.SensorResult(skip_reason="No NocoDB table is configured (TALKING_HEAD_NOCODB__*).")
        cursor = SweepCursor.parse(context.cursor)
        budget = max_runs_per_tick
        candidates: dict[str, str] = {}
        skipped: list[str] = []
        scan_limit = max(budget, 1) * 4
        for mapping in nocodb.tables:
            # 1. Candidate rows after the cursor.
            after = cursor.after_id.get(mapping.id, 0)
            rows_read, last_seen = 0, after
            try:
                for row in nocodb.pending_rows(mapping, after_id=after, limit=scan_limit):
                    rows_read, last_seen = rows_read + 1, int(row["Id"])
                    key = str(RecordKey(mapping.id, str(row["Id"])))
                    url = str(row.get(mapping.url_column) or "").strip()
                    candidates[key] = record_version(url, str(row.get(mapping.content_column) or ""))
            except (TransientError, NocoDBConfigError) as exc:
                # The cursor stays where it was: nothing is lost, the next tick tries again.
                skipped.append(f"{mapping.id}: {exc}")
                continue
            # 4. Cursor: continue after the last row seen, or restart the sweep at the end.
            cursor.after_id[mapping.id] = last_seen if rows_read >= scan_limit else 0

        # 2. Row versions that already ran (or are running) are not requested again.
        wanted = {run_key(k, v): (k, v) for k, v in candidates.items()}
        known = _existing_run_keys(context.instance, list(wanted))
        new = [(rk, kv) for rk, kv in wanted.items() if rk not in known][:budget]

        # 3. Partitions and runs.
        existing_partitions = set(context.instance.get_dynamic_partitions(records.name))
        new_partitions = sorted({k for _, (k, _) in new} - existing_partitions)
        run_requests = [dg.RunRequest(run_key=rk, partition_key=k, tags={VERSION_TAG: v}) for rk, (k, v) in new]
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


def _existing_run_keys(instance: dg.DagsterInstance, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for record in instance.get_run_records(filters=dg.RunsFilter(tags={RUN_KEY_TAG: chunk})):
            found.add(record.dagster_run.tags.get(RUN_KEY_TAG, ""))
    return found
