"""The pages of the Douyin stand-in: the share page's embedded data and the verification page.

Shaped after what public open-source Douyin parsers read (``window._ROUTER_DATA``,
``loaderData["video_(id)/page"].videoInfoRes.item_list[0]``, ``video.play_addr.url_list``,
``images[].url_list``, ``filter_list``); every value is made up. See ``douyin_standin.py``.
"""

import json

VERIFICATION_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>验证码中间页</title>"
    "<script src='/rc-verifycenter/captcha.js'></script></head>"
    "<body><div id='captcha_container'>请完成下列验证后继续</div></body></html>"
)


def router_page(data: dict, title: str = "抖音") -> str:
    """A share page shell embedding ``data`` as Douyin does: JSON with every ``/`` written ``\\u002F``."""
    embedded = json.dumps(data, ensure_ascii=False).replace("/", "\\u002F")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><div id='root'></div><script>window._ROUTER_DATA = {embedded}</script>"
        "<script src='/static/js/main.js'></script></body></html>"
    )


def video_item(aweme_id: str, play_url: str, desc: str = "今天教大家做一道家常菜") -> dict:
    return {
        "aweme_id": aweme_id,
        "aweme_type": 4,
        "desc": desc,
        "author": {"nickname": "测试作者", "sec_uid": "MS4wLjABAAAAstandin"},
        "video": {
            "play_addr": {"uri": f"v0200fg{aweme_id[-6:]}", "url_list": [play_url]},
            "cover": {"url_list": [f"{play_url.split('/aweme/')[0]}/media/cover.jpeg"]},
            "width": 360,
            "height": 640,
            "duration": 2000,
        },
        "images": None,
        "statistics": {"digg_count": 12, "comment_count": 3, "share_count": 1},
    }


def note_item(aweme_id: str, image_urls: list[str], music_url: str) -> dict:
    return {
        "aweme_id": aweme_id,
        "aweme_type": 2,
        "desc": "三张图看懂今天的内容",
        "author": {"nickname": "测试作者"},
        # A photo post's play_addr is its music, not a video.
        "video": {"play_addr": {"uri": music_url, "url_list": [music_url]}},
        "images": [
            {
                "url_list": [url.replace(".jpeg", ".webp"), url],
                "download_url_list": [url],
                "width": 1080,
                "height": 1440,
            }
            for url in image_urls
        ],
    }


def loader_data(page_key: str, video_info_res: dict) -> dict:
    return {
        "loaderData": {
            "video_layout": {"webId": "7300000000000000999"},
            page_key: {"videoInfoRes": {"status_code": 0, **video_info_res}, "isSpider": False},
        },
        "errors": None,
    }
