"""Finds languages, professions, countries and German regions in a message, in any script,
and normalises them (ISO 639-1, canonical profession, ISO 3166-1 country, state code).

spaCy's multilingual tokenizer and PhraseMatcher do the matching: lists of surface forms in
bot/nlu/gazetteers/*.yml, compared on a normalised form of each token (bot.normalise.fold, plus
Turkish apostrophe suffixes cut)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.normalise import fold

GAZETTEER_DIR = Path(__file__).resolve().parent / "nlu" / "gazetteers"

# entity name -> gazetteer file
ENTITY_FILES = {
    "language": "languages.yml",
    "profession": "professions.yml",
    "country": "countries.yml",
    "region": "regions.yml",
}

# Turkish case endings after an apostrophe ("Münih'te"); Latin script only, because in
# Ukrainian the apostrophe is part of the word ("в'єтнам").
_APOSTROPHE_SUFFIX = re.compile(r"(?<=[a-z])['’ʼ`´][a-z]*$")


def normalise(token: str) -> str:
    """The form both gazetteer entries and message tokens are compared in."""
    return _APOSTROPHE_SUFFIX.sub("", fold(token))


@dataclass(frozen=True)
class EntityMatch:
    entity: str
    value: str
    start: int
    end: int
    text: str


class EntityMatcher:
    """Phrase matcher over the gazetteers; build once per process, then call `find`."""

    def __init__(self, gazetteer_dir: Path = GAZETTEER_DIR) -> None:
        import spacy
        from spacy.matcher import PhraseMatcher

        self._nlp = spacy.blank("xx")
        self._matcher = PhraseMatcher(self._nlp.vocab, attr="NORM")
        self._labels: dict[int, tuple[str, str]] = {}
        for entity, filename in ENTITY_FILES.items():
            path = gazetteer_dir / filename
            if not path.exists():
                continue
            data: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for value, forms in data.items():
                key = f"{entity}:{value}"
                patterns = [self._doc(str(form)) for form in forms or [] if str(form).strip()]
                self._matcher.add(key, patterns)
                self._labels[self._nlp.vocab.strings[key]] = (entity, str(value))

    def _doc(self, text: str):  # type: ignore[no-untyped-def]
        doc = self._nlp.make_doc(text)
        for token in doc:
            token.norm_ = normalise(token.text)
        return doc

    def find(self, text: str) -> list[EntityMatch]:
        """All entities in the text; overlapping matches resolved to the longest."""
        from spacy.util import filter_spans

        doc = self._doc(text)
        spans = []
        for match_id, start, end in self._matcher(doc):
            span = doc[start:end]
            span.label_ = self._nlp.vocab.strings[match_id]
            spans.append(span)
        out = []
        for span in filter_spans(spans):
            entity, value = self._labels[span.label]
            out.append(EntityMatch(entity, value, span.start_char, span.end_char, span.text))
        return out


@lru_cache(maxsize=1)
def matcher() -> EntityMatcher:
    """The process-wide matcher (built on first use, not at import)."""
    return EntityMatcher()
