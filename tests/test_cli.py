"""The CLI as a user runs it: one run per render under the job, and failures that read like a tool's."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.assets.avatar_video import CHOICE_CHARS
from talking_head_dagster.assets.public_url import NOT_PLAYABLE
from talking_head_dagster.cli import main
from talking_head_dagster.console_errors import EXIT_CODES
from talking_head_dagster.failures import Kind
from talking_head_dagster.launch import LOCATION_NAME, REPOSITORY_NAME
from talking_head_dagster.media.probe import count_video_frames, probe
from talking_head_dagster.partitions import records
from talking_head_dagster.run_tags import ERROR_TAG, ROW_TAG, TABLE_TAG, TITLE_TAG
from tests.support.hostile_server import page_with_video, redirect_to, serve_hostile
from tests.test_bad_inputs import BAD, MAX_SCRIPT_CHARS

CLI = str(Path(sys.executable).parent / "talking-head")
REPOSITORY_TAG = ".dagster/repository"


def run_cli(
    args: list[str], cwd: Path, allowed_hosts: tuple[str, ...] = (), extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS"] = json.dumps(list(allowed_hosts))
    env.update(extra_env or {})
    return subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_render_one_off_is_one_run_under_the_job_and_prints_a_playable_mp4_last(
    tmp_path: Path, media_server: str, media_host: str, ffmpeg_exe: str
) -> None:
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", "A quick one-off video, rendered in one run."]
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert result.returncode == 0, result.stderr[-2000:]
    video = Path(result.stdout.strip().splitlines()[-1])
    assert video.is_file() and video.is_relative_to(tmp_path / "output")
    info = probe(video, ffmpeg_exe)
    assert (info.video.width, info.video.height) == (1080, 1920) and info.audio.codec == "aac"
    assert count_video_frames(video, ffmpeg_exe) == pytest.approx(info.duration_s * 25, abs=2)
    assert "[6/6] nocodb_sync: done" in result.stderr
    assert "Traceback" not in result.stderr and "W0000" not in result.stderr

    # Rendering the same record again redoes nothing but the last stage.
    again = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert again.returncode == 0 and again.stderr.count("already done") == 5

    # Each render was one run of render_record, in the code location the UI loads, saying what it rendered.
    with dg.instance_for_test(temp_dir=str(tmp_path / ".dagster_home")) as instance:
        # What the job's Runs tab asks for: the job's name in its repository and code location.
        label = f"{REPOSITORY_NAME}@{LOCATION_NAME}"
        runs = instance.get_runs(dg.RunsFilter(job_name="render_record", tags={REPOSITORY_TAG: label}))
        assert len(runs) == 2 and len(instance.get_runs()) == 2
        first, second = sorted(runs, key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp)
        assert len(first.asset_selection) == 6 and second.asset_selection == {dg.AssetKey("nocodb_sync")}
        assert first.tags[TABLE_TAG] == "local" and first.tags[ROW_TAG] == first.tags["dagster/partition"][6:]
        assert first.tags[TITLE_TAG] == "A quick one-off video…"
        steps = {stat.step_key for stat in instance.get_run_step_stats(first.run_id)}
        assert steps == {"source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"}

        # The partition pages say which row it is, with figures people read.
        shown = {stage: latest_metadata(instance, stage, first.tags["dagster/partition"]) for stage in steps}
        assert {(m["row"], m["title"]) for m in shown.values()} == {("one-off render", "A quick one-off video…")}
        assert shown["source_video"]["size"].endswith(("KiB", "MiB")) and shown["source_video"]["duration"].endswith(
            " s"
        )
        assert shown["tts_audio"]["synthesis_speed"].endswith("than real time)")
        assert len(shown["avatar_video"].get("backend_choice", "")) <= CHOICE_CHARS
        assert shown["composite"]["thumbnail"].startswith("![thumbnail](data:image/")
        assert shown["public_url"]["preview"] == NOT_PLAYABLE  # a file:// URL: no dev.sh server here


def latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str) -> dict[str, object]:
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return {name: value.value for name, value in record.asset_materialization.metadata.items()}


def test_render_with_an_empty_script_says_what_to_do_without_a_traceback(
    tmp_path: Path, media_server: str, media_host: str
) -> None:
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", ""]
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert result.returncode == EXIT_CODES[Kind.INPUT] == 3
    error = result.stderr[result.stderr.index("error:") :].strip().splitlines()
    assert len(error) == 2 and "The script is empty" in error[0] and "what to do:" in error[1]
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr
    assert not (tmp_path / "output").exists()
    # The details are kept for whoever asks.
    assert 'File "' in (tmp_path / ".dagster_home" / "logs" / "last-render.log").read_text()
    # In the UI: the run says why in its tags, and the stages after the failed one show as failed, not missing.
    with dg.instance_for_test(temp_dir=str(tmp_path / ".dagster_home")) as instance:
        [run] = instance.get_runs()
        assert run.tags[ERROR_TAG].startswith("tts_audio: The script is empty")
        for stage in ("tts_audio", "avatar_video", "composite", "public_url"):
            assert run.tags["dagster/partition"] in failed_partitions(instance, stage), stage

    verbose = run_cli([*args, "--verbose"], tmp_path, allowed_hosts=(media_host,))
    assert verbose.returncode == 3 and 'File "' in verbose.stderr


def failed_partitions(instance: dg.DagsterInstance, asset: str) -> set[str]:
    """What the UI's partition bar shows as failed (its own status cache)."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    cached = get_and_update_asset_status_cache_value(instance, dg.AssetKey(asset), records)
    return set(cached.deserialize_failed_partition_subsets(records).get_partition_keys()) if cached else set()


