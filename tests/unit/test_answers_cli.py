"""`python -m bot answers`: every response as sent on a day; after the 2026 thresholds have
ended, none of them is presented as current, in any language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.cli import main
from bot.texts import wording

LANGUAGES = ["de", "en", "ar", "tr", "ru", "uk"]
LINK = "https://www.make-it-in-germany.com"
# The 2026 thresholds as each language writes them (facts.md), independent of the code.
_NNBSP = "\u202f"
THRESHOLDS_2026 = {
    "en": ["€50,700", "€45,934.20", "€55,770", "€45,630"],
    "de": ["50.700 €", "45.934,20 €", "55.770 €", "45.630 €"],
    "tr": ["50.700 €", "45.934,20 €", "55.770 €", "45.630 €"],
    "ar": ["50,700 €", "45,934.20 €", "55,770 €", "45,630 €"],
    "ru": [f"50{_NNBSP}700 €", f"45{_NNBSP}934,20 €", f"55{_NNBSP}770 €", f"45{_NNBSP}630 €"],
    "uk": [f"50{_NNBSP}700 €", f"45{_NNBSP}934,20 €", f"55{_NNBSP}770 €", f"45{_NNBSP}630 €"],
}
WAGE = {"en": ("€13.90/h", "€14.60/h"), "ar": ("13.90 €/h", "14.60 €/h"),
        **{lang: ("13,90 €/h", "14,60 €/h") for lang in ("de", "tr", "ru", "uk")}}


def answers(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["answers", *args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _occurrences(text: str, amount: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(amount), text)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_2026_threshold_is_presented_as_current_in_2027(
        capsys: pytest.CaptureFixture[str], language: str) -> None:
    out = answers(capsys, "--lang", language, "--today", "2027-01-02")
    seen = 0
    as_current = wording(language).with_year.replace("{year}", "2026")
    for name, message in out.items():
        text = message["text"]
        for amount in THRESHOLDS_2026[language]:
            for at in _occurrences(text, amount):
                seen += 1
                after = text[at + len(amount): at + len(amount) + 40]
                # never "€50,700 (2026)" as if current: marked as the 2026 value …
                assert as_current.replace("{amount}", amount) not in text, (name, after)
                assert "2026" in after, (name, after)
                # … and the answer says that new amounts apply from 2027, with the link
                note = [line for line in text.splitlines() if "2027" in line and LINK in line]
                assert note, (name, text)
    assert seen >= 4  # the Blue Card (2) and skilled-worker (2) answers name them
    wage_2026, wage_2027 = WAGE[language]
    assert wage_2026 not in out["utter_work_rights"]["text"]
    assert wage_2027 in out["utter_work_rights"]["text"]  # its 2027 value is known


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("today", ["2026-11-10", "2026-12-01"])
def test_before_the_end_thresholds_show_their_year(
        capsys: pytest.CaptureFixture[str], language: str, today: str) -> None:
    out = answers(capsys, "--lang", language, "--today", today)
    text = out["utter_visa_blue_card"]["text"]
    for amount in THRESHOLDS_2026[language][:2]:
        assert re.search(re.escape(amount) + r" \((\D*)2026\)", text), text
    assert "2027" not in text  # nothing announces a change yet


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_response_with_topic_extras(capsys: pytest.CaptureFixture[str],
                                          language: str) -> None:
    out = answers(capsys, "--lang", language, "--today", "2026-12-01")
    assert "utter_greet" in out and "utter_cs_new_case" in out
    assert len(out) > 70
    for name in ("utter_recognition_need", "utter_entry_visa_refused", "utter_work_rights"):
        assert out[name]["text"].splitlines()[-1].endswith("12/2026")
        assert out[name]["buttons"][-1]["payload"] == "/request_counsellor"
    assert "{case_ref}" in out["utter_case_queued"]["text"]  # sender values stay visible


def test_profession_option(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.texts import load_professions

    nurse = load_professions("en")["nurse"]["recognition_need"]
    out = answers(capsys, "--lang", "en", "--profession", "nurse")
    assert out["utter_recognition_need"]["text"].startswith(nurse.split("{")[0][:40])
    generic = answers(capsys, "--lang", "en")
    assert out["utter_visa_family"] == generic["utter_visa_family"]
    assert main(["answers", "--lang", "en", "--profession", "astronaut"]) == 2


def test_plain_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["answers", "--lang", "de", "--today", "2026-12-01"]) == 0
    text = capsys.readouterr().out
    assert "== utter_visa_blue_card\n" in text
    assert "  [Persönliche Beratung] /request_counsellor" in text


def test_content_check_takes_a_day(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["content-check", "--today", "2027-01-02"])
    out = capsys.readouterr().out
    assert code == 1
    assert ("ERROR   data/figures.yml: pension_contribution_ceiling: no value for 2027"
            in out)
