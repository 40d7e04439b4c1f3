"""Rendering one record in this process: one run of ``render_record``, with a progress display."""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from rich.console import Console

from talking_head_dagster.assets import RECORD_ASSETS
from talking_head_dagster.assets.stage import RECORD_ASSET, snapshot
from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.errors import PermanentInputError, TalkingHeadError
from talking_head_dagster.failures import Kind, StepFailure, check_reason, failure_message, step_failure
from talking_head_dagster.jobs import RENDER_RECORD_JOB
from talking_head_dagster.launch import launch_in_process
from talking_head_dagster.manifests import PublicationManifest
from talking_head_dagster.partitions import LOCAL_TABLE, RecordKey, records
from talking_head_dagster.records import Record, record_version, row_record
from talking_head_dagster.run_tags import record_tags, row_title
from talking_head_dagster.settings import Settings, TableSettings

__all__ = ["RenderFailed", "RenderOutcome", "failure_message", "render_one"]

STAGES = [asset.key.to_user_string() for asset in RECORD_ASSETS]
CLI_TAG = "talking_head/cli"


class RenderFailed(Exception):
    """A stage failed; ``failure`` says which, why, and what kind of trouble it is."""

    def __init__(self, key: str, failure: StepFailure) -> None:
        super().__init__(f"{failure.stage} failed for {key}: {failure.reason}")
        self.key = key
        self.failure = failure


@dataclass(frozen=True)
class RenderOutcome:
    key: str
    url: str
    location: str
    stage_seconds: dict[str, float]
    run_id: str | None = None


