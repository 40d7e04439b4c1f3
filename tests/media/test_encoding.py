"""The video bitrate ceiling under the size cap, the encoder's options and the choice of encoder."""

import re

import pytest

from talking_head_dagster.errors import PermanentInputError
from talking_head_dagster.media import encoding
from talking_head_dagster.media.encoding import VideoEncoding, choose_encoder, video_ceiling_kbps

MiB = 2**20
MARGIN = 0.97


def file_bytes(video_kbps: int, audio_kbps: int, duration_s: float) -> float:
    """The most a file can take: VBV bounds the video to maxrate x (duration + the 1 s buffer)."""
    return (video_kbps * (duration_s + 1.0) + audio_kbps * duration_s) * 1000 / 8


@pytest.mark.parametrize(
    ("max_bytes", "duration_s", "audio_kbps", "min_kbps"),
    [
        (30 * MiB, 60.0, 160, 600),
        (30 * MiB, 7.5, 160, 600),
        (30 * MiB, 300.0, 128, 600),
        (300 * 1024, 6.0, 64, 100),
        (8 * MiB, 45.3, 96, 300),
        (2 * 1024 * MiB, 1.0, 512, 100),
    ],
)
def test_the_ceiling_is_the_highest_rate_that_stays_under_the_cap(max_bytes, duration_s, audio_kbps, min_kbps):
    ceiling = video_ceiling_kbps(max_bytes, duration_s, audio_kbps, min_kbps)
    assert ceiling >= min_kbps
    assert file_bytes(ceiling, audio_kbps, duration_s) <= max_bytes * MARGIN
    assert file_bytes(ceiling + 1, audio_kbps, duration_s) > max_bytes * MARGIN


def test_the_default_cap_gives_a_minute_a_generous_ceiling() -> None:
    # 30 MiB for 60 s: about 3.8 Mb/s of video, plenty for 1080x1920 talking heads.
    assert 3700 < video_ceiling_kbps(30 * MiB, 60.0, 160, 600) < 4000


@pytest.mark.parametrize(
    ("max_bytes", "duration_s", "audio_kbps", "min_kbps", "cap_text"),
    [
        (30 * MiB, 600.0, 160, 600, "30 MiB"),
        (MiB, 20.0, 160, 2000, "1 MiB"),
        (300 * 1024, 60.0, 64, 600, "0.29 MiB"),
        (int(1.5 * MiB), 30.0, 128, 400, "1.5 MiB"),
        (8 * MiB, 95.0, 96, 600, "8 MiB"),
    ],
)
def test_an_impossible_cap_says_the_cap_the_minimum_and_a_length_that_fits(
    max_bytes, duration_s, audio_kbps, min_kbps, cap_text
):
    with pytest.raises(PermanentInputError) as caught:
        video_ceiling_kbps(max_bytes, duration_s, audio_kbps, min_kbps)
    message = str(caught.value)
    assert f"A {duration_s:.0f} s video cannot fit in {cap_text} " in message
    assert f"({min_kbps} kb/s video)" in message
    assert "TALKING_HEAD_COMPOSITE__MAX_BYTES" in message
    suggested = int(re.search(r"under about (\d+) s of speech", message).group(1))
    assert 1 <= suggested < duration_s
    # The suggestion really fits, and is not far short of what would.
    assert video_ceiling_kbps(max_bytes, suggested, audio_kbps, min_kbps) >= min_kbps
    with pytest.raises(PermanentInputError):
        video_ceiling_kbps(max_bytes, suggested + 2, audio_kbps, min_kbps)


def test_a_cap_too_small_for_any_speech_does_not_suggest_a_length() -> None:
    with pytest.raises(PermanentInputError) as caught:
        video_ceiling_kbps(256 * 1024, 5.0, 160, 2000)
    message = str(caught.value)
    assert "cannot fit in 0.25 MiB" in message and "(2000 kb/s video)" in message
    assert "shorten" not in message and "-" not in message.split("TALKING_HEAD")[0]
    assert "TALKING_HEAD_COMPOSITE__MAX_BYTES" in message and "TALKING_HEAD_COMPOSITE__MIN_VIDEO_KBPS" in message


def test_libx264_runs_at_constant_quality_under_a_one_second_vbv() -> None:
    assert VideoEncoding("libx264", 3844).args(crf=23, preset="veryfast") == {
        "vcodec": "libx264",
        "preset": "veryfast",
        "crf": 23,
        "maxrate": "3844k",
        "bufsize": "3844k",
    }


def test_nvenc_runs_at_constant_quality_with_the_same_ceiling() -> None:
    args = VideoEncoding("h264_nvenc", 1200).args(crf=28, preset="veryfast")
    assert args == {
        "vcodec": "h264_nvenc",
        "preset": "p4",  # x264's preset names mean nothing to NVENC
        "rc": "vbr",
        "cq": 28,
        "b:v": "0",
        "maxrate": "1200k",
        "bufsize": "1200k",
    }


@pytest.fixture
def nvenc(monkeypatch: pytest.MonkeyPatch):
    """Set whether this machine's NVENC probe succeeds; records which FFmpeg was probed."""
    probed: list[str] = []

    def works(value: bool) -> list[str]:
        def probe(ffmpeg: str) -> bool:
            probed.append(ffmpeg)
            return value

        monkeypatch.setattr(encoding, "nvenc_works", probe)
        return probed

    return works


def test_libx264_asked_for_is_used_without_probing(nvenc) -> None:
    probed = nvenc(True)
    assert choose_encoder("libx264", "/opt/ffmpeg") == "libx264"
    assert probed == []


@pytest.mark.parametrize(("works", "chosen"), [(False, "libx264"), (True, "h264_nvenc")])
def test_auto_uses_nvenc_only_where_the_probe_encodes(nvenc, works: bool, chosen: str) -> None:
    probed = nvenc(works)
    assert choose_encoder("auto", "/opt/ffmpeg") == chosen
    assert probed == ["/opt/ffmpeg"]


def test_nvenc_asked_for_without_nvenc_is_a_clear_error(nvenc) -> None:
    nvenc(False)
    with pytest.raises(PermanentInputError, match=r"ENCODER is nvenc.*cannot encode with NVENC.*use auto"):
        choose_encoder("nvenc", "/opt/ffmpeg")
    nvenc(True)
    assert choose_encoder("nvenc", "/opt/ffmpeg") == "h264_nvenc"


def test_the_probe_says_no_for_an_ffmpeg_that_does_not_exist(tmp_path) -> None:
    assert encoding.nvenc_works(str(tmp_path / "no-ffmpeg")) is False
