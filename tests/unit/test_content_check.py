"""The maintainers' content check: complete today, and precise about what breaks it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.content_check import check, render
from bot.settings import PROJECT_ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the content files, safe to break."""
    for item in ["domain.yml", "data", "tests/nlu"]:
        src, dst = PROJECT_ROOT / item, tmp_path / item
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return tmp_path


def test_all_supported_languages_are_complete() -> None:
    """As of the real date: an expired yearly figure or a missing translation fails CI."""
    report = check(today=dt.date.today())
    assert report.ok, render(report)


def test_a_removed_translation_fails_naming_file_and_key(project: Path) -> None:
    file = project / "data/texts/tr/visa.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    del texts["utter_visa_family"]
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")

    report = check(root=project, today=dt.date(2026, 11, 25))
    assert not report.ok
    expected = "ERROR   data/texts/tr/visa.yml: utter_visa_family: missing translation"
    assert expected in render(report)


def test_a_missing_button_title_is_reported_for_topic_and_meta_intents(project: Path) -> None:
    file = project / "data/intent_titles/uk.yml"
    titles = yaml.safe_load(file.read_text(encoding="utf-8"))
    del titles["privacy"], titles["visa_family"]
    file.write_text(yaml.safe_dump(titles, allow_unicode=True), encoding="utf-8")

    output = render(check(root=project, today=dt.date(2026, 11, 25)))
    assert "ERROR   data/intent_titles/uk.yml: privacy: missing title" in output
    assert "ERROR   data/intent_titles/uk.yml: visa_family: missing title" in output


def test_untranslated_button_and_wrong_placeholder_are_reported(project: Path) -> None:
    file = project / "data/texts/de/visa.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    texts["utter_visa_blue_card"]["text"] = texts["utter_visa_blue_card"]["text"].replace(
        "{blue_card_salary}", "50.700 €")
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    meta = project / "data/texts/de/meta.yml"
    texts = yaml.safe_load(meta.read_text(encoding="utf-8"))
    texts["utter_greet"]["buttons"][0] = "Recognition"
    meta.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")

    output = render(check(root=project, today=dt.date(2026, 11, 25)))
    assert "data/texts/de/visa.yml: utter_visa_blue_card: placeholders" in output
    assert "data/texts/de/meta.yml: utter_greet: button label 'Recognition' is not translated" \
        in output


def test_thin_intent_and_expired_figure_are_reported(project: Path) -> None:
    file = project / "data/nlu/uk/entry.yml"
    doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    for block in doc["nlu"]:
        if block["intent"] == "entry_fast_track":
            block["examples"] = "\n".join(block["examples"].splitlines()[:3]) + "\n"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    report = check(root=project, today=dt.date(2028, 3, 1))
    output = render(report)
    assert not report.ok
    assert "data/nlu/uk/: intent 'entry_fast_track' has only 3 training examples" in output
    assert "ERROR   data/figures.yml: minimum_wage: no value for 2028: the 2027 value ended on " \
        "2027-12-31" in output


def test_missing_accuracy_file_is_an_error(project: Path) -> None:
    report = check(root=project, today=dt.date(2026, 11, 25),
                   accuracy_file=project / "nope.json")
    assert not report.ok
    assert f"ERROR   {project / 'nope.json'}: evaluation file not found" in render(report)


def _figure_problems(report_text: str) -> list[str]:
    return [line for line in report_text.splitlines() if "data/figures.yml" in line]


def test_figures_as_of_a_day() -> None:
    """51 days ahead: quiet; 30 days ahead: a warning; after the end: an error naming the
    figure and the year whose value is missing, and what it updates."""
    assert _figure_problems(render(check(today=dt.date(2026, 11, 10)))) == []
    december = _figure_problems(render(check(today=dt.date(2026, 12, 1))))
    assert len(december) == 1
    assert december[0].startswith("WARNING data/figures.yml: pension_contribution_ceiling: "
                                  "the 2026 value ends on 2026-12-31 (in 30 days); enter the "
                                  "2027 value once it is published; it updates "
                                  "blue_card_salary, blue_card_salary_shortage, "
                                  "skilled_worker_salary_45plus, experience_route_salary")
    january = _figure_problems(render(check(today=dt.date(2027, 1, 2))))
    assert len(january) == 1
    assert january[0].startswith("ERROR   data/figures.yml: pension_contribution_ceiling: "
                                 "no value for 2027: the 2026 value ended on 2026-12-31; "
                                 "enter the 2027 value; it updates blue_card_salary")


def test_one_new_ceiling_value_clears_the_error(project: Path) -> None:
    file = project / "data/figures.yml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace(
        "    - {value: 101400, valid_from: 2026-01-01, valid_until: 2026-12-31}\n",
        "    - {value: 101400, valid_from: 2026-01-01, valid_until: 2026-12-31}\n"
        "    - {value: 1, valid_from: 2027-01-01, valid_until: 2027-12-31}\n"),  # test only
        encoding="utf-8")
    assert _figure_problems(render(check(root=project, today=dt.date(2027, 1, 2)))) == []


def test_fees_warn_when_their_recheck_is_due() -> None:
    def fees(day: dt.date) -> list[str]:
        return [p for p in _figure_problems(render(check(today=day))) if "_fee" in p]

    assert fees(dt.date(2027, 11, 30)) == []
    due = fees(dt.date(2027, 12, 1))
    assert any(p.startswith("WARNING data/figures.yml: national_visa_fee: last checked on "
                            "2026-12-01, re-check due since 2027-12-01 (every 12 months)")
               for p in due)
    assert not any(p.startswith("ERROR") for p in due)


