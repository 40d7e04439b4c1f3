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
