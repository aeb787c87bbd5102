"""Case lifecycle: create (with routing), claim (atomic: the first of the counsellors it was
offered to wins), release, assignment by a coordinator, close with an outcome, cancel by the
person, re-offer and escalation of cases nobody took, messages of a case. Who may do what
is decided in bot/access.py."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import access
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


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    """The database's convention: UTC without a zone (an aware time is converted first)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.replace(tzinfo=None)


def recent_cases_per_organisation(session: Session, *, now: dt.datetime) -> dict[str, int]:
    since = _utc_naive(now) - FAIRNESS_WINDOW
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
    """Take a case offered to this counsellor. Atomic: one UPDATE guarded by the status, so
    of two counsellors pressing "Take" at once exactly one wins. Returns whether this
    counsellor got it; raises NotAllowed when the case was never offered to them."""
    counsellor = session.get(Counsellor, counsellor_id)
    case = session.get(Case, case_id)
    if not access.offered_to(counsellor, case):
        raise access.NotAllowed("this case was not offered to this counsellor")
    return _claim_for(session, case_id, counsellor_id)


def _claim_for(session: Session, case_id: int, counsellor_id: str) -> bool:
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
    if not access.may_act(session.get(Counsellor, counsellor_id), case):
        raise access.NotAllowed("not a case claimed by this counsellor")
    assert case is not None
    return case


def release(session: Session, *, case_id: int, counsellor_id: str) -> Case:
    """Give a claimed case back: it is offered again and the counsellors are told anew.
    The earlier messages in counsellors' chats stay recorded (erasure removes them)."""
    case = _own_claimed(session, case_id, counsellor_id)
    case.status, case.assignee_id, case.claimed_at = CaseStatus.OFFERED, None, None
    case.notified_at = None
    session.flush()
    return case


def assign(session: Session, *, case_id: int, coordinator_id: str,
           to_counsellor_id: str) -> bool:
    """A coordinator hands an unclaimed case to a counsellor of their organisation; atomic
    like `claim`. Returns False when someone took it first."""
    case = session.get(Case, case_id)
    coordinator = session.get(Counsellor, coordinator_id)
    target = session.get(Counsellor, to_counsellor_id)
    if not access.may_assign(coordinator, case, target):
        raise access.NotAllowed("this coordinator may not assign this case to this person")
    assert case is not None and target is not None
    if not access.offered_to(target, case):
        entry = {"counsellor_id": target.id, "organisation_id": target.organisation_id,
                 "language": case.language, "on_duty": True, "load": 0,
                 "reasons": [f"assigned by coordinator {coordinator_id}"]}
        case.routing = [*(case.routing or []), entry]
        session.flush()
    return _claim_for(session, case_id, target.id)


def close(session: Session, *, case_id: int, counsellor_id: str, outcome: Outcome) -> Case:
    """The counsellor ends their case with an outcome (never `cancelled`)."""
    if not access.may_close_with(outcome):
        raise access.NotAllowed("counsellors cannot close with this outcome")
    case = _own_claimed(session, case_id, counsellor_id)
    case.status, case.outcome, case.closed_at = CaseStatus.CLOSED, outcome, utcnow()
    session.flush()
    return case


def _request_of(case: Case) -> Request:
    other = any(c.get("language") != case.language for c in case.routing or [])
    return Request(case.language, case.topic, case.region, accept_other_language=other)


def reroute(session: Session, case: Case, *, at: dt.datetime) -> bool:
    """Route an unclaimed case again (people went off duty, capacity freed, the directory
    changed); it is announced anew. Returns whether anybody fits now."""
    found = candidates_for(session, _request_of(case), at=at)
    case.status, case.assignee_id, case.claimed_at = (
        CaseStatus.OFFERED if found else CaseStatus.QUEUED), None, None
    case.routing = [c.as_dict() for c in found[:OFFER_TO]]
    case.notified_at = None
    session.flush()
    return bool(found)


