"""The maintainers' content check: complete today, and precise about what breaks it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from bot.content_check import check, render
from bot.settings import PROJECT_ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the content files, safe to break."""
    for item in ["domain.yml", "data", "tests/nlu"]:
        src, dst = PROJECT_ROOT / item, tmp_path / item
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return tmp_path


def test_all_supported_languages_are_complete() -> None:
    report = check(today=dt.date(2026, 11, 25))
    assert report.ok, render(report)


def test_a_removed_translation_fails_naming_file_and_key(project: Path) -> None:
    file = project / "data/texts/tr/visa.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    del texts["utter_visa_family"]
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")

    report = check(root=project, today=dt.date(2026, 11, 25))
    assert not report.ok
    expected = "ERROR   data/texts/tr/visa.yml: utter_visa_family: missing translation"
    assert expected in render(report)


def test_untranslated_button_and_wrong_placeholder_are_reported(project: Path) -> None:
    file = project / "data/texts/de/visa.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    texts["utter_visa_blue_card"]["text"] = texts["utter_visa_blue_card"]["text"].replace(
        "{blue_card_salary}", "50.700 €")
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    meta = project / "data/texts/de/meta.yml"
    texts = yaml.safe_load(meta.read_text(encoding="utf-8"))
    texts["utter_greet"]["buttons"][0] = "Recognition"
    meta.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")

    output = render(check(root=project, today=dt.date(2026, 11, 25)))
    assert "data/texts/de/visa.yml: utter_visa_blue_card: placeholders" in output
    assert "data/texts/de/meta.yml: utter_greet: button label 'Recognition' is not translated" \
        in output


def test_thin_intent_and_expired_figure_are_reported(project: Path) -> None:
    file = project / "data/nlu/uk/entry.yml"
    doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    for block in doc["nlu"]:
        if block["intent"] == "entry_fast_track":
            block["examples"] = "\n".join(block["examples"].splitlines()[:3]) + "\n"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    report = check(root=project, today=dt.date(2028, 3, 1))
    output = render(report)
    assert not report.ok
    assert "data/nlu/uk/: intent 'entry_fast_track' has only 3 training examples" in output
    assert "data/figures.yml: minimum_wage: no value valid today" in output


def test_missing_accuracy_file_is_an_error(project: Path) -> None:
    report = check(root=project, today=dt.date(2026, 11, 25),
                   accuracy_file=project / "nope.json")
    assert not report.ok