def render_one(
    *,
    table: str | None = None,
    row: int | None = None,
    url: str | None = None,
    text: str | None = None,
    voice: str | None = None,
    layout: str | None = None,
    portrait: Path | None = None,
    force: bool = False,
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
    console: Console | None = None,
    log_level: str = "WARNING",
) -> RenderOutcome:
    """Materialise the stages of one record that are not done yet, in one run, showing progress.

    Steps: 1. resolve the partition key (a NocoDB row, or a one-off record saved to the artifact
    store) and the tags that say which row it is; 2. register the partition; 3. select the stages
    to run: all of a row's (its content may have changed), a one-off record's missing ones, or all
    when forced; 4. one run of the deployment's job (its retry policy, checks, and the row's status
    and failure reason written back), followed event by event; 5. read the published URL.
    """
    settings = settings or Settings()
    if portrait is not None:
        _use_portrait(settings, portrait, table)
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(RENDER_RECORD_JOB)
    instance = instance or dg.DagsterInstance.get()
    console = console or Console(stderr=True)
    artifacts = definitions.resources["artifacts"]

    # 1. The record.
    if table is not None and row is not None:
        key = str(RecordKey(table, str(row)))
        tags = _row_tags(definitions, key)
    else:
        version = record_version(url or "", text or "", layout)
        if portrait is not None:  # another face is another video
            version = hashlib.sha256(f"{version}\n{_digest(portrait)}".encode()).hexdigest()[:12]
        record = Record(key=f"{LOCAL_TABLE}-{version}", url=url or "", content=text or "", voice=voice, layout=layout)
        key = record.key
        staging = artifacts.staging_dir(key, RECORD_ASSET)
        artifacts.commit(key, RECORD_ASSET, staging, snapshot(record))
        tags = record_tags(key, record.content)

    # 2. The partition.
    instance.add_dynamic_partitions(records.name, [key])

    # 3. The stages to run. One-off records are content-addressed, so their committed stages are current.
    is_local = RecordKey.parse(key).is_local
    done = {s for s in STAGES if not force and is_local and s != "nocodb_sync" and artifacts.exists(key, s)}
    console.print(f"[bold]Rendering record {key}[/bold] ({tags['talking_head/title']})")
    for stage in STAGES:
        if stage in done:
            console.print(f"  {_label(stage)}: already done")

    # 4. One run, followed.
    run_id, events = launch_in_process(
        job,
        partition_key=key,
        asset_keys=[dg.AssetKey(s) for s in STAGES if s not in done],
        instance=instance,
        tags={**tags, CLI_TAG: "render"},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    seconds = _follow(events, console, key)

    # 5. The result.
    publication = artifacts.manifest(key, "public_url", PublicationManifest)
    return RenderOutcome(
        key=key, url=publication.url, location=publication.location, stage_seconds=seconds, run_id=run_id
    )


def _use_portrait(settings: Settings, portrait: Path, table: str | None) -> None:
    """This render's portrait: the table's (for a row), or the deployment's (for a one-off record)."""
    if not portrait.is_file():
        raise PermanentInputError(f"The portrait {portrait} does not exist.")
    if table is None:
        settings.avatar.portrait = portrait.resolve()
        return
    mapping = next((t for t in settings.nocodb.tables if t.id == table), None)
    if mapping is None:
        mapping = TableSettings(id=table)
        settings.nocodb.tables.append(mapping)
    mapping.portrait = str(portrait.resolve())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _row_tags(definitions: dg.Definitions, key: str) -> dict[str, str]:
    """A row's identity tags; without its script when NocoDB cannot be read now (the run says why)."""
    record_key = RecordKey.parse(key)
    with dg.build_resources({"nocodb": definitions.resources["nocodb"]}) as built:
        nocodb = built.nocodb
        try:
            if nocodb.configured and record_key.row.isdigit():
                fields = nocodb.get_row(record_key.table, int(record_key.row))
                mapping = nocodb.table(record_key.table)
                record = row_record(key, fields, mapping)
                return record_tags(key, record.content, row_title(fields, mapping.title_column))
        except TalkingHeadError:
            pass
    return record_tags(key, f"row {record_key.row}")


def _follow(events, console: Console, key: str) -> dict[str, float]:
    """Show each stage as the run's events come; raise ``RenderFailed`` with the first failure."""
    seconds: dict[str, float] = {}
    started: dict[str, float] = {}
    failures: list[StepFailure] = []
    failed_checks: list[str] = []
    with console.status("starting the run ...") as status:
        for event in events:
            step = event.step_key or ""
            if event.event_type == dg.DagsterEventType.STEP_START:
                started.setdefault(step, time.perf_counter())
                status.update(f"  {_label(step)} ...")
            elif event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
                wait = event.event_specific_data.seconds_to_wait
                console.print(f"  {_label(step)}: temporary trouble, retrying in {wait or 0:.0f} s")
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                if reason := check_reason(event.event_specific_data):
                    failed_checks.append(reason)
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                seconds[step] = round(time.perf_counter() - started.get(step, time.perf_counter()), 2)
                console.print(f"  {_label(step)}: done in {seconds[step]:.1f} s")
            elif event.event_type == dg.DagsterEventType.STEP_SKIPPED or (
                event.event_type == dg.DagsterEventType.STEP_FAILURE and failures
            ):
                console.print(f"  {_label(step)}: skipped (an earlier stage failed)")
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
                failure = step_failure(event)
                if failure.kind == Kind.CHECK and failed_checks:
                    failure = StepFailure(failure.stage, "; ".join(failed_checks), Kind.CHECK)
                failures.append(failure)
                took = time.perf_counter() - started.get(step, time.perf_counter())
                console.print(f"  {_label(step)}: [red]failed[/red] after {took:.1f} s")
            elif event.event_type == dg.DagsterEventType.RUN_FAILURE and not failures:
                message = event.message or "the run failed before its stages started"
                failures.append(StepFailure("run", message, Kind.UNEXPECTED))
    if failures:
        raise RenderFailed(key, failures[0])
    return seconds


def _label(stage: str) -> str:
    number = STAGES.index(stage) + 1 if stage in STAGES else 0
    return f"[{number}/{len(STAGES)}] {stage}"
