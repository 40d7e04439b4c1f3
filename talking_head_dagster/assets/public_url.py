import dagster as dg

from talking_head_dagster.assets.composite import composite
from talking_head_dagster.assets.stage import GROUP, Stopwatch, stage_errors
from talking_head_dagster.manifests import CompositeManifest, PublicationManifest, SourceVideoManifest
from talking_head_dagster.partitions import records
from talking_head_dagster.records import record_version
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.publisher import Publisher
from talking_head_dagster.speech.timing import SpeechManifest

SRT_CONTENT_TYPE = "application/x-subrip; charset=utf-8"


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
            "url": dg.MetadataValue.url(publication.url),
            "location": publication.location,
            "object_key": object_key,
            "uploaded": publication.uploaded,
            "bytes": publication.bytes,
            "srt_url": dg.MetadataValue.url(subtitles.url) if subtitles else "none",
            "stage_seconds": watch.seconds,
        },
        data_version=dg.DataVersion(version),
    )
