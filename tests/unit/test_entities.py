"""Entities from the gazetteers, in every script, with normalised values."""

from __future__ import annotations

import pytest

from bot.entities import matcher


def values(text: str, entity: str) -> list[str]:
    return [m.value for m in matcher().find(text) if m.entity == entity]


@pytest.mark.parametrize("text,state", [
    ("Ich will nach München", "BY"),
    ("i want to work in munchen", "BY"),
    ("Münih'te çalışmak istiyorum", "BY"),
    ("хочу работать в Мюнхене", "BY"),
    ("أريد العمل في ميونخ", "BY"),
    ("Job in Köln", "NW"),
    ("я живу в Берліні", "BE"),
    ("Baden-Württemberg", "BW"),
    ("NRW", "NW"),
])
def test_cities_and_states_map_to_the_state_code(text: str, state: str) -> None:
    assert values(text, "region") == [state]


@pytest.mark.parametrize("text,lang", [
    ("answer in Arabic please", "ar"), ("auf Türkisch bitte", "tr"),
    ("говори по-русски", "ru"), ("відповідай українською", "uk"),
    ("بالعربي لو سمحت", "ar"), ("ingilizce konuşalım", "en"),
])
def test_languages_are_normalised_to_iso_codes(text: str, lang: str) -> None:
    assert values(text, "language") == [lang]


def test_profession_and_country_in_one_message() -> None:
    found = matcher().find("Ich bin Krankenschwester aus Syrien")
    assert ("profession", "nurse") in [(m.entity, m.value) for m in found]
    assert ("country", "SY") in [(m.entity, m.value) for m in found]


def test_match_offsets_point_into_the_original_text() -> None:
    text = "Я медсестра из Украины"
    for m in matcher().find(text):
        assert text[m.start:m.end] == m.text


def test_no_entities_in_plain_text() -> None:
    assert matcher().find("hello, how are you?") == []
