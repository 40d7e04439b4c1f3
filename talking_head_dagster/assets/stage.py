"""What every stage shares: the record it works on, and how its errors reach Dagster and the user."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from talking_head_dagster.errors import PermanentInputError, TransientError
from talking_head_dagster.manifests import RecordSnapshot
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.records import Record
from talking_head_dagster.resources.artifact_store import ArtifactStore, MissingArtifactError
from talking_head_dagster.resources.nocodb import NocoDBResource

RECORD_ASSET = "record"
TRANSIENT_RETRIES = 3

GROUP = "talking_head"


def load_record(key: str, nocodb: NocoDBResource, artifacts: ArtifactStore) -> Record:
    """The row behind a partition: read from NocoDB, or the snapshot a one-off render saved."""
    record_key = RecordKey.parse(key)
    if record_key.is_local:
        snapshot = artifacts.manifest(key, RECORD_ASSET, RecordSnapshot)
        return Record(key=key, url=snapshot.url, content=snapshot.content, voice=snapshot.voice)
    if not record_key.row.isdigit():
        raise PermanentInputError(f"Record {key} does not name a NocoDB row id.")
    mapping = nocodb.table(record_key.table)
    row = nocodb.get_row(record_key.table, int(record_key.row))
    return Record(
        key=key,
        url=str(row.get(mapping.url_column) or "").strip(),
        content=str(row.get(mapping.content_column) or ""),
        voice=mapping.voice,
    )


def snapshot(record: Record) -> RecordSnapshot:
    return RecordSnapshot(
        key=record.key, url=record.url, content=record.content, version=record.version, voice=record.voice
    )


@contextmanager
def stage_errors(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Fail a bad row at once with its message; retry what the world got wrong.

    A ``PermanentInputError`` becomes a ``Failure`` that Dagster will not retry, with the
    message shown in the run and in the asset's failure. A ``TransientError`` asks Dagster
    for a retry with a growing wait; after the last one it fails like any error.
    """
    try:
        yield
    except PermanentInputError as exc:
        context.log.error(f"{context.partition_key}: {exc}")
        raise dg.Failure(
            description=str(exc),
            metadata={"record": context.partition_key, "error": str(exc), "error_class": "permanent"},
            allow_retries=False,
        ) from exc
    except (TransientError, MissingArtifactError) as exc:
        attempt = context.retry_number
        context.log.warning(f"{context.partition_key}: {exc} (attempt {attempt + 1})")
        if isinstance(exc, TransientError) and attempt < TRANSIENT_RETRIES:
            raise dg.RetryRequested(max_retries=TRANSIENT_RETRIES, seconds_to_wait=5 * 2**attempt) from exc
        raise


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)
