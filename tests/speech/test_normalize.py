"""A Chinese script's spoken form, case by case: what a speaker says for each number, sign and word."""

import pytest

from talking_head_dagster.speech.normalize import chinese_spoken_form, spoken_form

CASES = [
    # numbers, decimals, 万/亿
    ("市值2.97亿", "市值二点九七亿"),
    ("3.5万人", "三点五万人"),
    ("涨到3000点", "涨到三千点"),
    ("排名100", "排名一百"),
    ("1,000,000人", "一百万人"),
    ("圆周率3.14159", "圆周率三点一四一五九"),
    ("有2个", "有两个"),
    # percentages
    ("增长1.5%", "增长百分之一点五"),
    ("降价20%-30%", "降价百分之二十到百分之三十"),
    ("利率３．５％", "利率百分之三点五"),
    ("+5%", "加百分之五"),
    # money
    ("售价4999元", "售价四千九百九十九元"),
    ("¥1,299.50元", "一千二百九十九点五元"),
    ("价格¥99", "价格九十九元"),
    ("共计12,345.6元", "共计一万二千三百四十五点六元"),
    ("RMB 500", "五百元"),
    ("$19.99", "十九点九九美元"),
    # dates and times
    ("2025年3月15日", "二零二五年三月十五日"),
    ("2025-03-15", "二零二五年三月十五日"),
    ("上午10:30开始", "上午十点半开始"),
    ("07:05", "七点零五分"),
    ("3月5日-3月8日", "三月五日到三月八日"),
    # phone numbers
    ("电话13812345678", "电话幺三八幺二三四五六七八"),
    ("400-800-1234", "四零零，八零零，幺二三四"),
    # ordinals, ranges, fractions, ratios
    ("第2名", "第二名"),
    ("第1季度", "第一季度"),
    ("100-200元", "一百到二百元"),
    ("30~50岁", "三十到五十岁"),
    ("1/3的人", "三分之一的人"),
    ("3:2获胜", "三比二获胜"),
    # units
    ("12GB内存", "十二吉比内存"),
    ("气温-3℃", "气温零下三度"),
    ("28°C", "二十八度"),
    ("跑了5km", "跑了五千米"),
    ("时速120km/h", "时速一百二十千米每小时"),
    ("5000mAh电池", "五千毫安时电池"),
    ("100W快充", "一百瓦快充"),
    ("2.4GHz", "二点四吉赫兹"),
    ("500ml", "五百毫升"),
    # Latin words
    ("AI很强", "诶艾很强"),
    ("CEO说", "西伊欧说"),
    ("5G网络", "五吉网络"),
    ("iPhone 15发布", "艾 Phone 十五发布"),
    ("ChatGPT很火", "Chat 吉皮提很火"),
    ("GPT-4o", "吉皮提四欧"),
    ("H200显卡", "艾尺二百显卡"),
    ("v1.2.3版本", "维一点二点三版本"),
    ("访问example.com", "访问 example 点 com"),
    ("我们的app", "我们的 app"),
]


@pytest.mark.parametrize(("text", "spoken"), CASES, ids=[text for text, _ in CASES])
def test_chinese_spoken_form(text: str, spoken: str) -> None:
    assert chinese_spoken_form(text) == spoken


def test_the_spoken_form_has_no_digits_signs_or_units_left() -> None:
    script = "2025年Q3营收增长12%，达到2.97亿元；这款iPhone 15 Pro售价¥9,999，内存12GB，比去年便宜1,000元。"
    spoken = chinese_spoken_form(script)
    assert not any(ch.isdigit() or ch in "%¥," for ch in spoken), spoken
    assert "百分之十二" in spoken and "二点九七亿元" in spoken and "九千九百九十九元" in spoken


def test_other_languages_are_left_to_espeak() -> None:
    assert spoken_form("It costs $4.99, up 5%.", "en") == "It costs $4.99, up 5%."
    assert spoken_form("售价4999元", "zh") == "售价四千九百九十九元"
