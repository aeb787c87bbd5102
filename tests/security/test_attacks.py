"""Attacks on the handover through the real PTB client, the Bot API stand-in and the real
Rasa server (docs/security.md lists each threat with its test): forged, stale and malformed
button data, strangers and other organisations' counsellors, group chats, commands and
buttons during a claimed case, erasure of the copies in counsellors' chats, delivery that
fails once, and an assistant that is down."""

from __future__ import annotations

import itertools
import json

from sqlalchemy import select

from bot import cases
from bot.db.models import Case, CaseMessage, CaseStatus, Outbox, OutboxKind
from bot.db.session import session_scope
from bot.privacy import user_ref
from tests.conftest import free_port

KARIM, OLENA, AYSE, IRYNA = 9001, 9002, 9003, 9005
STRANGER = 66_666
_people = itertools.count(300_001)


def command(stub, chat: int, text: str) -> None:  # type: ignore[no-untyped-def]
    stub.say(chat, text, entities=[{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}])


def new_case(person: int, language: str = "uk", region: str | None = "BY") -> int:
    """A case as the handover form creates it (routed: uk/BY goes to Olena only)."""
    with session_scope() as session:
        created = cases.create_case(session, conversation_id=str(person), language=language,
                                    topic="recognition", region=region, profession=None,
                                    country=None)
        return int(created.case.id)


def case(case_id: int) -> Case:
    with session_scope() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found


async def offered(stub, chat: int, case_id: int) -> dict:  # type: ignore[no-untyped-def]
    await stub.wait_for(lambda: any(f"take:{case_id}" in json.dumps(m.get("reply_markup"))
                                    for m in stub.to(chat)))
    return next(m for m in stub.to(chat) if f"take:{case_id}" in json.dumps(
        m.get("reply_markup")))


async def claimed_by_olena(stub, person: int) -> int:  # type: ignore[no-untyped-def]
    case_id = new_case(person)
    await offered(stub, OLENA, case_id)
    stub.press(OLENA, f"take:{case_id}")
    await stub.wait_for(lambda: case(case_id).status is CaseStatus.CLAIMED)
    await stub.wait_for(lambda: stub.to(person))  # the person is told who has it
    return case_id


async def test_another_organisations_counsellor_cannot_take_a_case(stub, gateway) -> None:
    person = next(_people)
    case_id = new_case(person)
    await offered(stub, OLENA, case_id)
    before = len(stub.to(AYSE))
    stub.press(AYSE, f"take:{case_id}", language_code="tr")  # Ayşe, Köprü: never offered
    await stub.wait_for(lambda: len(stub.to(AYSE)) > before)
    assert "[" not in stub.to(AYSE)[-1]["text"]  # a refusal, no relayed words
    assert case(case_id).status is CaseStatus.OFFERED and case(case_id).assignee_id is None
    assert not stub.to(person)
    # and her coordinator powers do not reach another organisation's case
    command(stub, AYSE, f"/assign {case_id} ayse")
    await stub.wait_for(lambda: len(stub.to(AYSE)) > before + 1)
    assert case(case_id).assignee_id is None


async def test_a_stranger_cannot_take_and_gets_one_line(stub, gateway) -> None:
    person = next(_people)
    case_id = new_case(person)
    await offered(stub, OLENA, case_id)
    stub.press(STRANGER, f"take:{case_id}", language_code="de")
    await stub.wait_for(lambda: stub.to(STRANGER))
    assert len(stub.to(STRANGER)) == 1 and "Berater" in stub.to(STRANGER)[0]["text"]
    assert case(case_id).status is CaseStatus.OFFERED


async def test_malformed_stale_and_foreign_buttons_change_nothing(stub, gateway) -> None:
    person = next(_people)
    case_id = await claimed_by_olena(stub, person)
    other = next(_people)
    foreign = new_case(other, language="ar", region="NW")  # Karim's, not Olena's
    before = len(stub.to(OLENA))
    presses = ["take:abc", f"close:{case_id}:bogus", f"close:{case_id}:cancelled",
               f"close:{foreign}:resolved", "close:1", "take:", f"take:{case_id}x",
               "take:99999999"]
    for data in presses:
        stub.press(OLENA, data, language_code="uk")
    await stub.wait_for(lambda: len(stub.to(OLENA)) >= before + len(presses))
    assert case(case_id).status is CaseStatus.CLAIMED and case(case_id).outcome is None
    assert case(foreign).status is CaseStatus.OFFERED
    # an empty press and a press without a message are answered, and change nothing
    stub.press(OLENA, None)
    stub.press(OLENA, f"close:{case_id}:resolved", with_message=False)
    await stub.wait_for(lambda: len(stub.called("answerCallbackQuery")) >= len(presses) + 2)
    assert case(case_id).status is CaseStatus.CLAIMED


