"""Figures the answers quote (salary thresholds, minimum wage, fees): one file, each value with
its validity or last check, derived thresholds computed from their base, formatted per language."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

FIGURES_FILE = PROJECT_ROOT / "data" / "figures.yml"
YEARLY, FEE = "yearly", "fee"


class FigureError(ValueError):
    """data/figures.yml is malformed (names the key and the field)."""


@dataclass(frozen=True)
class FigureValue:
    value: Decimal
    valid_from: dt.date
    valid_until: dt.date

    @property
    def year(self) -> int:
        return self.valid_from.year


@dataclass(frozen=True)
class Figure:
    """One figure. Yearly figures have dated values (possibly derived from a base figure);
    fees have one value, the date it was last confirmed and a re-check interval."""

    key: str
    kind: str  # YEARLY or FEE
    description: str
    unit: str  # "EUR", "EUR/h" or "" for plain numbers
    source: str
    url: str
    values: tuple[FigureValue, ...] = ()  # yearly, oldest first
    derived_from: str | None = None
    share: Decimal | None = None
    value: Decimal | None = None  # fee
    last_checked: dt.date | None = None  # fee
    recheck_months: int | None = None  # fee

    @property
    def yearly(self) -> bool:
        return self.kind == YEARLY

    def newest(self) -> FigureValue:
        return max(self.values, key=lambda v: v.valid_until)

    def current(self, today: dt.date) -> FigureValue | None:
        """The yearly value valid on that day, or None when none is (see `expired`)."""
        for v in self.values:
            if v.valid_from <= today <= v.valid_until:
                return v
        return None

    def expired(self, today: dt.date) -> bool:
        """A yearly figure whose newest value ended before `today`. Fees never expire."""
        return self.yearly and self.newest().valid_until < today

    def shown(self, today: dt.date) -> FigureValue:
        """The value an answer quotes: the one valid today, else the latest one that started
        (and, once expired, the newest, always with its year)."""
        started = [v for v in self.values if v.valid_from <= today]
        return self.current(today) or (max(started, key=lambda v: v.valid_from) if started
                                       else min(self.values, key=lambda v: v.valid_from))

    def recheck_due(self) -> dt.date | None:
        """For a fee, the day its re-check falls due."""
        if self.last_checked is None or self.recheck_months is None:
            return None
        return add_months(self.last_checked, self.recheck_months)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def derive(base: Decimal, share: Decimal, step: Decimal) -> Decimal:
    """base × share, rounded half-up to `step` (e.g. 0.01): how the BMI computes the
    thresholds from the pension contribution ceiling."""
    return (base * share).quantize(step, rounding=ROUND_HALF_UP)


def _date(value: Any, key: str, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise FigureError(f"{key}: {field} must be a date (YYYY-MM-DD)") from error


def _decimal(value: Any, key: str, field: str) -> Decimal:
    try:
        # through str: 45934.20 written in YAML is a float, and str() keeps what was written
        return Decimal(str(value))
    except ArithmeticError as error:
        raise FigureError(f"{key}: {field} must be a number") from error


def load_figures(path: Path = FIGURES_FILE) -> dict[str, Figure]:
    """Read and check data/figures.yml; derived values are computed here."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    figures: dict[str, Figure] = {}
    derived: list[tuple[str, dict[str, Any]]] = []
    for key, spec in raw.items():
        kind = spec.get("kind", YEARLY)
        common = dict(key=key, kind=kind, description=str(spec.get("description", "")),
                      unit=str(spec.get("unit", "")), source=str(spec.get("source", "")),
                      url=str(spec.get("url", "")))
        if kind == FEE:
            for field in ("value", "last_checked", "recheck_months"):
                if field not in spec:
                    raise FigureError(f"{key}: a fee needs `{field}`")
            figures[key] = Figure(
                **common, value=_decimal(spec["value"], key, "value"),
                last_checked=_date(spec["last_checked"], key, "last_checked"),
                recheck_months=int(spec["recheck_months"]))
        elif kind == YEARLY:
            if "derived_from" in spec:
                derived.append((key, {**spec, **common}))
                continue
            if not spec.get("values"):
                raise FigureError(f"{key}: a yearly figure needs `values` or `derived_from`")
            values = tuple(sorted(
                (FigureValue(_decimal(v["value"], key, "value"),
                             _date(v["valid_from"], key, "valid_from"),
                             _date(v["valid_until"], key, "valid_until"))
                 for v in spec["values"]), key=lambda v: v.valid_from))
            for v in values:
                if v.valid_from > v.valid_until:
                    raise FigureError(f"{key}: value {v.value} ends before it starts")
            for a, b in zip(values, values[1:], strict=False):
                if b.valid_from <= a.valid_until:
                    raise FigureError(f"{key}: values of {a.valid_from} and {b.valid_from} "
                                      "overlap")
            figures[key] = Figure(**common, values=values)
        else:
            raise FigureError(f"{key}: kind must be '{YEARLY}' or '{FEE}', not '{kind}'")
    for key, spec in derived:
        base = figures.get(spec["derived_from"])
        if base is None or not base.yearly or base.derived_from:
            raise FigureError(f"{key}: derived_from '{spec['derived_from']}' must name a yearly "
                              "figure with its own values")
        if "share" not in spec:
            raise FigureError(f"{key}: a derived figure needs `share`")
        share = _decimal(spec["share"], key, "share")
        step = _decimal(spec.get("round", "0.01"), key, "round")
        fields = {f: spec[f] for f in ("key", "kind", "description", "unit", "source", "url")}
        figures[key] = Figure(
            **fields, derived_from=base.key, share=share,
            values=tuple(FigureValue(derive(v.value, share, step), v.valid_from, v.valid_until)
                         for v in base.values))
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


