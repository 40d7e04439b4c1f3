from pathlib import Path

import pytest

from talking_head_dagster.media.probe import ProbeError, count_video_frames, probe
from tests.conftest import make_clip


def test_probe_reads_streams_of_a_real_clip(tmp_path: Path, ffmpeg_exe: str) -> None:
    clip = make_clip(tmp_path / "c.mp4", ffmpeg_exe, seconds=1.0, size="320x240")
    info = probe(clip, ffmpeg_exe)
    assert info.video is not None and (info.video.width, info.video.height) == (320, 240)
    assert info.video.codec == "h264" and info.video.fps == 25
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert count_video_frames(clip, ffmpeg_exe) == 25


def test_probe_without_audio(tmp_path: Path, ffmpeg_exe: str) -> None:
    info = probe(make_clip(tmp_path / "s.mp4", ffmpeg_exe, seconds=1.0, audio=False), ffmpeg_exe)
    assert info.video is not None and info.audio is None


def test_probe_refuses_garbage(tmp_path: Path, ffmpeg_exe: str) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01garbage" * 1000)
    with pytest.raises(ProbeError):
        probe(junk, ffmpeg_exe)