async def test_released_and_closed_cases_cannot_be_acted_on(stub, gateway) -> None:
    person = next(_people)
    case_id = await claimed_by_olena(stub, person)
    command(stub, OLENA, f"/release {case_id}")
    await stub.wait_for(lambda: case(case_id).status is CaseStatus.OFFERED)
    before = len(stub.to(OLENA))
    stub.press(OLENA, f"close:{case_id}:resolved")  # the old outcome button
    await stub.wait_for(lambda: len(stub.to(OLENA)) > before)
    assert case(case_id).status is CaseStatus.OFFERED
    stub.press(OLENA, f"take:{case_id}")  # she was offered it: she may take it back
    await stub.wait_for(lambda: case(case_id).status is CaseStatus.CLAIMED)
    stub.press(OLENA, f"close:{case_id}:resolved")
    await stub.wait_for(lambda: case(case_id).status is CaseStatus.CLOSED)
    for data in (f"take:{case_id}", f"close:{case_id}:other"):
        stub.press(OLENA, data)
    await stub.wait_for(lambda: case(case_id).outcome is not None)
    assert case(case_id).outcome.value == "resolved"
    assert case(case_id).assignee_id == "olena"


async def test_group_chats_get_one_line_and_nothing_else(stub, gateway) -> None:
    group = -100_555
    stub.say_in_group(group, OLENA, "/cases", language_code="uk")
    stub.say_in_group(group, STRANGER, "Do I need a visa?", language_code="en")
    await stub.wait_for(lambda: len(stub.to(group)) >= 2)
    texts = sorted(m["text"] for m in stub.to(group))
    assert len(texts) == 2
    assert "private chat" in texts[0] and "особистому чаті" in texts[1]
    assert not stub.to(OLENA) and not stub.to(STRANGER)  # nothing else, nowhere


async def test_commands_and_buttons_reach_the_assistant_during_a_claimed_case(
        stub, gateway) -> None:
    """Review E3 / probe B2: /delete and its confirmation button are not relayed."""
    person = next(_people)
    case_id = await claimed_by_olena(stub, person)
    stub.say(person, "Мій диплом медсестри з Києва", language_code="uk")
    await stub.wait_for(lambda: any(m["text"].startswith(f"[{case(case_id).ref}] Мій")
                                    for m in stub.to(OLENA)))
    relayed = next(m for m in stub.to(OLENA) if "Мій диплом" in m["text"])
    stub.undeletable.add(relayed["message_id"])  # as if older than 48 hours
    before_olena = len(stub.to(OLENA))
    command(stub, person, "/delete")
    await stub.wait_for(lambda: any(m.get("reply_markup") for m in stub.to(person)[1:]))
    confirm = [b["callback_data"] for m in stub.to(person) if m.get("reply_markup")
               for row in m["reply_markup"]["inline_keyboard"] for b in row]
    assert "/affirm" in confirm
    stub.press(person, "/affirm", language_code="uk")
    # nothing of it reached Olena as a relay
    # erasure: the rows are gone, the copies in Olena's chat are deleted or neutralised,
    # Olena is told, the person gets the honest report
    await stub.wait_for(lambda: any(p.get("message_id") == relayed["message_id"]
                                    for p in stub.called("editMessageText")), timeout=60)
    assert not any(m["text"].endswith("/affirm") or m["text"].endswith("/delete")
                   for m in stub.to(OLENA)[before_olena:])
    assert any(chat == OLENA for chat, _ in stub.deleted)  # the offer message
    with session_scope() as session:
        assert session.get(Case, case_id) is None
        assert not session.execute(select(CaseMessage).where(
            CaseMessage.case_id == case_id)).scalars().all()
    await stub.wait_for(lambda: any("видалив свої дані" in m["text"]
                                    for m in stub.to(OLENA)))
    await stub.wait_for(lambda: any("замінено позначкою" in m["text"]
                                    for m in stub.to(person)), timeout=60)
    with session_scope() as session:
        assert not session.execute(select(Case).where(
            Case.user_ref == user_ref(str(person)))).scalars().all()


async def test_the_person_can_end_the_case_with_a_button(stub, gateway) -> None:
    person = next(_people)
    case_id = await claimed_by_olena(stub, person)
    taken = stub.to(person)[-1]
    payloads = [b["callback_data"] for row in taken["reply_markup"]["inline_keyboard"]
                for b in row]
    assert payloads == ["/cancel_case"]
    stub.press(person, "/cancel_case", language_code="uk")
    await stub.wait_for(lambda: case(case_id).status is CaseStatus.CLOSED)
    assert case(case_id).outcome.value == "cancelled"
    await stub.wait_for(lambda: any("завершила справу" in m["text"] for m in stub.to(OLENA)))