def test_every_bad_input_of_the_catalogue_fails_at_the_cli_in_two_lines(
    tmp_path: Path, media_dir: Path, media_server: str, media_host: str, monkeypatch, capfd
) -> None:
    """The test catalogue's bad rows as one-off renders, through the CLI's entry point in this process."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        closed = probe_socket.getsockname()[1]
    (tmp_path / ".dagster_home").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster_home"))
    monkeypatch.setenv("TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS", json.dumps([media_host]))
    monkeypatch.setenv("TALKING_HEAD_DOWNLOAD__MAX_BYTES", "2000000")
    monkeypatch.setenv("TALKING_HEAD_SPEECH__MAX_SCRIPT_CHARS", str(MAX_SCRIPT_CHARS))
    monkeypatch.setenv("TALKING_HEAD_SPEECH__MODELS_DIR", str(tmp_path / "models"))
    with serve_hostile(media_dir) as other:
        for template, script, expected in BAD:
            url = template.format(media=media_server, other=other, closed=closed)
            if url.startswith("redirect:"):
                url = redirect_to(media_server, url.removeprefix("redirect:"))
            elif url.startswith("page:"):
                url = page_with_video(media_server, url.removeprefix("page:"))
            code = main(["render", "--url", url, "--text", script])
            err = capfd.readouterr().err
            assert code == EXIT_CODES[Kind.INPUT], (url, err)
            error = err[err.index("error:") :].strip().splitlines()
            assert len(error) == 2 and expected in error[0], (url, err)
            assert "Traceback" not in err and 'File "' not in err, (url, err)


def test_a_portrait_without_a_face_fails_quietly_with_the_reason(
    tmp_path: Path, media_server: str, media_host: str
) -> None:
    """--portrait reaches the avatar; mediapipe's native log lines stay off the console."""
    from PIL import Image

    wall = tmp_path / "wall.png"
    Image.new("RGB", (400, 400), (128, 128, 128)).save(wall)
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", "Nobody is there.", "--portrait", str(wall)]
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,))
    assert result.returncode == EXIT_CODES[Kind.INPUT], result.stderr[-2000:]
    error = result.stderr[result.stderr.index("error:") :].strip().splitlines()
    assert len(error) == 2 and error[0].startswith("error: avatar_video failed") and "face" in error[0]
    assert "W0000" not in result.stderr and "Traceback" not in result.stderr and 'File "' not in result.stderr

    missing = run_cli([*args[:-1], str(tmp_path / "nobody.png")], tmp_path, allowed_hosts=(media_host,))
    assert missing.returncode == 3 and "nobody.png does not exist" in missing.stderr
