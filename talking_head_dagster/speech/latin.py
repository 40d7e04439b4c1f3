"""Latin words inside a Chinese script, as a Chinese voice should say them.

espeak's ``cmn`` voice hands Latin words to its English rules, and a Chinese-trained voice then
gets English phonemes it has hardly heard. Acronyms (AI, CEO, GB, the GPT of ChatGPT) and single
letters are spelled with the Chinese names speakers give the letters (AI -> 诶艾), which the voice
says in its own phonemes. Words (iPhone's "Phone", app, Apple) are left to espeak, which reads
them acceptably; digits inside a token (H200, Qwen2.5) are read as Chinese numbers, and dots
(example.com, v1.2.3) as 点.
"""

import re

# How Mandarin speakers name the letters, in characters the voice reads with its own phonemes.
LETTER_NAMES = {
    "A": "诶",
    "B": "比",
    "C": "西",
    "D": "迪",
    "E": "伊",
    "F": "艾弗",
    "G": "吉",
    "H": "艾尺",
    "I": "艾",
    "J": "杰",
    "K": "开",
    "L": "艾勒",
    "M": "艾姆",
    "N": "恩",
    "O": "欧",
    "P": "皮",
    "Q": "丘",
    "R": "阿尔",
    "S": "艾斯",
    "T": "提",
    "U": "优",
    "V": "维",
    "W": "达布溜",
    "X": "艾克斯",
    "Y": "歪",
    "Z": "兹",
}

# A Latin token: letters, digits, and the dots and hyphens inside it (GPT-4o, example.com, v1.2.3).
LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[.\-_][A-Za-z0-9]+)*")
# Its pieces: an upper-case run not starting a Capitalised word, a word, a number, a separator.
_PIECE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+(?:\.\d+)?|[.\-_]")


def speak_latin(token: str) -> str:
    """One Latin token in words a Chinese voice says: 'GPT-4o' -> '吉皮提四欧', 'iPhone' -> '艾 Phone '."""
    spoken = []
    for piece in _PIECE.findall(token):
        if piece == ".":
            spoken.append("点")
        elif piece in "-_":
            continue
        elif piece[0].isdigit():
            spoken.append(_number(piece))
        elif piece.isupper() or len(piece) == 1:
            spoken.append(spell(piece))
        else:
            spoken.append(f" {piece} ")
    return "".join(spoken)


def spell(letters: str) -> str:
    """Letter by letter: 'CEO' -> '西伊欧'."""
    return "".join(LETTER_NAMES.get(ch.upper(), ch) for ch in letters)


def _number(digits: str) -> str:
    """A number inside a token: a version part (1.2.3 reads 一点二点三) or a quantity (H200)."""
    from zh_normalization.num import num2str  # here: importing zh-normalization loads pypinyin (about 1 s)

    if digits.startswith("0") and len(digits) > 1 and "." not in digits:
        return "".join(num2str(d) for d in digits)
    return num2str(digits)
