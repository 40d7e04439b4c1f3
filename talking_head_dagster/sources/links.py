"""The link in a ``url`` cell: users paste a bare link, or the whole share text an app copies around it.

Share texts look like ``7.94 复制打开抖音，看看【…的作品】… https://v.douyin.com/iRNBho5/ x@G.ip 05/13``
(Douyin), ``【标题-哔哩哔哩】 https://b23.tv/AbCdEf`` (Bilibili) or ``… http://xhslink.com/a/AbC，复制本条
信息…`` (Xiaohongshu). The source link is the first ``http://`` or ``https://`` URL in the cell. It ends
at whitespace, at any non-ASCII character (share texts glue Chinese punctuation and words to it;
browsers copy links percent-encoded) and at characters no URL contains unescaped; trailing ASCII
punctuation (``.``, ``,``, ``)``...) is trimmed off.
"""

import re

from talking_head_dagster.errors import InvalidURLError

_LINK = re.compile(r"https?://[!#-;=?-\[\]_a-z~]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}*"
# A file name after a space: "https://host/my clip.mp4" is one link with a space in it, not a link and a word.
_MEDIA_TAIL = re.compile(r"^ [!#-;=?-\[\]_a-z~]*\.(mp4|m4v|mov|webm|mkv|flv|avi|ts|m3u8)\b", re.IGNORECASE)


def source_link(cell: str) -> str:
    """The first http(s) link in ``cell``; ``InvalidURLError`` when it has none.

    Steps: 1. find the first http(s) URL; 2. trim the punctuation a sentence puts after it; 3. refuse a
    link that a space cut short before a file name (the user meant one link).
    """
    # 1. The first link.
    match = _LINK.search(cell)
    if match is None:
        raise InvalidURLError(
            "The source URL cell has no http(s) link in it: a link must start with http:// or https:// "
            f"(the cell reads {cell.strip()[:80]!r})."
        )
    # 2. Trailing punctuation.
    link = match.group().rstrip(_TRAILING)
    # 3. A link with a space in it.
    if _MEDIA_TAIL.match(cell[match.end() :]):
        whole = cell[match.start() :].split(maxsplit=2)
        raise InvalidURLError(
            f"The source URL contains spaces or control characters: {' '.join(whole[:2])[:120]!r}; "
            "write a space in a link as %20."
        )
    return link
