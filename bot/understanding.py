"""What the assistant does with the intent ranking of a message: answer, ask which topic was
meant (two or three buttons), or ask the person to rephrase; and how a message is cut into
sentences and clauses (the question sentence, a second question in the same message).

Pure functions on plain data: the NLU pipeline (extensions/intent_classifier.py), the
clarifying action (actions/clarify.py) and the evaluation (tools/evaluate.py) all use them, so
the figures measured are the behaviour shipped. The thresholds were tuned by cross-validation
on the training data (tools/tune_clarify.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue import TOPIC_ANSWERS
from bot.settings import PROJECT_ROOT

FALLBACK_INTENT = "nlu_fallback"
TITLES_DIR = PROJECT_ROOT / "data" / "intent_titles"  # <lang>.yml: intent -> short title


@dataclass(frozen=True)
class Thresholds:
    """When the top intent is answered at once, and which others are worth a button."""

    # tools/tune_clarify.py --dev tests/nlu, chosen on 2026-12-02 with the classifier's
    # confidence scale (12) and question weight (0): trained on all training data, scored on
    # the held-out set (then 3,778 messages by other writers, 885 of them stories and indirect
    # questions) as a development set. The highest share answered at once with at most 3 %
    # confidently wrong (and 5 % in any language): 0.85 → 91.5 % at once, 2.9 % wrong (worst
    # language 3.6 %), 5.0 % asked, 96.0 % right after one tap.
    # Confidences are peaky, so a lead over the second intent adds nothing.
    # Re-run at the end of that day (3,906 messages, 1,976 more training lines): at 0.85 the
    # development set is 92.5 % at once, 2.8 % wrong (`make eval`); the tool now prefers 0.80
    # at scale 12 (92.8 %, 3.0 % wrong) or weight 0.2, scale 6, 0.50 with margin 0.2 (92.8 %,
    # 2.9 %). Not taken yet: +0.3 points, at the wrong-answer limit (docs/evaluation.md).
    answer: float = 0.85  # top confidence needed to answer at once
    margin: float = 0.0  # ... and its lead over the second intent
    candidate: float = 0.01  # a topic intent below this is not offered as a button
    max_candidates: int = 3
    max_alternatives: int = 2  # "Or: …?" buttons under an answer (candidates, at most this)
    # A message the training data has almost never seen the like of ("ґєїґєї ґєї") is not
    # understood, however confident the classifier: fewer than this share of its character
    # trigrams known, counted when it has at least `evidence_ngrams` distinct ones. On the
    # held-out, blind and realistic sets (4,519 messages by other writers) no message that
    # means something is below 0.2 (0.1 percentile 0.39); 44 of their 60 noise messages are.
    evidence: float = 0.2
    evidence_ngrams: int = 8


DEFAULT = Thresholds()


@dataclass(frozen=True)
class Answer:
    intent: str
    # other plausible topics, offered as "Or: …?" buttons under a topic answer, so a wrong
    # answer is one tap away from the right one
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ask:
    candidates: tuple[str, ...]  # topic intents, likeliest first


@dataclass(frozen=True)
class Fallback:
    pass


Decision = Answer | Ask | Fallback


# Meta intents a button may offer when a message was unclear: each is useful on its own, with
# no question pending, and nothing it does is irreversible. Not offered: greetings, thanks and
# yes/no (they reply to something; a "Yes" button out of context means nothing), out_of_scope,
# and deleting one's data (a button must never be a guess at that).
OFFERED_META_INTENTS = frozenset({"privacy", "show_my_data", "help", "bot_challenge",
                                  "cancel_case", "change_language"})
# every question ("Did you mean…?") and every fallback carries a counsellor button
# (utter_clarify, utter_fallback in each language; tests/unit/test_texts.py checks it)
COUNSELLOR_INTENT = "request_counsellor"


def is_topic_intent(intent: str) -> bool:
    """An intent whose answer is a topic answer (dated, with a counsellor button)."""
    return f"utter_{intent}" in TOPIC_ANSWERS


def is_offered_intent(intent: str) -> bool:
    """An intent a "Did you mean…?" or "Or: …?" button may offer: the topic intents and a
    few meta intents (OFFERED_META_INTENTS)."""
    return is_topic_intent(intent) or intent in OFFERED_META_INTENTS


def _entries(ranking: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
    return [(str(e.get("name")), float(e.get("confidence") or 0.0)) for e in ranking
            if e.get("name") and e.get("name") != FALLBACK_INTENT]


def decide(ranking: Sequence[Mapping[str, Any]], thresholds: Thresholds = DEFAULT) -> Decision:
    """Answer the top intent when it is clearly ahead; otherwise offer the likeliest topic
    intents; the fallback when none is plausible. `ranking`: Rasa's intent ranking
    (`name`, `confidence`), best first; `nlu_fallback` entries are ignored, so the ranking
    the FallbackClassifier or our own fallback step leaves behind can be passed as it is."""
    entries = _entries(ranking)
    if not entries:
        return Fallback()
    top, confidence = entries[0]
    second = entries[1][1] if len(entries) > 1 else 0.0
    candidates = tuple(name for name, c in entries
                       if is_offered_intent(name) and c >= thresholds.candidate)
    if confidence >= thresholds.answer and confidence - second >= thresholds.margin:
        if not is_topic_intent(top):
            return Answer(top)
        others = tuple(name for name in candidates if name != top)
        return Answer(top, others[: thresholds.max_alternatives])
    if not candidates:
        return Fallback()
    return Ask(candidates[: thresholds.max_candidates])


def too_little_evidence(known: float, ngrams: int, thresholds: Thresholds = DEFAULT) -> bool:
    """True when a message has too few known character trigrams to be understood at all
    (`known`: their share, `ngrams`: how many distinct ones it has)."""
    return ngrams >= thresholds.evidence_ngrams and known < thresholds.evidence


def answered_intent(decision: Decision) -> str:
    """The intent the person's first answer belongs to (nlu_fallback when we ask)."""
    return decision.intent if isinstance(decision, Answer) else FALLBACK_INTENT


