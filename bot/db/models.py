"""Tables of the application: organisations, counsellors, cases, case messages, consents and
the outbox of messages still to be delivered (or removed) on Telegram, and where each
conversation stands for the tracker store.

SQLAlchemy 1.4 declarative models used with the 2.0-style API (`select()`,
`Session.execute`, `future=True`), so the move to 2.x is mechanical."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

# typed as Any: SQLAlchemy 1.4's declarative base is opaque to mypy without its plugin
Base: Any = declarative_base()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class CaseStatus(str, enum.Enum):
    QUEUED = "queued"  # nobody matched (yet)
    OFFERED = "offered"  # offered to the routed counsellors, nobody took it yet
    CLAIMED = "claimed"  # a counsellor took it
    CLOSED = "closed"


class Outcome(str, enum.Enum):
    RESOLVED = "resolved"
    REFERRED = "referred"
    NO_RESPONSE = "no_response"
    CANCELLED = "cancelled"  # by the person
    OTHER = "other"


class Organisation(Base):
    __tablename__ = "organisations"

    id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    regions = Column(JSON, nullable=False, default=list)  # state codes, "DE" = nationwide
    counsellors = relationship("Counsellor", back_populates="organisation")


class Counsellor(Base):
    __tablename__ = "counsellors"

    id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    organisation_id = Column(String(64), ForeignKey("organisations.id"), nullable=False)
    languages = Column(JSON, nullable=False, default=list)  # ISO 639-1
    topics = Column(JSON, nullable=False, default=list)
    regions = Column(JSON, nullable=True)  # None = the organisation's
    capacity = Column(Integer, nullable=False, default=5)
    hours = Column(String(200), nullable=False, default="")  # "Mon-Fri 09:00-17:00", Berlin
    # Telegram user id (= the private chat id); counsellors are recognised by it
    telegram_user_id = Column(BigInteger, nullable=True, unique=True)
    active = Column(Boolean, nullable=False, default=True)
    # may see the organisation's unclaimed cases and assign them (/queue, /assign)
    coordinator = Column(Boolean, nullable=False, default=False)
    organisation = relationship("Organisation", back_populates="counsellors")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else self.id

    @property
    def effective_regions(self) -> list[str]:
        return list(self.regions if self.regions else self.organisation.regions)


class Case(Base):
    __tablename__ = "cases"

    id = Column(Integer, primary_key=True, autoincrement=True)
    # HMAC of the conversation id: links a person's cases without storing who they are
    user_ref = Column(String(64), nullable=False, index=True)
    # the channel's conversation id, needed to relay counsellor messages; never shown
    conversation_id = Column(String(128), nullable=False)
    language = Column(String(8), nullable=False)
    topic = Column(String(32), nullable=False)
    region = Column(String(8), nullable=True)
    profession = Column(String(100), nullable=True)
    country = Column(String(100), nullable=True)
    status = Column(Enum(CaseStatus, native_enum=False, length=16), nullable=False,
                    default=CaseStatus.QUEUED, index=True)
    assignee_id = Column(String(64), ForeignKey("counsellors.id"), nullable=True, index=True)
    routing = Column(JSON, nullable=False, default=list)  # candidates with reasons
    outcome = Column(Enum(Outcome, native_enum=False, length=16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    notified_at = Column(DateTime, nullable=True)  # counsellors were told (Telegram)
    escalated_at = Column(DateTime, nullable=True)  # nobody took it in time: widened
    assignee = relationship("Counsellor")
    messages = relationship("CaseMessage", back_populates="case",
                            cascade="all, delete-orphan", order_by="CaseMessage.id")

    @property
    def ref(self) -> str:
        return f"{self.id:04d}"


class CaseMessage(Base):
    __tablename__ = "case_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    sender = Column(String(16), nullable=False)  # "user" | "counsellor" | "system"
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    case = relationship("Case", back_populates="messages")


class CaseOffer(Base):
    """A message of the bot in a counsellor's chat about a case: the offer (edited once the
    case is taken) or a relayed message of the person (`kind`). Erasure removes them all."""

    __tablename__ = "case_offers"
    __table_args__ = (Index("ix_case_offers_chat_message", "chat_id", "message_id"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    counsellor_id = Column(String(64), ForeignKey("counsellors.id"), nullable=False)
    chat_id = Column(BigInteger, nullable=False)
    message_id = Column(BigInteger, nullable=False)
    kind = Column(String(16), nullable=False, default="offer")  # "offer" | "relay"


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_ref", "purpose", "created_at"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_ref = Column(String(64), nullable=False, index=True)
    purpose = Column(String(32), nullable=False)  # "handover"
    fields = Column(JSON, nullable=False, default=list)  # what the person agreed to share
    created_at = Column(DateTime, nullable=False, default=utcnow)


class OutboxKind(str, enum.Enum):
    SEND = "send"  # send `text` (with `buttons`) to `chat_id`
    EDIT = "edit"  # replace the text of `message_id` in `chat_id`
    ERASE = "erase"  # delete `message_id`; where Telegram refuses, replace it by `text`
    ERASURE_REPORT = "erasure_report"  # tell the person what the erasure `batch` removed


class Outbox(Base):
    """A Telegram call still to be made, durable: written in the same transaction as the
    change that needs it, done only after Telegram confirmed (bot/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "done_at", "next_attempt_at"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(Enum(OutboxKind, native_enum=False, length=16), nullable=False)
    chat_id = Column(BigInteger, nullable=False, index=True)
    message_id = Column(BigInteger, nullable=True)
    text = Column(Text, nullable=True)  # cleared once done
    buttons = Column(JSON, nullable=True)  # [[title, payload], ...]
    language = Column(String(8), nullable=True)  # for texts rendered at send time
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=True,
                     index=True)
    counsellor_id = Column(String(64), nullable=True)
    record = Column(String(16), nullable=True)  # after sending: a CaseOffer of this kind
    batch = Column(String(32), nullable=True, index=True)  # rows of one erasure
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    lease_until = Column(DateTime, nullable=True)  # a worker is on it
    created_at = Column(DateTime, nullable=False, default=utcnow)
    done_at = Column(DateTime, nullable=True)
    result = Column(String(16), nullable=True)  # sent, deleted, replaced, gone, failed


class TrackerState(Base):
    """Where a conversation stands as of its last stored event: the slots that differ from
    their initial value, the active form and the pause (JSON), and the first row of its
    current session. The tracker store reads this row and the last events instead of
    replaying the whole session (extensions/tracker_store.py); erased with the events."""

    __tablename__ = "tracker_state"

    sender_id = Column(String(255), primary_key=True)
    event_id = Column(Integer, nullable=False)  # the newest stored event of the conversation
    session_from = Column(Integer, nullable=False)  # its current session's first event row
    state = Column(Text, nullable=False)
