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
