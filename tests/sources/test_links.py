"""Link extraction from url cells: bare links and the share texts apps copy around them."""

import pytest

from talking_head_dagster.errors import InvalidURLError
from talking_head_dagster.sources.links import source_link

# (what a user pastes, the link the downloader gets). Shapes as the apps copy them.
SHARE_TEXTS = [
    (
        "7.94 复制打开抖音，看看【小李的作品】今天教大家做一道菜 # 美食 # 家常菜 "
        "https://v.douyin.com/iRNBho5/ x@G.ip 05/13",
        "https://v.douyin.com/iRNBho5/",
    ),
    (
        "1.23 Kjc:/ 09/21 S@y.Ba 看看【王老师的图文作品】# 学习 https://v.douyin.com/AbC-12_x/ "
        "复制此链接，打开Dou音搜索，直接观看视频！",
        "https://v.douyin.com/AbC-12_x/",
    ),
    ("https://www.douyin.com/video/7300000000000000001", "https://www.douyin.com/video/7300000000000000001"),
    (
        "https://www.douyin.com/jingxuan?modal_id=7555093909760789812。",
        "https://www.douyin.com/jingxuan?modal_id=7555093909760789812",
    ),
    (
        "Check out this video! https://vm.tiktok.com/ZMhvqKp9x/ #fyp",
        "https://vm.tiktok.com/ZMhvqKp9x/",
    ),
    (
        "https://www.tiktok.com/@someone/video/7301234567890123456?is_from_webapp=1&sender_device=pc",
        "https://www.tiktok.com/@someone/video/7301234567890123456?is_from_webapp=1&sender_device=pc",
    ),
    ("【如何三分钟学会剪辑-哔哩哔哩】 https://b23.tv/Xy7AbCd", "https://b23.tv/Xy7AbCd"),
    (
        "64 小红书用户发布了一篇小红书笔记，快来看吧！ 😆 AbCdEf 😆 http://xhslink.com/a/Q1w2E3r4，复制本条信息，打开【小红书】App查看精彩内容！",
        "http://xhslink.com/a/Q1w2E3r4",
    ),
    (
        "https://v.kuaishou.com/Jx8kLm 张三的作品 该作品在快手被播放过1.2万次，点击链接，打开【快手】直接观看！",
        "https://v.kuaishou.com/Jx8kLm",
    ),
    ("Watch: https://youtu.be/dQw4w9WgXcQ?si=abc123.", "https://youtu.be/dQw4w9WgXcQ?si=abc123"),
    ("(see https://www.youtube.com/shorts/AbCdEfGhIjK)", "https://www.youtube.com/shorts/AbCdEfGhIjK"),
    ("  HTTPS://Example.com/Clip.mp4  ", "HTTPS://Example.com/Clip.mp4"),
    ("看这个视频https://example.com/a.mp4！很好看", "https://example.com/a.mp4"),
    (
        "first https://example.com/one.mp4 then https://example.com/two.mp4",
        "https://example.com/one.mp4",
    ),
]


@pytest.mark.parametrize(("cell", "link"), SHARE_TEXTS)
def test_the_first_link_is_taken_out_of_a_share_text(cell: str, link: str) -> None:
    assert source_link(cell) == link


@pytest.mark.parametrize(
    "cell",
    [
        "",
        "   ",
        "复制打开抖音，看看【小李的作品】今天教大家做一道菜",
        "ftp://127.0.0.1/clip.mp4",
        "javascript:alert(1)",
        "www.douyin.com/video/7300000000000000001",
    ],
)
def test_a_cell_without_a_link_says_so(cell: str) -> None:
    with pytest.raises(InvalidURLError, match=r"has no http\(s\) link in it: a link must start with http://"):
        source_link(cell)


def test_a_link_a_space_cut_before_a_file_name_is_refused() -> None:
    with pytest.raises(InvalidURLError, match=r"contains spaces or control characters: 'http://host/cl ip\.mp4'"):
        source_link("http://host/cl ip.mp4")
