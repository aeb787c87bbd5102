"""Texts: translations merged as language-conditioned variants and rendered by the NLG."""

from __future__ import annotations

from typing import Any

import pytest

from bot.languages import registry
from bot.texts import localised_responses


def test_every_response_has_one_variant_per_language() -> None:
    merged = localised_responses()
    for name, variants in merged.items():
        if name == "utter_unsupported_language":
            assert len(variants) == 1
            continue
        conditioned = {v["condition"][0]["value"] for v in variants if v.get("condition")}
        assert conditioned == set(registry().codes) - {"en"}, name


def test_translated_buttons_keep_the_source_payloads() -> None:
    merged = localised_responses()
    source = [b["payload"] for b in merged["utter_help"][0]["buttons"]]
    for variant in merged["utter_help"][1:]:
        assert [b["payload"] for b in variant["buttons"]] == source


@pytest.mark.parametrize("language", ["de", "en", "ar", "tr", "ru", "uk"])
async def test_nlg_answers_in_the_slot_language_with_figures(language: str) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.languages import detector
    from extensions.nlg import LocalizedNLG

    domain = Domain.load("domain.yml")
    nlg = LocalizedNLG(domain=None)
    nlg.responses = domain.responses  # what Rasa's Agent does once the model is loaded
    tracker = DialogueStateTracker.from_events("s", [], slots=domain.slots)
    tracker.slots["language"].value = language
    out: dict[str, Any] = await nlg.generate("utter_visa_blue_card", tracker, "collector")
    assert "{" not in out["text"], out["text"]
    assert "50" in out["text"] and "700" in out["text"]  # the 2026 threshold, formatted
    assert detector().detect(out["text"]).code == language, out["text"]


# ------------------------------------------------------------------ topic answers

import datetime as dt  # noqa: E402
from functools import lru_cache  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from bot.catalogue import TOPIC_ANSWERS, TOPIC_OF_INTENT  # noqa: E402
from bot.settings import PROJECT_ROOT  # noqa: E402
from bot.texts import (  # noqa: E402
    COUNSELLOR_PAYLOAD,
    compose,
    load_professions,
    profession_group,
    render,
)
from bot.understanding import intent_title  # noqa: E402

AS_OF = {"en": "As of: 12/2026", "de": "Stand: 12/2026", "ar": "آخر مراجعة: 12/2026",
         "tr": "Son kontrol: 12/2026", "ru": "По состоянию на 12/2026",
         "uk": "Станом на 12/2026"}
LANGUAGES = list(AS_OF)
SPEC = PROJECT_ROOT.parent.parent / "shared/spec/intents.yml"


def test_the_catalogue_copy_matches_the_domain_and_the_spec() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    # beyond the catalogue: cancelling a request, showing one's data (GDPR Art. 15), and the
    # language gate's own intent
    assert set(TOPIC_OF_INTENT) == intents - {"cancel_case", "show_my_data",
                                              "unsupported_language"}
    assert set(domain["responses"]) >= TOPIC_ANSWERS
    assert len(TOPIC_ANSWERS) == 30  # 8 recognition + 11 visa + 6 entry + 5 integration
    if SPEC.exists():  # the shared spec is only there in the team's checkout
        spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        assert {i["name"]: i["topic"] for i in spec["intents"]} == TOPIC_OF_INTENT


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_topic_answer_is_dated_and_offers_a_counsellor(language: str) -> None:
    for name in ("utter_visa_family", "utter_recognition_costs", "utter_scam_check"):
        out = render(name, language, today=dt.date(2026, 12, 1))
        assert out.text.splitlines()[-1] == AS_OF[language], out.text
        assert [p for _, p in out.buttons] == [COUNSELLOR_PAYLOAD]
        title = out.buttons[0][0]
        assert (title == "Talk to a counsellor") == (language == "en"), title


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_question_and_fallback_offers_a_counsellor(language: str) -> None:
    # bot/understanding.right_after_one_tap counts this button for every question and fallback
    for name in ("utter_clarify", "utter_fallback"):
        assert COUNSELLOR_PAYLOAD in [p for _, p in render(name, language).buttons], name


def test_other_responses_get_neither() -> None:
    greet = render("utter_greet", "en")
    assert "As of" not in greet.text
    assert [p for _, p in greet.buttons].count(COUNSELLOR_PAYLOAD) == 1  # its own menu button
    assert render("utter_goodbye", "de").buttons == ()