def right_after_one_tap(decision: Decision, expected: str) -> bool:
    """Right at once, or the expected intent is among the offered buttons (the topics of a
    question, or the "Or: …?" buttons under an answer; the counsellor button under a question
    or the fallback)."""
    if isinstance(decision, Answer):
        return expected in (decision.intent, *decision.alternatives)
    if expected == COUNSELLOR_INTENT:
        return True
    return isinstance(decision, Ask) and expected in decision.candidates


# ------------------------------------------------------------------ sentences and clauses

_SENTENCE_END = re.compile(r"(?<=[.?!;؟])\s+|(?<=[?!؟])(?=\S)")
# conjunctions that join two questions; Arabic و only as a word of its own
_CONJUNCTION = re.compile(
    r"\s+(?:and|und|ve|и|і|та|а также|а ще|також)\s+|\s+و\s+|\s*,\s*(?:and|und)\s+",
    re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
MIN_PART_WORDS = 3  # a part with fewer words ("and the children?") is not a question


def sentences(text: str) -> list[str]:
    """The sentences of a message, in order (end marks kept)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s and s.strip()]


def question_sentence(text: str) -> str | None:
    """The sentence that carries the question in a message of several sentences: the last
    one with a question mark, else the last one; None for a single sentence."""
    parts = [s for s in sentences(text) if len(_WORD.findall(s)) >= 2]
    if len(parts) < 2:
        return None
    questions = [s for s in parts if s.endswith(("?", "؟"))]
    return questions[-1] if questions else parts[-1]


def clauses(text: str) -> list[str]:
    """The parts a message with two questions splits into (sentences, then clauses joined by
    "and"); only parts with at least MIN_PART_WORDS words. One part or none: nothing to split."""
    out: list[str] = []
    for sentence in sentences(text):
        for part in _CONJUNCTION.split(sentence):
            part = part.strip(" ,")
            if len(_WORD.findall(part)) >= MIN_PART_WORDS:
                out.append(part)
    return out


def two_questions(whole: Decision, parts: Sequence[Decision]) -> tuple[int, str] | None:
    """A message unclear as a whole whose parts are confidently two different topics
    ("how long does it take and what does it cost?"): (index of the part to answer, the
    other topic). The first such part is answered, the next one offered as "also asked"."""
    if isinstance(whole, Answer):
        return None
    topics = [(i, p.intent) for i, p in enumerate(parts)
              if isinstance(p, Answer) and is_topic_intent(p.intent)]
    first = topics[0] if topics else None
    second = next((intent for _, intent in topics if first and intent != first[1]), None)
    return (first[0], second) if first and second else None


def also_asked(whole: Decision, parts: Sequence[Decision]) -> str | None:
    """The second topic a message asks about: a part confidently about another topic intent
    than the one the whole message is answered with (only when that one is a topic answer)."""
    if not isinstance(whole, Answer) or not is_topic_intent(whole.intent):
        return None
    for part in parts:
        if (isinstance(part, Answer) and is_topic_intent(part.intent)
                and part.intent != whole.intent):
            return part.intent
    return None


# ------------------------------------------------------------------ button titles


def load_titles(language: str, titles_dir: Path = TITLES_DIR) -> dict[str, str]:
    """data/intent_titles/<lang>.yml ({} when the file is missing)."""
    file = titles_dir / f"{language}.yml"
    if not file.exists():
        return {}
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {str(k): str(v).strip() for k, v in raw.items() if v}


@cache
def _titles(language: str) -> dict[str, str]:
    return load_titles(language)


def intent_title(intent: str, language: str, default_language: str = "en") -> str:
    """The short title of a topic intent in a language (English when the language lacks it;
    the content check reports the gap)."""
    return (_titles(language).get(intent) or _titles(default_language).get(intent)
            or intent.replace("_", " "))


# ------------------------------------------------------------------ revisiting the language


@dataclass(frozen=True)
class LanguageOffer:
    """The streak to remember after this message, and the language to offer now (if any)."""

    streak: str | None
    offer: str | None = None


def language_offer(*, language: str | None, source: str | None, detected: str | None,
                   streak: str | None, offered: str | None) -> LanguageOffer:
    """After an explicit language choice, offer to switch when two messages in a row are
    confidently written in the same other supported language (`detected`: that language, None
    when the message gave no confident supported detection: a short reply keeps the streak).
    A language is offered once; the person's answer is a new explicit choice."""
    if source != "explicit" or not language:
        return LanguageOffer(None)
    if detected is None:
        return LanguageOffer(streak)
    if detected == language:
        return LanguageOffer(None)
    if streak == detected and offered != detected:
        return LanguageOffer(None, detected)
    return LanguageOffer(detected)
