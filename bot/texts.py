"""The assistant's texts: English source texts in domain.yml, translations as files in
data/texts/<lang>/<topic>.yml, merged into one set of responses with a language condition;
the fragments of data/texts/<lang>/common.yml, the answers' check dates (data/answers.yml) and
the profession-specific answers (data/professions/); and `compose`, the one place where a
response becomes the message that is sent (Rasa's NLG and `render` both use it)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue import is_topic_answer
from bot.figures import NOTE_SUFFIX, Wording
from bot.figures import figure_values as _figure_values
from bot.languages import Registry, registry
from bot.settings import PROJECT_ROOT
from bot.understanding import DEFAULT, intent_title, is_offered_intent, is_topic_intent

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
TEXTS_DIR = PROJECT_ROOT / "data" / "texts"
COMMON_FILE = "common.yml"  # in every data/texts/<lang>/, fragments, not responses
ANSWERS_FILE = PROJECT_ROOT / "data" / "answers.yml"
PROFESSIONS_DIR = PROJECT_ROOT / "data" / "professions"
GROUPS_FILE = "groups.yml"  # in PROFESSIONS_DIR
COUNSELLOR_PAYLOAD = "/request_counsellor"
ALSO_ASKED_RESPONSE = "utter_also_asked"  # "You also asked: {topic}", a button title
OR_TOPIC_RESPONSE = "utter_or_topic"  # "Or: {topic}?", a button title under an answer
COMMON_KEYS = ("figure_with_year", "figure_expired", "figure_expired_note", "date", "months",
               "as_of",
               "counsellor_button")

Responses = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Translation:
    """One response in one language, with the file it came from (for error messages)."""

    text: str
    buttons: tuple[str, ...]
    file: Path


def load_source_responses(domain_file: Path = DOMAIN_FILE) -> Responses:
    """The English source responses from the domain."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    return domain.get("responses", {})


def load_translations(language: str, texts_dir: Path = TEXTS_DIR) -> dict[str, Translation]:
    """All translated responses of one language, keyed by response name."""
    out: dict[str, Translation] = {}
    for file in sorted((texts_dir / language).glob("*.yml")):
        if file.name == COMMON_FILE:
            continue
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for name, entry in raw.items():
            if name in out:
                raise ValueError(f"{file}: '{name}' is also defined in {out[name].file}")
            out[name] = Translation(
                text=str(entry.get("text", "")).strip(),
                buttons=tuple(str(b) for b in entry.get("buttons", []) or []),
                file=file,
            )
    return out


def localised_responses(
    source: Responses | None = None,
    reg: Registry | None = None,
    texts_dir: Path = TEXTS_DIR,
) -> Responses:
    """Source responses plus, for every other supported language, a variant conditioned on
    the `language` slot. Rasa's own response filter then picks the variant; a missing
    translation falls back to the source text (and the content check reports it)."""
    reg = reg or registry()
    source = source if source is not None else load_source_responses()
    merged: Responses = {name: copy.deepcopy(variants) for name, variants in source.items()}
    for language in reg.codes:
        if language == reg.default:
            continue
        translations = load_translations(language, texts_dir)
        for name, variants in source.items():
            tr = translations.get(name)
            if tr is None or not variants:
                continue
            base = variants[0]
            variant: dict[str, Any] = {
                "text": tr.text,
                "condition": [{"type": "slot", "name": "language", "value": language}],
            }
            if base.get("buttons"):
                variant["buttons"] = [
                    {"title": title, "payload": b["payload"]}
                    for title, b in zip(tr.buttons, base["buttons"], strict=False)
                ]
            merged[name].append(variant)
    return merged


# ------------------------------------------------------------------ fragments, dates, professions

def load_common(language: str, texts_dir: Path = TEXTS_DIR) -> dict[str, Any]:
    """data/texts/<lang>/common.yml ({} when the file is missing)."""
    file = texts_dir / language / COMMON_FILE
    if not file.exists():
        return {}
    return yaml.safe_load(file.read_text(encoding="utf-8")) or {}


