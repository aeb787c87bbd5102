"""NLU evaluation on sets never used for training: intent accuracy per language (and per
writing style on the realistic set), the share of confidently wrong answers, the most
frequent confusions, and the textbook baseline (TF-IDF + LinearSVC, same training data,
same sets, same run) side by side. `make eval` prints it.

"Right at once" is the share whose first reply is right (the accuracy: an unclear message is
answered with a question, counted as nlu_fallback); "right after one tap" also counts the
messages where the assistant asked and the expected topic was among its buttons
(bot/understanding.py decides, as in the running assistant).

Sets: tests/nlu/<lang>/*.yml (held-out, Rasa format), tests/nlu_blind/<lang>.yml (blind,
Rasa format), tests/nlu_real/<lang>.yml (realistic messages labelled with a style)."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.languages import registry
from bot.settings import PROJECT_ROOT
from bot.understanding import Ask, Decision, decide, right_after_one_tap

HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu"
BLIND_DIR = PROJECT_ROOT / "tests" / "nlu_blind"
REAL_DIR = PROJECT_ROOT / "tests" / "nlu_real"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    style: str = ""


@dataclass
class Score:
    """Counts of one slice (a language, a style, or both)."""

    total: int = 0
    correct: int = 0
    fallback: int = 0
    confidently_wrong: int = 0  # a wrong intent, not the fallback: the person gets a wrong answer
    asked: int = 0  # the assistant offered topics as buttons
    tapped: int = 0  # right at once, or the expected topic was among the buttons

    def add(self, expected: str, got: str, decision: Decision | None = None) -> None:
        self.total += 1
        if got == expected:
            self.correct += 1
        elif got == FALLBACK:
            self.fallback += 1
        else:
            self.confidently_wrong += 1
        if isinstance(decision, Ask):
            self.asked += 1
        if got == expected or (decision is not None and right_after_one_tap(decision, expected)):
            self.tapped += 1

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def wrong_share(self) -> float:
        return self.confidently_wrong / self.total if self.total else 0.0

    @property
    def one_tap(self) -> float:
        return self.tapped / self.total if self.total else 0.0

    @property
    def asked_share(self) -> float:
        return self.asked / self.total if self.total else 0.0


@dataclass
class LanguageResult:
    language: str
    score: Score = field(default_factory=Score)
    per_style: dict[str, Score] = field(default_factory=dict)
    per_intent: dict[str, list[int]] = field(default_factory=dict)  # intent -> [correct, total]
    confusions: collections.Counter = field(default_factory=collections.Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    @property
    def total(self) -> int:
        return self.score.total

    @property
    def correct(self) -> int:
        return self.score.correct

    @property
    def fallback(self) -> int:
        return self.score.fallback

    @property
    def accuracy(self) -> float:
        return self.score.accuracy

    def add(self, example: Example, got: str, decision: Decision | None = None) -> None:
        self.score.add(example.intent, got, decision)
        if example.style:
            self.per_style.setdefault(example.style, Score()).add(example.intent, got, decision)
        cell = self.per_intent.setdefault(example.intent, [0, 0])
        cell[1] += 1
        if got == example.intent:
            cell[0] += 1
        else:
            self.confusions[(example.intent, got)] += 1
            self.errors.append((example.text, example.intent, got))


def _rasa_file_examples(file: Path) -> list[Example]:
    doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    out = []
    for block in doc.get("nlu", []) or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(Example(line[2:].strip(), block["intent"]))
    return out


def _styled_file_examples(file: Path) -> list[Example]:
    doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return [Example(str(e["text"]), str(e["intent"]), str(e.get("style", "")))
            for e in doc.get("examples", []) or []]


def load_set(language: str, root: Path = HELDOUT_DIR) -> list[Example]:
    """The examples of one language in a set: `<root>/<lang>/*.yml` or `<root>/<lang>.yml`,
    in Rasa's NLU format or the styled format (`examples: [{intent, style, text}]`)."""
    files = sorted((root / language).glob("*.yml")) or [
        f for f in [root / f"{language}.yml"] if f.exists()]
    out: list[Example] = []
    for file in files:
        head = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        out += _styled_file_examples(file) if "examples" in head else _rasa_file_examples(file)
    return out


