"""Rendering one record in this process through the same assets, with a progress display."""

import time
from dataclasses import dataclass

import dagster as dg
from rich.console import Console

from talking_head_dagster.assets import RECORD_ASSETS
from talking_head_dagster.assets.stage import RECORD_ASSET, snapshot
from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.jobs import RENDER_RECORD_JOB
from talking_head_dagster.manifests import PublicationManifest
from talking_head_dagster.partitions import LOCAL_TABLE, RecordKey, records
from talking_head_dagster.records import Record, record_version
from talking_head_dagster.settings import Settings


class RenderFailed(Exception):
    """A stage failed; the message is the stage's own."""


@dataclass(frozen=True)
class RenderOutcome:
    key: str
    url: str
    location: str
    stage_seconds: dict[str, float]


def render_one(
    *,
    table: str | None = None,
    row: int | None = None,
    url: str | None = None,
    text: str | None = None,
    voice: str | None = None,
    layout: str | None = None,
    force: bool = False,
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
    console: Console | None = None,
    log_level: str = "WARNING",
) -> RenderOutcome:
    """Materialise the six assets for one record, stage by stage, showing progress.

    Steps: 1. resolve the partition key (a NocoDB row, or a one-off record saved to the
    artifact store); 2. register the partition; 3. materialise each stage in order with the
    deployment's job (its retry policy, and the row's status and failure reason written back),
    skipping stages already done unless forced; 4. read the published URL.
    """
    settings = settings or Settings()
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(RENDER_RECORD_JOB)
    instance = instance or dg.DagsterInstance.get()
    console = console or Console(stderr=True)
    artifacts = definitions.resources["artifacts"]

    # 1. The record.
    if table is not None and row is not None:
        key = str(RecordKey(table, str(row)))
    else:
        version = record_version(url or "", text or "", layout)
        record = Record(key=f"{LOCAL_TABLE}-{version}", url=url or "", content=text or "", voice=voice, layout=layout)
        key = record.key
        staging = artifacts.staging_dir(key, RECORD_ASSET)
        artifacts.commit(key, RECORD_ASSET, staging, snapshot(record))

    # 2. The partition.
    instance.add_dynamic_partitions(records.name, [key])

    # 3. Stage by stage.
    is_local = RecordKey.parse(key).is_local
    seconds: dict[str, float] = {}
    console.print(f"[bold]Rendering record {key}[/bold]")
    for number, asset in enumerate(RECORD_ASSETS, start=1):
        name = asset.key.to_user_string()
        label = f"[{number}/{len(RECORD_ASSETS)}] {name}"
        # One-off records are content-addressed, so their committed stages are always current.
        if not force and is_local and name != "nocodb_sync" and artifacts.exists(key, name):
            console.print(f"  {label}: already done")
            continue
        started = time.perf_counter()
        with console.status(f"  {label} ..."):
            result = job.execute_in_process(
                asset_selection=[asset.key],
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                tags={"talking_head/cli": "render"},
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
        seconds[name] = round(time.perf_counter() - started, 2)
        if not result.success:
            message = failure_message(result)
            console.print(f"  {label}: [red]failed[/red] after {seconds[name]:.1f} s: {message}")
            raise RenderFailed(f"{name} failed for {key}: {message}")
        console.print(f"  {label}: done in {seconds[name]:.1f} s")

    # 4. The result.
    publication = artifacts.manifest(key, "public_url", PublicationManifest)
    return RenderOutcome(key=key, url=publication.url, location=publication.location, stage_seconds=seconds)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            if user and user.description:
                return user.description
            while error.cause and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            return error.message.strip()
    return "unknown failure (see the run's logs)"
