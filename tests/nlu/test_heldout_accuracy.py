"""NLU evaluation on the held-out sets in tests/nlu/<lang>/ (never used for training):
at least 90 % intent accuracy in every supported language."""

from __future__ import annotations

from typing import Any

import pytest

from bot.languages import registry
from tools.evaluate import LanguageResult, evaluate, load_examples

MIN_ACCURACY = 0.90
_results: dict[str, LanguageResult] = {}


@pytest.mark.parametrize("language", registry().codes)
async def test_heldout_accuracy(agent: Any, language: str) -> None:
    assert len(load_examples(language)) >= 300, "held-out set too small to measure"
    result = (await evaluate(agent, [language]))[0]
    _results[language] = result
    worst = ", ".join(f"{e}→{g}×{c}" for (e, g), c in result.confusions.most_common(5))
    assert result.accuracy >= MIN_ACCURACY, (
        f"{language}: {result.accuracy:.3f} < {MIN_ACCURACY}; top confusions: {worst}")


def test_heldout_never_trained_on() -> None:
    """A held-out line that also appears in the training data would inflate the figure."""
    from pathlib import Path

    def key(text: str) -> str:
        return " ".join(text.casefold().split())

    for language in registry().codes:
        trained = {key(t) for t, _i in load_examples(language, Path("data/nlu"))}
        leaked = [t for t, _i in load_examples(language) if key(t) in trained]
        assert not leaked, f"{language}: held-out lines found in training data: {leaked[:5]}"
