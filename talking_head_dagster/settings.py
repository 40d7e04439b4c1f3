"""Deployment settings: Docker secrets, then environment (``TALKING_HEAD_*``), then defaults.

Every setting has a default that makes the embedded default work with nothing configured:
local artifact store, local output directory, the CPU avatar and the bundled English voice.
Nested groups use ``__`` in environment names, e.g. ``TALKING_HEAD_NOCODB__URL``.
Secrets are read from files in ``/run/secrets`` (Docker secrets) before the environment.
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.sources.douyin.urls import DEFAULT_HOSTS, DEFAULT_SHARE_PAGE

SECRETS_DIR = Path(os.environ.get("TALKING_HEAD_SECRETS_DIR", "/run/secrets"))


class TableSettings(BaseModel):
    """One NocoDB table the sensor watches, with its column mapping."""

    id: str
    url_column: str = "url"
    content_column: str = "content"
    result_column: str = "chengpinurl"
    status_column: str | None = None
    error_column: str | None = None
    voice: str | None = None
    voice_column: str | None = None  # a column whose value (a voice name, or a language: zh, en) picks the row's voice
    layout: str | None = None  # this table's avatar layout (pip, split, full); None: the deployment's
    layout_column: str | None = None  # a column whose value overrides the layout per row
    portrait: str | None = None  # this table's presenter: an image of one face; None: AVATAR__PORTRAIT


class NocoDBSettings(BaseModel):
    url: str | None = None
    api_token: SecretStr | None = None
    tables: list[TableSettings] = Field(default_factory=list)
    page_size: int = 500
    max_runs_per_tick: int = 100
    timeout_s: float = 20.0


class S3Settings(BaseModel):
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    bucket: str = "talking-head"


class ArtifactSettings(BaseModel):
    backend: Literal["local", "s3"] = "local"
    local_dir: Path = Path(".artifacts")
    s3_prefix: str = "artifacts/"
    retention_hours: float = 72.0  # intermediates of a row untouched this long are removed


class PublishSettings(BaseModel):
    backend: Literal["local", "s3"] = "local"
    local_dir: Path = Path("output")
    key_prefix: str = "videos/"
    public_base_url: str | None = None
    presign_expiry_s: int = 7 * 24 * 3600


class DouyinSettings(BaseModel):
    """Douyin links: our resolver (resources/douyin.py), or an external one with ours as the fallback."""

    # Host names (with their subdomains) treated as Douyin's; "host:port" matches exactly (a stand-in).
    hosts: list[str] = Field(default_factory=lambda: list(DEFAULT_HOSTS))
    # The mobile share page that embeds an item's data; {kind} is "video" or "note", {id} the item id.
    share_page_url: str = DEFAULT_SHARE_PAGE
    # An external "parse video URL" service, POSTed {"url": <share link>, "token": <resolver_token>}.
    resolver_url: str | None = None
    resolver_token: SecretStr | None = None
    # A photo post (图集) becomes a slideshow of its images, this long each.
    slideshow_seconds_per_image: float = 3.0


class DownloadSettings(BaseModel):
    max_bytes: int = 500 * 1024 * 1024
    timeout_s: float = 300.0
    max_redirects: int = 5
    # "host" or "host:port" the downloader may reach although not public (loopback, private...);
    # empty in production: source URLs come from users (see resources/egress.py).
    allowed_hosts: list[str] = Field(default_factory=list)
    max_duration_s: float = 15 * 60.0
    cookies_file: Path | None = None
    douyin: DouyinSettings = Field(default_factory=DouyinSettings)


class SpeechSettings(BaseModel):
    models_dir: Path = Path("models")
    voices: dict[str, str] = Field(default_factory=dict)
    sentence_pause_s: float = 0.25
    max_script_chars: int = 5000


class FlashHeadSettings(BaseModel):
    """The SoulX-FlashHead GPU backend: the upstream checkout, its weights and how it renders."""

    model: Literal["lite", "pro"] = "lite"
    vendor_dir: Path = Path("vendor/SoulX-FlashHead")
    ckpt_dir: Path = Path("models/SoulX-FlashHead-1_3B")
    wav2vec_dir: Path = Path("models/wav2vec2-base-960h")
    seed: int = 42
    face_crop: bool = False
    min_free_gpu_gib: float | None = None  # None: the model's estimate (avatar/flashhead/options.py)
    # A running `talking-head avatar-server` (http://host:port) that keeps the pipeline loaded; runs
    # then send their renders there and need no GPU. None: each run process loads the pipeline itself.
    server_url: str | None = None


class AvatarSettings(BaseModel):
    backend: Literal["auto", "lite", "flashhead"] = "auto"
    portrait: Path | None = None
    size: int = 512
    fps: int = 25
    flashhead: FlashHeadSettings = Field(default_factory=FlashHeadSettings)


class CompositeSettings(CompositeStyle):
    """The finished video's look (``media/style.py`` documents every field) and the FFmpeg to use."""

    ffmpeg_binary: str | None = None


class RetrySettings(BaseModel):
    """Transient errors: exponential backoff with jitter from ``base_delay_s``, all waits within ``max_total_s``."""

    base_delay_s: float = 5.0
    max_total_s: float = 600.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TALKING_HEAD_",
        env_nested_delimiter="__",
        secrets_dir=str(SECRETS_DIR) if SECRETS_DIR.is_dir() else None,
        extra="ignore",
    )

    nocodb: NocoDBSettings = Field(default_factory=NocoDBSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    download: DownloadSettings = Field(default_factory=DownloadSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    avatar: AvatarSettings = Field(default_factory=AvatarSettings)
    composite: CompositeSettings = Field(default_factory=CompositeSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    # How often the NocoDB sensor looks for new rows: a row waits half of this on average before its
    # run is requested. A tick costs about 0.06 CPU-seconds (benchmarks/sensor_tick.py).
    sensor_interval_s: int = 10
    # Two-location deployment: how often the stage sensors look for a finished stage to hand a row on.
    stage_sensor_interval_s: int = 2
    # A run whose worker process is gone (local launcher only) is marked failed this long after the
    # sensor first notices, so its run and pool slots are freed and its row can be rendered again.
    dead_run_grace_s: float = 120.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Docker secrets win over the environment, which wins over defaults.
        return init_settings, file_secret_settings, env_settings, dotenv_settings


# Secrets that resources read at run time through dagster.EnvVar. A Docker secret file of
# the same name (lower case) is exported into the environment first, so it takes priority.
SECRET_ENV_VARS = (
    "TALKING_HEAD_NOCODB__API_TOKEN",
    "TALKING_HEAD_S3__SECRET_ACCESS_KEY",
    "TALKING_HEAD_DOWNLOAD__DOUYIN__RESOLVER_TOKEN",
)


def export_docker_secrets(secrets_dir: Path = SECRETS_DIR) -> list[str]:
    """Copy Docker secret files into the environment variables that ``EnvVar`` reads."""
    exported = []
    for name in SECRET_ENV_VARS:
        secret_file = secrets_dir / name.lower()
        if secret_file.is_file():
            os.environ[name] = secret_file.read_text().strip()
            exported.append(name)
    return exported
