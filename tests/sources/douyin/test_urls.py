"""Which links are Douyin's, and which item each form of link names."""

import pytest

from talking_head_dagster.sources.douyin.urls import DouyinTarget, is_douyin, target_from_url, watermark_free

ID = "7300000000000000001"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (f"https://www.douyin.com/video/{ID}", DouyinTarget("video", ID)),
        (f"https://www.douyin.com/video/{ID}?previous_page=app_code_link", DouyinTarget("video", ID)),
        (f"https://www.iesdouyin.com/share/video/{ID}/?region=CN&mid=1&u_code=0", DouyinTarget("video", ID)),
        (f"https://www.douyin.com/note/{ID}", DouyinTarget("note", ID)),
        (f"https://www.iesdouyin.com/share/note/{ID}/", DouyinTarget("note", ID)),
        (f"https://www.iesdouyin.com/share/slides/{ID}/", DouyinTarget("note", ID)),
        (f"https://www.douyin.com/jingxuan?modal_id={ID}", DouyinTarget("video", ID)),
        (f"https://www.douyin.com/user/MS4wLjABAAAA?modal_id={ID}&vid=1", DouyinTarget("video", ID)),
        ("https://v.douyin.com/iRNBho5/", None),
        ("https://www.douyin.com/video/not-a-number", None),
        ("https://www.douyin.com/", None),
    ],
)
def test_each_form_of_link_names_its_item(url: str, target: DouyinTarget | None) -> None:
    assert target_from_url(url) == target


def test_the_share_page_of_an_item() -> None:
    assert DouyinTarget("note", ID).share_page() == f"https://www.iesdouyin.com/share/note/{ID}/"
    assert (
        DouyinTarget("video", ID).share_page("http://127.0.0.1:9/s/{kind}/{id}") == f"http://127.0.0.1:9/s/video/{ID}"
    )


@pytest.mark.parametrize(
    ("url", "hosts", "expected"),
    [
        ("https://v.douyin.com/iRNBho5/", ("douyin.com",), True),
        ("https://www.iesdouyin.com/share/video/1/", ("douyin.com", "iesdouyin.com"), True),
        ("https://douyin.com/video/1", ("douyin.com",), True),
        ("https://notdouyin.com/video/1", ("douyin.com",), False),
        ("https://douyin.com.evil.example/video/1", ("douyin.com",), False),
        ("https://www.tiktok.com/@a/video/1", ("douyin.com", "iesdouyin.com"), False),
        ("http://127.0.0.1:8123/abc/", ("127.0.0.1:8123",), True),
        ("http://127.0.0.1:8124/abc/", ("127.0.0.1:8123",), False),
    ],
)
def test_douyin_hosts(url: str, hosts: tuple[str, ...], expected: bool) -> None:
    assert is_douyin(url, hosts) is expected


def test_the_watermark_free_play_address() -> None:
    wm = "https://aweme.snssdk.com/aweme/v1/playwm/?video_id=v0300fg10000&ratio=720p&line=0"
    assert watermark_free(wm) == "https://aweme.snssdk.com/aweme/v1/play/?video_id=v0300fg10000&ratio=720p&line=0"
    # Only the path changes: a query that happens to say "playwm" is left alone.
    assert watermark_free("https://x.example/play/?tag=playwm") == "https://x.example/play/?tag=playwm"