def load_examples(language: str, root: Path = HELDOUT_DIR) -> list[tuple[str, str]]:
    """(text, intent) pairs of one language's set."""
    return [(e.text, e.intent) for e in load_set(language, root)]


async def evaluate(agent, languages: list[str],  # type: ignore[no-untyped-def]
                   root: Path = HELDOUT_DIR) -> list[LanguageResult]:
    """Score the trained model (through Rasa's whole NLU pipeline, gate and fallback
    included) on one set."""
    results = []
    for language in languages:
        result = LanguageResult(language)
        for example in load_set(language, root):
            parsed = await agent.parse_message(example.text)
            result.add(example, parsed["intent"]["name"],
                       decide(parsed.get("intent_ranking") or []))
        results.append(result)
    return results


# ------------------------------------------------------------------ baseline


def train_baseline(training_dir: Path = TRAINING_DIR) -> tuple[Callable[[list[str]], list[str]],
                                                               float]:
    """The simplest strong baseline on the same training data: TF-IDF (word 1–2 +
    char_wb 2–5) and scikit-learn's LinearSVC with default settings, no fallback."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    texts, labels = [], []
    for file in sorted(training_dir.rglob("*.yml")):
        for example in _rasa_file_examples(file):
            texts.append(example.text)
            labels.append(example.intent)
    started = time.perf_counter()
    model = make_pipeline(
        make_union(TfidfVectorizer(analyzer="word", ngram_range=(1, 2)),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))),
        LinearSVC(random_state=0))
    model.fit(texts, labels)
    return (lambda batch: [str(x) for x in model.predict(batch)]), time.perf_counter() - started


def evaluate_baseline(predict: Callable[[list[str]], list[str]], languages: Iterable[str],
                      root: Path) -> list[LanguageResult]:
    results = []
    for language in languages:
        result = LanguageResult(language)
        examples = load_set(language, root)
        for example, got in zip(examples, predict([e.text for e in examples]) if examples
                                else [], strict=True):
            result.add(example, got)
        results.append(result)
    return results


# ------------------------------------------------------------------ report


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level (with the text); keep tools quiet and private."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    for name in ("rasa", "rasa_sdk", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_nlu_agent(model: Path):  # type: ignore[no-untyped-def]
    from rasa.core.agent import Agent

    quiet_rasa()
    return Agent.load(str(model))


def _macro(results: list[LanguageResult]) -> float:
    scored = [r.accuracy for r in results if r.total]
    return sum(scored) / len(scored) if scored else 0.0


def report(name: str, results: list[LanguageResult], baseline: list[LanguageResult],
           errors: bool = False) -> dict[str, Any]:
    """Print one set's figures and return them for the JSON file."""
    print(f"\n== {name}")
    print("model = right at once (accuracy); 1-tap = right at once or among the buttons")
    print(f"{'lang':6}{'n':>6}{'model':>8}{'base':>8}{'diff':>8}{'conf.wrong':>12}"
          f"{'fallback':>10}{'asked':>8}{'1-tap':>8}")
    for r, b in zip(results, baseline, strict=True):
        if r.total:
            print(f"{r.language:6}{r.total:>6}{r.accuracy:>8.3f}{b.accuracy:>8.3f}"
                  f"{r.accuracy - b.accuracy:>+8.3f}{r.score.wrong_share:>12.3f}"
                  f"{r.fallback:>10}{r.score.asked_share:>8.3f}{r.score.one_tap:>8.3f}")
    macro, base_macro = _macro(results), _macro(baseline)
    print(f"{'macro':6}{'':>6}{macro:>8.3f}{base_macro:>8.3f}{macro - base_macro:>+8.3f}")
    styles = sorted({s for r in results for s in r.per_style})
    if styles:
        print(f"\n{'style':10}" + "".join(f"{r.language:>8}" for r in results)
              + f"{'all':>8}{'base':>8}")
        for style in styles:
            cells = [r.per_style.get(style, Score()) for r in results]
            base = [b.per_style.get(style, Score()) for b in baseline]
            overall = sum(c.correct for c in cells) / max(sum(c.total for c in cells), 1)
            base_all = sum(c.correct for c in base) / max(sum(c.total for c in base), 1)
            print(f"{style:10}" + "".join(
                f"{c.accuracy:>8.3f}" if c.total else f"{'–':>8}" for c in cells)
                + f"{overall:>8.3f}{base_all:>8.3f}")
        print(f"\n{'1-tap':10}" + "".join(f"{r.language:>8}" for r in results) + f"{'all':>8}"
              + f"{'wrong':>8}")
        for style in styles:
            cells = [r.per_style.get(style, Score()) for r in results]
            overall = sum(c.tapped for c in cells) / max(sum(c.total for c in cells), 1)
            wrong = sum(c.confidently_wrong for c in cells) / max(sum(c.total for c in cells), 1)
            print(f"{style:10}" + "".join(
                f"{c.one_tap:>8.3f}" if c.total else f"{'–':>8}" for c in cells)
                + f"{overall:>8.3f}{wrong:>8.3f}")
    for r in results:
        if r.confusions:
            top = ", ".join(f"{e}→{g} ×{c}" for (e, g), c in r.confusions.most_common(6))
            print(f"[{r.language}] confusions: {top}")
        if errors:
            for text, expected, got in r.errors:
                print(f"  [{r.language}] {expected:26} → {got:26} {text}")
    return {
        "macro": round(macro, 4), "baseline_macro": round(base_macro, 4),
        "languages": {r.language: {
            "total": r.total, "accuracy": round(r.accuracy, 4),
            "baseline": round(b.accuracy, 4),
            "confidently_wrong": round(r.score.wrong_share, 4),
            "right_at_once": round(r.accuracy, 4),
            "right_after_one_tap": round(r.score.one_tap, 4),
            "asked": round(r.score.asked_share, 4),
            "per_style": {s: round(c.accuracy, 4) for s, c in sorted(r.per_style.items())},
            "per_style_one_tap": {s: round(c.one_tap, 4) for s, c in sorted(r.per_style.items())},
            "per_intent": r.per_intent} for r, b in zip(results, baseline, strict=True)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="*", default=None)
    parser.add_argument("--errors", action="store_true", help="list every misclassified text")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--set", type=Path, action="append", default=None,
                        help="evaluation set(s); default: held-out, blind and realistic")
    args = parser.parse_args()

    from tools.train import ensure_model

    languages = args.languages or list(registry().codes)
    sets = args.set or [s for s in (HELDOUT_DIR, BLIND_DIR, REAL_DIR) if s.exists()]
    quiet_rasa()  # training (when the data changed) logs every rule state at debug level
    model = ensure_model()
    started = time.perf_counter()
    agent = load_nlu_agent(model)
    load_s = time.perf_counter() - started
    predict, baseline_train_s = train_baseline()
    print(f"model load {load_s:.1f} s; baseline (TF-IDF word 1-2 + char_wb 2-5, LinearSVC) "
          f"trained in {baseline_train_s:.1f} s on the same training data")
    out: dict[str, Any] = {}
    for root in sets:
        started = time.perf_counter()
        results = asyncio.run(evaluate(agent, languages, root))
        n = sum(r.total for r in results)
        per_msg_ms = (time.perf_counter() - started) / max(n, 1) * 1000
        name = root.relative_to(PROJECT_ROOT) if root.is_relative_to(PROJECT_ROOT) else root
        figures = report(f"{name} ({n} messages, {per_msg_ms:.1f} ms/message)", results,
                         evaluate_baseline(predict, languages, root), args.errors)
        out[str(name)] = figures
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        # the content check reads per-language accuracy of the held-out set at the top level
        heldout = out.get(str(HELDOUT_DIR.relative_to(PROJECT_ROOT)), {})
        flat = {lang: {"total": v["total"], "accuracy": v["accuracy"],
                       "per_intent": v["per_intent"]}
                for lang, v in heldout.get("languages", {}).items()}
        args.json.write_text(json.dumps({**flat, "sets": out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