def test_topic_answers_need_a_recent_check_date(project: Path) -> None:
    file = project / "data/answers.yml"
    answers = yaml.safe_load(file.read_text(encoding="utf-8"))
    del answers["utter_visa_family"]
    answers["utter_work_rights"] = {"checked": dt.date(2026, 5, 31)}
    file.write_text(yaml.safe_dump(answers), encoding="utf-8")
    output = render(check(root=project, today=dt.date(2026, 12, 1)))
    assert ("ERROR   data/answers.yml: utter_visa_family: topic answer without a check date"
            in output)
    assert ("WARNING data/answers.yml: utter_work_rights: last checked on 2026-05-31, more "
            "than 6 months ago" in output)
    assert "utter_recognition_need" not in output.split("data/answers.yml", 1)[-1]


def test_the_year_must_not_be_shown_twice(project: Path) -> None:
    file = project / "data/texts/de/visa.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    texts["utter_visa_blue_card"]["text"] = texts["utter_visa_blue_card"]["text"].replace(
        "{blue_card_salary}", "{blue_card_salary} ({blue_card_salary_year})")
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    output = render(check(root=project, today=dt.date(2026, 12, 1)))
    assert ("ERROR   data/texts/de/visa.yml: utter_visa_blue_card: {blue_card_salary} already "
            "shows its year; remove {blue_card_salary_year}") in output


def test_common_fragments_are_checked(project: Path) -> None:
    file = project / "data/texts/tr/common.yml"
    fragments = yaml.safe_load(file.read_text(encoding="utf-8"))
    del fragments["as_of"]
    fragments["figure_expired_note"] = "{year} ({url})"
    fragments["months"] = fragments["months"][:11]
    file.write_text(yaml.safe_dump(fragments, allow_unicode=True), encoding="utf-8")
    output = render(check(root=project, today=dt.date(2026, 12, 1)))
    assert "ERROR   data/texts/tr/common.yml: as_of: missing fragment" in output
    assert "ERROR   data/texts/tr/common.yml: figure_expired_note: placeholders" in output
    assert "ERROR   data/texts/tr/common.yml: months: needs the 12 month names" in output


def test_profession_answers_are_checked(project: Path) -> None:
    prof = project / "data/professions"
    english = yaml.safe_load((prof / "en.yml").read_text(encoding="utf-8"))
    english["nurse"]["recognition_costs"] = "About {recognition_fee_max}. {nonsense}"
    english["nurse"]["visa_nonsense"] = "x"
    (prof / "en.yml").write_text(yaml.safe_dump(english, allow_unicode=True), encoding="utf-8")
    german = {"nurse": {"recognition_need": "Pflege ist reglementiert.",
                        "recognition_costs": "Etwa 600 €.", "recognition_academic": "x"}}
    (prof / "de.yml").write_text(yaml.safe_dump(german, allow_unicode=True), encoding="utf-8")
    groups = yaml.safe_load((prof / "groups.yml").read_text(encoding="utf-8"))
    groups["welder"].append("astronaut")
    (prof / "groups.yml").write_text(yaml.safe_dump(groups), encoding="utf-8")
    (prof / "ar.yml").unlink(missing_ok=True)  # a language without its profession file

    output = render(check(root=project, today=dt.date(2026, 12, 1)))
    assert ("ERROR   data/professions/de.yml: nurse.work_during_recognition: missing "
            "translation") in output
    assert "ERROR   data/professions/ar.yml: nurse.recognition_need: missing translation" \
        in output
    assert "ERROR   data/professions/de.yml: nurse.recognition_costs: placeholders []" in output
    assert "ERROR   data/professions/de.yml: nurse.recognition_academic: not in " \
        "data/professions/en.yml" in output
    assert "ERROR   data/professions/en.yml: nurse.recognition_costs: unknown placeholder " \
        "{nonsense}" in output
    assert "ERROR   data/professions/en.yml: nurse.visa_nonsense: not a topic answer" in output
    assert "ERROR   data/professions/groups.yml: welder: 'astronaut' is not a profession" \
        in output


def test_every_language_deep_links_at_least_nine_in_ten_topic_answers() -> None:
    report = check(today=dt.date(2026, 12, 1))
    for lang, (good, total) in report.link_share.items():
        assert total == 30 and good / total >= 0.9, (lang, good, total)


def test_home_page_links_and_unofficial_sites_are_reported(project: Path) -> None:
    file = project / "data/texts/uk/recognition.yml"
    texts = yaml.safe_load(file.read_text(encoding="utf-8"))
    partial = texts["utter_recognition_partial"]["text"]
    texts["utter_recognition_partial"]["text"] = partial.replace(
        "https://www.netzwerk-iq.de/berufliche-anerkennung/qualifizierungen-im-foerderprogramm-iq"
        ".html", "https://www.netzwerk-iq.de")
    costs = texts["utter_recognition_costs"]["text"]
    texts["utter_recognition_costs"]["text"] = re.sub(r"https://\S+",
                                                      "https://anerkennung.example.com/help", costs)
    file.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")

    report = check(root=project, today=dt.date(2026, 12, 1))
    output = render(report)
    assert "WARNING uk: utter_recognition_partial: links only a home page" in output
    assert "ERROR   uk: utter_recognition_costs: https://anerkennung.example.com/help is not " \
           "an official site" in output
    assert "ERROR   uk: links: 25 of 30 topic answers link the page that answers" in output
    assert report.link_share["uk"] == (25, 30) and report.link_share["ar"] == (27, 30)
