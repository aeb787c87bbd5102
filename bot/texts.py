"""The assistant's texts: English source texts in domain.yml, translations as files in
data/texts/<lang>/<topic>.yml, merged into one set of responses with a language condition."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.languages import Registry, registry
from bot.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
TEXTS_DIR = PROJECT_ROOT / "data" / "texts"

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


def render(name: str, language: str | None, /, **variables: Any) -> Rendered:
    """A response in a language, for senders outside Rasa's dialogue (the Telegram gateway).
    Only `{name}` placeholders with a given value are replaced, so braces in user content
    passed as a value are never interpreted."""
    from bot.figures import figure_values

    lang = language if language in registry().codes else registry().default
    variants = _merged()[name]
    chosen = next((v for v in variants if (v.get("condition") or [{}])[0].get("value") == lang),
                  variants[0])
    values = {**figure_values(lang), **{k: str(v) for k, v in variables.items()}}

    def fill(text: str) -> str:
        return fill_placeholders(text, values)

    buttons = tuple((fill(b["title"]), fill(b["payload"])) for b in chosen.get("buttons") or [])
    return Rendered(fill(chosen["text"]), buttons)
