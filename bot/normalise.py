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
