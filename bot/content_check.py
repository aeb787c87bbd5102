"""Content check for maintainers: what is missing, thin or out of date, per language.

Reports a matrix of intents × languages (training examples, held-out examples and, when an
evaluation file is given, held-out accuracy), responses without a translation, untranslated
button labels, placeholders that do not match the source, the fragments of common.yml, the
profession-specific answers, topic answers without a check date (data/answers.yml), and
figures as of a given day: yearly figures past their validity (error) or close to it
(warning), fees due for a re-check (warning). Every problem names the file and the key to
fix. Exit code 1 when a supported language is incomplete."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue import ANSWER_TOPICS, TOPIC_ANSWERS, TOPIC_OF_INTENT
from bot.figures import FIGURES_FILE, Figure, FigureError, add_months, load_figures
from bot.languages import LANGUAGES_FILE, Registry, load_registry
from bot.links import DEEP_SHARE, is_official, links_in
from bot.links import kind as link_kind
from bot.settings import PROJECT_ROOT
from bot.texts import (
    ANSWERS_FILE,
    COMMON_FILE,
    COMMON_KEYS,
    GROUPS_FILE,
    PROFESSIONS_DIR,
    Translation,
    load_answers,
    load_common,
    load_groups,
    load_professions,
    load_source_responses,
    load_translations,
)
from bot.understanding import OFFERED_META_INTENTS, TITLES_DIR, load_titles

# Responses that are deliberately sent in the default language only.
SOURCE_ONLY = frozenset({"utter_unsupported_language"})
# Buttons whose titles are the same in every language (language names in their own script).
UNTRANSLATED_PAYLOAD_PREFIXES = ("/change_language",)
# Values that actions and the Telegram gateway pass when they send a response.
SENDER_VARIABLES = frozenset({"case_ref", "case_id", "counsellor", "organisation",
                              "office_hours", "language", "topic", "region", "profession",
                              "country", "first_messages", "cases",
                              # the erasure report (bot/desk.erase_person)
                              "deleted", "replaced", "failed",
                              # action_show_my_data (bot/data_export.summary)
                              "messages", "case_count", "case_messages", "consent_count",
                              "fields", "languages", "first_date", "last_date",
                              # settings OPERATOR_NAME, PRIVACY_URL (filled by the NLG)
                              "operator_name", "privacy_url"})
MIN_TRAINING_EXAMPLES = 25
MIN_HELDOUT_EXAMPLES = 5
FIGURE_WARNING_DAYS = 45  # warn this many days before a yearly figure's last value ends
ANSWER_MAX_AGE_MONTHS = 6  # warn when a topic answer was checked longer ago
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
    # per language: topic answers that link the page that answers (or a finder), of all
    link_share: dict[str, tuple[int, int]] = field(default_factory=dict)

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


def _topic_file(name: str, translations: dict[str, dict[str, Translation]], language: str,
                texts_dir: Path) -> Path:
    """Where a missing response belongs: the topic file other languages keep it in, else the
    file of its catalogue topic."""
    for other in translations.values():
        if name in other:
            return texts_dir / language / other[name].file.name
    topic = TOPIC_OF_INTENT.get(name.removeprefix("utter_"), "meta")
    return texts_dir / language / f"{topic}.yml"


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
    try:
        figure_table = load_figures(root / FIGURES_FILE.relative_to(PROJECT_ROOT))
    except FigureError as error:
        report.problems.append(Problem("error", "data/figures.yml", str(error)))
        figure_table = {}
    yearly = {k for k, f in figure_table.items() if f.yearly}
    known_vars = (set(figure_table) | {f"{f}_year" for f in yearly}
                  | set(domain.get("slots", {})) | SENDER_VARIABLES)

    def year_twice(where: str, text: str) -> None:
        used = set(_PLACEHOLDER.findall(text))
        for key in sorted(yearly & used):
            if f"{key}_year" in used:
                report.problems.append(Problem(
                    "error", where, f"{{{key}}} already shows its year; remove "
                    f"{{{key}_year}} from this text"))
    for name, variants in source.items():
        base = variants[0]
        placeholders = set(_PLACEHOLDER.findall(base.get("text", "")))
        for unknown in sorted(placeholders - known_vars):
            report.problems.append(Problem("error", f"domain.yml: {name}",
                                           f"unknown placeholder {{{unknown}}}"))
        year_twice(f"domain.yml: {name}", base.get("text", ""))
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
            year_twice(where, tr.text)
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

    check_common(report, root, reg, texts_dir)
    check_titles(report, root, reg, source)
    check_answers(report, root, today, set(source))
    check_links(report, reg.default,
                {name: str(v[0].get("text", "")) for name, v in source.items()},
                {lang: {n: t.text for n, t in texts.items()}
                 for lang, texts in translations.items()})
    check_professions(report, root, reg, source, known_vars)
    check_figures(report, figure_table, today)
    return report


def check_figures(report: Report, table: dict[str, Figure], today: dt.date) -> None:
    """Yearly figures: ERROR once the newest value has ended (for a derived figure the error
    names its base, whose one new value updates them all), WARNING in the last
    FIGURE_WARNING_DAYS days; fees: WARNING when the re-check is due."""
    derived: dict[str, list[str]] = defaultdict(list)
    for key, fig in table.items():
        if fig.derived_from:
            derived[fig.derived_from].append(key)
    for key, fig in table.items():
        where = f"data/figures.yml: {key}"
        if fig.derived_from:
            continue  # reported with its base
        if fig.yearly:
            last = fig.newest()
            needed = last.valid_until.year + 1
            updates = (f"; it updates {', '.join(derived[key])}" if derived[key] else "")
            if fig.expired(today):
                report.problems.append(Problem(
                    "error", where, f"no value for {needed}: the {last.year} value ended on "
                    f"{last.valid_until}; enter the {needed} value{updates} "
                    f"(source: {fig.source})"))
            elif (last.valid_until - today).days <= FIGURE_WARNING_DAYS:
                report.problems.append(Problem(
                    "warning", where, f"the {last.year} value ends on {last.valid_until} (in "
                    f"{(last.valid_until - today).days} days); enter the {needed} value once it is "
                    f"published{updates} (source: {fig.source})"))
        else:
            due = fig.recheck_due()
            if due is not None and due <= today:
                report.problems.append(Problem(
                    "warning", where, f"last checked on {fig.last_checked}, re-check due since "
                    f"{due} (every {fig.recheck_months} months): confirm the value and set "
                    f"last_checked (source: {fig.source})"))


def check_common(report: Report, root: Path, reg: Registry, texts_dir: Path) -> None:
    """data/texts/<lang>/common.yml: the keys and placeholders of the English one."""
    english = load_common(reg.default, texts_dir)
    en_file = (texts_dir / reg.default / COMMON_FILE).relative_to(root)
    for key in COMMON_KEYS:
        if key not in english:
            report.problems.append(Problem("error", f"{en_file}: {key}", "missing fragment"))
    for lang in reg.codes:
        fragments = load_common(lang, texts_dir)
        file = (texts_dir / lang / COMMON_FILE).relative_to(root)
        for key, source in english.items():
            value = fragments.get(key)
            if not value:
                report.problems.append(Problem("error", f"{file}: {key}", "missing fragment"))
            elif key == "months":
                if not isinstance(value, list) or len(value) != 12:
                    report.problems.append(Problem("error", f"{file}: months",
                                                   "needs the 12 month names"))
            elif set(_PLACEHOLDER.findall(str(value))) != set(_PLACEHOLDER.findall(str(source))):
                report.problems.append(Problem(
                    "error", f"{file}: {key}", f"placeholders "
                    f"{sorted(_PLACEHOLDER.findall(str(value)))} differ from the source "
                    f"{sorted(_PLACEHOLDER.findall(str(source)))}"))


def check_titles(report: Report, root: Path, reg: Registry, source: dict[str, Any]) -> None:
    """data/intent_titles/<lang>.yml: a short button title for every intent a button may
    offer (the topic intents and OFFERED_META_INTENTS: "Did you mean…?", "Or: …?", "You also
    asked"), and no title for another intent."""
    titles_dir = root / TITLES_DIR.relative_to(PROJECT_ROOT)
    offered = sorted({n.removeprefix("utter_") for n in TOPIC_ANSWERS if n in source}
                     | OFFERED_META_INTENTS)
    for lang in reg.codes:
        titles = load_titles(lang, titles_dir)
        file = (titles_dir / f"{lang}.yml").relative_to(root)
        for intent in offered:
            if not titles.get(intent):
                report.problems.append(Problem("error", f"{file}: {intent}", "missing title"))
        for intent in sorted(set(titles) - set(offered)):
            report.problems.append(Problem("warning", f"{file}: {intent}",
                                           "not an intent a button offers (unused)"))


def check_answers(report: Report, root: Path, today: dt.date, responses: set[str]) -> None:
    """Every topic answer has a check date in data/answers.yml, not older than 6 months."""
    file = root / ANSWERS_FILE.relative_to(PROJECT_ROOT)
    where = str(file.relative_to(root))
    try:
        checked = load_answers(file)
    except ValueError as error:
        report.problems.append(Problem("error", where, f"unreadable date: {error}"))
        return
    for name in sorted(TOPIC_ANSWERS & responses):
        day = checked.get(name)
        if day is None:
            report.problems.append(Problem(
                "error", f"{where}: {name}", "topic answer without a check date; add "
                f"`{name}: {{checked: YYYY-MM-DD}}` once it is checked"))
        elif day > today:
            report.problems.append(Problem("error", f"{where}: {name}",
                                           f"checked on {day}, which is in the future"))
        elif add_months(day, ANSWER_MAX_AGE_MONTHS) < today:
            report.problems.append(Problem(
                "warning", f"{where}: {name}", f"last checked on {day}, more than "
                f"{ANSWER_MAX_AGE_MONTHS} months ago; re-check it (all languages) and update"))
    for name in sorted(set(checked) - TOPIC_ANSWERS):
        report.problems.append(Problem(
            "warning", f"{where}: {name}", "not a topic answer (topics: "
            f"{', '.join(ANSWER_TOPICS)}); its date is not shown"))


def check_links(report: Report, default: str, source: dict[str, str],
                translations: dict[str, dict[str, str]]) -> None:
    """Every topic answer links an official page; at least DEEP_SHARE of them per language
    the page that answers the question or a portal's finder, not a home page."""
    for lang, texts in {default: source, **translations}.items():
        names = sorted(TOPIC_ANSWERS & set(texts))
        good = 0
        for name in names:
            where = f"{lang}: {name}"
            urls = links_in(texts[name])
            if not urls:
                report.problems.append(Problem("error", where, "topic answer without a link"))
                continue
            for url in urls:
                if not is_official(url):
                    report.problems.append(Problem("error", where, f"{url} is not an official "
                                                   "site (bot/links.py: OFFICIAL_SITES)"))
            if any(is_official(url) and link_kind(url) != "home" for url in urls):
                good += 1
            else:
                report.problems.append(Problem("warning", where, f"links only a home page "
                                               f"({urls[0]}); link the page that answers"))
        report.link_share[lang] = (good, len(names))
        if names and good / len(names) < DEEP_SHARE:
            report.problems.append(Problem(
                "error", f"{lang}: links", f"{good} of {len(names)} topic answers link the page "
                f"that answers; at least {DEEP_SHARE:.0%} must"))


def check_professions(report: Report, root: Path, reg: Registry,
                      source: dict[str, list[dict[str, Any]]], known_vars: set[str]) -> None:
    """data/professions: groups name canonical professions; every language has the
    professions × fields of English, with the same placeholders."""
    prof_dir = root / PROFESSIONS_DIR.relative_to(PROJECT_ROOT)
    if not prof_dir.exists():
        return
    rel = prof_dir.relative_to(root)
    groups = load_groups(prof_dir)
    gazetteer = root / "bot/nlu/gazetteers/professions.yml"
    if not gazetteer.exists():
        gazetteer = PROJECT_ROOT / "bot/nlu/gazetteers/professions.yml"
    canonical = set(yaml.safe_load(gazetteer.read_text(encoding="utf-8")) or {})
    seen: dict[str, str] = {}
    for key, values in groups.items():
        for value in values:
            if value not in canonical:
                report.problems.append(Problem(
                    "error", f"{rel / GROUPS_FILE}: {key}", f"'{value}' is not a profession "
                    "of bot/nlu/gazetteers/professions.yml"))
            elif value in seen and seen[value] != key:
                report.problems.append(Problem(
                    "error", f"{rel / GROUPS_FILE}: {key}",
                    f"'{value}' is also in '{seen[value]}'"))
            seen.setdefault(value, key)
    english = load_professions(reg.default, prof_dir)
    en_file = rel / f"{reg.default}.yml"
    topic_fields = {n.removeprefix("utter_") for n in TOPIC_ANSWERS if n in source}
    for prof, fields in english.items():
        if prof not in groups:
            report.problems.append(Problem("error", f"{en_file}: {prof}",
                                           f"profession not in {rel / GROUPS_FILE}"))
        for key_, text in fields.items():
            if key_ not in topic_fields:
                report.problems.append(Problem(
                    "error", f"{en_file}: {prof}.{key_}", "not a topic answer "
                    "(a field names the intent whose answer it replaces)"))
            for unknown in sorted(set(_PLACEHOLDER.findall(text)) - known_vars):
                report.problems.append(Problem("error", f"{en_file}: {prof}.{key_}",
                                               f"unknown placeholder {{{unknown}}}"))
    for lang in reg.codes:
        if lang == reg.default:
            continue
        texts = load_professions(lang, prof_dir)
        file = rel / f"{lang}.yml"
        for prof, fields in english.items():
            for key_, en_text in fields.items():
                translated = texts.get(prof, {}).get(key_)
                where = f"{file}: {prof}.{key_}"
                if not translated:
                    report.problems.append(Problem("error", where, "missing translation"))
                elif (set(_PLACEHOLDER.findall(translated))
                      != set(_PLACEHOLDER.findall(en_text))):
                    report.problems.append(Problem(
                        "error", where, f"placeholders {sorted(_PLACEHOLDER.findall(translated))} "
                        f"differ from the source {sorted(_PLACEHOLDER.findall(en_text))}"))
        for prof, fields in texts.items():
            for key_ in sorted(set(fields) - set(english.get(prof, {}))):
                report.problems.append(Problem("error", f"{file}: {prof}.{key_}",
                                               f"not in {en_file}"))


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
    if report.link_share:
        lines.append(f"{'deep links (topic answers)':28}" + "".join(
            "{:>10}".format("{}/{}".format(*report.link_share.get(lang, (0, 0))))
            for lang in langs))
    lines.append("")
    if report.problems:
        lines.extend(str(p) for p in report.problems)
    lines.append("complete: every supported language has everything it needs" if report.ok
                 else f"INCOMPLETE: {sum(p.severity == 'error' for p in report.problems)} "
                      "problem(s) to fix")
    return "\n".join(lines)
