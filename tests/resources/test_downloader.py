"""The downloader against a loopback server: limits, redirects, and the SSRF guard around yt-dlp."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from talking_head_dagster.errors import (
    ForbiddenHostError,
    SourceNotFoundError,
    SourceTooLargeError,
    TooManyRedirectsError,
    UnsupportedSourceError,
)
from talking_head_dagster.resources.downloader import VideoDownloader
from tests.support.hostile_server import page_with_video, redirect_to, serve_hostile


@pytest.fixture(scope="module")
def other_server(media_dir: Path) -> Iterator[str]:
    """A second loopback server with the same files, on a port no allowlist names."""
    with serve_hostile(media_dir) as base_url:
        yield base_url


@pytest.fixture
def downloader(media_host: str) -> VideoDownloader:
    return VideoDownloader(allowed_hosts=[media_host], max_bytes=2_000_000, timeout_s=60, max_redirects=3)


def test_downloads_through_redirects_within_the_cap(downloader, media_server: str, tmp_path: Path) -> None:
    path = downloader.download(f"{media_server}/hops/3/clip.mp4", tmp_path)
    assert path.parent == tmp_path and path.read_bytes()[4:8] == b"ftyp"


def test_more_redirects_than_the_cap_are_refused(downloader, media_server: str, tmp_path: Path) -> None:
    with pytest.raises(TooManyRedirectsError, match="more than 3 times"):
        downloader.download(f"{media_server}/hops/4/clip.mp4", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_to_another_loopback_port_is_refused(
    downloader, media_server: str, other_server: str, tmp_path: Path
) -> None:
    with pytest.raises(ForbiddenHostError, match="loopback"):
        downloader.download(redirect_to(media_server, f"{other_server}/clip.mp4"), tmp_path)


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/clip.mp4"])
def test_a_redirect_into_the_private_network_is_refused(downloader, media_server: str, tmp_path: Path, target) -> None:
    with pytest.raises(ForbiddenHostError, match=r"metadata|private"):
        downloader.download(redirect_to(media_server, target), tmp_path)


def test_what_yt_dlp_fetches_on_its_own_is_guarded_too(
    downloader, media_server: str, other_server: str, tmp_path: Path
) -> None:
    """An allowed page whose <video> lives on a forbidden address: yt-dlp finds it, the guard stops it."""
    with pytest.raises(ForbiddenHostError, match="loopback"):
        downloader.download(page_with_video(media_server, f"{other_server}/clip.mp4"), tmp_path)
    # The same page pointing at the allowed server downloads.
    path = downloader.download(page_with_video(media_server, f"{media_server}/clip.mp4"), tmp_path / "ok")
    assert path.stat().st_size > 1000


def test_the_allowlist_does_not_open_the_rest_of_the_machine(downloader, other_server: str, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free_port = closed.getsockname()[1]
    for url in (f"{other_server}/clip.mp4", f"http://127.0.0.1:{free_port}/clip.mp4", f"{other_server}/page.html"):
        with pytest.raises(ForbiddenHostError, match="loopback"):
            downloader.download(url, tmp_path)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("missing.mp4", SourceNotFoundError, "answers 'not found'"),
        ("page.html", UnsupportedSourceError, "No video was found"),
        ("big.mp4", SourceTooLargeError, "larger than the limit of 2 MiB"),
    ],
)
def test_bad_sources_fail_with_their_kind(
    downloader, media_server: str, tmp_path: Path, path: str, error: type, message: str
) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(error, match=message):
        downloader.download(f"{media_server}/{path}", tmp_path / "d")
