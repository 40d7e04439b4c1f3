"""What every stage shares: the record it works on, and how its errors reach Dagster and the user."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from talking_head_dagster.errors import (
    DeploymentError,
    PermanentInputError,
    RowDeletedError,
    TalkingHeadError,
    TransientError,
)
from talking_head_dagster.manifests import RecordSnapshot
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.records import Record, row_record
from talking_head_dagster.resources.artifact_store import ArtifactStore, MissingArtifactError
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.row_status import STAGE_STATUS
from talking_head_dagster.run_tags import identity_metadata, missing_tags

RECORD_ASSET = "record"

GROUP = "talking_head"


def load_record(key: str, nocodb: NocoDBResource, artifacts: ArtifactStore) -> Record:
    """The row behind a partition: read from NocoDB, or the snapshot a one-off render saved."""
    record_key = RecordKey.parse(key)
    if record_key.is_local:
        snapshot = artifacts.manifest(key, RECORD_ASSET, RecordSnapshot)
        return Record(
            key=key,
            url=snapshot.url,
            content=snapshot.content,
            voice=snapshot.voice,
            row_voice=snapshot.row_voice,
            layout=snapshot.layout,
        )
    if not record_key.row.isdigit():
        raise PermanentInputError(f"Record {key} does not name a NocoDB row id.")
    mapping = nocodb.table(record_key.table)
    return row_record(key, nocodb.get_row(record_key.table, int(record_key.row)), mapping)


def snapshot(record: Record) -> RecordSnapshot:
    return RecordSnapshot(
        key=record.key,
        url=record.url,
        content=record.content,
        version=record.version,
        voice=record.voice,
        row_voice=record.row_voice,
        layout=record.layout,
    )


class EarlierStageFailedError(TalkingHeadError):
    """Another stage of this run failed already: this one has nothing to add (the row shows that failure)."""


@contextmanager
def stage_errors(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Run one stage of one row: its status in the row, and its errors in Dagster and in the row.

    Steps: 1. stop at once when another stage of this run failed already (a bad row costs no more
    work, and the row keeps that first reason); 2. show the stage in the row's status column (best
    effort; a row deleted meanwhile ends the run); 3. run the stage and sort its errors: a permanent
    input error, a deployment error or an unexpected error fails at once, without retries; a
    transient error goes to the job's retry policy (exponential backoff with jitter, bounded total,
    see ``retry.py``).
    """
    key = context.partition_key
    try:
        # 1. The run already failed elsewhere.
        earlier = _failed_stage(context)
        if earlier:
            raise EarlierStageFailedError(f"Not run: '{earlier}' failed earlier in this run.")
        # 2. What the row shows.
        _report_stage(context)
        # 3. The stage.
        yield
    except (dg.Failure, dg.RetryRequested):
        raise
    except TransientError as exc:
        context.log.warning(f"{key}: {exc} (attempt {context.retry_number + 1}; the job's retry policy decides)")
        raise
    except Exception as exc:
        ours = isinstance(exc, TalkingHeadError | MissingArtifactError)
        message = str(exc) if ours else f"{type(exc).__name__}: {exc}"
        log = context.log.info if isinstance(exc, EarlierStageFailedError) else context.log.error
        log(f"{key}: {message}")
        raise dg.Failure(
            description=message,
            metadata={
                "record": key,
                "error": message,
                "error_class": _error_class(exc),
                "error_type": type(exc).__name__,
            },
            allow_retries=False,
        ) from exc


def _error_class(exc: Exception) -> str:
    if isinstance(exc, DeploymentError):
        return "deployment"
    if isinstance(exc, PermanentInputError):
        return "permanent"
    return "skipped" if isinstance(exc, EarlierStageFailedError) else "unexpected"


def _failed_stage(context: dg.AssetExecutionContext) -> str | None:
    """The first stage of this run that failed, if any did."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1
    ).records
    return records[0].event_log_entry.step_key if records else None


def _report_stage(context: dg.AssetExecutionContext) -> None:
    """Write the stage's status into the row, when the table has a status column; never fails the stage.

    A stage that does not take the NocoDB resource finds the run's client through the resource
    (the job's failure hook needs NocoDB, so every run of the job has one).
    """
    status = STAGE_STATUS.get(context.asset_key.to_user_string())
    record_key = RecordKey.parse(context.partition_key)
    if status is None or record_key.is_local or not record_key.row.isdigit():
        return
    nocodb = getattr(context.resources, "nocodb", None) or NocoDBResource.for_run(context.run.run_id)
    if nocodb is None or not nocodb.configured:
        return
    try:
        nocodb.set_status(record_key.table, int(record_key.row), status)
    except RowDeletedError:
        raise
    except TalkingHeadError as exc:
        context.log.warning(f"{context.partition_key}: could not show '{status}' in the row: {exc}")


def record_identity(context: dg.AssetExecutionContext, script: str | None = None) -> dict[str, str]:
    """Which row this is, for the top of the stage's metadata (the partition pages show it).

    A run launched without the row's tags (from the UI) gets them here, from the script.
    """
    key, tags = context.partition_key, context.run.tags
    extra = missing_tags(key, tags, script) if script is not None else {}
    if extra:
        context.instance.add_run_tags(context.run.run_id, extra)
    return identity_metadata(key, {**tags, **extra}, script)


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)
