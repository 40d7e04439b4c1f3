import dagster as dg

from talking_head_dagster.assets.stage import GROUP, Stopwatch, load_record, record_identity, snapshot, stage_errors
from talking_head_dagster.display import mib, seconds
from talking_head_dagster.errors import InvalidURLError, UnsupportedSourceError
from talking_head_dagster.manifests import SourceVideoManifest
from talking_head_dagster.media.probe import ProbeError
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.sources.links import source_link

MIN_SOURCE_SECONDS = 1.0


@dg.asset(partitions_def=records, group_name=GROUP, kinds={"python"}, code_version="1")
def source_video(
    context: dg.AssetExecutionContext,
    nocodb: NocoDBResource,
    artifacts: ArtifactStore,
    downloader: VideoDownloader,
    ffmpeg: FFmpegResource,
) -> dg.MaterializeResult:
    """The row's source video (Douyin through our resolver, other sites with yt-dlp), within limits, probed.

    The url cell may hold a share text around the link: the first http(s) link in it is used (the
    record keeps the cell as it is, so its version does not change).
    """
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context):
        record = load_record(key, nocodb, artifacts)
        if not record.url:
            raise InvalidURLError("The row has no source video URL.")
        link = source_link(record.url)
        staging = artifacts.staging_dir(key, "source_video")
        source = downloader.fetch(link, staging)
        for note in source.notes:
            context.log.info(f"{key}: {note}")
        path = source.path
        try:
            info = ffmpeg.probe(path)
        except ProbeError as exc:
            raise UnsupportedSourceError(f"The file at {link} is not a video ffmpeg can read ({exc}).") from exc
        if info.video is None:
            raise UnsupportedSourceError(f"The file at {link} has no video stream.")
        if not info.duration_s or info.duration_s < MIN_SOURCE_SECONDS:
            raise UnsupportedSourceError(
                f"The source video is too short ({info.duration_s or 0:.2f} s); it must last at least "
                f"{MIN_SOURCE_SECONDS} s."
            )
        manifest = SourceVideoManifest(
            record=snapshot(record),
            file=path.name,
            bytes=path.stat().st_size,
            duration_s=info.duration_s,
            width=info.video.width,
            height=info.video.height,
            fps=info.video.fps,
            video_codec=info.video.codec,
            has_audio=info.audio is not None,
            download_seconds=watch.seconds,
            source_kind=source.kind,
        )
        final = artifacts.commit(key, "source_video", staging, manifest)
    context.log.info(
        f"{key}: downloaded {mib(manifest.bytes)}, {manifest.width}x{manifest.height}, "
        f"{seconds(manifest.duration_s)} long, in {seconds(manifest.download_seconds)}"
    )
    return dg.MaterializeResult(
        metadata={
            **record_identity(context, record.content),
            "url": dg.MetadataValue.url(link),
            "source_kind": source.kind,
            "size": mib(manifest.bytes),
            "duration": seconds(manifest.duration_s),
            "resolution": f"{manifest.width}x{manifest.height}",
            "fps": f"{manifest.fps:g} fps",
            "video_codec": manifest.video_codec,
            "has_audio": manifest.has_audio,
            "download_time": seconds(manifest.download_seconds),
            "path": dg.MetadataValue.path(str(final / path.name)),
            "record_version": record.version,
            "stage_seconds": watch.seconds,
        },
        data_version=dg.DataVersion(record.version),
    )
