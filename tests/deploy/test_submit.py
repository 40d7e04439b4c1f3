"""`talking-head submit`: a record launched over GraphQL goes through the instance's queue and run launcher.

The embedded default's instance (SQLite, queued runs) with a real webserver and daemon; the CLI
submits a one-off record, follows its runs and prints the published URL last.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest
import requests

from tests.support.processes import BIN, REPO, free_port, started

pytestmark = pytest.mark.integration


def _wait_for_webserver(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"{url}/server_info", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(2)
    raise AssertionError(f"webserver not ready:\n{log.read_text()[-3000:]}")


@pytest.mark.timeout(1200)
def test_submit_launches_through_the_instance_and_follows_to_the_url(tmp_path: Path, media_server, media_host) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
        "TALKING_HEAD_ARTIFACTS__LOCAL_DIR": str(tmp_path / "artifacts"),
        "TALKING_HEAD_PUBLISH__LOCAL_DIR": str(tmp_path / "output"),
        "TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS": f'["{media_host}"]',
    }
    port = free_port()
    webserver = f"http://127.0.0.1:{port}"
    workspace = str(REPO / "workspace.yaml")
    with (
        started(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", workspace],
            env,
            tmp_path / "web.log",
        ) as web,
        started([str(BIN / "dagster-daemon"), "run", "-w", workspace], env, tmp_path / "daemon.log"),
    ):
        _wait_for_webserver(webserver, web, tmp_path / "web.log")
        result = subprocess.run(
            [str(BIN / "talking-head"), "submit", "--webserver", webserver,
             "--url", f"{media_server}/clip.mp4", "--text", "Submitted through the running instance."],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr + (tmp_path / "daemon.log").read_text()[-3000:]
    url = result.stdout.strip().splitlines()[-1]
    video = Path(url.removeprefix("file://"))
    assert video.is_file() and video.read_bytes()[4:8] == b"ftyp"
    # The progress display named every stage it saw done.
    for stage in ("source_video", "tts_audio", "avatar_video", "composite", "public_url"):
        assert f"{stage}: done" in result.stderr, result.stderr

    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_run_records(dg.RunsFilter(tags={"talking_head/submitted": "cli"}))
        assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        # Queued, then started by the daemon through the run launcher (not in the submitting process).
        events = {
            e.dagster_event.event_type_value for e in instance.all_logs(run.dagster_run.run_id) if e.dagster_event
        }
        assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= events, events
