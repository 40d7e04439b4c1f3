"""What Dagster knows about the runs of a set of records: the sensor's memory of what it did."""

from collections import Counter
from dataclasses import dataclass, field

import dagster as dg

from talking_head_dagster.run_tags import ERROR_TAG, ROW_ERROR_TAG

PARTITION_TAG = "dagster/partition"
RUN_KEY_TAG = "dagster/run_key"
VERSION_TAG = "talking_head/record_version"

IN_FLIGHT = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    }
)


@dataclass
class RecordRuns:
    """The runs of one record (partition)."""

    in_flight: bool = False
    runs_per_version: Counter[str] = field(default_factory=Counter)
    run_keys: set[str] = field(default_factory=set)
    last_run_id: str | None = None
    last_status: dg.DagsterRunStatus | None = None
    last_end_time: float | None = None
    last_error: str = ""  # the last run's failure as its hook tagged it ('<stage>: <reason>')

    def add(self, record: dg.RunRecord) -> None:
        run = record.dagster_run
        self.in_flight |= run.status in IN_FLIGHT
        if run.tags.get(VERSION_TAG):
            self.runs_per_version[run.tags[VERSION_TAG]] += 1
        if run.tags.get(RUN_KEY_TAG):
            self.run_keys.add(run.tags[RUN_KEY_TAG])
        if self.last_end_time is None or (record.end_time or 0) >= self.last_end_time:
            self.last_run_id, self.last_status, self.last_end_time = run.run_id, run.status, record.end_time or 0
            self.last_error = run.tags.get(ROW_ERROR_TAG) or run.tags.get(ERROR_TAG, "")


def load_record_runs(instance: dg.DagsterInstance, keys: list[str], chunk: int = 500) -> dict[str, RecordRuns]:
    """The runs of each of ``keys``, read in chunks of partitions (one query each)."""
    found = {key: RecordRuns() for key in keys}
    for start in range(0, len(keys), chunk):
        runs = dg.RunsFilter(tags={PARTITION_TAG: keys[start : start + chunk]})
        for record in instance.get_run_records(filters=runs):
            key = record.dagster_run.tags.get(PARTITION_TAG)
            if key in found:
                found[key].add(record)
    return found
