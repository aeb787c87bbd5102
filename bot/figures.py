"""Figures that change every year (salary thresholds, fees, minimum wage): one file,
each value with its validity and source, formatted per language when a text is sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

FIGURES_FILE = PROJECT_ROOT / "data" / "figures.yml"


@dataclass(frozen=True)
class FigureValue:
    value: float
    valid_from: dt.date
    valid_until: dt.date


@dataclass(frozen=True)
class Figure:
    """One yearly figure, e.g. the Blue Card salary threshold."""

    key: str
    description: str
    unit: str  # "EUR", "EUR/h" or "" for plain numbers
    source: str
    values: tuple[FigureValue, ...]

    def current(self, today: dt.date) -> FigureValue:
        """The value valid today; past the last validity, the newest one (and the
        content check reports it as expired)."""
        for v in self.values:
            if v.valid_from <= today <= v.valid_until:
                return v
        return max(self.values, key=lambda v: v.valid_until)

    def expired(self, today: dt.date) -> bool:
        return all(v.valid_until < today for v in self.values)


def load_figures(path: Path = FIGURES_FILE) -> dict[str, Figure]:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    figures = {}
    for key, spec in raw.items():
        values = tuple(
            FigureValue(float(v["value"]), v["valid_from"], v["valid_until"])
            for v in spec["values"]
        )
        figures[key] = Figure(key, spec["description"], spec.get("unit", ""), spec["source"],
                              values)
    return figures


@lru_cache(maxsize=1)
def figures() -> dict[str, Figure]:
    return load_figures()


# Thousands and decimal separators, and where the euro sign goes, per language.
_NUMBER_STYLE: dict[str, tuple[str, str, bool]] = {
    # lang: (thousands, decimal, symbol_first)
    "en": (",", ".", True),
    "de": (".", ",", False),
    "tr": (".", ",", False),
    "ru": ("\u202f", ",", False),
    "uk": ("\u202f", ",", False),
    "ar": (",", ".", False),
}


def format_amount(value: float, unit: str, language: str) -> str:
    """'€50,700' in English, '50.700 €' in German, '13,90 €/h' and so on."""
    thousands, decimal, symbol_first = _NUMBER_STYLE.get(language, _NUMBER_STYLE["en"])
    decimals = 0 if float(value).is_integer() else 2
    number = f"{value:,.{decimals}f}".replace(",", "\0").replace(".", decimal)
    number = number.replace("\0", thousands)
    if not unit:
        return number
    suffix = "/h" if unit == "EUR/h" else ""
    return f"€{number}{suffix}" if symbol_first else f"{number} €{suffix}"


def figure_values(language: str, today: dt.date | None = None) -> dict[str, str]:
    """Template variables for texts: `{name}` is the formatted value, `{name_year}` the year
    it is valid for."""
    today = today or dt.date.today()
    out: dict[str, str] = {}
    for key, fig in figures().items():
        current = fig.current(today)
        out[key] = format_amount(current.value, fig.unit, language)
        out[f"{key}_year"] = str(current.valid_from.year)
    return out
