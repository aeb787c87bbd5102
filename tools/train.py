"""Train the Rasa model once per change of its inputs: the model file is named after a
fingerprint of data, domain and config, so an unchanged project reuses it."""

from __future__ import annotations

import contextlib
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from bot.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]
# Only what changes the trained model; texts, figures and gazetteers are read at run time.
FINGERPRINT_INPUTS = [*TRAINING_DATA, "domain.yml", "config.yml", "extensions/nlu_components.py",
                      "extensions/intent_classifier.py", "extensions/linear_svm.py",
                      "bot/normalise.py",
                      "bot/romanized.py", "data/languages.yml"]


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for item in FINGERPRINT_INPUTS:
        path = root / item
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return MODELS_DIR / f"bruecke-{fingerprint(root)}.tar.gz"


def language_blind(get_nlu_data: Callable[..., Any]) -> Callable[..., Any]:
    """`get_nlu_data` computed on the first call only, whatever its `language` argument."""
    result: list[Any] = []

    def get(language: str | None = "en") -> Any:
        if not result:
            result.append(get_nlu_data())
        return result[0]

    return get


def read_nlu_data_once(importer: Any) -> Any:
    """Make every importer in Rasa's chain build the NLU training data once.

    Rasa 3.6 asks its importers for `get_nlu_data()`, `get_nlu_data("en")` and
    `get_nlu_data(language="xx")` during one training: three cache keys of the same cached
    method, so the 129 files are read, validated and merged three times (about 12 s of the
    training here). The argument is vestigial: the file reader ignores it and the training
    data does not keep it. Each importer (the outer one, the ones it wraps, and theirs)
    answers every call from its first result."""
    seen: set[int] = set()
    stack = [importer]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.get_nlu_data = language_blind(current.get_nlu_data)
        stack += [getattr(current, "importer", None), getattr(current, "_importer", None),
                  *getattr(current, "_importers", ())]
    return importer


def merge_without_copies(self: Any, *others: Any) -> Any:
    """`TrainingData.merge` as Rasa 3.6 does it, without its deep copies.

    Rasa deep-copies every example on every merge (the 129 files into one, then each
    importer of the chain again): about 8 s of the training here for 23,000 examples. In a
    training nothing reads the merged-from data again, so the merged data can share the
    example objects; what it contains is the same."""
    from rasa.shared.nlu.training_data import util
    from rasa.shared.nlu.training_data.training_data import TrainingData

    training_examples = list(self.training_examples)
    entity_synonyms = self.entity_synonyms.copy()
    regex_features = list(self.regex_features)
    lookup_tables = list(self.lookup_tables)
    responses = dict(self.responses)
    for other in others:
        if not other:
            continue
        training_examples.extend(other.training_examples)
        regex_features.extend(other.regex_features)
        lookup_tables.extend(other.lookup_tables)
        for text, synonym in other.entity_synonyms.items():
            util.check_duplicate_synonym(entity_synonyms, text, synonym,
                                         "merging training data")
        entity_synonyms.update(other.entity_synonyms)
        responses.update(other.responses)
    return TrainingData(training_examples, entity_synonyms, regex_features, lookup_tables,
                        responses)


# gzip level of the model package: Rasa packs at 9, which takes 9.6 s for our 59 MB of model
# files; 3 takes 1.0 s and the package grows from 27 to 28 MB (unpacking: 0.3 s either way)
PACKAGE_COMPRESSLEVEL = 3


@contextlib.contextmanager
def _quick_packaging() -> Iterator[None]:
    from rasa.engine.storage import local_model_storage

    base = local_model_storage.TarSafe

    class QuickTar(base):  # type: ignore[misc, valid-type]
        @classmethod
        def open(cls, name: Any = None, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if mode == "w:gz":
                kwargs.setdefault("compresslevel", PACKAGE_COMPRESSLEVEL)
            return super().open(name, mode, *args, **kwargs)

    with mock.patch.object(local_model_storage, "TarSafe", QuickTar):
        yield


@contextlib.contextmanager
def _nlu_data_read_once() -> Iterator[None]:
    from rasa.shared.importers.importer import TrainingDataImporter

    load = TrainingDataImporter.load_from_config

    def load_from_config(*args: Any, **kwargs: Any) -> Any:
        return read_nlu_data_once(load(*args, **kwargs))

    with mock.patch.object(TrainingDataImporter, "load_from_config", load_from_config):
        yield


@contextlib.contextmanager
def _quick_training() -> Iterator[None]:
    """The training data read and merged once, without copies; a quicker model package."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    with _nlu_data_read_once(), _quick_packaging(), \
            mock.patch.object(TrainingData, "merge", merge_without_copies):
        yield


def ensure_model(root: Path = PROJECT_ROOT) -> Path:
    """Return the trained model for the current inputs, training it if needed."""
    target = model_path(root)
    if target.exists():
        return target
    from rasa.api import train

    started = time.perf_counter()
    with _quick_training():
        result = train(
            domain=str(root / "domain.yml"),
            config=str(root / "config.yml"),
            training_files=[str(root / d) for d in TRAINING_DATA],
            output=str(MODELS_DIR),
            fixed_model_name=target.name.removesuffix(".tar.gz"),
            force_training=True,
        )
    if result.code != 0 or not target.exists():
        raise SystemExit(f"Training failed (code {result.code}).")
    # keep only the current model: old ones are large and never used again
    for old in MODELS_DIR.glob("bruecke-*.tar.gz"):
        if old != target:
            old.unlink()
    print(f"Trained {target.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return target


if __name__ == "__main__":
    path = ensure_model()
    print(path.relative_to(PROJECT_ROOT))
