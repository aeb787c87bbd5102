"""Weekly office hours such as "Mon-Fri 09:00-17:00; Sat 10:00-13:00", in Europe/Berlin."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# German abbreviations are common in MO directories ("Mo-Fr 09:00-17:00")
_ALIASES = {"mo": "mon", "di": "tue", "mi": "wed", "do": "thu", "fr": "fri", "sa": "sat",
            "so": "sun", "tu": "tue", "we": "wed", "th": "thu", "su": "sun"}
_PART = re.compile(
    r"^\s*(?P<d1>[a-z]{2,3})(?:\s*-\s*(?P<d2>[a-z]{2,3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$",
    re.IGNORECASE,
)


class HoursError(ValueError):
    """The hours text cannot be read; the message says which part."""


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time


def parse_hours(text: str) -> list[Slot]:
    """Parse "Mon-Fri 09:00-17:00; Sat 10:00-13:00". Empty text means no office hours."""
    slots: list[Slot] = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        match = _PART.match(part)
        if not match:
            raise HoursError(f"cannot read '{part}' (expected e.g. 'Mon-Fri 09:00-17:00')")
        d1 = _ALIASES.get(match["d1"].lower(), match["d1"].lower())
        d2 = _ALIASES.get((match["d2"] or d1).lower(), (match["d2"] or d1).lower())
        if d1 not in DAYS or d2 not in DAYS:
            raise HoursError(f"unknown day in '{part}' (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
        try:
            start = dt.time(int(match["h1"]), int(match["m1"]))
            # "24:00" closes the day
            end = (dt.time.max if (match["h2"], match["m2"]) == ("24", "00")
                   else dt.time(int(match["h2"]), int(match["m2"])))
        except ValueError as error:
            raise HoursError(f"invalid time in '{part}'") from error
        if end <= start:
            raise HoursError(f"'{part}' ends before it starts")
        first, last = DAYS.index(d1), DAYS.index(d2)
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        slots.extend(Slot(day, start, end) for day in days)
    return slots


def to_berlin(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(BERLIN)


def on_duty(slots: list[Slot], moment: dt.datetime) -> bool:
    local = to_berlin(moment)
    return any(s.weekday == local.weekday() and s.start <= local.time() < s.end for s in slots)


def next_start(slots: list[Slot], moment: dt.datetime) -> dt.datetime | None:
    """The next time office hours begin after `moment` (Berlin time), None if never."""
    if not slots:
        return None
    local = to_berlin(moment)
    for offset in range(0, 8):
        day = (local + dt.timedelta(days=offset)).date()
        for slot in sorted(slots, key=lambda s: s.start):
            if slot.weekday != day.weekday():
                continue
            start = dt.datetime.combine(day, slot.start, tzinfo=BERLIN)
            if start > local:
                return start
    return None


def describe_next(slots: list[Slot], moment: dt.datetime) -> str:
    """'Tue 09:00' style, language-neutral enough for every text."""
    start = next_start(slots, moment)
    if start is None:
        return "–"
    return f"{DAYS[start.weekday()].capitalize()} {start:%d.%m. %H:%M}"
