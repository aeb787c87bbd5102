"""Folding and the consonant skeleton (bot/normalise.py): the second, script-independent view
of a message that lets Latin-script Arabic, Russian and Ukrainian meet the native-script
training examples (docs/decisions/0007)."""

from __future__ import annotations

import pytest

from bot.normalise import fold, skeleton


def test_fold_drops_the_marks_people_leave_out() -> None:
    assert fold("Ärztin in München, hemşire, ЁЛКА") == "arztin in munchen, hemsire, елка"
    assert fold("مُهَنْدِسَة") == "مهندسه"
    assert fold("її й") == "її й"  # Ukrainian letters keep their marks


@pytest.mark.parametrize(("latin", "native"), [
    ("3andi shahada handase", "عندي شهادة هندسة"),
    ("ana mohandes", "انا مهندس"),
    ("nuzhno li priznanie diploma", "нужно ли признание диплома"),
    ("potribno vyznannya dyplomu", "потрібно визнання диплому"),
    ("zhena i deti", "жена и дети"),
])
def test_a_latin_spelling_and_the_native_script_share_a_skeleton(latin: str, native: str) -> None:
    assert skeleton(latin) == skeleton(native)


@pytest.mark.parametrize("spellings", [
    ("shahada", "shahade", "šahada", "shahadeh"),
    ("ma7al", "mahal", "ma77al"),
    ("5alas", "khalas", "xalas", "خلص"),
])
def test_spelling_variants_of_arabizi_meet(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(s) for s in spellings}) == 1


def test_digits_are_letters_only_inside_words() -> None:
    # Arabizi digits next to letters are letters; years, paragraphs and prices stay numbers
    assert skeleton("3amel") == skeleton("عامل")
    assert "2026" in skeleton("seit 2026")
    assert "18" in skeleton("§18a")
    assert "1500" in skeleton("1500 euro")


def test_skeleton_letters_do_not_collide_with_typed_capitals() -> None:
    # S/C/Z stand for sh/ch/zh; typed capitals are folded first
    assert skeleton("SHARE") == skeleton("share") == "Sr"
    assert skeleton("Cash") == "cS"
