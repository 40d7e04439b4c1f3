"""The source_video stage of a one-off record, materialised in a real job with the transient retry policy."""

from pathlib import Path

import dagster as dg

from talking_head_dagster.assets.source_video import source_video
from talking_head_dagster.assets.stage import RECORD_ASSET
from talking_head_dagster.manifests import RecordSnapshot
from talking_head_dagster.records import Record
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.settings import RetrySettings
from tests.support.stage_job import run_stage


def materialize_source(
    folder: Path,
    downloader: VideoDownloader,
    cell: str,
    retry: RetrySettings,
    instance: dg.DagsterInstance,
    script: str = "一段脚本。",
) -> tuple[str, dg.ExecuteInProcessResult]:
    """``source_video`` of a one-off record whose url cell is ``cell``; its events stay in ``instance``."""
    store = ArtifactStore(backend="local", local_dir=str(folder))
    record = Record(key="local-placeholder", url=cell, content=script)
    key = f"local-{record.version}"
    staging = store.staging_dir(key, RECORD_ASSET)
    store.commit(
        key, RECORD_ASSET, staging, RecordSnapshot(key=key, url=cell, content=record.content, version=record.version)
    )
    resources = {"nocodb": NocoDBResource(), "artifacts": store, "downloader": downloader, "ffmpeg": FFmpegResource()}
    result = run_stage(source_video, resources, key, retry, instance)
    return key, result
