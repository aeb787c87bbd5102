"""Office hours in Europe/Berlin."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.hours import BERLIN, HoursError, describe_next, next_start, on_duty, parse_hours

HOURS = parse_hours("Mon-Fri 09:00-17:00; Sat 10:00-13:00")


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def test_on_duty_in_berlin_time() -> None:
    assert on_duty(HOURS, berlin(2026, 11, 25, 9, 0))  # Wednesday
    assert not on_duty(HOURS, berlin(2026, 11, 25, 17, 0))
    assert on_duty(HOURS, berlin(2026, 11, 28, 12, 59))  # Saturday
    assert not on_duty(HOURS, berlin(2026, 11, 29, 12, 0))  # Sunday


def test_utc_moments_are_converted() -> None:
    # 08:30 UTC in winter is 09:30 in Berlin
    assert on_duty(HOURS, dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone.utc))
    # 07:30 UTC in summer is 09:30 in Berlin (CEST)
    assert on_duty(HOURS, dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.timezone.utc))


def test_next_start_skips_the_weekend() -> None:
    assert next_start(HOURS, berlin(2026, 11, 28, 14, 0)) == berlin(2026, 11, 30, 9, 0)
    assert describe_next(HOURS, berlin(2026, 11, 28, 14, 0)) == "Mon 30.11. 09:00"
    assert describe_next([], berlin(2026, 11, 28, 14, 0)) == "–"


def test_wrapping_day_range() -> None:
    slots = parse_hours("Sat-Mon 10:00-12:00")
    assert sorted({s.weekday for s in slots}) == [0, 5, 6]


@pytest.mark.parametrize("bad", ["Mon 9-17", "Xyz 09:00-10:00", "Mon 17:00-09:00",
                                 "Mon 25:00-26:00"])
def test_unreadable_hours_are_refused(bad: str) -> None:
    with pytest.raises(HoursError):
        parse_hours(bad)


def test_german_day_names_and_midnight() -> None:
    slots = parse_hours("Mo-Fr 18:00-24:00; Sa 10:00-12:00")
    assert on_duty(slots, berlin(2026, 11, 27, 23, 59))  # Friday night
    assert on_duty(slots, berlin(2026, 11, 28, 11, 0))  # Saturday
    assert not on_duty(slots, berlin(2026, 11, 29, 11, 0))
