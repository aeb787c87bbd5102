"""The training builds Rasa's NLU training data once and without copies, and packs the model
quicker (tools/train.py); what it builds is the same as Rasa's own builds."""

from __future__ import annotations

import contextlib
from pathlib import Path
from unittest import mock

import pytest

pytest.importorskip("rasa")

from rasa.shared.importers import utils as importer_utils  # noqa: E402
from rasa.shared.importers.importer import TrainingDataImporter  # noqa: E402

from tools.train import read_nlu_data_once  # noqa: E402

NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hallo
    - guten tag
- intent: goodbye
  examples: |
    - tschüss
    - bis bald
"""
DOMAIN = """version: "3.1"
intents: [greet, goodbye]
responses:
  utter_greet:
  - text: "Hallo!"
"""
RULES = """version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
"""
CONFIG = """recipe: default.v1
assistant_id: test
language: xx
pipeline: []
policies: []
"""


@pytest.fixture
def project(tmp_path: Path) -> dict[str, object]:
    (tmp_path / "nlu.yml").write_text(NLU, encoding="utf-8")
    (tmp_path / "rules.yml").write_text(RULES, encoding="utf-8")
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (tmp_path / "config.yml").write_text(CONFIG, encoding="utf-8")
    return {"config_path": str(tmp_path / "config.yml"),
            "domain_path": str(tmp_path / "domain.yml"),
            "training_data_paths": [str(tmp_path / "nlu.yml"), str(tmp_path / "rules.yml")]}


def _as_rasa_trains(importer: TrainingDataImporter) -> list[object]:
    """The calls one `rasa train` makes, in its order (rasa/model_training.py, the importer
    chain's get_domain, graph_components/providers/nlu_training_data_provider.py)."""
    return [importer.get_nlu_data(), importer.get_domain(), importer.get_nlu_data("en"),
            importer.get_nlu_data(language="xx")]


def _reads(importer: TrainingDataImporter) -> tuple[int, list[object]]:
    with mock.patch.object(importer_utils, "training_data_from_paths",
                           wraps=importer_utils.training_data_from_paths) as read:
        results = _as_rasa_trains(importer)
    return read.call_count, results


def test_rasa_alone_reads_the_files_more_than_once(project: dict[str, object]) -> None:
    count, _ = _reads(TrainingDataImporter.load_from_config(**project))  # type: ignore[arg-type]
    assert count > 1  # what read_nlu_data_once is for; if Rasa fixes it, drop the patch


def test_the_files_are_read_once_and_give_what_rasa_gives(project: dict[str, object]) -> None:
    plain = TrainingDataImporter.load_from_config(**project)  # type: ignore[arg-type]
    once = read_nlu_data_once(TrainingDataImporter.load_from_config(**project))  # type: ignore[arg-type]
    _, expected = _reads(plain)
    count, got = _reads(once)
    assert count == 1
    first, domain, second, third = got
    assert first is second is third
    for data in (first, second, third):
        assert data.fingerprint() == expected[0].fingerprint()  # type: ignore[attr-defined]
        assert data.fingerprint() == expected[3].fingerprint()  # type: ignore[attr-defined]
    assert domain.fingerprint() == expected[1].fingerprint()  # type: ignore[attr-defined]
    assert sorted(first.intents) == ["goodbye", "greet"]  # type: ignore[attr-defined]


def test_merging_without_copies_gives_what_rasa_merges(project: dict[str, object]) -> None:
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tools.train import merge_without_copies

    nlu = load_data(str(project["training_data_paths"][0]))  # type: ignore[index]
    synonyms = TrainingData(entity_synonyms={"pflegerin": "nurse"})
    before = nlu.fingerprint()
    expected = TrainingData().merge(nlu, synonyms, None, nlu)
    got = merge_without_copies(TrainingData(), nlu, synonyms, None, nlu)
    assert got.fingerprint() == expected.fingerprint()
    assert got.entity_synonyms == {"pflegerin": "nurse"}
    # the same examples in the same order (a repeated one once, as in Rasa's merge)
    assert [m.as_dict() for m in got.training_examples] == \
        [m.as_dict() for m in expected.training_examples]
    assert len(got.training_examples) == 4
    assert nlu.fingerprint() == before  # the merged-from data is left as it was


def _gzip_flags(path: Path) -> int:
    return path.read_bytes()[8]  # XFL: 2 = packed at the slowest, best level


def test_the_model_package_is_packed_quicker(tmp_path: Path) -> None:
    from rasa.engine.storage import local_model_storage

    from tools.train import _quick_packaging

    (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 64)
    for name, quick in (("rasa.tar.gz", False), ("ours.tar.gz", True)):
        with _quick_packaging() if quick else contextlib.nullcontext(), \
                local_model_storage.TarSafe.open(tmp_path / name, "w:gz") as tar:
            tar.add(tmp_path / "weights.bin", arcname="weights.bin")
    assert _gzip_flags(tmp_path / "rasa.tar.gz") == 2
    assert _gzip_flags(tmp_path / "ours.tar.gz") == 0
    with local_model_storage.TarSafe.open(tmp_path / "ours.tar.gz") as tar:
        assert tar.getnames() == ["weights.bin"]
