"""Reading share pages: the layouts public parsers document, and each way a page says there is no video."""

import pytest

from talking_head_dagster.errors import SourceBlockedError, SourceLayoutError, SourceRemovedError
from talking_head_dagster.sources.douyin.page import parse_share_page
from tests.support.douyin_pages import VERIFICATION_PAGE, loader_data, note_item, router_page, video_item

ID = "7300000000000000001"
PLAYWM = "https://aweme.snssdk.com/aweme/v1/playwm/?video_id=v0200fg&ratio=720p&line=0"
PLAY = PLAYWM.replace("playwm", "play")


def _page(page_key: str, item: dict) -> str:
    return router_page(loader_data(page_key, {"item_list": [item], "filter_list": []}))


def test_a_video_page_gives_the_watermark_free_play_address() -> None:
    item = parse_share_page(_page("video_(id)/page", video_item(ID, PLAYWM)), ID)
    assert item.video_url == PLAY and not item.is_photo_post
    assert item.title == "今天教大家做一道家常菜"


@pytest.mark.parametrize(
    "data",
    [
        # Other layouts parsers have met: another page key, aweme_detail, aweme.detail.
        {"loaderData": {"video_(id)/page_v2": {"videoInfoRes": {"item_list": [video_item(ID, PLAYWM)]}}}},
        {"loaderData": {"video_(id)/page": {"videoInfoRes": {"aweme_detail": video_item(ID, PLAYWM)}}}},
        {"loaderData": {"video_(id)/page": {"aweme": {"detail": video_item(ID, PLAYWM)}}}},
    ],
)
def test_other_known_layouts_are_read(data: dict) -> None:
    assert parse_share_page(router_page(data), ID).video_url == PLAY


@pytest.mark.parametrize(
    ("video", "expected"),
    [
        ({"play_addr_h264": {"url_list": [PLAY]}}, PLAY),
        ({"play_addr": {"url_list": []}, "bit_rate": [{"play_addr": {"url_list": [PLAYWM]}}]}, PLAY),
        ({"download_addr": {"url_list": ["https://x.example/dl.mp4"]}}, "https://x.example/dl.mp4"),
    ],
)
def test_other_play_address_fields_are_read(video: dict, expected: str) -> None:
    item = video_item(ID, PLAYWM) | {"video": video}
    assert parse_share_page(_page("video_(id)/page", item), ID).video_url == expected


def test_a_photo_post_gives_its_images_not_its_music() -> None:
    images = [f"https://p3.example/img{n}.jpeg" for n in range(3)]
    item = parse_share_page(_page("note_(id)/page", note_item(ID, images, "https://x.example/music.mp3")), ID)
    assert item.is_photo_post and item.video_url is None
    assert item.image_urls == images  # JPEG chosen over the WebP variant listed first


def test_the_json_is_read_to_its_own_end() -> None:
    """Script text after the object, '</script>' in a caption, and escaped slashes all parse."""
    html = _page("video_(id)/page", video_item(ID, PLAYWM, desc="a </script> b; c")).replace(
        "</script>", ";window.x = 1</script>", 1
    )
    assert parse_share_page(html, ID).title == "a </script> b; c"


def test_a_removed_video_is_permanent_and_says_why() -> None:
    reason = {"aweme_id": ID, "filter_reason": "status_deleted", "detail_msg": "作品已删除"}
    html = router_page(loader_data("video_(id)/page", {"item_list": [], "filter_list": [reason]}))
    with pytest.raises(SourceRemovedError, match=f"item {ID} was removed or is private \\(作品已删除\\)"):
        parse_share_page(html, ID)


def test_a_verification_page_is_transient_and_says_so() -> None:
    with pytest.raises(SourceBlockedError, match="Douyin asked for verification"):
        parse_share_page(VERIFICATION_PAGE, ID)


def test_an_empty_answer_is_a_silent_rate_limit() -> None:
    with pytest.raises(SourceBlockedError, match="rate-limits us"):
        parse_share_page("  \n", ID)


def test_an_unknown_layout_names_the_paths_it_tried() -> None:
    shell = router_page({"loaderData": {"video_(id)/page": {"itemId": ID, "renderInSSR": 1}}})
    with pytest.raises(SourceLayoutError, match=r"loaderData\.video_\(id\)/page\.videoInfoRes\.item_list\[0\]"):
        parse_share_page(shell, ID)


def test_a_page_without_the_data_says_so() -> None:
    with pytest.raises(SourceLayoutError, match=r"no readable window\._ROUTER_DATA"):
        parse_share_page("<html><body>抖音</body></html>", ID)
    with pytest.raises(SourceLayoutError, match=r"no readable window\._ROUTER_DATA"):
        parse_share_page("<script>window._ROUTER_DATA = {broken</script>", ID)


def test_an_item_without_video_or_images_names_what_was_missing() -> None:
    item = video_item(ID, PLAYWM) | {"video": {"cover": {"url_list": ["https://x/c.jpeg"]}}}
    with pytest.raises(SourceLayoutError, match=r"neither a play address \(video\.play_addr\.url_list"):
        parse_share_page(_page("video_(id)/page", item), ID)
