"""The durable outbox of Telegram calls: rows are written in the same transaction as the
change that needs them (a relay, an offer, an erasure), and a gateway works them off in
order per chat, marking a row done only after Telegram confirmed, retrying with backoff
otherwise. An erasure requested while no gateway runs is therefore completed later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import Case, Outbox, OutboxKind, utcnow
from bot.texts import Rendered

LEASE = dt.timedelta(seconds=60)  # a worker that died frees its rows after this
MAX_BACKOFF = 300.0  # seconds
MAX_ATTEMPTS = 20  # then the row is given up (logged, kept as failed)
KEEP_DONE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Job:
    """One row, as the gateway needs it (no ORM object crosses into the transport)."""

    id: int
    kind: OutboxKind
    chat_id: int
    message_id: int | None
    text: str | None
    buttons: tuple[tuple[str, str], ...]
    language: str | None
    batch: str | None
    attempts: int


def _buttons(rendered: Rendered | None) -> list[list[str]] | None:
    return [[t, p] for t, p in rendered.buttons] if rendered and rendered.buttons else None


def send(session: Session, chat_id: int, rendered: Rendered, *, case_id: int | None = None,
         counsellor_id: str | None = None, record: str | None = None) -> None:
    """A message to send; with `record`, the sent message is remembered as a CaseOffer."""
    session.add(Outbox(kind=OutboxKind.SEND, chat_id=chat_id, text=rendered.text,
                       buttons=_buttons(rendered), case_id=case_id,
                       counsellor_id=counsellor_id, record=record, attempts=0,
                       next_attempt_at=utcnow()))
    session.flush()


def edit(session: Session, chat_id: int, message_id: int, text: str, *,
         case_id: int | None = None) -> None:
    session.add(Outbox(kind=OutboxKind.EDIT, chat_id=chat_id, message_id=message_id,
                       text=text, case_id=case_id, attempts=0, next_attempt_at=utcnow()))
    session.flush()


def erase(session: Session, chat_id: int, message_id: int, placeholder: str,
          batch: str) -> None:
    """Delete a message; where Telegram refuses (older than 48 h), show `placeholder`."""
    session.add(Outbox(kind=OutboxKind.ERASE, chat_id=chat_id, message_id=message_id,
                       text=placeholder, batch=batch, attempts=0, next_attempt_at=utcnow()))
    session.flush()


def erasure_report(session: Session, chat_id: int, language: str, batch: str) -> None:
    """Tell the person, once every ERASE row of the batch is done, what was removed."""
    session.add(Outbox(kind=OutboxKind.ERASURE_REPORT, chat_id=chat_id, language=language,
                       batch=batch, attempts=0, next_attempt_at=utcnow()))
    session.flush()


def forget_chat(session: Session, *, chat_id: int, case_ids: list[int]) -> None:
    """Drop what is still queued for a person who is being erased (their chat, their
    cases), so none of their words is sent after the erasure."""
    conditions = [Outbox.chat_id == chat_id]
    if case_ids:
        conditions.append(Outbox.case_id.in_(case_ids))
    session.execute(delete(Outbox).where(or_(*conditions),
                                         Outbox.kind != OutboxKind.ERASURE_REPORT))


def due(session: Session, *, now: dt.datetime | None = None, limit: int = 200) -> list[Job]:
    """Rows whose time has come, leased to this worker (oldest first)."""
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    rows = list(session.execute(
        select(Outbox).where(Outbox.done_at.is_(None), Outbox.next_attempt_at <= now,
                             or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
        .order_by(Outbox.id).limit(limit)).scalars())
    jobs = []
    for row in rows:
        won = session.execute(
            update(Outbox).where(Outbox.id == row.id, Outbox.done_at.is_(None),
                                 or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
            .values(lease_until=now + LEASE).execution_options(synchronize_session=False))
        if won.rowcount != 1:
            continue  # another gateway took it
        jobs.append(Job(row.id, row.kind, int(row.chat_id), row.message_id, row.text,
                        tuple((str(t), str(p)) for t, p in row.buttons or []), row.language,
                        row.batch, row.attempts))
    return jobs


def done(session: Session, job_id: int, *, result: str, message_id: int | None = None
         ) -> None:
    """Telegram confirmed: mark the row done, clear its text, record a sent case message."""
    from bot import cases

    row = session.get(Outbox, job_id)
    if row is None:
        return  # erased meanwhile
    if row.record and row.case_id is not None and message_id is not None \
            and session.get(Case, row.case_id) is not None:
        cases.record_offer(session, case_id=row.case_id, counsellor_id=row.counsellor_id or "",
                           chat_id=int(row.chat_id), message_id=message_id, kind=row.record)
    row.done_at, row.result, row.lease_until = utcnow(), result, None
    row.text, row.buttons = None, None
    if row.kind is OutboxKind.ERASURE_REPORT and row.batch:
        session.execute(delete(Outbox).where(Outbox.batch == row.batch))
    session.flush()


def retry(session: Session, job_id: int, *, delay: float | None = None) -> bool:
    """Telegram did not confirm: try again later (exponential backoff). Returns False when
    the row was given up after MAX_ATTEMPTS."""
    row = session.get(Outbox, job_id)
    if row is None:
        return False
    row.attempts += 1
    row.lease_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.done_at, row.result, row.text, row.buttons = utcnow(), "failed", None, None
        session.flush()
        return False
    wait = delay if delay is not None else min(2.0 ** row.attempts, MAX_BACKOFF)
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)
    session.flush()
    return True


def batch_results(session: Session, batch: str) -> dict[str, int] | None:
    """Counts of the ERASE rows of a batch by result; None while some are still open."""
    rows = list(session.execute(select(Outbox).where(
        Outbox.batch == batch, Outbox.kind == OutboxKind.ERASE)).scalars())
    if any(r.done_at is None for r in rows):
        return None
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.result or "failed"] = counts.get(r.result or "failed", 0) + 1
    return counts


def housekeeping(session: Session, *, now: dt.datetime | None = None) -> None:
    """Forget rows done more than a day ago."""
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    session.execute(delete(Outbox).where(Outbox.done_at.is_not(None),
                                         Outbox.done_at < now - KEEP_DONE,
                                         Outbox.batch.is_(None)))


def pending(session: Session) -> int:
    return len(list(session.execute(select(Outbox.id).where(Outbox.done_at.is_(None)))
                    .scalars()))


def release(session: Session, job_id: int, *, delay: float = 0.0) -> None:
    """Give a leased row back without counting an attempt (it was not tried, or it waits
    for other rows)."""
    row = session.get(Outbox, job_id)
    if row is not None and row.done_at is None:
        row.lease_until = None
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        session.flush()
