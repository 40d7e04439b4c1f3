"""Split a script into sentences (Latin and CJK punctuation) and guess its language."""

import re
import unicodedata

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？；;])[\"'”’」』）)]*\s*|\n+")
_CLAUSE_END = re.compile(r"(?<=[,，、:：])\s*")
MAX_SENTENCE_CHARS = 220


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences in order, none longer than ``max_chars`` where a clause break allows it."""
    sentences = []
    for raw in _SENTENCE_END.split(clean_text(text)):
        sentence = raw.strip()
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            sentences.append(sentence)
        else:
            sentences.extend(_split_long(sentence, max_chars))
    return sentences


def _split_long(sentence: str, max_chars: int) -> list[str]:
    parts, current = [], ""
    for clause in _CLAUSE_END.split(sentence):
        if current and len(current) + len(clause) > max_chars:
            parts.append(current.strip())
            current = ""
        current += clause
    if current.strip():
        parts.append(current.strip())
    return parts


def clean_text(text: str) -> str:
    """Normalise Unicode and drop control characters other than line breaks."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("GREEK", "el"),
    ("THAI", "th"),
    ("DEVANAGARI", "hi"),
    ("LATIN", "en"),
)


def detect_language(text: str, latin_language: str = "en") -> str:
    """The language a voice is needed for, from the writing system of the script's letters.

    Any kana makes it Japanese (Japanese also uses Han characters); otherwise the most
    frequent script wins. Latin letters map to ``latin_language`` (English by default),
    since telling English from French by letters alone is guesswork.
    """
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                counts[language] = counts.get(language, 0) + 1
                break
    if not counts:
        return latin_language
    if counts.get("ja"):
        return "ja"
    language = max(counts, key=lambda lang: counts[lang])
    return latin_language if language == "en" else language
