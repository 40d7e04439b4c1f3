"""The external resolver's answer: the play address at the paths the replaced system read."""

import pytest

from talking_head_dagster.sources.douyin.external import play_url_from_answer, resolver_request

PLAY = "https://cdn.example/v.mp4"


@pytest.mark.parametrize(
    "answer",
    [
        {"code": 200, "data": {"url": PLAY}},
        {"code": 200, "data": {"download_url": PLAY, "title": "x"}},
        {"data": {"video_url": f"  {PLAY} "}},
        {"download_url": PLAY},
        {"video_url": PLAY},
        {"data": {"url": "", "video_url": PLAY}},
    ],
)
def test_the_play_address_is_found(answer: dict) -> None:
    assert play_url_from_answer(answer) == PLAY


@pytest.mark.parametrize(
    "answer", [{}, [], "x", {"data": None}, {"data": {"url": "ftp://x/v.mp4"}}, {"code": 500, "msg": "failed"}]
)
def test_no_play_address(answer) -> None:
    assert play_url_from_answer(answer) is None


def test_the_request_carries_the_link_and_the_token() -> None:
    assert resolver_request("https://v.douyin.com/a/", "t") == {"url": "https://v.douyin.com/a/", "token": "t"}
