"""People on Telegram: through the real python-telegram-bot client, the Bot API stand-in,
a real Rasa server and the action server."""

from __future__ import annotations

import itertools

import pytest

from bot.languages import detector

_chats = itertools.count(70_000)


def assert_language(text: str, language: str) -> None:
    found = detector().detect(text)
    assert found.confident and found.code == language, text


@pytest.mark.parametrize("language,question", [
    ("uk", "Скільки коштує визнання диплома медсестри?"),
    ("ar", "كم تكلفة الاعتراف بشهادتي كممرضة في ألمانيا؟"),
    ("de", "Wie lange dauert die Anerkennung meines Diploms?"),
])
async def test_question_is_answered_in_the_persons_language(stub, gateway, language: str,
                                                           question: str) -> None:
    chat = next(_chats)
    stub.say(chat, question, language_code="en")  # a phone set to English, text in language
    await stub.wait_for(lambda: stub.to(chat))
    assert_language(stub.to(chat)[0]["text"], language)


async def test_start_greets_in_the_client_language_with_language_buttons(stub, gateway
                                                                         ) -> None:
    chat = next(_chats)
    stub.say(chat, "/start", language_code="tr", entities=[
        {"type": "bot_command", "offset": 0, "length": 6}])
    await stub.wait_for(lambda: len(stub.to(chat)) >= 2)
    greeting, menu = stub.to(chat)[:2]
    assert_language(greeting["text"], "tr")
    payloads = [b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"]
                for b in row]
    assert '/change_language{"language":"uk"}' in payloads
    assert all(len(p.encode()) <= 64 for p in payloads)


async def test_language_button_switches_and_is_acknowledged(stub, gateway) -> None:
    chat = next(_chats)
    stub.press(chat, '/change_language{"language":"uk"}', language_code="de")
    await stub.wait_for(lambda: stub.to(chat))
    assert stub.called("answerCallbackQuery")
    assert_language(stub.to(chat)[0]["text"], "uk")
    assert "українською" in stub.to(chat)[0]["text"].lower()


@pytest.mark.parametrize("content", [
    {"sticker": {"file_id": "s", "file_unique_id": "s1", "type": "regular", "width": 512,
                 "height": 512, "is_animated": False, "is_video": False}},
    {"voice": {"file_id": "v", "file_unique_id": "v1", "duration": 3}},
    {"photo": [{"file_id": "p", "file_unique_id": "p1", "width": 90, "height": 90}]},
    {"document": {"file_id": "d", "file_unique_id": "d1", "file_name": "diploma.pdf"}},
    {"location": {"latitude": 52.5, "longitude": 13.4}},
], ids=["sticker", "voice", "photo", "document", "location"])
async def test_non_text_gets_a_friendly_request_for_text(stub, gateway, content) -> None:
    chat = next(_chats)
    stub.push({"message": stub.incoming(chat, "ru", **content)})
    await stub.wait_for(lambda: stub.to(chat))
    reply = stub.to(chat)[0]["text"]
    assert_language(reply, "ru")
    assert "текст" in reply.lower()


async def test_edited_message_is_not_answered_twice(stub, gateway) -> None:
    chat = next(_chats)
    update = stub.say(chat, "How much does the recognition cost?", language_code="en")
    await stub.wait_for(lambda: stub.to(chat))
    edited = dict(update["message"], text="How much does the recognition cost? (edited)",
                  edit_date=update["message"]["date"] + 5)
    stub.push({"edited_message": edited})
    stub.say(chat, "thanks!", language_code="en")
    await stub.wait_for(lambda: len(stub.to(chat)) >= 2)
    texts = [m["text"] for m in stub.to(chat)]
    assert len(texts) == 2 and "welcome" in texts[1].lower()


async def test_very_long_message_is_answered_and_noted(stub, gateway) -> None:
    chat = next(_chats)
    stub.say(chat, "How long does the recognition of my nursing diploma take? " * 200,
             language_code="en")
    await stub.wait_for(lambda: len(stub.to(chat)) >= 2)
    assert "very long" in stub.to(chat)[-1]["text"]


async def test_unknown_update_types_are_ignored(stub, gateway) -> None:
    chat = next(_chats)
    stub.push({"my_chat_member": None, "something_new": {"x": 1}})
    stub.say(chat, "hello", language_code="en")
    await stub.wait_for(lambda: stub.to(chat))


async def test_counsellor_commands_are_refused_to_people(stub, gateway) -> None:
    chat = next(_chats)
    for command in ["/cases", "/close 1", "/release 1"]:
        stub.say(chat, command, language_code="de", entities=[
            {"type": "bot_command", "offset": 0, "length": len(command.split()[0])}])
    stub.press(chat, "take:1", language_code="de")
    await stub.wait_for(lambda: len(stub.to(chat)) >= 4)
    assert all("Berater" in m["text"] or "Beratung" in m["text"] for m in stub.to(chat))


async def test_flood_wait_is_retried(stub, gateway) -> None:
    chat = next(_chats)
    stub.flood_waits = 1
    stub.say(chat, "What is the minimum wage in Germany?", language_code="en")
    await stub.wait_for(lambda: stub.to(chat), timeout=30)
    assert "Mindestlohn" in stub.to(chat)[0]["text"]


async def test_messages_to_one_chat_are_paced_about_one_per_second() -> None:
    import asyncio

    from connectors.telegram.ratelimit import ChatTurns

    turns, loop = ChatTurns(interval=0.2), asyncio.get_running_loop()
    started = loop.time()
    for _ in range(3):
        await turns.wait(1)
    assert loop.time() - started >= 0.39  # the 2nd and 3rd message waited their turn
    # another chat has its own turn: it is due at once
    assert turns.due_at(2) <= loop.time()
