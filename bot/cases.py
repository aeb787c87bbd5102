"""Case lifecycle: create (with routing), claim (atomic: the first counsellor wins),
release, reassign, close with an outcome, cancel by the person, messages of a case."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.db.models import (
    Case,
    CaseMessage,
    CaseOffer,
    CaseStatus,
    Consent,
    Counsellor,
    Outcome,
    utcnow,
)
from bot.hours import parse_hours
from bot.privacy import user_ref
from bot.routing import Candidate, CounsellorView, Request, route

OPEN = (CaseStatus.QUEUED, CaseStatus.OFFERED, CaseStatus.CLAIMED)
FAIRNESS_WINDOW = dt.timedelta(days=30)
OFFER_TO = 3  # how many of the best candidates are notified


class CaseError(RuntimeError):
    """An operation that is not allowed in the case's current state."""


@dataclass(frozen=True)
class NewCase:
    case: Case
    candidates: list[Candidate]


def counsellor_views(session: Session) -> list[CounsellorView]:
    loads = Counter(dict(session.execute(
        select(Case.assignee_id, func.count()).where(
            Case.status == CaseStatus.CLAIMED, Case.assignee_id.is_not(None)
        ).group_by(Case.assignee_id)).all()))
    views = []
    for c in session.execute(select(Counsellor)).scalars():
        views.append(CounsellorView(
            id=c.id, organisation_id=c.organisation_id, languages=tuple(c.languages),
            topics=tuple(c.topics), regions=tuple(c.effective_regions), capacity=c.capacity,
            active=c.active, slots=tuple(parse_hours(c.hours)), load=loads.get(c.id, 0)))
    return views


def recent_cases_per_organisation(session: Session, *, now: dt.datetime) -> dict[str, int]:
    since = now.replace(tzinfo=None) - FAIRNESS_WINDOW
    rows = session.execute(
        select(Counsellor.organisation_id, func.count(Case.id))
        .join(Case, Case.assignee_id == Counsellor.id)
        .where(Case.created_at >= since)
        .group_by(Counsellor.organisation_id)).all()
    return {org: n for org, n in rows}


def candidates_for(session: Session, request: Request, *, at: dt.datetime) -> list[Candidate]:
    return route(request, counsellor_views(session), at,
                 recent_cases_per_organisation(session, now=at))


def open_case(session: Session, *, conversation_id: str) -> Case | None:
    return session.execute(
        select(Case).where(Case.user_ref == user_ref(conversation_id), Case.status.in_(OPEN))
        .order_by(Case.id.desc())).scalars().first()


def record_consent(session: Session, *, conversation_id: str, fields: list[str]) -> Consent:
    consent = Consent(user_ref=user_ref(conversation_id), purpose="handover", fields=fields)
    session.add(consent)
    session.flush()
    return consent


def create_case(session: Session, *, conversation_id: str, language: str, topic: str,
                region: str | None, profession: str | None, country: str | None,
                accept_other_language: bool = False, at: dt.datetime | None = None) -> NewCase:
    """Route and store a new case (at most one open case per person)."""
    at = at or dt.datetime.now(dt.timezone.utc)
    if open_case(session, conversation_id=conversation_id) is not None:
        raise CaseError("this person already has an open case")
    request = Request(language, topic, region, accept_other_language=accept_other_language)
    candidates = candidates_for(session, request, at=at)
    case = Case(user_ref=user_ref(conversation_id), conversation_id=conversation_id,
                language=language, topic=topic, region=region, profession=profession,
                country=country,
                status=CaseStatus.OFFERED if candidates else CaseStatus.QUEUED,
                routing=[c.as_dict() for c in candidates[:OFFER_TO]])
    session.add(case)
    session.flush()
    return NewCase(case, candidates)


def claim(session: Session, *, case_id: int, counsellor_id: str) -> bool:
    """Take a case. Atomic: one UPDATE guarded by the status, so of two counsellors pressing
    "Take" at once exactly one wins. Returns whether this counsellor got it."""
    counsellor = session.get(Counsellor, counsellor_id)
    if counsellor is None or not counsellor.active:
        raise CaseError("unknown or inactive counsellor")
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status.in_((CaseStatus.QUEUED, CaseStatus.OFFERED)))
        .values(status=CaseStatus.CLAIMED, assignee_id=counsellor_id, claimed_at=utcnow())
        .execution_options(synchronize_session=False))
    # the UPDATE bypassed the session: reload the case so objects held here are current
    session.get(Case, case_id, populate_existing=True)
    return result.rowcount == 1


