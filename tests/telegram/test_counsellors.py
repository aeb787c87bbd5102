"""A full handover on Telegram: a Ukrainian person, a Ukrainian-speaking counsellor (Olena,
chat 9002 in tests/fixtures/directory.yml), notification with a Take button, relay both
ways, closing with an outcome, and the assistant taking over again. Plus webhook mode."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sqlalchemy import select

from bot import cases
from bot.db.models import Case, CaseStatus
from bot.db.session import session_scope
from bot.privacy import user_ref
from tests.conftest import free_port
from tests.telegram.conftest import TOKEN, gateway_settings

OLENA, AYSE = 9002, 9003
PERSON = 80_001


def _case_of(chat: int, message_id: int) -> int | None:
    with session_scope() as session:
        case = cases.case_of_message(session, chat_id=chat, message_id=message_id)
        return case.id if case else None


def command(stub, chat: int, text: str) -> None:  # type: ignore[no-untyped-def]
    stub.say(chat, text, entities=[{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}])


async def test_ukrainian_handover_reaches_a_ukrainian_counsellor_and_relays(stub, gateway
                                                                           ) -> None:
    person = PERSON
    stub.say(person, "Я хочу поговорити з консультантом", language_code="uk")
    await stub.wait_for(lambda: stub.to(person))
    for answer in ["/affirm", "recognition", "Мюнхен", "медсестра", "Україна"]:
        before = len(stub.to(person))
        stub.press(person, answer, language_code="uk")
        await stub.wait_for(lambda b=before: len(stub.to(person)) > b)
    assert "Olena" in stub.to(person)[-1]["text"]

    with session_scope() as session:
        [case] = session.execute(select(Case).where(Case.user_ref == user_ref(str(person)))
                                 ).scalars().all()
        ref = case.ref

    # Olena is told, with a summary that does not identify the person, and a Take button
    await stub.wait_for(lambda: any(ref in m["text"] for m in stub.to(OLENA)))
    offer = next(m for m in stub.to(OLENA) if ref in m["text"])
    assert "uk" in offer["text"] and "recognition" in offer["text"] and "BY" in offer["text"]
    assert str(person) not in offer["text"] and "Test" not in offer["text"]
    take = offer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert take.startswith("take:")

    # a non-counsellor cannot take it; Olena can
    stub.press(AYSE + 999, take)
    stub.press(OLENA, take)
    await stub.wait_for(lambda: len(stub.to(person)) >= 7)
    assert "Olena" in stub.to(person)[-1]["text"]
    with session_scope() as session:
        [case] = session.execute(select(Case).where(Case.user_ref == user_ref(str(person)))
                                 ).scalars().all()
        assert case.status is CaseStatus.CLAIMED and case.assignee_id == "olena"

    # the person writes: it goes to Olena, the assistant stays silent
    answered = len(stub.to(person))
    stub.say(person, "Доброго дня! У мене диплом медсестри з Києва.", language_code="uk")
    await stub.wait_for(lambda: any(m["text"].startswith(f"[{ref}] Доброго дня")
                                    for m in stub.to(OLENA)))
    relayed = next(m for m in stub.to(OLENA) if m["text"].startswith(f"[{ref}] Доброго"))
    assert len(stub.to(person)) == answered
    # the gateway notes which case a relayed message belongs to once Telegram has confirmed
    # it: a human reply takes longer than that, a test does not
    await stub.wait_for(lambda: _case_of(OLENA, relayed["message_id"]) == int(ref))

    # Olena replies to that message: it reaches the person with her first name
    stub.push({"message": stub.incoming(OLENA, "uk", text="Вітаю! Надішліть, будь ласка, "
                                        "копію диплома.", reply_to_message=relayed)})
    await stub.wait_for(lambda: any(m["text"].startswith("💬 Olena: Вітаю")
                                    for m in stub.to(person)))

    # /cases lists it; /close asks for the outcome; the outcome closes it
    command(stub, OLENA, "/cases")
    await stub.wait_for(lambda: any(f"#{ref}" in m["text"] for m in stub.to(OLENA)))
    command(stub, OLENA, f"/close {ref}")
    await stub.wait_for(lambda: any(m.get("reply_markup") and "close:" in json.dumps(
        m["reply_markup"]) for m in stub.to(OLENA)))
    stub.press(OLENA, f"close:{int(ref)}:resolved")
    await stub.wait_for(lambda: len(stub.to(person)) > answered + 1)
    with session_scope() as session:
        case = session.get(Case, int(ref))
        assert case.status is CaseStatus.CLOSED and case.outcome.value == "resolved"

    # the assistant is back
    before = len(stub.to(person))
    stub.say(person, "Скільки триває визнання?", language_code="uk")
    await stub.wait_for(lambda: len(stub.to(person)) > before)
    assert "місяц" in stub.to(person)[-1]["text"]


async def test_webhook_secret_is_verified(stub, rasa_server) -> None:
    from connectors.telegram import build_application

    app = build_application(gateway_settings(stub, rasa_server), notify_interval=5)
    port, secret = free_port(), "s3cret-token-for-the-webhook"
    await app.initialize()
    await app.start()
    await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="telegram",
                                    secret_token=secret,
                                    webhook_url=f"http://127.0.0.1:{port}/telegram")
    try:
        assert stub.webhook and stub.webhook["secret_token"] == secret
        update = {"update_id": 1, "message": stub.incoming(81_000, "en", text="hello")}

        def post(headers: dict[str, str]) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        import asyncio

        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, post, {}) == 403
        assert await loop.run_in_executor(
            None, post, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        assert not stub.to(81_000)
        assert await loop.run_in_executor(
            None, post, {"X-Telegram-Bot-Api-Secret-Token": secret}) == 200
        await stub.wait_for(lambda: stub.to(81_000))
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def test_missing_webhook_secret_names_the_variable() -> None:
    import pytest

    from bot.settings import MissingSettingError, Settings

    settings = Settings(telegram_bot_token=TOKEN, telegram_webhook_url="https://x.example/t",
                        _env_file=None)
    with pytest.raises(MissingSettingError, match="TELEGRAM_WEBHOOK_SECRET"):
        settings.require_webhook_secret()
