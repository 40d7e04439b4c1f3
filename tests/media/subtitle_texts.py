"""Fonts, texts and small builders the subtitle tests share."""

from pathlib import Path

import matplotlib

from talking_head_dagster.media.fonts import BUNDLED_CJK_FONT, BUNDLED_FONT, face_for, load_font
from talking_head_dagster.media.subtitles import SubtitleStyle
from talking_head_dagster.speech.timing import SentenceTiming

LATIN = load_font(BUNDLED_FONT)
# Matplotlib's Last Resort font has a (placeholder) glyph for every code point, CJK included.
ANY_SCRIPT = load_font(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf")
FONT_PX = 60
LONG_ENGLISH = (
    "Welcome to the channel, where today we look at three quick tips for better videos: light your face "
    "from the front, keep the camera at eye level, and speak a little slower than feels natural to you."
)
CHINESE = (
    "大家好，欢迎来到我们的频道：今天讲三个技巧。第一，光线要从正面照过来！第二，镜头和眼睛一样高；第三，说话慢一点。"
)
CLOSING = set("，。！？、；：,.!?;:」』）)】》〉”’…")
OPENING = set("“‘（(《「『【〈")
NOTO_SC = load_font(BUNDLED_CJK_FONT, face_for(BUNDLED_CJK_FONT, "zh"))
# A script as users write them: numbers with units, quotes, brackets, ellipses, Latin words.
NEWS = (
    "据报道，这家公司去年的营收达到2.97亿元，同比增长15.5%；新款手机售价4999元（约合$699），在“年度榜单”中"
    "排名第2名……用户说：“真的很好用！”他们计划在2025年3月15日发布iPhone 15 Pro的竞品。"
)
NUMBERS = ("2.97亿元", "15.5%", "4999元", "$699", "第2名", "2025年", "3月", "15日")


def style(width: int = 1080, margin: int = 76, font=LATIN) -> SubtitleStyle:
    return SubtitleStyle(
        width=width,
        height=1920,
        font=font,
        font_px=FONT_PX,
        margin_left=margin,
        margin_right=margin + 4,
        margin_bottom=269,
    )


def sentence(text: str, start_s: float, end_s: float, index: int = 0) -> SentenceTiming:
    return SentenceTiming(index=index, text=text, start_s=start_s, end_s=end_s)
