import pytest

from talking_head_dagster.speech.sentences import clean_text, detect_language, split_sentences


def test_latin_sentences_split_on_end_punctuation() -> None:
    assert split_sentences("Hello there. How are you? Fine!  Thanks") == [
        "Hello there.",
        "How are you?",
        "Fine!",
        "Thanks",
    ]


def test_cjk_punctuation_splits_without_spaces() -> None:
    assert split_sentences("你好。今天天气很好！我们出发吧？好的") == [
        "你好。",
        "今天天气很好！",
        "我们出发吧？",
        "好的",
    ]


def test_long_sentences_split_at_clause_breaks() -> None:
    text = ", ".join(["a clause of some length"] * 30) + "."
    parts = split_sentences(text, max_chars=100)
    assert len(parts) > 1
    assert all(len(part) <= 100 for part in parts)
    assert " ".join(parts).replace(" ", "") == text.replace(" ", "")


def test_control_characters_are_dropped_and_lines_split() -> None:
    assert clean_text("a\x00b\x1bc") == "abc"
    assert split_sentences("first line\nsecond line") == ["first line", "second line"]


def test_language_detection_by_script() -> None:
    assert detect_language("Hello world") == "en"
    assert detect_language("这是一个测试") == "zh"
    assert detect_language("これはテストです") == "ja"
    assert detect_language("Привет мир") == "ru"
    assert detect_language("12345 !!!") == "en"


ENGLISH = [
    ("It costs 4.99 today. Then it rises.", ["It costs 4.99 today.", "Then it rises."]),
    ("Version v1.2.3 is out. Update now!", ["Version v1.2.3 is out.", "Update now!"]),
    ("Visit example.com for more. Thanks.", ["Visit example.com for more.", "Thanks."]),
    ("Dr. Smith met Mr. Jones. They talked.", ["Dr. Smith met Mr. Jones.", "They talked."]),
    ("Use a tool, e.g. Python, i.e. a language.", ["Use a tool, e.g. Python, i.e. a language."]),
    (
        "The U.S. economy grew. We live in the U.S. Then we left.",
        ["The U.S. economy grew.", "We live in the U.S.", "Then we left."],
    ),
    ("Wait... what? And then... They left.", ["Wait... what?", "And then...", "They left."]),
    ("Apples, pears, etc. and more. See No. 5 below.", ["Apples, pears, etc. and more.", "See No. 5 below."]),
    ("Prices: $1,299.50 and 3.5%. Really?! Yes.", ["Prices: $1,299.50 and 3.5%.", "Really?!", "Yes."]),
]

CHINESE = [
    ("市值2.97亿。增长1.5%！", ["市值2.97亿。", "增长1.5%！"]),
    ("价格是4.99元，访问example.com了解。真的吗？", ["价格是4.99元，访问example.com了解。", "真的吗？"]),
    ("是的；好……我们走。", ["是的；", "好……", "我们走。"]),
    ("他说…然后走了。", ["他说…", "然后走了。"]),
    ("好……，我们走。", ["好……，我们走。"]),
    ("新版本v1.2.3已发布.请更新", ["新版本v1.2.3已发布.", "请更新"]),
]


@pytest.mark.parametrize(("text", "sentences"), ENGLISH + CHINESE, ids=[t for t, _ in ENGLISH + CHINESE])
def test_sentences_do_not_end_inside_numbers_versions_domains_or_abbreviations(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_long_sentences_do_not_break_inside_a_number() -> None:
    text = "，".join(["售价1,299.50元"] * 40) + "。"
    parts = split_sentences(text, max_chars=60)
    assert len(parts) > 1 and all("1,299.50" in part for part in parts)
