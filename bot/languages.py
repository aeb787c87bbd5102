"""Which languages the assistant speaks, how a message's language is detected, and how the
conversation language is chosen from the user's choice, detection and the client's setting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.normalise import fold
from bot.romanized import OTHER, Guess, RomanizedLanguageId, is_latin
from bot.settings import PROJECT_ROOT

LANGUAGES_FILE = PROJECT_ROOT / "data" / "languages.yml"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"

# A message flips the conversation language only when detection is this sure, the runner-up
# is far behind, and the message has enough words: "ok", "👍" or "Anerkennung" must never
# switch a Ukrainian conversation to German.
MIN_CONFIDENCE = 0.60
MIN_MARGIN = 0.25
MIN_WORDS = 3
MIN_LETTERS = 12
# Latin-script messages: our own classifier (bot/romanized.py) decides whether they are
# Arabic/Russian/Ukrainian in Latin letters. It overrules the general detector unless that
# one is very sure of a Latin-script language.
ROMANIZED_MIN_CONFIDENCE = 0.55
ROMANIZED_LATIN_CONFIDENCE = 0.70
ROMANIZED_OVERRIDE = 0.85
LINGUA_SURE = 0.90

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_LATIN = re.compile(r"^[a-zA-Z\u00c0-\u024f]+$")
BORROWED_MIN_LENGTH = 5
BORROWED_MIN_LANGUAGES = 2  # other than German
BORROWED_STEM = 8


def borrowed_terms(nlu_dir: Path = NLU_DIR, source: str = "de") -> frozenset[str]:
    """German words that people mix into other languages ("Anerkennung", "Krankenkasse"),
    learnt from the training data: words of the German examples that also occur in the
    examples of at least two other languages. They say nothing about the language a person
    writes in, so detection ignores them."""
    words_by_language: dict[str, set[str]] = {}
    supported = set(registry().codes)
    for lang_dir in sorted(p for p in nlu_dir.iterdir() if p.is_dir() and p.name in supported):
        words: set[str] = set()
        for file in lang_dir.glob("*.yml"):
            for line in file.read_text(encoding="utf-8").splitlines():
                if line.strip().startswith("- "):
                    words.update(fold(w) for w in _WORD.findall(line)
                                 if len(w) >= BORROWED_MIN_LENGTH)
        words_by_language[lang_dir.name] = words
    german = words_by_language.pop(source, set())
    return frozenset(
        w for w in german
        if sum(w in other for other in words_by_language.values()) >= BORROWED_MIN_LANGUAGES
    )


@dataclass(frozen=True)
class LanguageInfo:
    """One supported language as declared in data/languages.yml."""

    code: str
    name: str
    english: str
    lingua: str
    rtl: bool = False
    script: str = "latin"  # the script the language is normally written in


@dataclass(frozen=True)
class Registry:
    """The supported languages, the default one and what else the detector knows."""

    languages: dict[str, LanguageInfo]
    default: str
    also_detected: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def is_supported(self, code: str | None) -> bool:
        return code in self.languages

    @property
    def latin_script(self) -> frozenset[str]:
        """Languages normally written in Latin letters."""
        return frozenset(c for c, info in self.languages.items() if info.script == "latin")

    def normalise(self, code: str | None) -> str | None:
        """Map a client code such as 'de-AT' or 'UK' to a supported ISO 639-1 code."""
        if not code:
            return None
        base = code.strip().lower().replace("_", "-").split("-")[0]
        return base if base in self.languages else None


def load_registry(path: Path = LANGUAGES_FILE) -> Registry:
    """Read data/languages.yml."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    languages = {
        code: LanguageInfo(code=code, name=v["name"], english=v["english"], lingua=v["lingua"],
                           rtl=bool(v.get("rtl", False)), script=v.get("script", "latin"))
        for code, v in raw["supported"].items()
    }
    default = raw.get("default", "en")
    if default not in languages:
        raise ValueError(f"{path}: default language '{default}' is not under 'supported'")
    return Registry(languages, default, tuple(raw.get("also_detected", ())))


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The process-wide registry (read once)."""
    return load_registry()


@dataclass(frozen=True)
class Detection:
    """The detector's verdict on one message. Made once per message (in the NLU pipeline)
    and passed on in the parse data, so every later step uses the same decision."""

    code: str | None  # ISO 639-1 of the most likely language, None when nothing usable
    confidence: float
    confident: bool  # strong enough to act on (see the thresholds above)
    supported: bool
    transliterated: bool = False  # e.g. Arabic or Russian written in Latin letters

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "confidence": round(self.confidence, 4),
                "confident": self.confident, "supported": self.supported,
                "transliterated": self.transliterated}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Detection | None:
        if not data:
            return None
        return cls(data.get("code"), float(data.get("confidence") or 0.0),
                   bool(data.get("confident")), bool(data.get("supported")),
                   bool(data.get("transliterated")))


class LanguageDetector:
    """Wraps lingua, restricted to the supported languages plus common other ones."""

    def __init__(self, reg: Registry | None = None,
                 borrowed: frozenset[str] | None = None) -> None:
        from lingua import Language, LanguageDetectorBuilder

        self._registry = reg or registry()
        names = [info.lingua for info in self._registry.languages.values()]
        names += [n for n in self._registry.also_detected if n not in names]
        langs = [getattr(Language, name) for name in names]
        # Preloading costs ~1.5 s once per process and avoids a slow first message.
        self._detector = (
            LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()
        )
        if borrowed is None:
            # keep only the words the detector itself takes for German: the German data
            # also contains English words ("training", "job") that must keep counting
            borrowed = frozenset(w for w in borrowed_terms()
                                 if self._detector.detect_language_of(w) == Language.GERMAN)
        self._borrowed = borrowed
        # German compounds vary ("Anerkennungsbescheid", "beschleunigte"): a long word that
        # starts like a borrowed term counts as borrowed too.
        self._borrowed_stems = frozenset(w[:BORROWED_STEM] for w in self._borrowed
                                         if len(w) >= BORROWED_STEM)

    def _is_borrowed(self, word: str) -> bool:
        return word in self._borrowed or (
            len(word) >= BORROWED_STEM and word[:BORROWED_STEM] in self._borrowed_stems
        )

    def _majority_language(self, words: list[str]) -> Any:
        counts: dict[Any, int] = {}
        for section in self._detector.detect_multiple_languages_of(" ".join(words)):
            counts[section.language] = counts.get(section.language, 0) + section.word_count
        return max(counts, key=lambda lang: counts[lang]) if counts else None

    def content_words(self, text: str) -> list[str]:
        """The words that tell the language: borrowed German terms removed, and in a message
        with Cyrillic or Arabic words, the Latin-script words (terms, names) removed too."""
        words = [w for w in _WORD.findall(text or "") if not self._is_borrowed(fold(w))]
        other_script = [w for w in words if not _LATIN.match(w)]
        return other_script if len(other_script) >= 2 else words

    def detect(self, text: str, romanized: RomanizedLanguageId | None = None) -> Detection:
        """The language of a message. With `romanized` (trained on the project's own data),
        a message in Latin letters can also be recognised as Arabic, Russian or Ukrainian in
        Latin script, or Turkish/German typed without diacritics."""
        found = self._detect_script(text)
        if romanized is None or not is_latin(text):
            return found
        return self._with_romanized(text, found, romanized.guess(text))

    def _with_romanized(self, text: str, found: Detection, guess: Guess) -> Detection:
        if guess.code == OTHER or not self._registry.is_supported(guess.code):
            return found
        words = self.content_words(text)
        long_enough = len(words) >= MIN_WORDS and sum(map(len, words)) >= MIN_LETTERS
        native_latin = guess.code in self._registry.latin_script
        if not native_latin and guess.probability >= ROMANIZED_MIN_CONFIDENCE:
            # a general detector is not trustworthy here: it has never seen Arabizi
            if found.confident and found.supported and found.confidence >= LINGUA_SURE \
                    and guess.probability < ROMANIZED_OVERRIDE:
                return found
            return Detection(guess.code, guess.probability, long_enough, True, True)
        if native_latin and not (found.confident and found.supported) \
                and guess.probability >= ROMANIZED_LATIN_CONFIDENCE:
            return Detection(guess.code, guess.probability, long_enough, True, False)
        return found

    def _detect_script(self, text: str) -> Detection:
        words = self.content_words(text)
        if not words:
            return Detection(None, 0.0, False, False)
        values = self._detector.compute_language_confidence_values(" ".join(words))
        if not values:
            return Detection(None, 0.0, False, False)
        top = values[0]
        second = values[1].value if len(values) > 1 else 0.0
        code = top.language.iso_code_639_1.name.lower()
        long_enough = len(words) >= MIN_WORDS and sum(map(len, words)) >= MIN_LETTERS
        confident = (
            long_enough and top.value >= MIN_CONFIDENCE and top.value - second >= MIN_MARGIN
            # one long German compound in an English sentence must not outvote the rest:
            # the language must also hold most of the words
            and self._majority_language(words) == top.language
        )
        return Detection(code, float(top.value), confident, self._registry.is_supported(code))


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    """The process-wide detector (built on first use, not at import)."""
    return LanguageDetector()


class Source(IntEnum):
    """Where the conversation language came from; a stronger source is never overridden
    by a weaker one."""

    NONE = 0
    CLIENT = 1  # Telegram's language_code
    DETECTED = 2  # confident detection of a message
    EXPLICIT = 3  # the user chose it (change_language, language menu)

    @classmethod
    def parse(cls, value: str | None) -> Source:
        try:
            return cls[(value or "NONE").upper()]
        except KeyError:
            return cls.NONE


@dataclass(frozen=True)
class LanguageState:
    """The conversation language and where it came from, plus an unsupported detection."""

    language: str
    source: Source
    unsupported: str | None = None  # ISO code of a confidently detected unsupported language


def resolve_language(
    *,
    current: str | None,
    current_source: str | None,
    detection: Detection | None,
    client_code: str | None,
    explicit: str | None = None,
    reg: Registry | None = None,
) -> LanguageState:
    """Choose the conversation language for this turn.

    Order of strength: explicit choice > confident detection > client language code.
    A weaker signal never replaces a stronger one; detection may replace an earlier
    detection (the person switched language mid-conversation).
    """
    reg = reg or registry()
    source = Source.parse(current_source) if reg.is_supported(current) else Source.NONE
    language = current if source is not Source.NONE and current else reg.default

    chosen = reg.normalise(explicit)
    if chosen:
        return LanguageState(chosen, Source.EXPLICIT)

    unsupported = None
    if detection and detection.confident:
        if detection.supported and detection.code:
            if source <= Source.DETECTED:
                return LanguageState(detection.code, Source.DETECTED)
            return LanguageState(language, source)
        unsupported = detection.code

    client = reg.normalise(client_code)
    if client and source <= Source.CLIENT:
        return LanguageState(client, Source.CLIENT, unsupported)
    return LanguageState(language, source, unsupported)
