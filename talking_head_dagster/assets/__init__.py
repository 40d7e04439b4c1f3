from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.assets.composite import composite
from talking_head_dagster.assets.nocodb_sync import nocodb_sync
from talking_head_dagster.assets.public_url import public_url
from talking_head_dagster.assets.source_video import source_video
from talking_head_dagster.assets.tts_audio import tts_audio

RECORD_ASSETS = [source_video, tts_audio, avatar_video, composite, public_url, nocodb_sync]

__all__ = ["RECORD_ASSETS", "avatar_video", "composite", "nocodb_sync", "public_url", "source_video", "tts_audio"]
