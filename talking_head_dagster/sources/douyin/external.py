"""An external "parse video URL" service, as the system this project replaces used for Douyin.

It is POSTed ``{"url": <share link>, "token": <secret>}`` and answers JSON with the play address at
``data.url``, ``data.download_url`` or ``data.video_url`` (some services put it at the top level).
"""

from typing import Any

ANSWER_PATHS: list[tuple[str, ...]] = [
    ("data", "url"),
    ("data", "download_url"),
    ("data", "video_url"),
    ("download_url",),
    ("video_url",),
    ("url",),
]


def resolver_request(share_link: str, token: str | None) -> dict[str, str]:
    return {"url": share_link, "token": token or ""}


def play_url_from_answer(answer: Any) -> str | None:
    """The first http(s) address at one of ``ANSWER_PATHS``, or None."""
    for path in ANSWER_PATHS:
        node = answer
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip().lower().startswith(("http://", "https://")):
            return node.strip()
    return None


def describe_paths() -> str:
    return ", ".join(".".join(path) for path in ANSWER_PATHS)
