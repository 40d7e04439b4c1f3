import dagster as dg

from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.assets.source_video import source_video
from talking_head_dagster.assets.stage import GROUP, Stopwatch, stage_errors
from talking_head_dagster.assets.tts_audio import tts_audio
from talking_head_dagster.manifests import AvatarManifest, CompositeManifest, SourceVideoManifest
from talking_head_dagster.media.composite import CompositeLayout, composite_args
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.speech.timing import SpeechManifest

MP4 = "composite.mp4"


class CompositeConfig(dg.ConfigurableResource):
    """Output format of the finished video (vertical 1080x1920 by default)."""

    width: int = 1080
    height: int = 1920
    fps: int = 25
    avatar_width_fraction: float = 0.45
    avatar_margin_fraction: float = 0.04
    crf: int = 23
    preset: str = "veryfast"

    def layout(self) -> CompositeLayout:
        return CompositeLayout(**self.model_dump())


@dg.asset(
    partitions_def=records,
    group_name=GROUP,
    deps=[source_video, tts_audio, avatar_video],
    kinds={"ffmpeg"},
    code_version="1",
)
def composite(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    ffmpeg: FFmpegResource,
    composite_format: CompositeConfig,
) -> dg.MaterializeResult:
    """The finished MP4: background fitted to the speech, talking head overlaid, speech as audio."""
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context):
        source = artifacts.manifest(key, "source_video", SourceVideoManifest)
        speech = artifacts.manifest(key, "tts_audio", SpeechManifest)
        avatar = artifacts.manifest(key, "avatar_video", AvatarManifest)
        staging = artifacts.staging_dir(key, "composite")
        layout = composite_format.layout()
        ffmpeg.run(
            composite_args(
                background=artifacts.file(key, "source_video", source.file),
                avatar=artifacts.file(key, "avatar_video", avatar.file),
                speech=artifacts.file(key, "tts_audio", speech.wav_file),
                out=staging / MP4,
                duration_s=speech.duration_s,
                layout=layout,
            )
        )
        info = ffmpeg.probe(staging / MP4)
        manifest = CompositeManifest(
            file=MP4,
            bytes=(staging / MP4).stat().st_size,
            width=layout.width,
            height=layout.height,
            duration_s=info.duration_s or speech.duration_s,
            encode_seconds=watch.seconds,
        )
        final = artifacts.commit(key, "composite", staging, manifest)
    context.log.info(
        f"{key}: composite {manifest.width}x{manifest.height}, {manifest.duration_s:.2f} s, "
        f"{manifest.bytes} bytes in {manifest.encode_seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(final / MP4)),
            "bytes": manifest.bytes,
            "resolution": f"{manifest.width}x{manifest.height}",
            "duration_s": manifest.duration_s,
            "speech_duration_s": round(speech.duration_s, 3),
            "encode_seconds": manifest.encode_seconds,
            "stage_seconds": watch.seconds,
        }
    )
