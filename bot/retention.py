"""Data minimisation over time: closed cases (with their messages, offers and the person's
consents) are purged after RETENTION_CASES_DAYS, Rasa conversations idle for longer than
RETENTION_IDLE_DAYS are deleted from the tracker store's `events` table."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from sqlalchemy import bindparam, delete, func, inspect, select, text
from sqlalchemy.orm import Session

from bot.db.models import Case, CaseMessage, CaseOffer, CaseStatus, Consent, TrackerState

logger = logging.getLogger(__name__)
EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore, in the same database by default


@dataclass(frozen=True)
class PurgeResult:
    """How many rows were (or, in a dry run, would be) deleted."""

    cases: int = 0
    case_messages: int = 0
    case_offers: int = 0
    consents: int = 0
    conversations: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def purge(session: Session, *, now: dt.datetime, cases_days: int, idle_days: int,
          dry_run: bool = False) -> PurgeResult:
    """Delete what is past its retention time (in the caller's transaction)."""
    now = _naive_utc(now)
    case_cutoff = now - dt.timedelta(days=cases_days)
    case_ids = list(session.execute(select(Case.id).where(
        Case.status == CaseStatus.CLOSED, Case.closed_at.is_not(None),
        Case.closed_at < case_cutoff)).scalars())
    # consents older than the retention time of people who have no case left (a consent is
    # given before its case is created, so it is older than the case's closing)
    remaining_refs = select(Case.user_ref).where(Case.id.not_in(case_ids))
    consent_ids = list(session.execute(select(Consent.id).where(
        Consent.created_at < case_cutoff, Consent.user_ref.not_in(remaining_refs))).scalars())

    def count(model: type, column: object) -> int:
        return int(session.execute(select(func.count()).select_from(model).where(
            column.in_(case_ids))).scalar_one()) if case_ids else 0  # type: ignore[attr-defined]

    messages = count(CaseMessage, CaseMessage.case_id)
    offers = count(CaseOffer, CaseOffer.case_id)
    senders, events = _idle_conversations(session, now - dt.timedelta(days=idle_days))
    result = PurgeResult(cases=len(case_ids), case_messages=messages, case_offers=offers,
                         consents=len(consent_ids), conversations=len(senders),
                         events=events)
    if dry_run:
        return result
    if case_ids:
        session.execute(delete(CaseMessage).where(CaseMessage.case_id.in_(case_ids)))
        session.execute(delete(CaseOffer).where(CaseOffer.case_id.in_(case_ids)))
        session.execute(delete(Case).where(Case.id.in_(case_ids)))
    if consent_ids:
        session.execute(delete(Consent).where(Consent.id.in_(consent_ids)))
    if senders:
        session.execute(text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id IN :senders")
                        .bindparams(bindparam("senders", expanding=True)),
                        {"senders": senders})
        session.execute(delete(TrackerState).where(TrackerState.sender_id.in_(senders)))
    return result


def _idle_conversations(session: Session, cutoff: dt.datetime) -> tuple[list[str], int]:
    """Conversations whose newest event is older than cutoff, and their event count."""
    if not inspect(session.connection()).has_table(EVENTS_TABLE):
        return [], 0
    epoch = cutoff.replace(tzinfo=dt.timezone.utc).timestamp()  # Rasa stores Unix seconds
    rows = session.execute(text(
        f"SELECT sender_id, COUNT(*) FROM {EVENTS_TABLE} GROUP BY sender_id "
        "HAVING MAX(timestamp) < :cutoff"), {"cutoff": epoch}).all()
    return [str(row[0]) for row in rows], sum(int(row[1]) for row in rows)


def purge_expired(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """The daily job: purge with the configured retention times in its own transaction
    (call it from a thread, e.g. `await asyncio.to_thread(purge_expired)`)."""
    from bot.db.session import session_scope
    from bot.settings import get_settings

    settings = get_settings()
    with session_scope() as session:
        result = purge(session, now=now or dt.datetime.now(dt.timezone.utc),
                       cases_days=settings.retention_cases_days,
                       idle_days=settings.retention_idle_days, dry_run=dry_run)
    if not dry_run and any(result.as_dict().values()):
        logger.info("Retention purge: %s", ", ".join(
            f"{name} {n}" for name, n in result.as_dict().items()))
    return result
