"""Split a script into sentences (Latin and CJK punctuation) and guess its language."""

import re
import unicodedata

# A run of end punctuation and the closing quotes or brackets after it.
_END_RUN = re.compile(r"[.!?。！？；…]+[\"'”’」』）)\]]*")
_CLAUSE_END = re.compile(r"(?:(?<=[，、：；])|(?<=[,:;])(?!\d))\s*")
MAX_SENTENCE_CHARS = 220
# Abbreviations a sentence does not end on, whatever follows (compared in lower case, without the dot).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "e.g",
        "i.e",
        "cf",
        "approx",
        "dept",
        "est",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "hon",
    ]
)
# ...and those it does not end on before a number (No. 5, p. 12).
_BEFORE_NUMBERS = frozenset(["no", "nos", "vol", "fig", "p", "pp", "ch", "sec", "art"])
_CLOSERS = "\"'”’」』）)]"
_WORD_BEFORE = re.compile(r"([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)$")


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences in order, none longer than ``max_chars`` where a clause break allows it.

    A sentence ends at 。！？；… and at . ! ? (then a line break ends one too), but not inside a
    number (4.99, 2.97亿), a version (v1.2.3), a domain (example.com), after an abbreviation
    (Dr., e.g., U.S. before a lower-case word) or at an ellipsis the sentence goes on after.
    """
    sentences = []
    for line in clean_text(text).split("\n"):
        for raw in _sentences_in_line(line):
            sentence = raw.strip()
            if not sentence:
                continue
            if len(sentence) <= max_chars:
                sentences.append(sentence)
            else:
                sentences.extend(_split_long(sentence, max_chars))
    return sentences


def _sentences_in_line(line: str) -> list[str]:
    parts, start = [], 0
    for match in _END_RUN.finditer(line):
        if _ends_sentence(line, match):
            parts.append(line[start : match.end()])
            start = match.end()
    parts.append(line[start:])
    return parts


def _ends_sentence(line: str, match: re.Match[str]) -> bool:
    """Whether the punctuation ``match`` found ends a sentence, from what is around it."""
    run = match.group(0).rstrip(_CLOSERS)
    following = line[match.end() :].lstrip()
    if not following:
        return True
    upcoming = following[0]
    if upcoming in ",，、" or (upcoming.islower() and run.endswith(("..", "…", "."))):
        return False  # the sentence goes on: "wait... what", "the U.S. economy", "etc. and"
    if run[-1] != "." or run.endswith(".."):
        return True  # ! ? 。！？； and ellipses before a new sentence
    # A single '.'.
    directly_after = line[match.end() : match.end() + 1]
    if directly_after.isascii() and directly_after.isalnum():
        return False  # inside a number, version, domain or abbreviation: 4.99, v1.2.3, example.com, e.g
    found = _WORD_BEFORE.search(line[: match.start()])
    word = found.group(1).lower() if found else ""
    if word in _ABBREVIATIONS or (word in _BEFORE_NUMBERS and upcoming.isdigit()):
        return False
    return not (upcoming.isdigit() and ("." in word or len(word) == 1))


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
