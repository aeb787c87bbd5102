"""The access export on real SQLite: the person's messages and slots from Rasa's events
table, their cases with fields and messages, their consents; nobody else's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.data_export import as_messages, export_user, summary
from bot.db.models import Case, CaseMessage, CaseStatus, Consent
from bot.privacy import user_ref
from bot.settings import get_settings


@pytest.fixture(autouse=True)
def _key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRUECKE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _event(session: Session, sender: str, data: dict) -> None:
    session.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                         "VALUES (:s, :t, :ts, :d)"),
                    {"s": sender, "t": data["event"], "ts": data.get("timestamp", 0),
                     "d": json.dumps(data)})


def test_export_collects_everything_about_one_person(session: Session, engine: Engine) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.SQLEvent.__table__.create(engine)
    stamp = dt.datetime(2026, 11, 3, 10, tzinfo=dt.timezone.utc).timestamp()
    _event(session, "42", {"event": "user", "text": "Brauche ich eine Anerkennung?",
                           "timestamp": stamp})
    _event(session, "42", {"event": "user", "text": "/affirm", "timestamp": stamp + 5})
    _event(session, "42", {"event": "slot", "name": "language", "value": "de"})
    _event(session, "42", {"event": "slot", "name": "region", "value": "BY"})
    _event(session, "other", {"event": "user", "text": "someone else", "timestamp": stamp})
    case = Case(user_ref=user_ref("42"), conversation_id="42", language="de",
                topic="recognition", region="BY", profession="nurse", country="UA",
                status=CaseStatus.OFFERED, routing=[],
                created_at=dt.datetime(2026, 11, 3, 10, 5))
    session.add(case)
    session.flush()
    session.add(CaseMessage(case_id=case.id, sender="user", text="Mein Diplom ist von 2015"))
    session.add(Consent(user_ref=user_ref("42"), purpose="handover",
                        fields=["language", "topic", "region"],
                        created_at=dt.datetime(2026, 11, 3, 10, 4)))
    session.add(Consent(user_ref=user_ref("other"), purpose="handover", fields=[]))
    session.flush()

    export = export_user(session, "42")

    assert [m["text"] for m in export["conversation"]["messages"]] == \
        ["Brauche ich eine Anerkennung?"]  # button payloads are not the person's words
    assert export["conversation"]["slots"] == {"language": "de", "region": "BY"}
    (stored,) = export["cases"]
    assert stored["fields"] == {"language": "de", "topic": "recognition", "region": "BY",
                                "profession": "nurse", "country": "UA"}
    assert [m["text"] for m in stored["messages"]] == ["Mein Diplom ist von 2015"]
    assert len(export["consents"]) == 1
    assert "someone else" not in json.dumps(export)
    facts = summary(export)
    assert (facts["messages"], facts["case_count"], facts["consent_count"]) == (1, 1, 1)
    assert facts["first_date"] == "2026-11-03" and facts["languages"] == "de"
    assert "profession" in str(facts["fields"])


def test_without_events_table_the_live_tracker_is_used(session: Session) -> None:
    export = export_user(session, "7", tracker_events=[
        {"event": "user", "text": "hello", "timestamp": 0.0}])
    assert export["conversation"]["messages"][0]["text"] == "hello"
    assert export["cases"] == [] and export["consents"] == []


def test_long_exports_are_split_into_telegram_sized_messages() -> None:
    export = {"conversation": {"messages": [{"at": None, "text": "x" * 900}] * 12,
                               "slots": {}}, "cases": [], "consents": []}
    parts = as_messages(export, limit=4000)
    assert len(parts) > 1 and all(len(p) <= 4000 for p in parts)
    assert json.loads("\n".join(parts)) == export
