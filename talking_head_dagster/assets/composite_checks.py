"""What every composite must be before it is published: Dagster asset checks, evaluated by the composite step.

The checks are blocking: a failed one fails the composite step after its results are recorded, so
``public_url`` does not run in that run, and the video is not kept as the stage's result (a later
run, from the CLI or the UI, renders it again instead of publishing it).
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from talking_head_dagster.display import mib

DURATION = "duration_matches_speech"
SIZE = "under_size_cap"
LOUDNESS = "loudness_on_target"
FASTSTART = "faststart"
SUBTITLES = "subtitles_present"
LOUDNESS_TOLERANCE_LU = 1.0

DESCRIPTIONS = {
    DURATION: "The video lasts as long as the speech, within one frame.",
    SIZE: "The file is no larger than the size cap.",
    LOUDNESS: "Integrated loudness within 1 LU of the target.",
    FASTSTART: "The index (moov) comes before the media (mdat): playback starts before the download ends.",
    SUBTITLES: "Subtitles are there when configured: burned in, and an .srt beside the video.",
}
CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset="composite", blocking=True, description=text) for name, text in DESCRIPTIONS.items()
]


@dataclass(frozen=True)
class CompositeFacts:
    """What the composite step measured about its output."""

    video: Path
    bytes: int
    cap_bytes: int
    duration_s: float
    speech_duration_s: float
    fps: int
    loudness_lufs: float | None
    target_lufs: float
    subtitles_wanted: bool
    srt_written: bool
    subtitles_burned: bool


def evaluate(facts: CompositeFacts) -> list[dg.AssetCheckResult]:
    """One result per check; a failed one says, in a sentence a user can act on, by how much."""
    frame = 1 / facts.fps
    off = facts.duration_s - facts.speech_duration_s
    timing = f"{facts.duration_s:.3f} s for {facts.speech_duration_s:.3f} s of speech ({off * 1000:+.0f} ms"
    timed = abs(off) <= frame + 1e-6
    size, cap = mib(facts.bytes), mib(facts.cap_bytes)
    fits = facts.bytes <= facts.cap_bytes
    loud, target = facts.loudness_lufs, facts.target_lufs
    on_target = loud is not None and abs(loud - target) <= LOUDNESS_TOLERANCE_LU
    if loud is None:
        loudness = "the loudness could not be measured"
    elif on_target:
        loudness = f"{loud} LUFS for a {target} LUFS target"
    else:
        loudness = f"the loudness is {loud} LUFS, more than {LOUDNESS_TOLERANCE_LU:g} LU from the {target} LUFS target"
    faststart = moov_before_mdat(facts.video)
    return [
        _result(
            DURATION,
            timed,
            f"{timing}; one frame is {frame * 1000:.0f} ms)"
            if timed
            else f"the video lasts {timing}, more than one {frame * 1000:.0f} ms frame off)",
            {"video_s": round(facts.duration_s, 3), "speech_s": round(facts.speech_duration_s, 3)},
        ),
        _result(
            SIZE,
            fits,
            f"{size} of a {cap} cap" if fits else f"the video is {size}, over the {cap} cap",
            {"size": size, "cap": cap},
        ),
        _result(
            LOUDNESS,
            on_target,
            loudness,
            {"measured_lufs": loud if loud is not None else "none", "target_lufs": target},
        ),
        _result(
            FASTSTART,
            faststart,
            "moov before mdat: plays while it downloads"
            if faststart
            else "the index (moov) comes after the media (mdat): the video must download before it plays",
            {},
        ),
        _subtitles(facts),
    ]


def _subtitles(facts: CompositeFacts) -> dg.AssetCheckResult:
    if not facts.subtitles_wanted:
        return _result(SUBTITLES, True, "subtitles are turned off (COMPOSITE__SUBTITLES)", {})
    if not facts.srt_written:
        return _result(SUBTITLES, False, "no .srt was written although subtitles are configured", {})
    if not facts.subtitles_burned:
        # Only the .srt: no font covers the script. Shown as a warning, not a reason to withhold the video.
        return dg.AssetCheckResult(
            check_name=SUBTITLES,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="only in the .srt: no subtitle font covers this script",
        )
    return _result(SUBTITLES, True, "burned in, and an .srt beside the video", {})


def _result(name: str, passed: bool, description: str, metadata: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=name, passed=passed, description=description, metadata=metadata)


def failed_blocking(results: list[dg.AssetCheckResult]) -> list[dg.AssetCheckResult]:
    return [r for r in results if not r.passed and r.severity == dg.AssetCheckSeverity.ERROR]


def moov_before_mdat(path: Path) -> bool:
    """Whether the MP4's top-level ``moov`` box comes before its ``mdat`` box (``-movflags +faststart``)."""
    with path.open("rb") as f:
        while header := f.read(8):
            if len(header) < 8:
                return False
            size, kind = struct.unpack(">I4s", header)
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            if size == 1:  # a 64-bit size follows
                size = struct.unpack(">Q", f.read(8))[0] - 8
            elif size == 0:  # the box runs to the end of the file
                return False
            f.seek(size - 8, 1)
    return False
