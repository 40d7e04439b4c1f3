"""What each stage leaves in the artifact store for the stages after it (``manifest.json``)."""

from pydantic import BaseModel

from talking_head_dagster.speech.timing import SentenceTiming, SpeechManifest


class RecordSnapshot(BaseModel):
    key: str
    url: str
    content: str
    version: str
    voice: str | None = None
    row_voice: str | None = None
    layout: str | None = None


class SourceVideoManifest(BaseModel):
    record: RecordSnapshot
    file: str
    bytes: int
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    download_seconds: float
    source_kind: str | None = None  # how it was fetched: "yt-dlp", "Douyin video (built-in resolver)"...


class AvatarManifest(BaseModel):
    file: str
    backend: str
    portrait: str
    frames: int
    fps: int
    width: int
    height: int
    duration_s: float
    render_seconds: float
    model: str | None = None
    attention: str | None = None
    choice: str | None = None
    server: str | None = None


class CompositeManifest(BaseModel):
    file: str
    bytes: int
    width: int
    height: int
    duration_s: float
    encode_seconds: float
    layout: str = "pip"
    encoder: str = "libx264"
    video_ceiling_kbps: int | None = None
    loudness_lufs: float | None = None
    true_peak_db: float | None = None
    srt_file: str | None = None
    subtitles_burned: bool = False
    thumbnail_file: str | None = None


class PublicationManifest(BaseModel):
    url: str
    location: str
    object_key: str
    uploaded: bool
    bytes: int
    version: str
    srt_url: str | None = None


__all__ = [
    "AvatarManifest",
    "CompositeManifest",
    "PublicationManifest",
    "RecordSnapshot",
    "SentenceTiming",
    "SourceVideoManifest",
    "SpeechManifest",
]
