"""Latin-script Arabic/Russian/Ukrainian and the gate's other decisions (no words at all,
Germany as destination, not as the country of a qualification)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.languages import detector, registry
from bot.romanized import RomanizedLanguageId, is_latin, training_examples

ARABIZI = ["3andi shahadet handase w bade a3mal mo3adale", "kif a3mel mo3adalet shahadti",
           "ana mohandes men masr w 3ayez a3mal fi almanya", "ba7ebb a3rf el awra2 el matloba",
           "shu lazem a3mel la a2dar eshte8el", "bekam el mo3adala lel shahada"]
RUSSIAN = ["privet ya medsestra nuzhno li mne priznanie diploma", "skolko stoit priznanie",
           "kak poluchit vizu dlya raboty v germanii", "ya svarshchik iz kazakhstana",
           "chto delat posle priezda v germaniyu", "mozhno li rabotat vo vremya priznaniya"]
ENGLISH = ["do I need recognition of my diploma", "how much does the visa cost",
           "I am a nurse from Kenya", "what documents do I need for the application",
           "can my family come with me", "how long does it take"]
GERMAN = ["brauche ich eine anerkennung", "wie lange dauert das verfahren",
          "ich bin krankenschwester aus indien", "welche unterlagen brauche ich",
          "kann meine familie mitkommen", "was kostet das visum"]


@pytest.fixture(scope="module")
def romanized() -> RomanizedLanguageId:
    texts = ARABIZI + RUSSIAN + ENGLISH + GERMAN
    labels = ["ar"] * 6 + ["ru"] * 6 + ["en"] * 6 + ["de"] * 6
    return RomanizedLanguageId().fit(texts, labels)


def test_latin_script_is_told_apart_from_other_scripts() -> None:
    assert is_latin("3andi shahadet handase")
    assert is_latin("Anerkennung für Ärzte")
    assert not is_latin("عندي شهادة هندسة")
    assert not is_latin("нужно ли признание")
    assert not is_latin("123 👍")


def test_arabizi_is_arabic_not_an_unsupported_language(romanized: RomanizedLanguageId) -> None:
    text = "3andi shahadet handase w bade a3mal mo3adale fi almanya"
    plain = detector().detect(text)
    assert plain.code != "ar"  # a general detector has never seen Arabizi
    found = detector().detect(text, romanized)
    assert (found.code, found.supported, found.transliterated) == ("ar", True, True)
    assert found.confident


def test_a_sure_english_sentence_stays_english(romanized: RomanizedLanguageId) -> None:
    found = detector().detect("Hello, I am a nurse from Kenya, do I need recognition?",
                              romanized)
    assert found.code == "en" and not found.transliterated


def test_native_script_is_not_sent_through_the_latin_classifier(
        romanized: RomanizedLanguageId) -> None:
    found = detector().detect("Здравствуйте, нужно ли мне признание диплома медсестры?",
                              romanized)
    assert found.code == "ru" and not found.transliterated


def test_short_transliterated_message_does_not_flip_the_language(
        romanized: RomanizedLanguageId) -> None:
    assert not detector().detect("ok", romanized).confident


def test_training_lines_of_other_scripts_must_be_real_transliterations(tmp_path: Path) -> None:
    """A German term in an Arabic file ("Anerkennung?") is not Arabizi."""
    for lang, lines in {"ar": ["Anerkennung Krankenschwester?", "3andi shahadet handase w bade",
                               "عندي شهادة"],
                        "de": ["Anerkennung für Krankenschwester", "brauche ich das"]}.items():
        (tmp_path / lang).mkdir()
        body = "\n".join(f"    - {line}" for line in lines)
        (tmp_path / lang / "x.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: x\n  examples: |\n{body}\n', encoding="utf-8")
    texts, labels = training_examples(tmp_path, ("de", "ar"), registry().latin_script)
    assert sorted(zip(texts, labels, strict=True)) == [
        ("3andi shahadet handase w bade", "ar"), ("Anerkennung für Krankenschwester", "de"),
        ("brauche ich das", "de")]
