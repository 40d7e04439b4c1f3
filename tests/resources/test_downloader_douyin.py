"""Douyin links through the real VideoDownloader, against the loopback STAND-IN for Douyin (not live Douyin)."""

import socket
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.errors import (
    DeploymentError,
    ForbiddenHostError,
    PermanentInputError,
    SourceBlockedError,
    SourceLayoutError,
    SourceRemovedError,
    SourceTooLargeError,
    TooManyRedirectsError,
    TransientError,
    UnsupportedSourceError,
)
from talking_head_dagster.media.probe import probe
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.resources.factory import DOUYIN_TOKEN_ENV, build_resources
from talking_head_dagster.settings import Settings
from talking_head_dagster.sources.links import source_link
from tests.support.douyin_standin import (
    EMPTY_ID,
    LAYOUT_ID,
    NOTE_ID,
    RATE_LIMITED_ID,
    REMOVED_ID,
    RESOLVER_TOKEN,
    VERIFY_ID,
    VIDEO_ID,
    DouyinStandIn,
)
from tests.support.hostile_server import serve_hostile


@pytest.fixture
def standin(douyin_standin: DouyinStandIn) -> DouyinStandIn:
    douyin_standin.reset()
    return douyin_standin


def _downloader(standin: DouyinStandIn, **fields) -> VideoDownloader:
    options = standin.downloader_options() | {"max_bytes": 5_000_000, "timeout_s": 60, "max_redirects": 3}
    return VideoDownloader(**(options | fields))


def test_a_share_text_becomes_the_watermark_free_video(standin: DouyinStandIn, tmp_path: Path) -> None:
    source = _downloader(standin).fetch(source_link(standin.share_text(VIDEO_ID)), tmp_path)
    assert source.kind == "Douyin video (built-in resolver)"
    assert source.path.read_bytes() == standin.media["clip.mp4"].read_bytes()  # /play/, not /playwm/
    # The route: short link, share page (as a phone's browser), clean play address, file.
    paths = [r["path"].split("?")[0] for r in standin.requests]
    assert paths == [
        f"/{standin.short_code(VIDEO_ID)}/",
        f"/share/video/{VIDEO_ID}/",
        "/aweme/v1/play/",
        "/media/clip.mp4",
    ]
    assert "iPhone" in standin.asked("/share/")[0]["headers"]["User-Agent"]


@pytest.mark.parametrize(
    "form",
    [
        "{base}/video/{id}",
        "{base}/video/{id}?previous_page=app_code_link",
        "{base}/share/video/{id}/?region=CN",
        "{base}/jingxuan?modal_id={id}",
        "{base}/user/MS4wLjABAAAA?modal_id={id}",
    ],
)
def test_every_link_form_reaches_the_video(standin: DouyinStandIn, tmp_path: Path, form: str) -> None:
    source = _downloader(standin).fetch(form.format(base=standin.base_url, id=VIDEO_ID), tmp_path)
    assert source.path.read_bytes() == standin.media["clip.mp4"].read_bytes()
    assert not standin.asked(f"/{standin.short_code(VIDEO_ID)}/")  # the id was in the link


@pytest.mark.parametrize("form", ["short", "{base}/note/{id}", "{base}/share/note/{id}/"])
def test_a_photo_post_becomes_a_slideshow(standin: DouyinStandIn, tmp_path: Path, ffmpeg_exe: str, form: str) -> None:
    link = standin.short_link(NOTE_ID) if form == "short" else form.format(base=standin.base_url, id=NOTE_ID)
    source = _downloader(standin, slideshow_seconds_per_image=2.0).fetch(link, tmp_path)
    assert source.kind == "Douyin photo post: slideshow of 3 images"
    assert "2 s each" in source.notes[0] and "zoom in" in source.notes[0]
    info = probe(source.path, ffmpeg_exe)
    assert (info.video.width, info.video.height) == (1080, 1920)
    assert info.duration_s == pytest.approx(3 * 2.0 - 2 * 0.5, abs=0.1)  # three images, two crossfades
    assert info.audio is None
    assert [r["path"] for r in standin.asked("/media/photo")] == [f"/media/photo{n}.jpeg" for n in range(3)]
    assert not standin.asked("/media/music")  # the post's music address is not a video
    assert list(tmp_path.iterdir()) == [source.path]  # the images stayed out of the stage's folder


