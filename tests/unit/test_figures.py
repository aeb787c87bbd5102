"""Yearly figures: one file, formatted per language, valid by date."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.figures import figure_values, figures, format_amount


@pytest.mark.parametrize("value,unit,lang,expected", [
    (50700, "EUR", "en", "€50,700"),
    (50700, "EUR", "de", "50.700 €"),
    (45934.2, "EUR", "de", "45.934,20 €"),
    (13.9, "EUR/h", "en", "€13.90/h"),
    (13.9, "EUR/h", "tr", "13,90 €/h"),
    (50700, "EUR", "uk", "50\u202f700 €"),
])
def test_amounts_are_formatted_per_language(value: float, unit: str, lang: str,
                                            expected: str) -> None:
    assert format_amount(value, unit, lang) == expected


def test_the_value_valid_on_the_day_is_used() -> None:
    assert figure_values("en", dt.date(2025, 6, 1))["minimum_wage"] == "€12.82/h"
    assert figure_values("en", dt.date(2026, 6, 1))["minimum_wage"] == "€13.90/h"
    assert figure_values("en", dt.date(2027, 2, 1))["minimum_wage"] == "€14.60/h"
    assert figure_values("en", dt.date(2026, 6, 1))["blue_card_salary_year"] == "2026"


def test_every_figure_has_a_source_and_ordered_validity() -> None:
    for fig in figures().values():
        assert fig.source and fig.description
        for v in fig.values:
            assert v.valid_from <= v.valid_until


def test_expiry_is_detected() -> None:
    wage = figures()["minimum_wage"]
    assert not wage.expired(dt.date(2027, 6, 1))
    assert wage.expired(dt.date(2028, 1, 1))
    # past its validity the newest value is still used (and the content check complains)
    assert wage.current(dt.date(2028, 1, 1)).value == 14.60
