"""Deleting on request: after the confirmation, the conversation (Rasa's tracker events),
cases and consents of the person are gone; other people's data stays."""

from __future__ import annotations

from sqlalchemy import func, select, text

from bot.db.models import Case, Consent
from bot.db.session import session_scope
from bot.privacy import user_ref


def stored_events(agent, sender: str) -> int:  # type: ignore[no-untyped-def]
    store = agent.tracker_store._tracker_store  # the SQL store behind Rasa's async wrapper
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                  {"s": sender}).scalar_one()


async def test_delete_erases_conversation_cases_and_consents(agent, chat) -> None:
    person, other = chat(language_code="en"), chat(language_code="en")
    await other.say("hello")
    await person.say("I want to talk to a counsellor")
    await person.say("/affirm")
    for answer in ["recognition", "Berlin", "nurse", "Kenya"]:
        await person.say(answer)
    with session_scope() as session:
        ref = user_ref(person.sender_id)
        assert session.execute(select(func.count()).select_from(Case)
                               .where(Case.user_ref == ref)).scalar_one() == 1
    assert stored_events(agent, person.sender_id) > 0

    turn = await person.say("please delete all my data")
    assert "utter_confirm_delete" in turn.actions
    turn = await person.say("/affirm")
    assert turn.actions[:2] == ["action_delete_my_data", "utter_data_deleted"]

    assert stored_events(agent, person.sender_id) == 0
    with session_scope() as session:
        for model in (Case, Consent):
            assert session.execute(select(func.count()).select_from(model)
                                   .where(model.user_ref == ref)).scalar_one() == 0
    assert stored_events(agent, other.sender_id) > 0


async def test_delete_can_be_cancelled(agent, chat) -> None:
    person = chat(language_code="de")
    await person.say("Lösch bitte meine Daten")
    turn = await person.say("/deny")
    assert "utter_delete_cancelled" in turn.actions
    assert stored_events(agent, person.sender_id) > 0