def _own_claimed(session: Session, case_id: int, counsellor_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.status != CaseStatus.CLAIMED or case.assignee_id != counsellor_id:
        raise CaseError("not a case claimed by this counsellor")
    return case


def release(session: Session, *, case_id: int, counsellor_id: str) -> Case:
    """Give a claimed case back: it is offered again, and the counsellors are told anew
    (old notifications are forgotten)."""
    case = _own_claimed(session, case_id, counsellor_id)
    case.status, case.assignee_id, case.claimed_at = CaseStatus.OFFERED, None, None
    case.notified_at = None
    session.execute(delete(CaseOffer).where(CaseOffer.case_id == case_id))
    session.flush()
    return case


def reassign(session: Session, *, case_id: int, to_counsellor_id: str) -> Case:
    """An operator hands an open case to a given counsellor."""
    case = session.get(Case, case_id)
    target = session.get(Counsellor, to_counsellor_id)
    if case is None or case.status not in OPEN:
        raise CaseError("no open case with that number")
    if target is None or not target.active:
        raise CaseError("unknown or inactive counsellor")
    case.status, case.assignee_id, case.claimed_at = CaseStatus.CLAIMED, target.id, utcnow()
    session.flush()
    return case


def close(session: Session, *, case_id: int, counsellor_id: str, outcome: Outcome) -> Case:
    case = _own_claimed(session, case_id, counsellor_id)
    case.status, case.outcome, case.closed_at = CaseStatus.CLOSED, outcome, utcnow()
    session.flush()
    return case


def cancel_by_user(session: Session, *, conversation_id: str) -> Case | None:
    """The person withdraws their open case; returns it, or None if there was none."""
    case = open_case(session, conversation_id=conversation_id)
    if case is None:
        return None
    case.status, case.outcome, case.closed_at = CaseStatus.CLOSED, Outcome.CANCELLED, utcnow()
    session.flush()
    return case


def add_message(session: Session, *, case_id: int, sender: str, text: str) -> CaseMessage:
    message = CaseMessage(case_id=case_id, sender=sender, text=text)
    session.add(message)
    session.flush()
    return message


def cases_of(session: Session, *, counsellor_id: str) -> list[Case]:
    return list(session.execute(
        select(Case).where(Case.assignee_id == counsellor_id, Case.status == CaseStatus.CLAIMED)
        .order_by(Case.id)).scalars())


def cases_to_notify(session: Session) -> list[Case]:
    """Offered cases whose counsellors have not been told yet."""
    return list(session.execute(
        select(Case).where(Case.status == CaseStatus.OFFERED, Case.notified_at.is_(None))
        .order_by(Case.id)).scalars())


def mark_notified(session: Session, *, case_id: int) -> bool:
    """Guarded like `claim`: with several gateway instances, exactly one notifies."""
    result = session.execute(
        update(Case).where(Case.id == case_id, Case.notified_at.is_(None))
        .values(notified_at=utcnow()).execution_options(synchronize_session=False))
    session.get(Case, case_id, populate_existing=True)
    return result.rowcount == 1


def record_offer(session: Session, *, case_id: int, counsellor_id: str, chat_id: int,
                 message_id: int) -> None:
    session.add(CaseOffer(case_id=case_id, counsellor_id=counsellor_id, chat_id=chat_id,
                          message_id=message_id))
    session.flush()


def offers(session: Session, *, case_id: int) -> list[CaseOffer]:
    return list(session.execute(select(CaseOffer).where(CaseOffer.case_id == case_id))
                .scalars())


def case_of_message(session: Session, *, chat_id: int, message_id: int) -> Case | None:
    """The case a counsellor's chat message belongs to (for replies to relayed messages)."""
    offer = session.execute(select(CaseOffer).where(
        CaseOffer.chat_id == chat_id, CaseOffer.message_id == message_id)).scalars().first()
    return session.get(Case, offer.case_id) if offer else None


def user_messages(session: Session, *, case_id: int, limit: int = 5) -> list[CaseMessage]:
    return list(session.execute(
        select(CaseMessage).where(CaseMessage.case_id == case_id, CaseMessage.sender == "user")
        .order_by(CaseMessage.id).limit(limit)).scalars())
