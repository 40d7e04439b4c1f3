"""The composite asset materialised alone, on upstream artifacts written by hand.

Its tests and its benchmark both need this: a speech, an avatar clip and a background put into a
local artifact store with the manifests the upstream stages would have written, then ``composite``
materialised as Dagster does when a user re-materialises one stage.
"""

import math
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from talking_head_dagster.assets.composite import CompositeConfig, composite
from talking_head_dagster.manifests import AvatarManifest, RecordSnapshot, SourceVideoManifest
from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.speech.timing import SentenceTiming, SpeechManifest

AVATAR_FPS = 25
AVATAR_SIZE = 512


@dataclass(frozen=True)
class Upstream:
    """What the three upstream stages made for one record."""

    background: Path
    speech: Path
    avatar: Path
    script: str
    sentences: list[SentenceTiming]
    duration_s: float
    layout: str | None = None


def materialize_composite(
    folder: Path, key: str, upstream: Upstream, style: CompositeStyle, models_dir: Path | None = None
) -> tuple[ArtifactStore, dg.ExecuteInProcessResult]:
    """Write the upstream artifacts under ``folder`` and materialise ``composite`` for ``key``."""
    store = ArtifactStore(backend="local", local_dir=str(folder))
    ffmpeg = FFmpegResource()
    info = ffmpeg.probe(upstream.background)
    record = RecordSnapshot(
        key=key, url="https://example.com/v.mp4", content=upstream.script, version="v1", layout=upstream.layout
    )
    with wave.open(str(upstream.speech)) as wav:
        sample_rate = wav.getframerate()
    manifests = {
        "source_video": SourceVideoManifest(
            record=record,
            file=upstream.background.name,
            bytes=upstream.background.stat().st_size,
            duration_s=info.duration_s or 0.0,
            width=info.video.width,
            height=info.video.height,
            fps=info.video.fps,
            video_codec=info.video.codec,
            has_audio=info.audio is not None,
            download_seconds=0.0,
        ),
        "tts_audio": SpeechManifest(
            wav_file=upstream.speech.name,
            text=upstream.script,
            language="en",
            voice="en_US-joe-medium",
            sample_rate=sample_rate,
            duration_s=upstream.duration_s,
            sentences=upstream.sentences,
            synthesis_seconds=0.0,
        ),
        "avatar_video": AvatarManifest(
            file=upstream.avatar.name,
            backend="test pattern",
            portrait="none",
            frames=math.ceil(upstream.duration_s * AVATAR_FPS),
            fps=AVATAR_FPS,
            width=AVATAR_SIZE,
            height=AVATAR_SIZE,
            duration_s=upstream.duration_s,
            render_seconds=0.0,
        ),
    }
    files = {"source_video": upstream.background, "tts_audio": upstream.speech, "avatar_video": upstream.avatar}
    for asset, manifest in manifests.items():
        staging = store.staging_dir(key, asset)
        shutil.copyfile(files[asset], staging / files[asset].name)
        store.commit(key, asset, staging, manifest)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("records", [key])
        result = dg.materialize(
            [composite],
            partition_key=key,
            instance=instance,
            raise_on_error=False,
            resources={
                "artifacts": store,
                "ffmpeg": ffmpeg,
                "composite_format": CompositeConfig(style=style, models_dir=str(models_dir or folder / "models")),
            },
        )
    return store, result
