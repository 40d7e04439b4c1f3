"""Shared fixtures: real FFmpeg, a loopback HTTP server with source videos, and the real services."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.media.binary import ffmpeg_binary
from tests.benchmarks.smoke_runs import is_smoke_item, smoke_runs  # noqa: F401 (a session fixture)
from tests.support.douyin_standin import DouyinStandIn, serve_douyin_standin, standin_media
from tests.support.hostile_server import host_port, serve_hostile

# Keep the developer's environment out of the tests.
for _name in list(os.environ):
    if _name.startswith("TALKING_HEAD_") and _name not in ("TALKING_HEAD_CACHE",) and "_TEST_" not in _name:
        del os.environ[_name]


@pytest.fixture(scope="session", autouse=True)
def benchmark_smoke_runs_in_the_background(request: pytest.FixtureRequest) -> None:
    """The selected benchmarks' smoke runs start with the session, whatever the test order: they take
    minutes, mostly waiting, and tests/benchmarks/test_smoke.py only collects their results."""
    if any(is_smoke_item(item) for item in request.session.items):
        request.getfixturevalue("smoke_runs")


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    return ffmpeg_binary()


def make_clip(path: Path, ffmpeg: str, seconds: float = 2.0, size: str = "360x640", audio: bool = True) -> Path:
    """A small H.264 test clip (moving test pattern, optional tone)."""
    args = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate=25:duration={seconds}",
    ]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-t", str(seconds), str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Path:
    """Files the loopback server offers: good clips and every kind of bad source."""
    folder = tmp_path_factory.mktemp("media")
    make_clip(folder / "clip.mp4", ffmpeg_exe)
    make_clip(folder / "silent.mp4", ffmpeg_exe, audio=False)
    make_clip(folder / "big.mp4", ffmpeg_exe, seconds=6.0, size="1080x1920")
    make_clip(folder / "short.mp4", ffmpeg_exe, seconds=0.2)
    (folder / "page.html").write_text("<html><body><h1>No video here</h1><p>Just text.</p></body></html>")
    (folder / "notvideo.mp4").write_bytes(os.urandom(200_000))
    return folder


@pytest.fixture(scope="session")
def media_server(media_dir: Path) -> Iterator[str]:
    """The media files on 127.0.0.1, plus redirects and pages (tests/support/hostile_server.py)."""
    with serve_hostile(media_dir) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def media_host(media_server: str) -> str:
    """``127.0.0.1:<port>`` of the media server: what test deployments allowlist, and nothing more."""
    return host_port(media_server)


@pytest.fixture(scope="session")
def douyin_standin(
    tmp_path_factory: pytest.TempPathFactory, media_dir: Path, ffmpeg_exe: str
) -> Iterator[DouyinStandIn]:
    """A loopback STAND-IN for Douyin (tests/support/douyin_standin.py), serving the tests' clip."""
    media = standin_media(tmp_path_factory.mktemp("douyin"), ffmpeg_exe, media_dir / "clip.mp4", make_clip)
    with serve_douyin_standin(media) as standin:
        yield standin


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture(scope="session")
def nocodb_server():
    """The test NocoDB; every table the session created is deleted at its end, so it does not grow run by run."""
    from tests.services import nocodb

    server = nocodb.ensure_running()
    yield server
    nocodb.delete_created_tables(server)


@pytest.fixture
def nocodb_table(nocodb_server):
    """Make test tables (``nocodb_table(prefix, extra_columns)``) that are deleted when the test ends."""
    from tests.services import nocodb

    made: list[str] = []

    def make(prefix: str, extra_columns: list[dict] | None = None) -> str:
        made.append(nocodb.create_table(nocodb_server, f"{prefix}_{uuid.uuid4().hex[:8]}", extra_columns))
        return made[-1]

    yield make
    for table in made:
        nocodb.delete_table(nocodb_server, table)


@pytest.fixture(scope="session")
def s3_server():
    from tests.services import seaweedfs

    return seaweedfs.ensure_running()