def test_the_counsellor_button_comes_after_existing_buttons_and_never_twice() -> None:
    values: dict[str, Any] = {}
    variant = {"text": "x", "buttons": [{"title": "Quick-Check", "payload": "/visa_options"}]}
    out = compose("utter_visa_options", variant, "en", values=values)
    assert [b["payload"] for b in out["buttons"]] == ["/visa_options", COUNSELLOR_PAYLOAD]
    variant["buttons"].append({"title": "Ask a person", "payload": COUNSELLOR_PAYLOAD})
    out = compose("utter_visa_options", variant, "en", values=values)
    assert [b["title"] for b in out["buttons"]] == ["Quick-Check", "Ask a person"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_plausible_topics_are_offered_under_an_answer(language: str) -> None:
    variant = {"text": "x"}
    out = compose("utter_entry_visa_application", variant, language, values={},
                  also_asked="recognition_costs",
                  alternatives=["recognition_documents", "entry_visa_application", "thank",
                                "recognition_costs", "visa_family", "visa_options"])
    # the second question first, then at most two others (not the answer itself, not a
    # meta intent, not twice), then the counsellor
    assert [b["payload"] for b in out["buttons"]] == [
        "/recognition_costs", "/recognition_documents", "/visa_family", COUNSELLOR_PAYLOAD]
    title = render("utter_or_topic", language).text.replace(
        "{topic}", intent_title("recognition_documents", language))
    assert out["buttons"][1]["title"] == title and "{" not in title
    assert compose("utter_greet", {"text": "hi"}, language, values={},
                   alternatives=["visa_family"]).get("buttons") is None


def _profession_fields(language: str) -> dict[str, str]:
    return load_professions(language).get("nurse", {})


def test_profession_groups_cover_canonical_values() -> None:
    assert profession_group("software_developer") == "it_specialist"
    assert profession_group("civil_engineer") == "engineer"
    assert profession_group("nurse") == "nurse"
    assert profession_group("cook") is None and profession_group(None) is None
    assert profession_group("Krankenschwester") is None  # free text is not a slot value


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_profession_text_replaces_the_generic_answer(language: str) -> None:
    fields = _profession_fields("en")
    assert "recognition_need" in fields  # real data (data/professions/en.yml)
    generic = render("utter_recognition_need", language).text
    nurse = render("utter_recognition_need", language, profession="nurse")
    own = _profession_fields(language).get("recognition_need")
    if own:  # the language has it: the profession text, still dated, with the button
        assert nurse.text.startswith(own.split("{")[0].strip()[:40])
        assert nurse.text != generic
    else:  # not translated yet: the generic answer in the person's language
        assert nurse.text == generic
    assert nurse.text.splitlines()[-1] == AS_OF[language]
    assert [p for _, p in nurse.buttons] == [COUNSELLOR_PAYLOAD]
    # an answer the profession has no text for stays generic
    assert (render("utter_visa_family", language, profession="nurse").text
            == render("utter_visa_family", language).text)


@lru_cache(maxsize=1)
def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


async def _nlg_out(name: str, language: str, today: dt.date,
                   profession: str | None = None) -> dict[str, Any]:
    from rasa.shared.core.trackers import DialogueStateTracker

    from extensions.nlg import LocalizedNLG

    domain = _domain()
    nlg = LocalizedNLG(domain=None, today=lambda: today)
    nlg.responses = domain.responses
    tracker = DialogueStateTracker.from_events("s", [], slots=domain.slots)
    tracker.slots["language"].value = language
    tracker.slots["profession"].value = profession
    out: dict[str, Any] = await nlg.generate(name, tracker, "collector")
    return out


@pytest.mark.parametrize("language", LANGUAGES)
async def test_rasa_nlg_and_render_send_the_same_message(language: str) -> None:
    for name, today, profession in [("utter_visa_blue_card", dt.date(2027, 1, 2), None),
                                    ("utter_work_rights", dt.date(2026, 12, 1), None),
                                    ("utter_recognition_need", dt.date(2026, 12, 1), "nurse"),
                                    ("utter_greet", dt.date(2026, 12, 1), None)]:
        out = await _nlg_out(name, language, today, profession)
        expected = render(name, language, today=today, profession=profession)
        assert out["text"] == expected.text, (name, language)
        assert [(b["title"], b["payload"]) for b in out.get("buttons") or []] == list(
            expected.buttons), (name, language)


async def test_the_nlg_uses_the_profession_slot() -> None:
    out = await _nlg_out("utter_recognition_need", "en", dt.date(2026, 12, 1),
                         "nurse")
    own = _profession_fields("en")["recognition_need"]
    assert out["text"].startswith(own.split("{")[0].strip()[:40])
    assert out["text"].endswith("\nAs of: 12/2026")


def test_professions_file_format_is_as_documented() -> None:
    groups = yaml.safe_load((PROJECT_ROOT / "data/professions/groups.yml").read_text("utf-8"))
    assert groups["engineer"] == ["engineer", "mechanical_engineer", "civil_engineer",
                                  "electrical_engineer"]
    assert groups["professional_driver"] == ["truck_driver", "bus_driver"]
    for file in Path(PROJECT_ROOT / "data/professions").glob("*.yml"):
        if file.name != "groups.yml":
            for prof, fields in (yaml.safe_load(file.read_text("utf-8")) or {}).items():
                assert prof in groups, (file, prof)
                assert all(f"utter_{f}" in TOPIC_ANSWERS for f in fields), (file, prof)