def format_amount(value: float | Decimal, unit: str, language: str) -> str:
    """'€50,700' in English, '50.700 €' in German, '13,90 €/h' and so on."""
    thousands, decimal, symbol_first = _NUMBER_STYLE.get(language, _NUMBER_STYLE["en"])
    amount = Decimal(str(value))
    decimals = 0 if amount == amount.to_integral_value() else 2
    number = f"{amount:,.{decimals}f}".replace(",", "\0").replace(".", decimal)
    number = number.replace("\0", thousands)
    if not unit:
        return number
    suffix = "/h" if unit == "EUR/h" else ""
    return f"€{number}{suffix}" if symbol_first else f"{number} €{suffix}"


@dataclass(frozen=True)
class Wording:
    """How one language says a figure's year and a date (from data/texts/<lang>/common.yml)."""

    with_year: str  # "{amount} ({year})"
    expired: str  # "{amount} (the {year} value)"
    expired_note: str  # "… the {year} values; new amounts apply from {date}: {url}"
    date: str  # "{day} {month} {year}"
    months: tuple[str, ...]  # 12 names, in the form `date` needs (genitive in ru/uk)


_SLOT = re.compile(r"\{([a-z_]+)\}")
NOTE_SUFFIX = "__expired_note"  # figure_values key of the note that goes with an expired figure


def _fill(template: str, **values: Any) -> str:
    """`{name}` replaced where given; other braces stay (a translator's typo never crashes)."""
    return _SLOT.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
                     template)


def format_date(day: dt.date, wording: Wording) -> str:
    return _fill(wording.date, day=day.day, month=wording.months[day.month - 1], year=day.year)


def render_figure(fig: Figure, language: str, today: dt.date, wording: Wording) -> str:
    """What `{key}` becomes in an answer: fees as the amount, yearly figures with their year,
    and an expired yearly figure never as if it were current."""
    if not fig.yearly:
        assert fig.value is not None
        return format_amount(fig.value, fig.unit, language)
    shown = fig.shown(today)
    amount = format_amount(shown.value, fig.unit, language)
    if fig.expired(today):
        return _fill(wording.expired, amount=amount, year=shown.year)
    return _fill(wording.with_year, amount=amount, year=shown.year)


def expired_note(fig: Figure, today: dt.date, wording: Wording) -> str | None:
    """The line an answer with an expired figure ends with: which year its amount is from,
    from when the new one applies, and the official page."""
    if not fig.yearly or not fig.expired(today):
        return None
    next_start = fig.newest().valid_until + dt.timedelta(days=1)
    return _fill(wording.expired_note, year=fig.shown(today).year,
                 date=format_date(next_start, wording), url=fig.url)


def figure_values(language: str, today: dt.date, wording: Wording,
                  table: dict[str, Figure] | None = None) -> dict[str, str]:
    """Template variables for texts: `{key}` as `render_figure` writes it and, for yearly
    figures, `{key_year}`, the year of the value shown."""
    out: dict[str, str] = {}
    for key, fig in (table if table is not None else figures()).items():
        out[key] = render_figure(fig, language, today, wording)
        if fig.yearly:
            out[f"{key}_year"] = str(fig.shown(today).year)
        note = expired_note(fig, today, wording)
        if note:
            out[f"{key}{NOTE_SUFFIX}"] = note
    return out
