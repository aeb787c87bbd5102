"""Text folding shared by the intent classifier and the entity matcher: case, Arabic
diacritics and letter variants, Latin diacritics (people type "munchen", "hemsire"), ё."""

from __future__ import annotations

import re
import unicodedata

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_VARIANTS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه"}
)
_LATIN_MAX = 0x036F  # combining marks up to here belong to Latin/Greek diacritics


def fold(text: str) -> str:
    """Lower-case and strip the marks people leave out when typing on a foreign keyboard.
    Cyrillic letters such as й, ї are kept (they carry meaning and tell uk from ru)."""
    text = text.casefold().replace("ı", "i").replace("ё", "е").replace("ß", "ss")
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_VARIANTS)
    decomposed = unicodedata.normalize("NFD", text)
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and ord(char) <= _LATIN_MAX:
            # drop a Latin diacritic, but not the breve/diaeresis that make Cyrillic й/ї
            if kept and "\u0400" <= kept[-1] <= "\u04ff":
                kept.append(char)
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


# ------------------------------------------------------------------ consonant skeleton
# A second, script-independent view of a message for the classifier (docs/decisions/0007):
# Arabic, Cyrillic and Latin letters map to one Latin consonant alphabet and vowels are
# dropped, so "3andi shahadet handase" and "عندي شهادة هندسة" both read "cnd Shdt hnds" and
# "nuzhno li priznanie" and "нужно ли признание" both read "nZn l przn". It is added to the
# folded text's features, never used instead of them: a wrong match costs little, and the
# many native-script examples of an intent now also teach its Latin-script spellings.
# Capitals are skeleton letters of their own (S = sh, C = ch, Z = zh); the input is folded
# (lower case) first, so they cannot collide with a typed letter.

_ARABIC_SKELETON = {
    "ب": "b", "پ": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "h", "د": "d", "ذ": "d",
    "ر": "r", "ز": "z", "س": "s", "ش": "S", "چ": "S", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "ع": "c", "غ": "g", "گ": "g", "ف": "f", "ڤ": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m",
    "ن": "n", "ه": "h", "ا": "", "و": "", "ي": "", "ء": "", "ى": "", "ة": "",
}
_CYRILLIC_SKELETON = {
    "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ж": "Z", "з": "z", "к": "k", "л": "l",
    "м": "m", "н": "n", "п": "p", "р": "r", "с": "s", "т": "t", "ф": "f", "х": "h", "ц": "c",
    "ч": "C", "ш": "S", "щ": "S",
    **dict.fromkeys("аеєиіїйоуъыьэюя'’", ""),
}
_LATIN_SKELETON = {**dict.fromkeys("aeiouyjw", ""), "q": "k", "x": "h"}
# letters with a mark that is a sound of its own: written as their pair before folding
# drops the mark
_MARKED = str.maketrans({"ş": "sh", "š": "sh", "ç": "ch", "č": "ch", "ž": "zh"})
# letter pairs of ad-hoc transliteration, longest first
_LATIN_DIGRAPHS = (("shch", "S"), ("tch", "C"), ("sch", "S"), ("sh", "S"), ("ch", "C"),
                   ("zh", "Z"), ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"),
                   ("ts", "c"))
# Arabizi digits, only next to a letter ("3andi", "ma7al"), never in "2026" or "§18a"
_ARABIZI_DIGITS = {"2": "", "3": "c", "5": "h", "6": "t", "7": "h", "8": "g", "9": "s"}
_ARABIZI_DIGIT = re.compile(r"(?<=[a-z])[235-9]+(?![0-9])|(?<![0-9])[235-9]+(?=[a-z])")
_ARABIC_FINAL_H = re.compile("ه\\b")  # ة (folded to ه) and the suffix ـه, often not typed
_SKELETON = str.maketrans({**_LATIN_SKELETON, **_ARABIC_SKELETON, **_CYRILLIC_SKELETON})
_REPEATS = re.compile(r"([^\W\d_])\1+")  # letters only: 1500 stays 1500
_FINAL_H = re.compile(r"h\b")


def skeleton(text: str) -> str:
    """The consonant skeleton of a message, the same for its Arabic, Cyrillic and Latin
    spellings (see above)."""
    text = _ARABIC_FINAL_H.sub("", fold(text.casefold().translate(_MARKED)))
    text = _ARABIZI_DIGIT.sub(lambda m: "".join(_ARABIZI_DIGITS[d] for d in m.group()), text)
    for pair, letter in _LATIN_DIGRAPHS:
        text = text.replace(pair, letter)
    text = text.translate(_SKELETON)
    return _FINAL_H.sub("", _REPEATS.sub(r"\1", text))
