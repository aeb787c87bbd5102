"""Routing: which counsellors fit a request, best first, each with its reasons.

Rules, in this order:
1. must speak the person's language (or, only when nobody does and the person agreed, one
   of the fallback languages: a second language they speak first, then German, English);
2. must cover the topic;
3. must be active and under capacity;
then ranked by: serves the person's region > nationwide (DE) > elsewhere (remote);
on duty at that moment > off duty; lower current load; the organisation that received the
fewest recent cases (fairness); finally the counsellor id, so the order is deterministic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.directory import NATIONWIDE
from bot.hours import Slot, on_duty

FALLBACK_LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class CounsellorView:
    """What routing needs to know about one counsellor."""

    id: str
    organisation_id: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    regions: tuple[str, ...]
    capacity: int
    active: bool
    slots: tuple[Slot, ...]
    load: int  # open cases assigned to them


@dataclass(frozen=True)
class Request:
    language: str
    topic: str
    region: str | None  # state code; None = abroad / not known yet
    other_languages: tuple[str, ...] = ()  # further languages the person speaks
    accept_other_language: bool = False


@dataclass
class Candidate:
    counsellor_id: str
    organisation_id: str
    language: str
    language_rank: int  # 0 the person's language, then the order of the fallbacks
    region_rank: int  # 0 region, 1 nationwide, 2 elsewhere
    on_duty: bool
    load: int
    org_recent_cases: int
    reasons: list[str] = field(default_factory=list)

    @property
    def same_language(self) -> bool:
        return self.language_rank == 0

    def sort_key(self) -> tuple:
        return (self.language_rank, self.region_rank, not self.on_duty, self.load,
                self.org_recent_cases, self.counsellor_id)

    def as_dict(self) -> dict:
        return {"counsellor_id": self.counsellor_id, "organisation_id": self.organisation_id,
                "language": self.language, "on_duty": self.on_duty, "load": self.load,
                "reasons": self.reasons}


def _region_rank(regions: Sequence[str], wanted: str | None) -> tuple[int, str]:
    if wanted and wanted in regions:
        return 0, f"serves {wanted}"
    if NATIONWIDE in regions:
        return 1, "works nationwide"
    return 2, f"remote counselling (serves {', '.join(regions)})"


def route(
    request: Request,
    counsellors: Sequence[CounsellorView],
    at: dt.datetime,
    org_recent_cases: dict[str, int] | None = None,
) -> list[Candidate]:
    """Candidates best first. With no one speaking the person's language and
    `accept_other_language`, counsellors in a fallback language are considered."""
    recent = org_recent_cases or {}
    fallbacks = [lang for lang in (*request.other_languages, *FALLBACK_LANGUAGES)
                 if lang != request.language]
    out: list[Candidate] = []
    for c in counsellors:
        if request.language in c.languages:
            language, language_rank = request.language, 0
        elif request.accept_other_language:
            shared = [lang for lang in fallbacks if lang in c.languages]
            if not shared:
                continue
            language = shared[0]
            language_rank = 1 + fallbacks.index(language)
        else:
            continue
        if request.topic not in c.topics or not c.active or c.load >= c.capacity:
            continue
        rank, region_reason = _region_rank(c.regions, request.region)
        duty = on_duty(list(c.slots), at)
        cand = Candidate(c.id, c.organisation_id, language, language_rank, rank, duty, c.load,
                         recent.get(c.organisation_id, 0))
        cand.reasons = [
            f"speaks {language}" + ("" if cand.same_language
                                    else f" (agreed instead of {request.language})"),
            f"covers {request.topic}",
            f"active, {c.load}/{c.capacity} open cases",
            region_reason,
            "on duty now" if duty else "off duty now",
            f"organisation {c.organisation_id}: {cand.org_recent_cases} cases in the last "
            "30 days",
        ]
        out.append(cand)
    same_language = [c for c in out if c.same_language]
    # other languages only come in when nobody speaks the person's own
    result = same_language or out
    return sorted(result, key=Candidate.sort_key)
