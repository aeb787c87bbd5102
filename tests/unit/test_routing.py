"""Routing: every rule and every tie-break, in order."""

from __future__ import annotations

import datetime as dt

from bot.hours import BERLIN, parse_hours
from bot.routing import CounsellorView, Request, route

NOW = dt.datetime(2026, 11, 25, 11, 0, tzinfo=BERLIN)  # Wednesday 11:00
DAY = tuple(parse_hours("Mon-Fri 09:00-17:00"))
NIGHT = tuple(parse_hours("Mon-Fri 18:00-20:00"))


def c(id: str, *, org: str = "o1", languages=("uk",), topics=("recognition",),
      regions=("BY",), capacity: int = 5, active: bool = True, slots=DAY,
      load: int = 0) -> CounsellorView:
    return CounsellorView(id, org, tuple(languages), tuple(topics), tuple(regions), capacity,
                          active, tuple(slots), load)


def ids(request: Request, counsellors, recent=None) -> list[str]:
    return [x.counsellor_id for x in route(request, counsellors, NOW, recent)]


UK_BY = Request("uk", "recognition", "BY")


def test_must_speak_the_language() -> None:
    assert ids(UK_BY, [c("a", languages=("ru",)), c("b")]) == ["b"]


def test_must_cover_the_topic() -> None:
    assert ids(UK_BY, [c("a", topics=("visa",)), c("b")]) == ["b"]


def test_must_be_active_and_under_capacity() -> None:
    assert ids(UK_BY, [c("a", active=False), c("b", capacity=2, load=2), c("c")]) == ["c"]


def test_region_before_nationwide_before_elsewhere() -> None:
    team = [c("far", regions=("HH",)), c("nation", regions=("DE",)), c("local")]
    assert ids(UK_BY, team) == ["local", "nation", "far"]


def test_unknown_region_ranks_nationwide_first() -> None:
    team = [c("far", regions=("HH",)), c("nation", regions=("DE",))]
    assert ids(Request("uk", "recognition", None), team) == ["nation", "far"]


def test_on_duty_before_off_duty_within_the_same_region_rank() -> None:
    assert ids(UK_BY, [c("late", slots=NIGHT), c("now")]) == ["now", "late"]


def test_region_outranks_duty() -> None:
    team = [c("nation-now", regions=("DE",)), c("local-later", slots=NIGHT)]
    assert ids(UK_BY, team) == ["local-later", "nation-now"]


def test_lower_load_first() -> None:
    assert ids(UK_BY, [c("busy", load=3), c("free", load=1)]) == ["free", "busy"]


def test_fairness_across_organisations() -> None:
    team = [c("a", org="big"), c("b", org="small")]
    assert ids(UK_BY, team, {"big": 10, "small": 2}) == ["b", "a"]


def test_deterministic_final_tie_break_by_id() -> None:
    assert ids(UK_BY, [c("zoe"), c("adam"), c("mia")]) == ["adam", "mia", "zoe"]


def test_other_language_only_with_agreement_and_only_when_nobody_speaks_it() -> None:
    team = [c("de-speaker", languages=("de",))]
    assert ids(UK_BY, team) == []
    agreed = Request("uk", "recognition", "BY", accept_other_language=True)
    result = route(agreed, team, NOW)
    assert [x.counsellor_id for x in result] == ["de-speaker"]
    assert result[0].language == "de" and "agreed instead of uk" in result[0].reasons[0]
    # someone speaks Ukrainian: the German speaker is not offered even with agreement
    assert ids(agreed, [*team, c("uk-speaker", regions=("HH",))]) == ["uk-speaker"]


def test_a_second_language_of_the_person_comes_before_german_and_english() -> None:
    team = [c("en", languages=("en",)), c("ru", languages=("ru",))]
    request = Request("uk", "recognition", "BY", other_languages=("ru",),
                      accept_other_language=True)
    assert [x.language for x in route(request, team, NOW)] == ["ru", "en"]


def test_reasons_explain_every_rule() -> None:
    reasons = route(UK_BY, [c("a")], NOW, {"o1": 4})[0].reasons
    assert reasons == ["speaks uk", "covers recognition", "active, 0/5 open cases",
                       "serves BY", "on duty now", "organisation o1: 4 cases in the last 30 days"]
