"""Figures: one file, thresholds derived from the pension ceiling, formatted per language with
their year, never presented as current once expired; fees re-checked instead of expiring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bot.figures import (
    NOTE_SUFFIX,
    FigureError,
    add_months,
    figures,
    format_amount,
    load_figures,
)
from bot.texts import figure_values

# The official thresholds (facts.md, BMI notices), independent of the formula.
OFFICIAL = {
    2025: {"blue_card_salary": "48300", "blue_card_salary_shortage": "43759.80",
           "skilled_worker_salary_45plus": "53130", "experience_route_salary": "43470"},
    2026: {"blue_card_salary": "50700", "blue_card_salary_shortage": "45934.20",
           "skilled_worker_salary_45plus": "55770", "experience_route_salary": "45630"},
}


@pytest.mark.parametrize("value,unit,lang,expected", [
    (50700, "EUR", "en", "€50,700"),
    (50700, "EUR", "de", "50.700 €"),
    (45934.2, "EUR", "de", "45.934,20 €"),
    (Decimal("45934.20"), "EUR", "en", "€45,934.20"),
    (13.9, "EUR/h", "en", "€13.90/h"),
    (13.9, "EUR/h", "tr", "13,90 €/h"),
    (50700, "EUR", "uk", "50\u202f700 €"),
])
def test_amounts_are_formatted_per_language(value: float, unit: str, lang: str,
                                            expected: str) -> None:
    assert format_amount(value, unit, lang) == expected


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_the_formula_reproduces_the_official_thresholds(year: int) -> None:
    table = figures()
    day = dt.date(year, 6, 1)
    for key, official in OFFICIAL[year].items():
        fig = table[key]
        assert fig.derived_from == "pension_contribution_ceiling", key
        value = fig.current(day)
        assert value is not None and value.value == Decimal(official), (key, year)


def _write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "figures.yml"
    file.write_text(text, encoding="utf-8")
    return file


def test_one_new_ceiling_value_updates_all_four_thresholds(tmp_path: Path) -> None:
    source = (Path(__file__).parents[2] / "data/figures.yml").read_text(encoding="utf-8")
    # a made-up ceiling, for this test only: real values come from the official notice
    fake = source.replace(
        "    - {value: 101400, valid_from: 2026-01-01, valid_until: 2026-12-31}\n",
        "    - {value: 101400, valid_from: 2026-01-01, valid_until: 2026-12-31}\n"
        "    - {value: 123457, valid_from: 2027-01-01, valid_until: 2027-12-31}\n")
    assert fake != source
    table = load_figures(_write(tmp_path, fake))
    day = dt.date(2027, 3, 1)
    got = {k: table[k].current(day) for k in OFFICIAL[2026]}
    assert {k: v.value if v else None for k, v in got.items()} == {
        "blue_card_salary": Decimal("61728.50"),             # 50 %
        "blue_card_salary_shortage": Decimal("55926.02"),    # 45.3 %, 55926.021 rounded
        "skilled_worker_salary_45plus": Decimal("67901.35"),  # 55 %
        "experience_route_salary": Decimal("55555.65"),       # 45 %
    }
    assert not any(table[k].expired(day) for k in OFFICIAL[2026])


def test_yearly_figures_show_their_year_and_fees_do_not() -> None:
    day = dt.date(2026, 12, 1)
    en, de, ar = (figure_values(lang, day) for lang in ("en", "de", "ar"))
    assert en["blue_card_salary"] == "€50,700 (2026)"
    assert de["blue_card_salary"] == "50.700 € (2026)"
    assert ar["blue_card_salary"] == "50,700 € (لعام 2026)"
    assert en["experience_route_salary"] == "€45,630 (2026)"
    assert en["blue_card_salary_year"] == "2026"
    assert en["national_visa_fee"] == "€75"
    assert "national_visa_fee_year" not in en


def test_the_value_valid_on_the_day_is_used() -> None:
    assert figure_values("en", dt.date(2025, 6, 1))["minimum_wage"] == "€12.82/h (2025)"
    assert figure_values("en", dt.date(2026, 6, 1))["minimum_wage"] == "€13.90/h (2026)"
    assert figure_values("en", dt.date(2027, 2, 1))["minimum_wage"] == "€14.60/h (2027)"


def test_an_expired_figure_is_not_presented_as_current() -> None:
    day = dt.date(2027, 1, 2)
    en, de, ru = (figure_values(lang, day) for lang in ("en", "de", "ru"))
    assert en["blue_card_salary"] == "€50,700 (the 2026 value)"
    assert de["blue_card_salary"] == "50.700 € (Wert für 2026)"
    assert ru["skilled_worker_salary_45plus"] == "55\u202f770 € (значение 2026 года)"
    # and the answer that shows it says from when new amounts apply, and where to look
    assert en["blue_card_salary" + NOTE_SUFFIX] == (
        "Amounts marked with a year are the 2026 values; new amounts apply from "
        "1 January 2027: https://www.make-it-in-germany.com")
    assert de["blue_card_salary" + NOTE_SUFFIX] == (
        "Beträge mit Jahreszahl sind die Werte für 2026; ab dem 1. Januar 2027 gelten neue "
        "Beträge: https://www.make-it-in-germany.com")
    assert en["blue_card_salary_year"] == "2026"
    assert en["minimum_wage"] == "€14.60/h (2027)"  # has its 2027 value
    assert "minimum_wage" + NOTE_SUFFIX not in en
    later = figure_values("en", dt.date(2028, 1, 1))
    assert later["minimum_wage"] == "€14.60/h (the 2027 value)"
    assert later["minimum_wage" + NOTE_SUFFIX].endswith(
        "new amounts apply from 1 January 2028: https://www.bmas.de")


def test_expiry_and_recheck() -> None:
    table = figures()
    wage, ceiling, fee = (table["minimum_wage"], table["pension_contribution_ceiling"],
                          table["national_visa_fee"])
    assert not wage.expired(dt.date(2027, 6, 1)) and wage.expired(dt.date(2028, 1, 1))
    assert not ceiling.expired(dt.date(2026, 12, 31)) and ceiling.expired(dt.date(2027, 1, 1))
    assert ceiling.current(dt.date(2027, 1, 1)) is None
    assert not fee.expired(dt.date(2030, 1, 1))  # fees are valid until changed
    assert fee.recheck_due() == dt.date(2027, 12, 1)


def test_every_figure_has_a_source_and_yearly_ones_a_link() -> None:
    for fig in figures().values():
        assert fig.source and fig.description, fig.key
        if fig.yearly:
            assert fig.url.startswith("https://"), fig.key
            assert fig.values, fig.key
        else:
            assert fig.value is not None and fig.last_checked and fig.recheck_months


@pytest.mark.parametrize("text,message", [
    ("a:\n  kind: yearly\n  derived_from: b\n  share: '0.5'\n", "a: derived_from 'b'"),
    ("a:\n  kind: yearly\n  values:\n"
     "    - {value: 1, valid_from: 2026-01-01, valid_until: 2026-12-31}\n"
     "    - {value: 2, valid_from: 2026-06-01, valid_until: 2027-12-31}\n", "a: values of"),
    ("a:\n  kind: fee\n  value: 5\n", "a: a fee needs `last_checked`"),
    ("a:\n  kind: monthly\n", "a: kind must be"),
])
def test_malformed_figures_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FigureError, match=message.replace("(", r"\(")):
        load_figures(_write(tmp_path, text))


def test_add_months_keeps_the_day_or_takes_the_last_one() -> None:
    assert add_months(dt.date(2026, 12, 1), 6) == dt.date(2027, 6, 1)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
