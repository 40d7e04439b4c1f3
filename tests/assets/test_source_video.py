"""The source_video stage on Douyin share texts, against the loopback STAND-IN for Douyin: the row's
cell as users paste it, photo posts, and the errors a row shows (a persisting verification is retried,
then fails with what happened)."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.manifests import SourceVideoManifest
from talking_head_dagster.render import failure_message
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.retry import retries_within
from talking_head_dagster.settings import RetrySettings
from tests.support.douyin_standin import FLAKY_ID, NOTE_ID, REMOVED_ID, VERIFY_ID, VIDEO_ID, DouyinStandIn
from tests.support.source_stage import materialize_source

RETRY = RetrySettings(base_delay_s=0.1, max_total_s=1.0)


@pytest.fixture
def standin(douyin_standin: DouyinStandIn) -> Iterator[DouyinStandIn]:
    douyin_standin.reset()
    yield douyin_standin


def _materialize(folder: Path, standin: DouyinStandIn, cell: str) -> tuple[str, dg.ExecuteInProcessResult]:
    """``source_video`` of a one-off record whose url cell is ``cell``, in a job with the transient retry policy."""
    downloader = VideoDownloader(**standin.downloader_options(), max_bytes=5_000_000, timeout_s=60)
    with dg.instance_for_test() as instance:
        return materialize_source(folder, downloader, cell, RETRY, instance)


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.asset_materializations_for_node("source_video")
    return {name: value.value for name, value in event.metadata.items()}


def test_a_share_text_cell_downloads_the_douyin_video(standin: DouyinStandIn, tmp_path: Path) -> None:
    cell = standin.share_text(VIDEO_ID)
    key, result = _materialize(tmp_path, standin, cell)
    assert result.success, failure_message(result)
    metadata = _metadata(result)
    assert metadata["source_kind"] == "Douyin video (built-in resolver)"
    assert metadata["url"] == standin.short_link(VIDEO_ID)  # the link, not the whole share text
    manifest = SourceVideoManifest.model_validate_json((tmp_path / key / "source_video" / "manifest.json").read_text())
    assert manifest.record.url == cell  # the record keeps the cell, so its version is what it was
    assert manifest.source_kind == metadata["source_kind"]
    assert (tmp_path / key / "source_video" / manifest.file).read_bytes() == standin.media["clip.mp4"].read_bytes()


def test_a_photo_post_cell_becomes_a_slideshow_and_says_so(standin: DouyinStandIn, tmp_path: Path) -> None:
    _, result = _materialize(tmp_path, standin, standin.share_text(NOTE_ID))
    assert result.success, failure_message(result)
    metadata = _metadata(result)
    assert metadata["source_kind"] == "Douyin photo post: slideshow of 3 images"
    assert metadata["resolution"] == "1080x1920" and metadata["has_audio"] is False


def test_a_persisting_verification_is_retried_then_fails_saying_what_happened(
    standin: DouyinStandIn, tmp_path: Path
) -> None:
    _, result = _materialize(tmp_path, standin, standin.share_text(VERIFY_ID))
    assert not result.success
    assert standin.served[VERIFY_ID] == 1 + retries_within(RETRY.base_delay_s, RETRY.max_total_s)
    message = failure_message(result)
    assert "Douyin asked for verification (a captcha page)" in message and "DOWNLOAD__COOKIES_FILE" in message


def test_a_verification_that_clears_passes_on_the_retry(standin: DouyinStandIn, tmp_path: Path) -> None:
    _, result = _materialize(tmp_path, standin, standin.share_text(FLAKY_ID))
    assert result.success, failure_message(result)
    assert standin.served[FLAKY_ID] == 2


def test_a_removed_video_fails_at_once(standin: DouyinStandIn, tmp_path: Path) -> None:
    _, result = _materialize(tmp_path, standin, standin.share_text(REMOVED_ID))
    assert not result.success and standin.served[REMOVED_ID] == 1
    assert f"Douyin says item {REMOVED_ID} was removed or is private" in failure_message(result)


def test_a_share_text_without_a_link_fails_at_once(standin: DouyinStandIn, tmp_path: Path) -> None:
    _, result = _materialize(tmp_path, standin, "7.94 复制打开抖音，看看【测试作者的作品】链接丢了 x@G.ip 05/13")
    assert not result.success and standin.requests == []
    assert "The source URL cell has no http(s) link in it" in failure_message(result)
    assert "链接丢了" in failure_message(result)  # the message shows the cell
