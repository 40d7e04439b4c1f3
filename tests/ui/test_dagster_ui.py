"""The Dagster UI in a real browser after a short render: the thumbnail, the run's six steps, its tags, the checks.

Headless Debian ``chromium`` driven by playwright-core (``tests/ui/browser.py``) against
``dagster-webserver`` on 127.0.0.1, over the instance the CLI rendered into. The screenshots stay
in the test's folder; three are copied to ``benchmarks/out/`` (not committed) for people to look at.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from talking_head_dagster.run_tags import ROW_TAG, TABLE_TAG, TITLE_TAG
from tests.support.processes import REPO, free_port, started
from tests.test_cli import run_cli
from tests.ui.browser import CHROMIUM, run_script

SCRIPT = "The Dagster UI shows this short video."
STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"]
CHECKS = ["duration_matches_speech", "under_size_cap", "loudness_on_target", "faststart", "subtitles_present"]
KEPT_SCREENSHOTS = ["ui_composite.png", "ui_run.png", "ui_checks.png"]
LOCATION_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
START_TIMEOUT_S = 180

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is missing: run scripts/install_browser.sh as root"
)


@pytest.fixture
def rendered(tmp_path: Path, media_server: str, media_host: str) -> dict[str, str]:
    """A one-off render through the CLI, published under an http base URL as scripts/dev.sh does."""
    args = ["render", "--url", f"{media_server}/clip.mp4", "--text", SCRIPT]
    env = {"TALKING_HEAD_PUBLISH__PUBLIC_BASE_URL": f"{media_server}/output"}
    result = run_cli(args, tmp_path, allowed_hosts=(media_host,), extra_env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    with dg.instance_for_test(temp_dir=str(tmp_path / ".dagster_home")) as instance:
        [run] = instance.get_runs()
        return {"run_id": run.run_id, "partition": run.tags["dagster/partition"], **run.tags}


@pytest.fixture
def webserver(tmp_path: Path, rendered: dict[str, str]) -> Iterator[str]:
    """``dagster-webserver`` over the render's instance and the project's workspace, until its code location loads."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / ".dagster_home")}
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml"]
    log = tmp_path / "webserver.log"
    with started([*command, "-h", "127.0.0.1", "-p", str(port)], env, log) as process:
        _wait_loaded(url, process, log)
        yield url


def _wait_loaded(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            answer = requests.post(f"{url}/graphql", json={"query": LOCATION_QUERY}, timeout=5).json()
            entries = answer["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                return
        except (requests.RequestException, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"dagster-webserver did not load its code location:\n{log.read_text()[-3000:]}")


def test_the_ui_shows_the_thumbnail_the_runs_steps_and_tags_and_the_checks(
    tmp_path: Path, rendered: dict[str, str], webserver: str
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    driver = Path(__file__).with_name("dagster_ui.js")
    result = run_script(driver, [webserver, rendered["run_id"], rendered["partition"], str(shots)], timeout_s=240)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    _keep(shots)

    # composite's partition page: the thumbnail inline (not behind "[Show Markdown]"), and loaded.
    assert seen["thumbnail"]["loaded"] and min(seen["thumbnail"]["shown"]) > 0, seen["thumbnail"]
    assert seen["show_markdown_buttons"] == 0
    assert "one-off render" in seen["composite_text"] and rendered[TITLE_TAG] in seen["composite_text"]
    # The run: six steps, all succeeded, and the row's tags.
    assert "Succeeded (6)" in seen["run_status"] and seen["step_names_shown"] == STAGES
    for tag in (TABLE_TAG, ROW_TAG, TITLE_TAG):
        assert f"{tag}: {rendered[tag]}" in seen["run_tags_text"], tag
    # The checks and their results.
    assert seen["checks_shown"] == CHECKS and seen["checks_succeeded"] == len(CHECKS) and seen["check_result"]
    # public_url's preview opens the video over http.
    assert seen["preview_links"] and seen["preview_links"][0].startswith("http://127.0.0.1:")


def _keep(shots: Path) -> None:
    """Three screenshots where people look for them (benchmarks/out/ is not committed)."""
    out = REPO / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    for name in KEPT_SCREENSHOTS:
        if (shots / name).exists():
            shutil.copyfile(shots / name, out / name)
