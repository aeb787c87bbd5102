"""The handover dialogue in every supported language, through the real agent, action
server and database: consent, form, routing, exactly one case with only the consented
fields; consent refused stores nothing; cancelling; stopping the form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Case, CaseStatus, Consent
from bot.db.session import session_scope
from bot.languages import detector
from bot.privacy import user_ref

# language: (request, city, profession, country) -> expected (region, profession, country,
# counsellor)
DIALOGUES = {
    "de": (("Kann ich bitte mit einer echten Beraterin sprechen?", "Ich wohne in Köln",
            "Krankenschwester", "Syrien"), ("NW", "nurse", "SY", "Karim")),
    "en": (("I would like to talk to a counsellor in person", "Munich", "welder", "India"),
           ("BY", "welder", "IN", "Ayşe")),
    "ar": (("أريد التحدث مع مستشار من فضلك", "برلين", "ممرضة", "سوريا"),
           ("BE", "nurse", "SY", "Karim")),
    "tr": (("bir danışmanla görüşmek istiyorum", "Münih'te yaşamak istiyorum", "hemşire",
            "Türkiye"), ("BY", "nurse", "TR", "Ayşe")),
    "ru": (("Я хочу поговорить с консультантом", "в Мюнхене", "сварщик", "Казахстан"),
           ("BY", "welder", "KZ", "Olena")),
    "uk": (("Я хочу поговорити з консультантом", "Берлін", "інженер", "Україна"),
           ("BE", "engineer", "UA", "Olena")),
}


def cases_of(conversation_id: str) -> list[Case]:
    with session_scope() as session:
        return list(session.execute(
            select(Case).where(Case.user_ref == user_ref(conversation_id))).scalars())


def consents_of(conversation_id: str) -> list[Consent]:
    with session_scope() as session:
        return list(session.execute(
            select(Consent).where(Consent.user_ref == user_ref(conversation_id))).scalars())


def assert_in_language(texts: list[str], language: str) -> None:
    for text in texts:
        found = detector().detect(text)
        if found.confident:
            assert found.code == language, text


@pytest.mark.parametrize("language", list(DIALOGUES))
async def test_full_handover_creates_one_case_with_consented_fields(chat, language: str
                                                                    ) -> None:
    (request, city, profession, country), expected = DIALOGUES[language]
    person = chat(language_code=language)

    turn = await person.say(request)
    assert turn.actions[:2] == ["action_start_handover", "utter_handover_consent"], turn
    assert_in_language(turn.texts, language)
    assert not consents_of(person.sender_id)  # nothing before consent

    turn = await person.say("/affirm")
    assert turn.actions[:2] == ["action_record_consent", "handover_form"]
    assert turn.slots["requested_slot"] == "handover_topic"
    assert_in_language(turn.texts, language)

    turn = await person.say("visa")  # the topic button
    assert turn.slots["requested_slot"] == "region"
    turn = await person.say(city)
    assert turn.slots["region"] == expected[0]
    turn = await person.say(profession)
    assert turn.slots["profession"] == expected[1]
    turn = await person.say(country)
    assert "action_create_case" in turn.actions
    assert "utter_case_assigned_on_duty" in turn.actions
    assert expected[3] in turn.texts[-1]
    assert_in_language(turn.texts, language)

    [case] = cases_of(person.sender_id)
    assert (case.language, case.topic, case.region, case.profession, case.country) == (
        language, "visa", *expected[:3])
    assert case.status is CaseStatus.OFFERED
    assert case.ref in turn.texts[-1]
    [consent] = consents_of(person.sender_id)
    assert consent.fields == ["language", "topic", "region", "profession", "country"]

    # asking again does not open a second case
    turn = await person.say(request)
    assert "utter_case_already_open" in turn.actions
    assert len(cases_of(person.sender_id)) == 1

    # and the person can cancel it
    turn = await person.say("/cancel_case")
    assert "utter_case_cancelled" in turn.actions
    [case] = cases_of(person.sender_id)
    assert case.status is CaseStatus.CLOSED and case.outcome.value == "cancelled"


@pytest.mark.parametrize("language", list(DIALOGUES))
async def test_consent_refused_stores_nothing(chat, language: str) -> None:
    person = chat(language_code=language)
    await person.say(DIALOGUES[language][0][0])
    turn = await person.say("/deny")
    assert turn.actions[:1] == ["utter_handover_declined"]
    assert_in_language(turn.texts, language)
    assert cases_of(person.sender_id) == [] and consents_of(person.sender_id) == []


async def test_known_facts_are_not_asked_again(chat) -> None:
    person = chat(language_code="uk")
    turn = await person.say("Я медсестра з України, хочу працювати в Мюнхені. "
                            "Чи потрібне визнання диплома?")
    assert turn.intent == "recognition_need"
    await person.say("Я хочу поговорити з консультантом")
    turn = await person.say("/affirm")
    # topic (recognition), region, profession and country came from the conversation
    assert "utter_case_assigned_on_duty" in turn.actions, turn
    [case] = cases_of(person.sender_id)
    assert (case.topic, case.region, case.profession, case.country) == (
        "recognition", "BY", "nurse", "UA")


async def test_unknown_place_is_asked_again_and_abroad_is_allowed(chat) -> None:
    person = chat(language_code="en")
    await person.say("I want to speak to a counsellor")
    await person.say("/affirm")
    await person.say("recognition")
    turn = await person.say("Atlantis")
    assert turn.slots["requested_slot"] == "region"
    assert any("do not know that place" in t for t in turn.texts)
    turn = await person.say("unknown")  # "still abroad / don't know" button
    assert turn.slots["region"] == "unknown" and turn.slots["requested_slot"] == "profession"
    await person.say("skip")
    turn = await person.say("skip")
    assert "action_create_case" in turn.actions
    [case] = cases_of(person.sender_id)
    assert (case.region, case.profession, case.country) == (None, None, None)


async def test_the_person_can_stop_the_form(chat) -> None:
    person = chat(language_code="de")
    await person.say("Ich brauche eine persönliche Beratung")
    await person.say("/affirm")
    turn = await person.say("/cancel_case")
    assert "utter_handover_stopped" in turn.actions
    assert cases_of(person.sender_id) == []


async def test_cancel_without_open_case(chat) -> None:
    person = chat(language_code="en")
    turn = await person.say("/cancel_case")
    assert "utter_no_open_case" in turn.actions
