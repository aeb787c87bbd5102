"""Content check for maintainers: what is missing, thin or out of date, per language.

Reports a matrix of intents × languages (training examples, held-out examples and, when an
evaluation file is given, held-out accuracy), responses without a translation, untranslated
button labels, placeholders that do not match the source, and yearly figures past their
validity. Every problem names the file and the key to fix. Exit code 1 when a supported
language is incomplete."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.figures import FIGURES_FILE, load_figures
from bot.languages import LANGUAGES_FILE, Registry, load_registry
from bot.settings import PROJECT_ROOT
from bot.texts import load_source_responses, load_translations

# Responses that are deliberately sent in the default language only.
SOURCE_ONLY = frozenset({"utter_unsupported_language"})
# Buttons whose titles are the same in every language (language names in their own script).
UNTRANSLATED_PAYLOAD_PREFIXES = ("/change_language",)
# Values that actions and the Telegram gateway pass when they send a response.
SENDER_VARIABLES = frozenset({"case_ref", "case_id", "counsellor", "organisation",
                              "office_hours", "language", "topic", "region", "profession",
                              "country", "first_messages", "cases",
                              # action_show_my_data (bot/data_export.summary)
                              "messages", "case_count", "case_messages", "consent_count",
                              "fields", "languages", "first_date", "last_date",
                              # settings OPERATOR_NAME, PRIVACY_URL (filled by the NLG)
                              "operator_name", "privacy_url"})
MIN_TRAINING_EXAMPLES = 25
MIN_HELDOUT_EXAMPLES = 5
FIGURE_WARNING_DAYS = 31
NON_TOPIC_INTENTS = frozenset({"unsupported_language", "nlu_fallback"})

_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@dataclass
class Problem:
    severity: str  # "error" makes the check fail; "warning" does not
    where: str  # file (and key) to fix
    what: str

    def __str__(self) -> str:
        return f"{self.severity.upper():7} {self.where}: {self.what}"


@dataclass
class Report:
    languages: list[str]
    intents: list[str]
    training: dict[tuple[str, str], int] = field(default_factory=dict)
    heldout: dict[tuple[str, str], int] = field(default_factory=dict)
    accuracy: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def count_examples(directory: Path) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for file in sorted(directory.glob("*.yml")):
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            if "intent" in block:
                counts[block["intent"]] += sum(
                    1 for line in str(block.get("examples", "")).splitlines()
                    if line.strip().startswith("- "))
    return counts


def _topic_file(name: str, translations: dict[str, dict[str, Any]], language: str,
                texts_dir: Path) -> Path:
    """Where a missing response belongs: the topic file other languages keep it in."""
    for other in translations.values():
        if name in other:
            return texts_dir / language / other[name].file.name
    return texts_dir / language / "meta.yml"


def check(
    root: Path = PROJECT_ROOT,
    today: dt.date | None = None,
    accuracy_file: Path | None = None,
    min_accuracy: float = 0.90,
) -> Report:
    today = today or dt.date.today()
    reg: Registry = load_registry(root / LANGUAGES_FILE.relative_to(PROJECT_ROOT))
    domain_file = root / "domain.yml"
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    intents = [i for i in intents if i not in NON_TOPIC_INTENTS]
    report = Report(list(reg.codes), intents)
    nlu_dir, heldout_dir, texts_dir = root / "data/nlu", root / "tests/nlu", root / "data/texts"

    # --- examples per intent and language
    for lang in reg.codes:
        train, held = count_examples(nlu_dir / lang), count_examples(heldout_dir / lang)
        for intent in intents:
            report.training[(lang, intent)] = train.get(intent, 0)
            report.heldout[(lang, intent)] = held.get(intent, 0)
            where = f"data/nlu/{lang}/"
            if train.get(intent, 0) == 0:
                report.problems.append(Problem("error", where, f"intent '{intent}' has no "
                                               "training examples"))
            elif train[intent] < MIN_TRAINING_EXAMPLES:
                report.problems.append(Problem(
                    "error", where, f"intent '{intent}' has only {train[intent]} training "
                    f"examples (at least {MIN_TRAINING_EXAMPLES})"))
            if held.get(intent, 0) < MIN_HELDOUT_EXAMPLES:
                report.problems.append(Problem(
                    "error", f"tests/nlu/{lang}/", f"intent '{intent}' has "
                    f"{held.get(intent, 0)} held-out examples (at least {MIN_HELDOUT_EXAMPLES})"))
        for intent in set(train) - set(intents):
            report.problems.append(Problem("error", f"data/nlu/{lang}/",
                                           f"intent '{intent}' is not in domain.yml"))

    # --- held-out accuracy, from `python -m tools.evaluate --json FILE`
    if accuracy_file is not None:
        if accuracy_file.exists():
            report.accuracy = json.loads(accuracy_file.read_text(encoding="utf-8"))
            for lang in reg.codes:
                acc = report.accuracy.get(lang, {}).get("accuracy")
                if acc is None:
                    report.problems.append(Problem("error", f"tests/nlu/{lang}/",
                                                   "no held-out accuracy measured"))
                elif acc < min_accuracy:
                    report.problems.append(Problem(
                        "error", f"data/nlu/{lang}/",
                        f"held-out accuracy {acc:.3f} < {min_accuracy:.2f}"))
        else:
            report.problems.append(Problem("error", str(accuracy_file),
                                           "evaluation file not found (run make eval)"))

    # --- texts
    source = load_source_responses(domain_file)
    translations = {lang: load_translations(lang, texts_dir)
                    for lang in reg.codes if lang != reg.default}
    figure_names = set(load_figures(root / FIGURES_FILE.relative_to(PROJECT_ROOT)))
    known_vars = (figure_names | {f"{f}_year" for f in figure_names}
                  | set(domain.get("slots", {})) | SENDER_VARIABLES)
    for name, variants in source.items():
        base = variants[0]
        placeholders = set(_PLACEHOLDER.findall(base.get("text", "")))
        for unknown in sorted(placeholders - known_vars):
            report.problems.append(Problem("error", f"domain.yml: {name}",
                                           f"unknown placeholder {{{unknown}}}"))
        if name in SOURCE_ONLY:
            continue
        for lang, texts in translations.items():
            tr = texts.get(name)
            if tr is None:
                missing = _topic_file(name, translations, lang, texts_dir).relative_to(root)
                report.problems.append(Problem("error", f"{missing}: {name}",
                                               "missing translation"))
                continue
            where = f"{tr.file.relative_to(root)}: {name}"
            if not tr.text:
                report.problems.append(Problem("error", where, "empty text"))
            if set(_PLACEHOLDER.findall(tr.text)) != placeholders:
                report.problems.append(Problem(
                    "error", where, f"placeholders {sorted(_PLACEHOLDER.findall(tr.text))} "
                    f"differ from the source {sorted(placeholders)}"))
            buttons = base.get("buttons") or []
            if len(tr.buttons) != len(buttons):
                report.problems.append(Problem(
                    "error", where, f"{len(tr.buttons)} button labels, the source has "
                    f"{len(buttons)}"))
            for title, button in zip(tr.buttons, buttons, strict=False):
                if (title.strip() == str(button["title"]).strip()
                        and not str(button["payload"]).startswith(UNTRANSLATED_PAYLOAD_PREFIXES)):
                    report.problems.append(Problem("error", where,
                                                   f"button label '{title}' is not translated"))
    for texts in translations.values():
        for name in sorted(set(texts) - set(source)):
            report.problems.append(Problem("warning", f"{texts[name].file.relative_to(root)}: "
                                           f"{name}", "not in domain.yml (unused)"))

    # --- yearly figures
    for key, fig in load_figures(root / FIGURES_FILE.relative_to(PROJECT_ROOT)).items():
        where = f"data/figures.yml: {key}"
        if fig.expired(today):
            report.problems.append(Problem(
                "error", where, "no value valid today; check the official source and add "
                f"this year's value ({fig.source})"))
        else:
            last = max(v.valid_until for v in fig.values)
            if (last - today).days <= FIGURE_WARNING_DAYS:
                report.problems.append(Problem(
                    "warning", where, f"last value expires on {last}; add next year's"))
    return report


def render(report: Report) -> str:
    """The matrix (training/held-out[/accuracy]) and the list of problems."""
    langs = report.languages
    lines = ["Examples per intent: training/held-out" +
             (" (held-out accuracy per language at the bottom)" if report.accuracy else "")]
    lines.append(f"{'intent':28}" + "".join(f"{lang:>10}" for lang in langs))
    for intent in report.intents:
        cells = []
        for lang in langs:
            t, h = report.training[(lang, intent)], report.heldout[(lang, intent)]
            mark = "!" if t < MIN_TRAINING_EXAMPLES or h < MIN_HELDOUT_EXAMPLES else " "
            cells.append(f"{t:>5}/{h:<3}{mark}")
        lines.append(f"{intent:28}" + "".join(f"{c:>10}" for c in cells))
    if report.accuracy:
        lines.append(f"{'held-out accuracy':28}" + "".join(
            f"{report.accuracy.get(lang, {}).get('accuracy', float('nan')):>10.3f}"
            for lang in langs))
    lines.append("")
    if report.problems:
        lines.extend(str(p) for p in report.problems)
    lines.append("complete: every supported language has everything it needs" if report.ok
                 else f"INCOMPLETE: {sum(p.severity == 'error' for p in report.problems)} "
                      "problem(s) to fix")
    return "\n".join(lines)
