"""Right of access (GDPR Art. 15): everything stored about one person, as plain data, and a
short summary of it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bot.db.models import Case, CaseMessage, Consent
from bot.privacy import user_ref

EVENTS_TABLE = "events"  # Rasa's tracker store, in the application database by default
CASE_FIELDS = ("language", "topic", "region", "profession", "country")
MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters per message


def _iso(moment: dt.datetime | float | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        moment = dt.datetime.fromtimestamp(moment, dt.timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def stored_events(session: Session, conversation_id: str) -> list[dict[str, Any]] | None:
    """The conversation's events as Rasa stored them; None when the tracker store is not in
    this database."""
    if not inspect(session.connection()).has_table(EVENTS_TABLE):
        return None
    rows = session.execute(text(
        f"SELECT data FROM {EVENTS_TABLE} WHERE sender_id = :sender ORDER BY id"),
        {"sender": conversation_id}).scalars()
    events = []
    for data in rows:
        try:
            events.append(json.loads(data))
        except (TypeError, ValueError):
            continue
    return events


def _conversation(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    slots: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            text_ = str(event["text"])
            if text_.startswith("/"):  # a button press, not something the person wrote
                continue
            messages.append({"at": _iso(event.get("timestamp")), "text": text_})
        elif kind == "slot" and event.get("name"):
            slots[str(event["name"])] = event.get("value")
    return {"messages": messages,
            "slots": {name: value for name, value in sorted(slots.items())
                      if value not in (None, "", [])}}


def export_user(session: Session, conversation_id: str, *,
                tracker_events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What is stored about the person of this conversation: their messages and the slots
    of the conversation (from the tracker store), their cases with fields and messages, and
    their consents. `tracker_events` is used when the tracker store is elsewhere."""
    events = stored_events(session, conversation_id)
    if not events and tracker_events:
        events = tracker_events
    ref = user_ref(conversation_id)
    cases = []
    for case in session.execute(select(Case).where(Case.user_ref == ref)
                                .order_by(Case.id)).scalars():
        messages = session.execute(select(CaseMessage).where(CaseMessage.case_id == case.id)
                                   .order_by(CaseMessage.id)).scalars()
        cases.append({
            "case": case.ref,
            "status": case.status.value,
            "outcome": case.outcome.value if case.outcome else None,
            "fields": {name: getattr(case, name) for name in CASE_FIELDS
                       if getattr(case, name)},
            "organisation": (case.assignee.organisation.name
                             if case.assignee is not None else None),
            "created": _iso(case.created_at),
            "closed": _iso(case.closed_at),
            "messages": [{"at": _iso(m.created_at), "from": m.sender, "text": m.text}
                         for m in messages],
        })
    consents = [{"purpose": c.purpose, "fields": list(c.fields or []),
                 "at": _iso(c.created_at)}
                for c in session.execute(select(Consent).where(Consent.user_ref == ref)
                                         .order_by(Consent.id)).scalars()]
    return {"conversation": _conversation(events or []), "cases": cases,
            "consents": consents}


def summary(export: dict[str, Any]) -> dict[str, str | int]:
    """Counts, fields, languages and dates of an export, for a short message."""
    conversation = export["conversation"]
    dates = sorted(d[:10] for d in (
        [m["at"] for m in conversation["messages"]]
        + [c["created"] for c in export["cases"]]
        + [c["at"] for c in export["consents"]]) if d)
    languages = {str(conversation["slots"]["language"])} \
        if conversation["slots"].get("language") else set()
    languages |= {str(c["fields"]["language"]) for c in export["cases"]
                  if c["fields"].get("language")}
    fields = sorted({name for c in export["cases"] for name in c["fields"]}
                    | {f for c in export["consents"] for f in c["fields"]})
    return {
        "messages": len(conversation["messages"]),
        "case_count": len(export["cases"]),
        "case_messages": sum(len(c["messages"]) for c in export["cases"]),
        "consent_count": len(export["consents"]),
        "languages": ", ".join(sorted(languages)) or "–",
        "fields": ", ".join(fields) or "–",
        "first_date": dates[0] if dates else "–",
        "last_date": dates[-1] if dates else "–",
    }


def as_messages(export: dict[str, Any], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The full export as readable JSON, split at line ends into messages of at most
    `limit` characters (a single longer line is cut)."""
    lines = json.dumps(export, ensure_ascii=False, indent=1).splitlines()
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
