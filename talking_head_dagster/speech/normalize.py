"""A script's spoken form: what the voice is given to say (subtitles keep the script's own text).

Chinese goes through ``zh-normalization`` (numbers, decimals, 万/亿, percentages, dates, times,
phone numbers, ordinals, ranges, fractions, temperatures, metric units), with a few rules of our
own before it for what it gets wrong or leaves alone:

- thousands separators (``1,299.50`` would read 一,二百九十九点五) and money signs (¥, ￥, RMB, $);
- bare integers of three or more digits, which it reads digit by digit as codes (``涨到3000点``);
- units it does not know (W, mAh, GHz, km/h) and ratios (``3:2``), ``2个`` read 两个;
- Latin words, kept out of its way (it turns every ``m`` into 米) and read by ``latin.py``.

Other languages are left to espeak, which reads numbers, money and abbreviations itself.
"""

import re
from functools import lru_cache

from talking_head_dagster.speech.latin import LATIN_TOKEN, speak_latin

_FULL_WIDTH = {code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_FULL_WIDTH.update({ord("％"): ord("%"), ord("．"): ord(".")})
_FULL_WIDTH[ord("＄")] = ord("$")

_NUMBER = r"\d+(?:\.\d+)?"
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_YUAN = re.compile(rf"(?:[¥￥]|\b(?:RMB|CNY))\s*({_NUMBER})(?:\s*元)?|({_NUMBER})\s*(?:RMB|CNY)\b")
_DOLLAR = re.compile(rf"(?:US)?\$\s*({_NUMBER})(?:\s*美元)?")
_PERCENT_RANGE = re.compile(rf"({_NUMBER})%\s*[-~～—]\s*({_NUMBER})%")
_DATE_RANGE = re.compile(r"(?<=[年月日号])\s*[-~～—]\s*(?=\d)")
_RATIO = re.compile(r"(?<![\d:])(\d{1,2}):(\d)(?![\d:])")
_LIANG = re.compile(r"(?<![\d.第、])2(?=(?:个|位|种|次|倍|件|只|条|家|台|张|名|天|周|小时|分钟)(?!钟))")
# Units after a number that zh-normalization leaves as letters (case matters: W is watt, not w).
_UNITS = {
    "km/h": "千米每小时",
    "m/s": "米每秒",
    "mAh": "毫安时",
    "kWh": "千瓦时",
    "kW": "千瓦",
    "W": "瓦",
    "GHz": "吉赫兹",
    "MHz": "兆赫兹",
    "kHz": "千赫兹",
    "Hz": "赫兹",
    "㎡": "平方米",
    "min": "分钟",
    "ms": "毫秒",
    "h": "小时",
}
_UNIT = re.compile(r"(?<=\d)\s*(" + "|".join(re.escape(u) for u in _UNITS) + r")(?![A-Za-z])")
# A bare integer: not part of a decimal, date, time, range, phone number, code or year.
_BARE_INTEGER = re.compile(r"(?<![\d.,:/\-~A-Za-z])([1-9]\d{2,8})(?![\d.,:/\-~%年月日号A-Za-z])")
# A Latin token that is not a unit after a number (12GB and 5km stay with their number).
_LATIN_WORD = re.compile(r"(?<![\d.°A-Za-z])" + LATIN_TOKEN.pattern)
_SPACES = re.compile(r"\s+")


def spoken_form(text: str, language: str) -> str:
    """What a voice of ``language`` should be given to say ``text``."""
    return chinese_spoken_form(text) if language == "zh" else text


def chinese_spoken_form(text: str) -> str:
    """A Chinese sentence with every number, sign, unit and Latin word in words.

    Steps: 1. half-width digits and letters; 2. our rules before zh-normalization; 3. Latin words
    apart, the rest through zh-normalization; 4. letters it left (units such as GB) spelled.
    """
    # 1. Full-width digits, letters, ％ and ＄ as ASCII.
    text = text.translate(_FULL_WIDTH)
    # 2. What zh-normalization gets wrong or leaves alone.
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _YUAN.sub(lambda m: f"{m.group(1) or m.group(2)}元", text)
    text = _DOLLAR.sub(r"\1美元", text)
    text = _PERCENT_RANGE.sub(r"\1%到\2%", text)
    text = _DATE_RANGE.sub("到", text)
    text = _RATIO.sub(r"\1比\2", text)
    text = _LIANG.sub("两", text)
    text = _UNIT.sub(lambda m: _UNITS[m.group(1)], text)
    text = _BARE_INTEGER.sub(lambda m: _cardinal(m.group(1)), text)
    # 3. Latin words by our reading, everything else by zh-normalization's.
    spoken, position = [], 0
    for match in _LATIN_WORD.finditer(text):
        spoken.append(_normalizer_text(text[position : match.start()]))
        spoken.append(speak_latin(match.group(0)))
        position = match.end()
    spoken.append(_normalizer_text(text[position:]))
    # 4. Letters left after numbers (12GB -> 十二GB), and signs espeak would read in English.
    result = LATIN_TOKEN.sub(lambda m: speak_latin(m.group(0)), "".join(spoken))
    result = result.replace("+", "加").replace("%", "")
    return _SPACES.sub(" ", result).strip()


def _cardinal(digits: str) -> str:
    """Years (1900-2099 alone) keep the digit reading zh-normalization gives them; the rest is a quantity."""
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        return digits
    from zh_normalization.num import num2str  # here: importing zh-normalization loads pypinyin (about 1 s)

    return num2str(digits)


def _normalizer_text(text: str) -> str:
    if not text.strip():
        return text
    return "".join(_normalizer().normalize(text))


@lru_cache(maxsize=1)
def _normalizer():
    from zh_normalization import TextNormalizer

    return TextNormalizer()
