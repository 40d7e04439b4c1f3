"""The CLI as a user runs it: a one-off render in-process, and a clear error for a bad one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from talking_head_dagster.media.probe import count_video_frames, probe

CLI = str(Path(sys.executable).parent / "talking-head")


def run_cli(args: list[str], cwd: Path, allowed_hosts: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS"] = json.dumps(list(allowed_hosts))
    return subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_render_one_off_prints_a_playable_mp4_last(
    tmp_path: Path, media_server: str, media_host: str, ffmpeg_exe: str
) -> None:
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", "A quick one-off video."]
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert result.returncode == 0, result.stderr[-2000:]
    video = Path(result.stdout.strip().splitlines()[-1])
    assert video.is_file() and video.is_relative_to(tmp_path / "output")
    info = probe(video, ffmpeg_exe)
    assert (info.video.width, info.video.height) == (1080, 1920) and info.audio.codec == "aac"
    assert count_video_frames(video, ffmpeg_exe) == pytest.approx(info.duration_s * 25, abs=2)
    # The runs went into the local Dagster instance, so they show in the UI.
    assert (tmp_path / ".dagster_home" / "dagster.yaml").is_file()
    assert "[6/6] nocodb_sync: done" in result.stderr

    # Rendering the same record again redoes nothing.
    again = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert again.returncode == 0 and again.stderr.count("already done") == 5


def test_render_with_an_empty_script_fails_with_the_reason(tmp_path: Path, media_server: str, media_host: str) -> None:
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", ""]
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert result.returncode == 1
    assert "The script is empty" in result.stderr
    assert not (tmp_path / "output").exists()
