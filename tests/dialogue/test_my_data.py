"""Right of access through the real agent and action server: a person asks what is stored,
and gets a summary in their language plus the full content (their messages, case, consent)."""

from __future__ import annotations

import json

from bot.texts import render

UNIQUE = "Wombatklee"


async def test_show_my_data_after_a_handover(chat) -> None:  # type: ignore[no-untyped-def]
    person = chat(language_code="de")
    await person.say(f"Hallo, ich bin Pflegerin {UNIQUE} und brauche eine Anerkennung")
    await person.say("Ich möchte mit einer Beraterin sprechen")
    await person.say("/affirm")
    for answer in ["/recognition_need", "Berlin", "Pflegerin", "Ukraine"]:
        await person.say(answer)

    turn = await person.say("Was speichern Sie über mich?")
    assert turn.intent == "show_my_data"
    assert turn.actions[0] == "action_show_my_data"
    summary, *full = turn.texts
    german_start = render("utter_my_data_summary", "de").text.split(":")[0]
    assert summary.startswith(german_start)
    assert "{" not in summary  # every count and date filled in
    assert all(len(part) <= 4000 for part in full)
    export = json.loads("\n".join(full))
    assert any(UNIQUE in m["text"] for m in export["conversation"]["messages"])
    assert export["conversation"]["slots"]["language"] == "de"
    (case,) = export["cases"]
    assert case["fields"]["region"] == "BE" and case["fields"]["topic"] == "recognition"
    assert export["consents"][0]["purpose"] == "handover"


async def test_privacy_text_offers_the_button(chat) -> None:  # type: ignore[no-untyped-def]
    person = chat(language_code="en")
    turn = await person.say("/privacy")
    assert {"title": "Show my data", "payload": "/show_my_data"} in turn.buttons[0]
