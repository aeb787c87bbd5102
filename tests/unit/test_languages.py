"""Language detection and the rules that choose the conversation language."""

from __future__ import annotations

import pytest

from bot.languages import Detection, Source, detector, registry, resolve_language


def det(code: str | None, confident: bool = True) -> Detection:
    return Detection(code, 0.99 if confident else 0.3, confident, registry().is_supported(code))


def test_registry_lists_the_six_languages_with_english_default() -> None:
    reg = registry()
    assert reg.codes == ("de", "en", "ar", "tr", "ru", "uk")
    assert reg.default == "en"
    assert reg.languages["ar"].rtl and not reg.languages["de"].rtl


@pytest.mark.parametrize("raw,expected", [("de-AT", "de"), ("UK", "uk"), ("pt-BR", None),
                                          ("", None), (None, None), ("ru_RU", "ru")])
def test_client_codes_are_normalised(raw: str | None, expected: str | None) -> None:
    assert registry().normalise(raw) == expected


def test_nothing_known_means_default_language() -> None:
    state = resolve_language(current=None, current_source=None, detection=None,
                             client_code=None)
    assert (state.language, state.source) == ("en", Source.NONE)


def test_client_code_sets_language_when_nothing_stronger_is_known() -> None:
    state = resolve_language(current=None, current_source=None, detection=det(None, False),
                             client_code="uk")
    assert (state.language, state.source) == ("uk", Source.CLIENT)


def test_confident_detection_beats_client_code() -> None:
    state = resolve_language(current="de", current_source="client", detection=det("ar"),
                             client_code="de")
    assert (state.language, state.source) == ("ar", Source.DETECTED)


def test_detection_follows_a_person_who_switches_language() -> None:
    state = resolve_language(current="ru", current_source="detected", detection=det("uk"),
                             client_code="ru")
    assert state.language == "uk"


def test_explicit_choice_is_not_overridden_by_detection_or_client() -> None:
    state = resolve_language(current="en", current_source="explicit", detection=det("tr"),
                             client_code="de")
    assert (state.language, state.source) == ("en", Source.EXPLICIT)


def test_explicit_choice_wins_over_everything() -> None:
    state = resolve_language(current="en", current_source="explicit", detection=det("en"),
                             client_code="en", explicit="tr")
    assert (state.language, state.source) == ("tr", Source.EXPLICIT)


def test_unsure_detection_keeps_the_language() -> None:
    state = resolve_language(current="uk", current_source="detected",
                             detection=det("de", confident=False), client_code=None)
    assert state.language == "uk"


def test_unsupported_language_is_reported_but_does_not_change_the_slot() -> None:
    state = resolve_language(current="ar", current_source="detected",
                             detection=Detection("fr", 0.99, True, False), client_code=None)
    assert (state.language, state.unsupported) == ("ar", "fr")


@pytest.mark.parametrize("text", ["ok", "👍", "Anerkennung", "Blaue Karte", "?", "",
                                  "Anerkennung Krankenkasse Ausländerbehörde", "/greet"])
def test_short_or_term_only_messages_never_count_as_confident(text: str) -> None:
    assert not detector().detect(text).confident


@pytest.mark.parametrize("text,code", [
    ("Як мені визнати диплом медсестри в Німеччині?", "uk"),
    ("Как мне признать диплом медсестры в Германии?", "ru"),
    ("كيف يمكنني الاعتراف بشهادتي في ألمانيا؟", "ar"),
    ("Hemsire diplomami Almanyada nasil tanitirim", "tr"),
    ("Hemşire diplomamı Almanya'da nasıl tanıtırım?", "tr"),
    ("Wie lange dauert die Anerkennung meines Abschlusses?", "de"),
    ("How long does the recognition of my degree take?", "en"),
    ("як працює beschleunigtes Fachkräfteverfahren для медсестри?", "uk"),
    ("هل الـ Anerkennungszuschuss بيشمل الترجمة والتصديق؟", "ar"),
])
def test_detection_tells_the_six_apart_even_with_german_terms(text: str, code: str) -> None:
    found = detector().detect(text)
    assert found.confident and found.code == code, found


def test_other_languages_are_detected_as_unsupported() -> None:
    found = detector().detect("Bonjour, je voudrais faire reconnaître mon diplôme d'infirmière")
    assert found.confident and found.code == "fr" and not found.supported