@pytest.mark.parametrize(
    ("aweme_id", "error", "message"),
    [
        (REMOVED_ID, SourceRemovedError, "was removed or is private"),
        (VERIFY_ID, SourceBlockedError, "Douyin asked for verification"),
        (RATE_LIMITED_ID, SourceBlockedError, r"Douyin rate-limited us \(HTTP 429\)"),
        (EMPTY_ID, SourceBlockedError, "empty page .* rate-limits us"),
        (LAYOUT_ID, SourceLayoutError, "none of the item paths we read"),
    ],
)
def test_pages_without_a_video_fail_with_their_kind(
    standin: DouyinStandIn, tmp_path: Path, aweme_id: str, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        _downloader(standin).fetch(standin.short_link(aweme_id), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("play_item", "error", "message"),
    [
        (VERIFY_ID, SourceBlockedError, r"verification \(a captcha page instead of the video file\)"),
        (VIDEO_ID, UnsupportedSourceError, "answered a web page, not a video"),
    ],
)
def test_a_play_address_that_answers_a_page(
    standin: DouyinStandIn, tmp_path: Path, play_item: str, error: type, message: str
) -> None:
    """A CDN answering a captcha page (status 200) in place of the video is transient; another page is not a video."""
    standin.play_targets[VIDEO_ID] = f"{standin.base_url}/share/video/{play_item}/"
    with pytest.raises(error, match=message):
        _downloader(standin).fetch(standin.short_link(VIDEO_ID), tmp_path)


def test_error_kinds_decide_retries() -> None:
    assert issubclass(SourceRemovedError, PermanentInputError)  # the user's to fix, no retry
    assert issubclass(SourceBlockedError, TransientError)  # verification, 429: retried
    assert issubclass(SourceLayoutError, DeploymentError)  # the operator's: an external resolver or an update


def test_the_external_resolver_is_used_when_configured(standin: DouyinStandIn, tmp_path: Path) -> None:
    link = standin.short_link(VIDEO_ID)
    downloader = _downloader(
        standin, douyin_resolver_url=f"{standin.base_url}/resolver", douyin_resolver_token=RESOLVER_TOKEN
    )
    source = downloader.fetch(link, tmp_path)
    assert source.kind == "Douyin video (external resolver)"
    assert source.path.read_bytes() == standin.media["external.mp4"].read_bytes()
    [asked] = standin.asked("/resolver")
    assert asked["method"] == "POST" and not standin.asked("/share/")


@pytest.mark.parametrize("failure", ["http 500", "no play address", "wrong token"])
def test_the_builtin_resolver_is_the_fallback(standin: DouyinStandIn, tmp_path: Path, failure: str) -> None:
    if failure == "http 500":
        standin.resolver_status = 500
    if failure == "no play address":
        standin.resolver_answer = {"code": 400, "msg": "parse failed"}
    token = "wrong" if failure == "wrong token" else RESOLVER_TOKEN
    downloader = _downloader(standin, douyin_resolver_url=f"{standin.base_url}/resolver", douyin_resolver_token=token)
    source = downloader.fetch(standin.short_link(VIDEO_ID), tmp_path)
    assert source.kind == "Douyin video (built-in resolver)"
    assert source.path.read_bytes() == standin.media["clip.mp4"].read_bytes()
    assert "The external resolver failed" in source.notes[0] and "used the built-in one" in source.notes[0]
    assert token not in source.notes[0]


def test_when_both_resolvers_fail_the_message_tells_both(standin: DouyinStandIn, tmp_path: Path) -> None:
    standin.resolver_status = 500
    downloader = _downloader(
        standin, douyin_resolver_url=f"{standin.base_url}/resolver", douyin_resolver_token=RESOLVER_TOKEN
    )
    with pytest.raises(SourceBlockedError, match=r"verification.*The external resolver failed first: .*HTTP 500"):
        downloader.fetch(standin.short_link(VERIFY_ID), tmp_path)


def test_the_cookies_file_is_sent_when_configured(standin: DouyinStandIn, tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tttwid\t1%7Cstandin-cookie\n")
    (tmp_path / "out").mkdir()
    _downloader(standin, cookies_file=str(cookies)).fetch(standin.short_link(VIDEO_ID), tmp_path / "out")
    [page] = standin.asked("/share/")
    assert page["headers"]["Cookie"] == "ttwid=1%7Cstandin-cookie"
    standin.reset()
    _downloader(standin).fetch(standin.short_link(VIDEO_ID), tmp_path / "out")
    assert "Cookie" not in standin.asked("/share/")[0]["headers"]


def test_a_hop_to_another_loopback_port_is_refused(standin: DouyinStandIn, media_dir: Path, tmp_path: Path) -> None:
    with serve_hostile(media_dir) as other:
        with pytest.raises(ForbiddenHostError, match="loopback"):
            _downloader(standin).fetch(standin.redirect_link(f"{other}/share/video/{VIDEO_ID}/"), tmp_path)
        standin.play_targets[VIDEO_ID] = f"{other}/clip.mp4"  # the share page names a forbidden play address
        with pytest.raises(ForbiddenHostError, match="loopback"):
            _downloader(standin).fetch(standin.short_link(VIDEO_ID), tmp_path)
    standin.play_targets[VIDEO_ID] = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(ForbiddenHostError, match="cloud metadata service"):
        _downloader(standin).fetch(standin.short_link(VIDEO_ID), tmp_path)


def test_a_douyin_host_that_is_not_allowlisted_is_refused(standin: DouyinStandIn, tmp_path: Path) -> None:
    with pytest.raises(ForbiddenHostError, match="loopback"):
        _downloader(standin, allowed_hosts=[]).fetch(standin.short_link(VIDEO_ID), tmp_path)
    assert standin.requests == []


def test_the_redirect_cap_and_the_byte_limit_hold(standin: DouyinStandIn, tmp_path: Path) -> None:
    with pytest.raises(TooManyRedirectsError, match="more than 0 times"):
        _downloader(standin, max_redirects=0).fetch(standin.short_link(VIDEO_ID), tmp_path)
    with pytest.raises(SourceTooLargeError, match="larger than the limit"):
        _downloader(standin, max_bytes=20_000).fetch(standin.short_link(VIDEO_ID), tmp_path)


def test_a_closed_port_is_transient(standin: DouyinStandIn, tmp_path: Path) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe_socket.getsockname()[1]}"
    downloader = VideoDownloader(
        allowed_hosts=[closed],
        douyin_hosts=[closed],
        douyin_share_page_url=f"http://{closed}/share/{{kind}}/{{id}}/",
        timeout_s=10,
    )
    with pytest.raises(TransientError, match="Douyin could not be reached for now"):
        downloader.fetch(f"http://{closed}/video/{VIDEO_ID}", tmp_path)


def test_a_deployment_environment_reaches_the_downloader(
    standin: DouyinStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``standin.env()`` plus a resolver, as a deployment sets them; the token stays an EnvVar."""
    for name, value in standin.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TALKING_HEAD_DOWNLOAD__DOUYIN__RESOLVER_URL", f"{standin.base_url}/resolver")
    monkeypatch.setenv(DOUYIN_TOKEN_ENV, RESOLVER_TOKEN)
    downloader = build_resources(Settings())["downloader"]
    assert isinstance(downloader.douyin_resolver_token, dg.EnvVar)
    assert downloader.douyin_hosts == [standin.host] and downloader.allowed_hosts == [standin.host]
    source = downloader.process_config_and_initialize().fetch(source_link(standin.share_text(VIDEO_ID)), tmp_path)
    assert source.kind == "Douyin video (external resolver)"