async def test_a_relay_that_fails_once_is_retried_and_not_lost(stub, gateway) -> None:
    person = next(_people)
    case_id = await claimed_by_olena(stub, person)
    stub.failures = 1  # the next sendMessage gets a 502
    stub.say(person, "Повідомлення, яке не можна втратити", language_code="uk")
    await stub.wait_for(lambda: any("не можна втратити" in m["text"] for m in stub.to(OLENA)),
                        timeout=60)
    assert stub.failures == 0

    def all_done() -> bool:  # marked done only once Telegram confirmed, right after the send
        with session_scope() as session:
            rows = list(session.execute(
                select(Outbox).where(Outbox.case_id == case_id)).scalars())
            return bool(rows) and all(r.done_at is not None for r in rows)

    await stub.wait_for(all_done, timeout=10)


async def test_the_person_is_told_when_the_assistant_is_down(stub, data_dir) -> None:
    from connectors.telegram import build_application
    from tests.telegram.conftest import gateway_settings

    dead = (f"http://127.0.0.1:{free_port()}", "token")
    app = build_application(gateway_settings(stub, dead), notify_interval=0.2)
    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        person = next(_people)
        stub.say(person, "Wie lange dauert die Anerkennung?", language_code="de")
        await stub.wait_for(lambda: stub.to(person))
        assert "noch einmal" in stub.to(person)[0]["text"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


async def test_an_update_that_cannot_be_read_is_skipped(stub, gateway) -> None:
    """Probe M3: a reply_to_message without `date` must not stop polling."""
    person = next(_people)
    stub.push({"message": {"message_id": 1, "date": 1, "chat": {"id": person,
                                                                "type": "private"},
                           "text": "x", "reply_to_message": {"chat": {"id": person}}}})
    stub.say(person, "hello", language_code="en")
    await stub.wait_for(lambda: stub.to(person))


async def test_unknown_commands_captions_and_dice_are_never_silent(stub, gateway) -> None:
    person = next(_people)
    command(stub, person, "/foo")
    await stub.wait_for(lambda: stub.to(person))
    assert "/help" in stub.to(person)[0]["text"]
    stub.push({"message": stub.incoming(person, "en", dice={"emoji": "🎲", "value": 3})})
    await stub.wait_for(lambda: len(stub.to(person)) >= 2)
    assert "text" in stub.to(person)[1]["text"]
    stub.push({"message": stub.incoming(person, "en", caption="How long does recognition "
                                        "take?", photo=[{"file_id": "p", "file_unique_id":
                                                         "p1", "width": 9, "height": 9}])})
    await stub.wait_for(lambda: len(stub.to(person)) >= 3)
    assert "only read text" not in stub.to(person)[2]["text"]


async def test_an_erasure_requested_while_the_gateway_is_down_completes_later(
        stub, rasa_server) -> None:  # type: ignore[no-untyped-def]
    """The tracker store (Rasa's process) queues the removal of the counsellor-chat copies;
    a gateway that was down when the person deleted their data works it off on start."""
    from bot import desk
    from tests.telegram.conftest import start_gateway, stop_gateway

    person = next(_people)
    app = await start_gateway(stub, rasa_server)
    case_id = await claimed_by_olena(stub, person)
    stub.say(person, "Мій диплом медсестри з Харкова, 2015 рік", language_code="uk")
    await stub.wait_for(lambda: any("2015" in m["text"] for m in stub.to(OLENA)))
    copy = next(m for m in stub.to(OLENA) if "2015" in m["text"])
    await stop_gateway(app)  # the gateway goes down

    with session_scope() as session:  # what the tracker store does after "yes, delete"
        desk.erase_person(session, conversation_id=str(person), language="uk")
    with session_scope() as session:
        pending = list(session.execute(select(Outbox).where(Outbox.done_at.is_(None))
                                       ).scalars())
        assert any(r.kind is OutboxKind.ERASE for r in pending)
        assert session.get(Case, case_id) is None  # the rows are gone at once

    app = await start_gateway(stub, rasa_server)  # back up: the queued removal is done
    try:
        await stub.wait_for(lambda: any(
            int(p.get("chat_id", 0)) == OLENA and int(p.get("message_id", 0))
            == copy["message_id"] for p in stub.called("deleteMessage")), timeout=30)
        await stub.wait_for(lambda: any("видален" in m["text"].lower()
                                        for m in stub.to(person)), timeout=30)
    finally:
        await stop_gateway(app)
