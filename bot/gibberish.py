"""Messages without words: "AAAA…", a wall of one symbol, and key mashing ("asdfghjkl",
"ывапролд", "ضصثقفغ", "sdfgsdfg qweqwe": letters typed along a row of the keyboard, or a
short walk typed again). The language gate answers them with the fallback, so the person is
asked to write their question instead of getting a guessed topic.

A word is mashed when nearly every pair of neighbouring letters are neighbouring keys of one
row (a stretched letter counts once) on a keyboard people here use, or when it repeats a
walk of 3–4 keys. Real words rarely do either: none of the project's 21,600 training lines
is taken for mashing (tests/unit/test_gibberish.py)."""

from __future__ import annotations

import re

# rows of the layouts of the project's languages; a pair of letters next to each other in a
# row is a pair of neighbouring keys
ROWS = (
    # QWERTY, QWERTZ (de), AZERTY (Maghreb), Turkish Q
    "qwertyuiop", "asdfghjkl", "zxcvbnm",
    "qwertzuiopü", "asdfghjklöä", "yxcvbnm",
    "azertyuiop", "qsdfghjklm", "wxcvbn",
    "qwertyuıopğü", "asdfghjklşi", "zxcvbnmöç",
    # ЙЦУКЕН, Russian and Ukrainian
    "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю",
    "йцукенгшщзхї", "фівапролджє", "ґячсмитьбю",
    # Arabic (101); the لا key types two letters
    "ضصثقفغعهخحجد", "شسيبلاتنمكط", "ئءؤرلاىةوزظ",
)
NEIGHBOURS = frozenset(
    pair for row in ROWS for a, b in zip(row, row[1:], strict=False) for pair in ((a, b), (b, a)))

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_WORDISH = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
MIN_SHARE = 0.75  # share of neighbouring pairs in a mashed word
WORD = 4  # letters from which a word says something about the message


def _collapse(word: str) -> str:
    """'нееет' → 'нет': a stretched letter is one key."""
    return re.sub(r"(.)\1+", r"\1", word)


def _share(word: str) -> float:
    pairs = list(zip(word, word[1:], strict=False))
    return sum(1 for pair in pairs if pair in NEIGHBOURS) / len(pairs) if pairs else 0.0


def _repeated_walk(word: str) -> bool:
    """'qweqwe', 'sdfgsdfg', 'фывфывфыв': a walk of 3–4 neighbouring keys, typed again
    ('papa', 'baybay' are words)."""
    for size in (3, 4):
        unit = word[:size]
        if len(word) >= 2 * size and word == unit * (len(word) // size) \
                and _share(unit) == 1.0:
            return True
    return False


def _mashed_word(word: str) -> bool:
    collapsed = _collapse(word)
    return _repeated_walk(word) or (len(collapsed) >= 5 and _share(collapsed) >= MIN_SHARE)


def is_key_mashing(text: str) -> bool:
    """True when the message's words are key mashing: its words of four letters or more
    (at least 60 % of its letters) are all mashed, or, without such words, it has two or
    more words of three letters, each a walk along a row ("qwe qwe zxc")."""
    words = [w.casefold() for w in _LETTERS.findall(text or "")]
    letters = sum(len(w) for w in words)
    if not letters:
        return False
    long_words = [w for w in words if len(w) >= WORD]
    if long_words:
        return (all(_mashed_word(w) for w in long_words)
                and sum(len(w) for w in long_words) >= 0.6 * letters)
    short = [w for w in words if len(w) == WORD - 1]
    return len(short) >= 2 and all(_share(w) == 1.0 for w in short)


def is_gibberish(text: str) -> bool:
    """A message that carries no words: "AAAA…", key mashing, a wall of one symbol."""
    letters = [c for c in text.casefold() if c.isalpha()]
    if not letters:
        return False  # emoji and digits are handled by the classifier and the fallback
    if len(letters) >= 6 and len(set(letters)) <= 2:
        return True
    if is_key_mashing(text):
        return True
    words = _WORDISH.findall(text)
    longest = max((len(w) for w in words), default=0)
    return longest > 40 and " " not in text.strip()
