"""The training builds Rasa's NLU training data once (tools/train.py), and what it builds is
the same as Rasa's own three builds."""

from __future__ import annotations

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
