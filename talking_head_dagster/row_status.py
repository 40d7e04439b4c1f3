"""A row's lifecycle as its status column shows it.

``queued`` (the sensor requested a run) → one status per stage while it runs → ``done`` (the result
column holds the URL) or ``failed`` (the error column says why). Users write ``retry`` to render a
row again (after fixing it, or to render an edited script of a done row).
"""

from enum import StrEnum


class RowStatus(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    SPEAKING = "speaking"
    ANIMATING = "animating"
    COMPOSITING = "compositing"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"
    RETRY = "retry"


# The status each stage shows while it runs (nocodb_sync writes ``done`` with the result).
STAGE_STATUS: dict[str, RowStatus] = {
    "source_video": RowStatus.DOWNLOADING,
    "tts_audio": RowStatus.SPEAKING,
    "avatar_video": RowStatus.ANIMATING,
    "composite": RowStatus.COMPOSITING,
    "public_url": RowStatus.UPLOADING,
}

IN_PROGRESS = frozenset({RowStatus.QUEUED, *STAGE_STATUS.values()})


def read_status(value: object) -> str:
    """A status cell as the sensor compares it: trimmed, lower case, '' when empty."""
    return str(value or "").strip().lower()
