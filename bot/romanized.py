"""Which supported language a message in Latin letters is written in, when it may be Arabic,
Russian or Ukrainian typed in Latin script ("3andi shahadet handase", "nuzhno li priznanie")
or Turkish and German without diacritics. General language detectors read such text as
Somali, Bosnian or Albanian; this classifier is trained on the project's own training
examples (data/nlu/<lang>/), so it learns the spellings people actually use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.normalise import fold

OTHER = "xx"  # a language the assistant does not speak (data/nlu/unsupported)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
# libyaml's safe loader where PyYAML was built with it: 30x quicker on the training files
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MIN_WORDS = 3  # a Latin line of an Arabic/Russian/Ukrainian file with fewer words is a term


def is_latin(text: str) -> bool:
    """True when (nearly) every letter of the text is a Latin letter."""
    letters = _LETTER.findall(text or "")
    if not letters:
        return False
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters) >= 0.9


def _lines(file: Path) -> list[str]:
    doc = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    out = []
    for block in doc.get("nlu", []) or []:
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(line[2:].strip())
    return out


def training_examples(nlu_dir: Path, languages: tuple[str, ...],
                      latin_languages: frozenset[str]) -> tuple[list[str], list[str]]:
    """Latin-script training lines labelled with their language. For languages written in
    another script, only lines of at least MIN_WORDS words that are not mostly German or
    English words count: "Anerkennung?" in an Arabic file is a German term, not Arabizi."""
    lines = {lang: [t for f in sorted((nlu_dir / lang).glob("*.yml")) for t in _lines(f)]
             for lang in languages if (nlu_dir / lang).is_dir()}
    lines[OTHER] = [t for f in sorted((nlu_dir / "unsupported").glob("*.yml"))
                    for t in _lines(f)] if (nlu_dir / "unsupported").is_dir() else []
    common = {fold(w) for lang in ("de", "en") for t in lines.get(lang, [])
              for w in _WORD.findall(t)}
    texts, labels = [], []
    for lang, examples in lines.items():
        for text in examples:
            if not is_latin(text):
                continue
            if lang not in latin_languages and lang != OTHER:
                words = [fold(w) for w in _WORD.findall(text)]
                if len(words) < MIN_WORDS or sum(w in common for w in words) * 2 >= len(words):
                    continue
            texts.append(text)
            labels.append(lang)
    return texts, labels


@dataclass(frozen=True)
class Guess:
    code: str
    probability: float


class RomanizedLanguageId:
    """Character n-grams (digits kept: Arabizi writes ع as 3) and logistic regression."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self._model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), preprocessor=fold,
                            sublinear_tf=True, min_df=1),
            # newton-cg reaches the same optimum as the default lbfgs (probabilities within
            # 3e-4 on the training lines) in under half the time
            LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced",
                               solver="newton-cg"))
        self.languages: tuple[str, ...] = ()

    def fit(self, texts: list[str], labels: list[str]) -> RomanizedLanguageId:
        self._model.fit(texts, labels)
        self.languages = tuple(str(c) for c in self._model.classes_)
        return self

    def guess(self, text: str) -> Guess:
        probabilities = self._model.predict_proba([text])[0]
        best = int(probabilities.argmax())
        return Guess(self.languages[best], float(probabilities[best]))