@cache
def common(language: str) -> dict[str, Any]:
    """The fragments of a language; a key it lacks comes from English (the content check
    reports the gap)."""
    english = load_common(registry().default)
    return {**english, **{k: v for k, v in load_common(language).items() if v}}


def wording(language: str) -> Wording:
    """How figures are written in a language."""
    c = common(language)
    return Wording(with_year=str(c["figure_with_year"]), expired=str(c["figure_expired"]),
                   expired_note=str(c["figure_expired_note"]), date=str(c["date"]),
                   months=tuple(str(m) for m in c["months"]))


def figure_values(language: str, today: dt.date | None = None) -> dict[str, str]:
    """The figures of data/figures.yml as template variables, as of `today`."""
    return _figure_values(language, today or dt.date.today(), wording(language))


def load_answers(path: Path = ANSWERS_FILE) -> dict[str, dt.date | None]:
    """Response name -> the day its content was last checked (None when not given)."""
    if not path.exists():
        return {}
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dt.date | None] = {}
    for name, meta in raw.items():
        checked = (meta or {}).get("checked") if isinstance(meta, dict) else None
        if checked is not None and not isinstance(checked, dt.date):
            checked = dt.date.fromisoformat(str(checked))
        out[name] = checked
    return out


@lru_cache(maxsize=1)
def answers() -> dict[str, dt.date | None]:
    return load_answers()


def load_groups(professions_dir: Path = PROFESSIONS_DIR) -> dict[str, list[str]]:
    """Profession key -> the canonical profession values it covers."""
    file = professions_dir / GROUPS_FILE
    if not file.exists():
        return {}
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {str(k): [str(v) for v in (values or [])] for k, values in raw.items()}


def load_professions(language: str,
                     professions_dir: Path = PROFESSIONS_DIR) -> dict[str, dict[str, str]]:
    """Profession key -> field (topic intent) -> text, for one language."""
    file = professions_dir / f"{language}.yml"
    if not file.exists():
        return {}
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {str(p): {str(f): str(t).strip() for f, t in (fields or {}).items()}
            for p, fields in raw.items()}


@cache
def _professions(language: str) -> dict[str, dict[str, str]]:
    return load_professions(language)


@lru_cache(maxsize=1)
def _group_of() -> dict[str, str]:
    groups = load_groups()
    out = {value: key for key, values in groups.items() for value in values}
    out.update({key: key for key in groups})  # the profession key itself also selects it
    return out


def profession_group(value: str | None) -> str | None:
    """The profession key of a `profession` slot value (canonical gazetteer value or key)."""
    return _group_of().get(str(value).strip().lower()) if value else None


def profession_text(name: str, language: str, profession: str | None) -> str | None:
    """The profession-specific text replacing the answer `name`, if the language has one."""
    group = profession_group(profession)
    if group is None or not name.startswith("utter_"):
        return None
    return _professions(language).get(group, {}).get(name.removeprefix("utter_"))


# ------------------------------------------------------------------ composing a message

_VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload)


@lru_cache(maxsize=1)
def _merged() -> Responses:
    return localised_responses()


def fill_placeholders(text: str, values: dict[str, Any]) -> str:
    """Replace `{name}` where a value is given; anything else stays as written."""
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values
                         else m.group(0), text)


def as_of_line(name: str, language: str) -> str | None:
    """"As of: 12/2026" in the language, for a topic answer with a check date."""
    checked = answers().get(name)
    if checked is None or not is_topic_answer(name):
        return None
    return fill_placeholders(str(common(language)["as_of"]),
                             {"month": f"{checked.month:02d}", "year": checked.year})


def topic_button(response: str, intent: str, language: str) -> dict[str, str]:
    """A button to a topic answer, titled by `response` ("You also asked: {topic}",
    "Or: {topic}?") with the topic's short title."""
    template = str(choose_variant(response, language).get("text", "{topic}"))
    return {"title": fill_placeholders(template, {"topic": intent_title(intent, language)}),
            "payload": f"/{intent}"}