def reoffer_cases_of(session: Session, *, counsellor_ids: list[str],
                     at: dt.datetime | None = None) -> list[int]:
    """Open cases held by, or offered only to, these (deactivated) counsellors are routed
    again. Returns their ids."""
    at = at or dt.datetime.now(dt.timezone.utc)
    gone = set(counsellor_ids)
    out = []
    for case in session.execute(select(Case).where(Case.status.in_(OPEN))).scalars():
        routed = {c.get("counsellor_id") for c in case.routing or []}
        if case.assignee_id in gone or (case.status is CaseStatus.OFFERED and routed
                                        and routed <= gone):
            reroute(session, case, at=at)
            out.append(case.id)
    return out


def queued_cases(session: Session) -> list[Case]:
    return list(session.execute(select(Case).where(Case.status == CaseStatus.QUEUED)
                                .order_by(Case.id)).scalars())


def unclaimed_cases(session: Session) -> list[Case]:
    return list(session.execute(select(Case).where(Case.status.in_(access.UNCLAIMED))
                                .order_by(Case.id)).scalars())


def due_for_escalation(session: Session, *, older_than: dt.datetime) -> list[Case]:
    """Unclaimed cases created before `older_than` that were not widened yet."""
    return list(session.execute(
        select(Case).where(Case.status.in_(access.UNCLAIMED), Case.escalated_at.is_(None),
                           Case.created_at < _utc_naive(older_than))
        .order_by(Case.id)).scalars())


def escalate(session: Session, case: Case, *, at: dt.datetime) -> list[Candidate]:
    """Nobody took the case in time: offer it also to the next matching organisation(s)
    (else to further counsellors), and mark it escalated. Returns the new candidates."""
    routed = {c.get("counsellor_id") for c in case.routing or []}
    routed_orgs = {c.get("organisation_id") for c in case.routing or []}
    request = _request_of(case)
    found = [c for c in candidates_for(session, request, at=at) if c.counsellor_id not in routed]
    if not found and not request.accept_other_language:
        found = [c for c in candidates_for(session, Request(
            case.language, case.topic, None), at=at) if c.counsellor_id not in routed]
    new_orgs = [c for c in found if c.organisation_id not in routed_orgs]
    extra = (new_orgs or found)[:OFFER_TO]
    case.routing = [*(case.routing or []), *(c.as_dict() for c in extra)]
    case.escalated_at = utcnow()
    if extra and case.status is CaseStatus.QUEUED:
        case.status = CaseStatus.OFFERED
    session.flush()
    return extra


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
                 message_id: int, kind: str = "offer") -> None:
    """Remember a bot message in a counsellor's chat about a case (offer or relay)."""
    session.add(CaseOffer(case_id=case_id, counsellor_id=counsellor_id, chat_id=chat_id,
                          message_id=message_id, kind=kind))
    session.flush()


def offers(session: Session, *, case_id: int, kind: str | None = "offer") -> list[CaseOffer]:
    """The case's messages in counsellors' chats: offers by default, every kind with None."""
    query = select(CaseOffer).where(CaseOffer.case_id == case_id)
    if kind is not None:
        query = query.where(CaseOffer.kind == kind)
    return list(session.execute(query.order_by(CaseOffer.id)).scalars())


def case_of_message(session: Session, *, chat_id: int, message_id: int) -> Case | None:
    """The case a counsellor's chat message belongs to (for replies to relayed messages)."""
    offer = session.execute(select(CaseOffer).where(
        CaseOffer.chat_id == chat_id, CaseOffer.message_id == message_id)).scalars().first()
    return session.get(Case, offer.case_id) if offer else None


def user_messages(session: Session, *, case_id: int, limit: int = 5) -> list[CaseMessage]:
    return list(session.execute(
        select(CaseMessage).where(CaseMessage.case_id == case_id, CaseMessage.sender == "user")
        .order_by(CaseMessage.id).limit(limit)).scalars())
