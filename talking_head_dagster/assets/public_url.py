"""The published video, its URL, and a preview that opens it from the Dagster UI."""

import dagster as dg

from talking_head_dagster.assets.composite import composite
from talking_head_dagster.assets.composite_metadata import INLINE_MARKDOWN_CHARS
from talking_head_dagster.assets.stage import GROUP, Stopwatch, record_identity, stage_errors
from talking_head_dagster.display import mib, seconds
from talking_head_dagster.manifests import CompositeManifest, PublicationManifest, SourceVideoManifest
from talking_head_dagster.partitions import records
from talking_head_dagster.records import record_version
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.publisher import Publisher
from talking_head_dagster.speech.timing import SpeechManifest

SRT_CONTENT_TYPE = "application/x-subrip; charset=utf-8"
# The kind badge the UI shows, as the deployment publishes (set when the Definitions are built).
PUBLISH_KINDS = {"s3": "s3", "local": "folder"}
NOT_PLAYABLE = (
    "a file:// link, which browsers do not open: scripts/dev.sh serves the output folder over http "
    "(or set TALKING_HEAD_PUBLISH__PUBLIC_BASE_URL)"
)


@dg.asset(partitions_def=records, group_name=GROUP, deps=[composite], kinds={"s3"}, code_version="1")
def public_url(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    publisher: Publisher,
) -> dg.MaterializeResult:
    """The finished MP4 published under a key derived from the record and its version, and its URL."""
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context):
        video = artifacts.manifest(key, "composite", CompositeManifest)
        source = artifacts.manifest(key, "source_video", SourceVideoManifest)
        speech = artifacts.manifest(key, "tts_audio", SpeechManifest)
        version = record_version(source.record.url, speech.text, source.record.layout, source.record.row_voice)
        object_key = publisher.object_key(key, version)
        # The subtitles go first, so that wherever the video is, its .srt is beside it.
        subtitles = None
        if video.srt_file:
            srt = artifacts.file(key, "composite", video.srt_file)
            subtitles = publisher.publish(srt, publisher.object_key(key, version, ".srt"), SRT_CONTENT_TYPE)
        publication = publisher.publish(artifacts.file(key, "composite", video.file), object_key)
        manifest = PublicationManifest(
            url=publication.url,
            location=publication.location,
            object_key=object_key,
            uploaded=publication.uploaded,
            bytes=publication.bytes,
            version=version,
            srt_url=subtitles.url if subtitles else None,
        )
        staging = artifacts.staging_dir(key, "public_url")
        artifacts.commit(key, "public_url", staging, manifest)
    context.log.info(f"{key}: {'uploaded' if publication.uploaded else 'already published'} {publication.location}")
    return dg.MaterializeResult(
        metadata={
            **record_identity(context, speech.text),
            "preview": preview(publication.url, video.duration_s, publication.bytes, _thumbnail(context)),
            "url": dg.MetadataValue.url(publication.url),
            "srt_url": dg.MetadataValue.url(subtitles.url) if subtitles else "none",
            "size": mib(publication.bytes),
            "uploaded": publication.uploaded,
            "location": publication.location,
            "object_key": object_key,
            "stage_seconds": watch.seconds,
        },
        data_version=dg.DataVersion(version),
    )


def preview(url: str, duration_s: float, size_bytes: int, thumbnail_md: str | None) -> dg.MetadataValue | str:
    """What opens the video from the UI: its thumbnail as a link to it, or a text link when that does
    not fit the UI's inline Markdown limit; a sentence instead when the URL cannot play in a browser."""
    if not url.startswith(("http://", "https://")):
        return NOT_PLAYABLE
    if thumbnail_md and thumbnail_md.startswith("!["):
        linked = f"[{thumbnail_md}]({url})"
        if len(linked) < INLINE_MARKDOWN_CHARS:
            return dg.MetadataValue.md(linked)
    return dg.MetadataValue.md(f"[▶ Watch the video ({seconds(duration_s)}, {mib(size_bytes)})]({url})")


def _thumbnail(context: dg.AssetExecutionContext) -> str | None:
    """The inline thumbnail of this partition's latest composite, as its materialization shows it."""
    found = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=composite.key, asset_partitions=[context.partition_key]), limit=1
    ).records
    materialization = found[0].asset_materialization if found else None
    value = materialization.metadata.get("thumbnail") if materialization else None
    return value.value if isinstance(value, dg.MarkdownMetadataValue) else None


def with_publish_kind(assets: list[dg.AssetsDefinition], backend: str) -> list[dg.AssetsDefinition]:
    """The assets with ``public_url``'s kind as this deployment publishes: S3, or a folder."""
    kind = PUBLISH_KINDS[backend]
    return [
        dg.map_asset_specs(lambda spec: spec.replace_attributes(kinds={kind}), [asset])[0]
        if asset.key == public_url.key
        else asset
        for asset in assets
    ]
