"""Messages without words get the fallback: key mashing is told from words in every script,
and no training line is taken for it."""

from __future__ import annotations

import pytest

from bot.gibberish import is_gibberish, is_key_mashing
from tools.evaluate import TRAINING_DIR, _rasa_file_examples

MASHED = [
    "asdfghjkl", "qwertzuiop", "yxcvbnm", "qsdfghjklm",  # QWERTY / QWERTZ / AZERTY rows
    "lkjhgf 4711", "sdfgsdfg qweqwe", "asdasdasd", "qwe qwe zxc",
    "ывапролдж", "йцукенгшщз", "фывфывфыв фыв",  # ЙЦУКЕН
    "фівапролд",  # Ukrainian home row
    "ضصثقفغعه", "شسيبلاتنم",  # Arabic rows
]
WORDS = [
    # stretched and doubled words, laughter, short answers
    "нееет", "неее", "папа", "baybay", "byebye", "hahaha", "хахаха", "jaaa", "nooo",
    "ok", "ja", "were", "wer ist das", "asd", "sdf?",
    # ordinary questions in each language
    "wie lange dauert die anerkennung", "do I need a visa", "كم تكلفة المعادلة",
    "сколько стоит признание", "скільки коштує визнання", "denklik ne kadar sürer",
    "3andi shahadet handase", "nuzhno li priznanie diploma",
]


@pytest.mark.parametrize("text", MASHED)
def test_key_mashing_is_noticed(text: str) -> None:
    assert is_key_mashing(text)
    assert is_gibberish(text)  # so the language gate answers with the fallback


@pytest.mark.parametrize("text", WORDS)
def test_words_are_not_key_mashing(text: str) -> None:
    assert not is_key_mashing(text)


def test_no_training_line_is_taken_for_key_mashing() -> None:
    flagged = [(e.intent, e.text) for f in sorted(TRAINING_DIR.rglob("*.yml"))
               for e in _rasa_file_examples(f) if is_key_mashing(e.text)]
    assert flagged == []


@pytest.mark.parametrize("text", ["A" * 4096, "aaaaaaaaaaaa", "ыыыыыыыыыы",
                                  "asdkjhaskdjhaskjdhaskjdhaskjdhaskjdhaksjdhaksjdhaksjdh"])
def test_no_words_is_gibberish(text: str) -> None:
    assert is_gibberish(text)


@pytest.mark.parametrize("text", ["ok", "ja", "👍", "Anerkennung?", "Aaah danke!",
                                  "Wie lange dauert die Anerkennung meines Diploms?"])
def test_real_messages_are_not_gibberish(text: str) -> None:
    assert not is_gibberish(text)