def also_asked_button(intent: str, language: str) -> dict[str, str]:
    """"You also asked: <title>" for the second question of a message, as a button."""
    return topic_button(ALSO_ASKED_RESPONSE, intent, language)


def compose(name: str, variant: dict[str, Any], language: str, *, values: dict[str, Any],
            profession: str | None = None, also_asked: str | None = None,
            alternatives: Sequence[str] | None = None) -> dict[str, Any]:
    """The message for response `name` from its chosen language variant: the profession text
    instead of the generic one where there is one, placeholders filled (text, button titles
    and payloads; only `{name}` with a given value, so user content is never interpreted),
    and for topic answers the "as of" line and the counsellor button — and, when the message
    also asked about another topic (`also_asked`, an intent), a button for that one first;
    other plausible topics of the message (`alternatives`) as "Or: …?" buttons after it."""
    message = copy.deepcopy(variant)
    text = profession_text(name, language, profession) or str(variant.get("text", ""))
    message["text"] = fill_placeholders(text, values)
    # an expired figure is marked with its year inline; the answer then says once from when
    # new amounts apply and where to find them
    notes = dict.fromkeys(values[f"{key}{NOTE_SUFFIX}"] for key in _VARIABLE.findall(text)
                          if f"{key}{NOTE_SUFFIX}" in values)
    for note in notes:
        message["text"] = f"{message['text']}\n{note}"
    buttons = [{**b, "title": fill_placeholders(str(b.get("title", "")), values),
                "payload": fill_placeholders(str(b.get("payload", "")), values)}
               for b in variant.get("buttons") or []]
    if is_topic_answer(name):
        line = as_of_line(name, language)
        if line:
            message["text"] = f"{message['text']}\n{line}"
        # before the variant's own buttons: the second question, then the other topics
        offered = {b["payload"] for b in buttons} | {f"/{name.removeprefix('utter_')}"}
        front = []
        if also_asked and is_topic_intent(also_asked) and f"/{also_asked}" not in offered:
            front.append(also_asked_button(also_asked, language))
            offered.add(f"/{also_asked}")
        others = [i for i in (alternatives or []) if isinstance(i, str) and is_offered_intent(i)
                  and f"/{i}" not in offered][:DEFAULT.max_alternatives]
        front += [topic_button(OR_TOPIC_RESPONSE, i, language) for i in others]
        buttons[0:0] = front
        if not any(b["payload"] == COUNSELLOR_PAYLOAD for b in buttons):
            buttons.append({"title": str(common(language)["counsellor_button"]),
                            "payload": COUNSELLOR_PAYLOAD})
    if buttons:
        message["buttons"] = buttons
    return message


def choose_variant(name: str, language: str, responses: Responses | None = None
                   ) -> dict[str, Any]:
    """The variant of a response for a language (the unconditioned source as fallback)."""
    variants = (responses if responses is not None else _merged())[name]
    return next((v for v in variants if (v.get("condition") or [{}])[0].get("value") == language),
                variants[0])


def supported(language: str | None) -> str:
    reg = registry()
    return language if language in reg.codes else reg.default


def render(name: str, language: str | None, /, *, today: dt.date | None = None,
           profession: str | None = None, also_asked: str | None = None,
           **variables: Any) -> Rendered:
    """A response in a language as it is sent on `today` (default: the real date), for
    senders outside Rasa's dialogue (the Telegram gateway) and for `python -m bot answers`.
    `profession` selects a profession-specific answer and is also the `{profession}` value."""
    lang = supported(language)
    if profession is not None:
        variables["profession"] = profession
    from bot.settings import get_settings

    values = {**figure_values(lang, today), **get_settings().text_variables(),
              **{k: str(v) for k, v in variables.items()}}
    message = compose(name, choose_variant(name, lang), lang, values=values,
                      profession=profession, also_asked=also_asked)
    return Rendered(str(message["text"]), tuple((str(b["title"]), str(b["payload"]))
                                                for b in message.get("buttons") or []))


def response_names() -> list[str]:
    """Every response, in domain order."""
    return list(_merged())
