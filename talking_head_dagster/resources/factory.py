"""Resources for a deployment, built from ``Settings``; secrets go in as ``EnvVar`` and stay out of the UI."""

import os

import dagster as dg

from talking_head_dagster.assets.composite import CompositeConfig
from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource, TableMapping
from talking_head_dagster.resources.publisher import Publisher
from talking_head_dagster.resources.s3 import S3Connection
from talking_head_dagster.resources.speech import PiperSpeech
from talking_head_dagster.settings import Settings

NOCODB_TOKEN_ENV = "TALKING_HEAD_NOCODB__API_TOKEN"
S3_SECRET_ENV = "TALKING_HEAD_S3__SECRET_ACCESS_KEY"
DOUYIN_TOKEN_ENV = "TALKING_HEAD_DOWNLOAD__DOUYIN__RESOLVER_TOKEN"


def _secret(env_name: str, configured: bool):
    """An EnvVar when the secret is set (resolved at run time, hidden in the UI), else None."""
    return dg.EnvVar(env_name) if configured and os.environ.get(env_name) else None


def build_resources(settings: Settings) -> dict[str, object]:
    s3 = None
    if settings.s3.endpoint_url or settings.artifacts.backend == "s3" or settings.publish.backend == "s3":
        s3 = S3Connection(
            endpoint_url=settings.s3.endpoint_url,
            region=settings.s3.region,
            access_key_id=settings.s3.access_key_id,
            secret_access_key=_secret(S3_SECRET_ENV, settings.s3.secret_access_key is not None),
            bucket=settings.s3.bucket,
        )
    return {
        "nocodb": NocoDBResource(
            url=settings.nocodb.url,
            api_token=_secret(NOCODB_TOKEN_ENV, settings.nocodb.api_token is not None),
            tables=[TableMapping(**table.model_dump()) for table in settings.nocodb.tables],
            page_size=settings.nocodb.page_size,
            timeout_s=settings.nocodb.timeout_s,
        ),
        "artifacts": ArtifactStore(
            backend=settings.artifacts.backend,
            local_dir=str(settings.artifacts.local_dir),
            s3=s3,
            s3_prefix=settings.artifacts.s3_prefix,
            retention_hours=settings.artifacts.retention_hours,
        ),
        "downloader": VideoDownloader(
            max_bytes=settings.download.max_bytes,
            timeout_s=settings.download.timeout_s,
            max_redirects=settings.download.max_redirects,
            allowed_hosts=settings.download.allowed_hosts,
            cookies_file=str(settings.download.cookies_file) if settings.download.cookies_file else None,
            ffmpeg_binary=settings.composite.ffmpeg_binary,
            douyin_hosts=settings.download.douyin.hosts,
            douyin_share_page_url=settings.download.douyin.share_page_url,
            douyin_resolver_url=settings.download.douyin.resolver_url,
            douyin_resolver_token=_secret(DOUYIN_TOKEN_ENV, settings.download.douyin.resolver_token is not None),
            slideshow_seconds_per_image=settings.download.douyin.slideshow_seconds_per_image,
        ),
        "ffmpeg": FFmpegResource(binary=settings.composite.ffmpeg_binary),
        "speech": PiperSpeech(
            models_dir=str(settings.speech.models_dir),
            voices=settings.speech.voices,
            sentence_pause_s=settings.speech.sentence_pause_s,
            max_script_chars=settings.speech.max_script_chars,
        ),
        "avatar": AvatarRenderer(
            backend=settings.avatar.backend,
            portrait=str(settings.avatar.portrait) if settings.avatar.portrait else None,
            size=settings.avatar.size,
            fps=settings.avatar.fps,
            flashhead_model=settings.avatar.flashhead.model,
            flashhead_vendor_dir=str(settings.avatar.flashhead.vendor_dir),
            flashhead_ckpt_dir=str(settings.avatar.flashhead.ckpt_dir),
            flashhead_wav2vec_dir=str(settings.avatar.flashhead.wav2vec_dir),
            flashhead_seed=settings.avatar.flashhead.seed,
            flashhead_face_crop=settings.avatar.flashhead.face_crop,
            flashhead_min_free_gpu_gib=settings.avatar.flashhead.min_free_gpu_gib,
            flashhead_server_url=settings.avatar.flashhead.server_url,
        ),
        "composite_format": CompositeConfig(
            style=CompositeStyle(**settings.composite.model_dump(exclude={"ffmpeg_binary"})),
            models_dir=str(settings.speech.models_dir),
        ),
        "publisher": Publisher(
            backend=settings.publish.backend,
            local_dir=str(settings.publish.local_dir),
            s3=s3,
            key_prefix=settings.publish.key_prefix,
            public_base_url=settings.publish.public_base_url,
            presign_expiry_s=settings.publish.presign_expiry_s,
        ),
    }
