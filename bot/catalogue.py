"""The intent catalogue's topic of each intent (copied from the shared spec, intents.yml),
and which responses are topic answers: dated, with a counsellor button, profession-aware."""

from __future__ import annotations

# Topics whose answers are facts that age: they carry an "as of" line and a counsellor button.
ANSWER_TOPICS = ("recognition", "visa", "entry", "integration")

# intent -> catalogue topic (spec/intents.yml, 42 intents since 2026-12). Keep in step with
# the spec when the catalogue changes; tests/unit/test_texts.py checks it against domain.yml.
TOPIC_OF_INTENT: dict[str, str] = {
    "greet": "meta",
    "goodbye": "meta",
    "thank": "meta",
    "affirm": "meta",
    "deny": "meta",
    "bot_challenge": "meta",
    "help": "meta",
    "out_of_scope": "meta",
    "request_counsellor": "meta",
    "change_language": "meta",
    "privacy": "meta",
    "delete_my_data": "meta",
    "recognition_need": "recognition",
    "recognition_process": "recognition",
    "recognition_documents": "recognition",
    "recognition_costs": "recognition",
    "recognition_duration": "recognition",
    "recognition_academic": "recognition",
    "recognition_partial": "recognition",
    "work_during_recognition": "recognition",
    "visa_options": "visa",
    "visa_blue_card": "visa",
    "visa_skilled_worker": "visa",
    "visa_opportunity_card": "visa",
    "visa_recognition_measures": "visa",
    "visa_family": "visa",
    "visa_vocational_training": "visa",
    "visa_western_balkans": "visa",
    "residence_job_change": "visa",
    "residence_permanent": "visa",
    "refugee_status_work": "visa",
    "entry_visa_application": "entry",
    "entry_fast_track": "entry",
    "entry_after_arrival": "entry",
    "entry_health_insurance": "entry",
    "entry_visa_refused": "entry",
    "scam_check": "entry",
    "work_job_search": "integration",
    "work_rights": "integration",
    "language_learning": "integration",
    "social_housing": "integration",
    "discrimination": "integration",
}

# The answer of a topic intent is the response `utter_<intent>`.
TOPIC_ANSWERS: frozenset[str] = frozenset(
    f"utter_{intent}" for intent, topic in TOPIC_OF_INTENT.items() if topic in ANSWER_TOPICS)


def topic_of_response(name: str) -> str | None:
    """The catalogue topic of `utter_<intent>`, None for other responses."""
    return TOPIC_OF_INTENT.get(name.removeprefix("utter_")) if name.startswith("utter_") else None


def is_topic_answer(name: str) -> bool:
    return name in TOPIC_ANSWERS
