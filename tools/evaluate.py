"""NLU evaluation on the held-out sets (tests/nlu/<lang>/*.yml, never used for training):
intent accuracy per language and the most frequent confusions. `make eval` prints it."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.languages import registry
from bot.settings import PROJECT_ROOT

HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu"


@dataclass
class LanguageResult:
    language: str
    total: int = 0
    correct: int = 0
    fallback: int = 0
    per_intent: dict[str, list[int]] = field(default_factory=dict)  # intent -> [correct, total]
    confusions: collections.Counter = field(default_factory=collections.Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_examples(language: str, root: Path = HELDOUT_DIR) -> list[tuple[str, str]]:
    """(text, intent) pairs of one language's held-out files."""
    pairs = []
    files = sorted((root / language).glob("*.yml")) or [
        f for f in [root / f"{language}.yml"] if f.exists()]
    for file in files:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((line[2:].strip(), block["intent"]))
    return pairs


async def evaluate(agent, languages: list[str],  # type: ignore[no-untyped-def]
                   root: Path = HELDOUT_DIR) -> list[LanguageResult]:
    results = []
    for language in languages:
        result = LanguageResult(language)
        for text, expected in load_examples(language, root):
            parsed = await agent.parse_message(text)
            got = parsed["intent"]["name"]
            result.total += 1
            cell = result.per_intent.setdefault(expected, [0, 0])
            cell[1] += 1
            if got == expected:
                result.correct += 1
                cell[0] += 1
            else:
                result.fallback += got == "nlu_fallback"
                result.confusions[(expected, got)] += 1
                result.errors.append((text, expected, got))
        results.append(result)
    return results


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level (with the text); keep tools quiet and private."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    for name in ("rasa", "rasa_sdk", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_agent(model: Path):  # type: ignore[no-untyped-def]
    from rasa.core.agent import Agent

    quiet_rasa()
    return Agent.load(str(model))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--languages", nargs="*", default=None)
    parser.add_argument("--errors", action="store_true", help="list every misclassified text")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--set", type=Path, default=HELDOUT_DIR,
                        help="evaluation set: <dir>/<lang>/*.yml or <dir>/<lang>.yml "
                             "(default tests/nlu; tests/nlu_blind is the blind set)")
    args = parser.parse_args()

    from tools.train import ensure_model

    languages = args.languages or list(registry().codes)
    started = time.perf_counter()
    agent = load_agent(ensure_model())
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    results = asyncio.run(evaluate(agent, languages, args.set))
    n = sum(r.total for r in results)
    per_msg_ms = (time.perf_counter() - started) / max(n, 1) * 1000

    print(f"\nIntent accuracy on {args.set} (model load {load_s:.1f} s, "
          f"{per_msg_ms:.1f} ms/message)\n")
    print(f"{'lang':6}{'examples':>10}{'accuracy':>10}{'fallback':>10}")
    for r in results:
        print(f"{r.language:6}{r.total:>10}{r.accuracy:>10.3f}{r.fallback:>10}")
    for r in results:
        if r.confusions:
            top = ", ".join(f"{e}→{g} ×{c}" for (e, g), c in r.confusions.most_common(8))
            print(f"\n[{r.language}] most frequent confusions: {top}")
        if args.errors:
            for text, expected, got in r.errors:
                print(f"  [{r.language}] {expected:26} → {got:26} {text}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            r.language: {"total": r.total, "accuracy": round(r.accuracy, 4),
                         "per_intent": r.per_intent} for r in results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
