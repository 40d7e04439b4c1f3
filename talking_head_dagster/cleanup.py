"""Disk use stays bounded: every hour the artifact store drops what nothing has touched for the retention.

The CPU (or single) location prunes the store, S3 included; the GPU location prunes only its own
machine's cache of it (``artifact_cache_cleanup``), so each host's disk is looked after once.
"""

import dagster as dg

from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.sensors.run_history import IN_FLIGHT, PARTITION_TAG


def _prune(context: dg.OpExecutionContext, artifacts: ArtifactStore, local_only: bool) -> int:
    in_flight = context.instance.get_run_records(filters=dg.RunsFilter(statuses=list(IN_FLIGHT)))
    busy = {r.dagster_run.tags[PARTITION_TAG] for r in in_flight if PARTITION_TAG in r.dagster_run.tags}
    removed = artifacts.prune(busy=busy, local_only=local_only)
    context.log.info(
        f"Removed {len(removed)} stage folders and objects older than {artifacts.retention_hours:g} h "
        f"(records with a run in flight kept: {len(busy)})"
    )
    return len(removed)


@dg.op(description="Remove intermediates of records untouched for ARTIFACTS__RETENTION_HOURS, and stale staging.")
def prune_artifacts(context: dg.OpExecutionContext, artifacts: ArtifactStore) -> int:
    return _prune(context, artifacts, local_only=False)


@dg.op(description="Remove this machine's cached intermediates untouched for ARTIFACTS__RETENTION_HOURS (not S3).")
def prune_artifact_cache(context: dg.OpExecutionContext, artifacts: ArtifactStore) -> int:
    return _prune(context, artifacts, local_only=True)


@dg.job(description="Prune the artifact store (see ARTIFACTS__RETENTION_HOURS).")
def artifact_cleanup() -> None:
    prune_artifacts()


@dg.job(description="Prune this location's local cache of the artifact store (see ARTIFACTS__RETENTION_HOURS).")
def artifact_cache_cleanup() -> None:
    prune_artifact_cache()


artifact_cleanup_schedule = dg.ScheduleDefinition(
    name="artifact_cleanup_hourly",
    job=artifact_cleanup,
    cron_schedule="17 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

artifact_cache_cleanup_schedule = dg.ScheduleDefinition(
    name="artifact_cache_cleanup_hourly",
    job=artifact_cache_cleanup,
    cron_schedule="47 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
