"""The decision rule between answering, asking which topic was meant, and the fallback; how a
message is cut into its question sentence and its questions; when a language switch is
offered."""

from __future__ import annotations

from bot.languages import registry
from bot.understanding import (
    DEFAULT,
    OFFERED_META_INTENTS,
    Answer,
    Ask,
    Fallback,
    LanguageOffer,
    Thresholds,
    also_asked,
    answered_intent,
    clauses,
    decide,
    intent_title,
    is_offered_intent,
    is_topic_intent,
    language_offer,
    load_titles,
    question_sentence,
    right_after_one_tap,
    too_little_evidence,
    two_questions,
)


def ranking(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [{"name": n, "confidence": c} for n, c in pairs]


def test_a_clear_top_intent_is_answered() -> None:
    assert decide(ranking(("recognition_costs", 0.97), ("recognition_duration", 0.005))) == \
        Answer("recognition_costs")


def test_unsure_between_topics_offers_the_likeliest_topics_best_first() -> None:
    decision = decide(ranking(("recognition_costs", 0.5), ("greet", 0.2),
                              ("recognition_duration", 0.15), ("visa_family", 0.1),
                              ("visa_options", 0.04), ("work_rights", 0.01)))
    # meta intents are never offered; at most three buttons; a faint topic is not offered
    assert decision == Ask(("recognition_costs", "recognition_duration", "visa_family"))


def test_close_top_two_ask_when_a_margin_is_required() -> None:
    th = Thresholds(answer=0.4, margin=0.1, candidate=0.05)
    assert decide(ranking(("visa_blue_card", 0.48), ("visa_skilled_worker", 0.45)), th) == \
        Ask(("visa_blue_card", "visa_skilled_worker"))
    assert decide(ranking(("visa_blue_card", 0.7), ("visa_skilled_worker", 0.2)), th) == \
        Answer("visa_blue_card", ("visa_skilled_worker",))


def test_an_answer_offers_the_other_plausible_topics() -> None:
    # at most two, topic intents only, none below the candidate threshold
    decision = decide(ranking(("recognition_costs", 0.86), ("thank", 0.06),
                              ("recognition_duration", 0.05), ("visa_family", 0.04),
                              ("visa_options", 0.03), ("entry_after_arrival", 0.01)))
    assert decision == Answer("recognition_costs", ("recognition_duration", "visa_family"))
    assert right_after_one_tap(decision, "visa_family")
    assert not right_after_one_tap(decision, "visa_options")
    # a sure answer has none; a meta intent (a greeting) never gets topic buttons
    assert decide(ranking(("recognition_costs", 0.99), ("visa_family", 0.004))) == \
        Answer("recognition_costs")
    assert decide(ranking(("greet", 0.9), ("visa_family", 0.08))) == Answer("greet")


def test_no_plausible_topic_means_the_plain_fallback() -> None:
    assert decide(ranking(("greet", 0.5), ("thank", 0.45), ("visa_family", 0.005))) == Fallback()
    assert decide([]) == Fallback()


def test_the_gates_gibberish_verdict_is_a_fallback_and_fallback_entries_are_skipped() -> None:
    # the language gate leaves a one-item ranking; UnderstandingFallback puts nlu_fallback
    # in front of the original ranking
    assert decide(ranking(("nlu_fallback", 1.0))) == Fallback()
    assert decide(ranking(("nlu_fallback", 0.4), ("visa_family", 0.6), ("visa_options", 0.3))) \
        == Ask(("visa_family", "visa_options"))


def test_the_shipped_thresholds_answer_confident_meta_intents() -> None:
    assert decide(ranking(("thank", 0.99), ("goodbye", 0.005)), DEFAULT) == Answer("thank")


def test_too_little_evidence_needs_a_long_enough_message_of_unknown_trigrams() -> None:
    assert too_little_evidence(0.07, 15)  # "ґєїґєї ґєї"
    assert not too_little_evidence(0.0, 6)  # short slang ("s.a", "йес") is left to the ranking
    assert not too_little_evidence(0.27, 7)  # "хаюшки"
    assert not too_little_evidence(0.2, 40)
    assert too_little_evidence(0.5, 40, Thresholds(evidence=0.6))


def test_right_at_once_and_after_one_tap() -> None:
    ask = Ask(("recognition_costs", "recognition_duration"))
    assert answered_intent(ask) == "nlu_fallback"
    assert right_after_one_tap(ask, "recognition_duration")
    assert not right_after_one_tap(ask, "visa_family")
    assert right_after_one_tap(Answer("visa_family"), "visa_family")
    assert not right_after_one_tap(Fallback(), "visa_family")
    # a question and the fallback always carry the counsellor button; an answer's buttons
    # are its alternatives (the topic answer's own counsellor button is not a guess)
    assert right_after_one_tap(ask, "request_counsellor")
    assert right_after_one_tap(Fallback(), "request_counsellor")
    assert not right_after_one_tap(Answer("visa_family"), "request_counsellor")


def test_meta_intents_that_help_on_their_own_are_offered_yes_no_and_deleting_are_not() -> None:
    # "Does this chat stay somewhere for long?": bot_challenge 0.63, privacy 0.37
    assert decide(ranking(("bot_challenge", 0.63), ("privacy", 0.37))) == \
        Ask(("bot_challenge", "privacy"))
    assert decide(ranking(("show_my_data", 0.5), ("privacy", 0.49), ("delete_my_data", 0.3))) \
        == Ask(("show_my_data", "privacy"))
    assert decide(ranking(("affirm", 0.78), ("deny", 0.15), ("greet", 0.05))) == Fallback()
    assert decide(ranking(("cancel_case", 0.8), ("request_counsellor", 0.17))) == \
        Ask(("cancel_case",))
    # under a topic answer, privacy may be the "Or: …?" button
    assert decide(ranking(("residence_job_change", 0.91), ("privacy", 0.06))) == \
        Answer("residence_job_change", ("privacy",))
    # a meta answer has no alternatives
    assert decide(ranking(("help", 0.95), ("privacy", 0.04))) == Answer("help")


def test_question_sentence_of_a_story() -> None:
    text = "Ich bin Pflegerin aus Syrien. Ich lebe in Damaskus. Wie lange dauert die Anerkennung?"
    assert question_sentence(text) == "Wie lange dauert die Anerkennung?"
    # no question mark: the last sentence
    assert question_sentence("I am a nurse from Kenya. Tell me about the costs please") == \
        "Tell me about the costs please"
    assert question_sentence("How long does recognition take?") is None


def test_two_questions_are_split_and_one_question_is_not() -> None:
    assert clauses("how long does it take and what does it cost?") == [
        "how long does it take", "what does it cost?"]
    assert clauses("Сколько это стоит и как долго длится процедура?") == [
        "Сколько это стоит", "как долго длится процедура?"]
    assert clauses("Wie lange dauert das? Und was kostet es?") == [
        "Wie lange dauert das?", "Und was kostet es?"]
    # "and the children" is too short to be a question of its own
    assert clauses("Can I bring my wife and children?") == ["Can I bring my wife"]


def test_also_asked_only_for_another_confident_topic() -> None:
    whole = Answer("recognition_duration")
    assert also_asked(whole, [Answer("recognition_duration"), Answer("recognition_costs")]) == \
        "recognition_costs"
    assert also_asked(whole, [Answer("recognition_duration"), Ask(("recognition_costs",))]) \
        is None
    assert also_asked(whole, [Answer("thank")]) is None
    assert also_asked(Ask(("recognition_costs",)), [Answer("recognition_costs")]) is None


def test_every_topic_intent_has_a_title_in_every_language() -> None:
    assert is_topic_intent("visa_family") and not is_topic_intent("greet")
    assert is_offered_intent("privacy") and not is_topic_intent("privacy")
    assert not is_offered_intent("delete_my_data") and not is_offered_intent("affirm")
    for language in registry().codes:
        for intent in sorted(OFFERED_META_INTENTS):
            assert load_titles(language).get(intent), (language, intent)
    assert intent_title("visa_family", "de") == "Familiennachzug"
    assert intent_title("visa_family", "ru").startswith("Воссоединение")


def test_language_offer_after_two_messages_in_another_language() -> None:
    chosen = {"language": "de", "source": "explicit", "offered": None}
    first = language_offer(**chosen, detected="ru", streak=None)
    assert first == LanguageOffer("ru")
    second = language_offer(**chosen, detected="ru", streak=first.streak)
    assert second == LanguageOffer(None, "ru")
    # a short reply between the two keeps the streak; German again breaks it
    assert language_offer(**chosen, detected=None, streak="ru") == LanguageOffer("ru")
    assert language_offer(**chosen, detected="de", streak="ru") == LanguageOffer(None)


def test_language_offer_only_after_an_explicit_choice_and_only_once() -> None:
    assert language_offer(language="de", source="detected", detected="ru", streak="ru",
                          offered=None) == LanguageOffer(None)
    assert language_offer(language="de", source="explicit", detected="ru", streak="ru",
                          offered="ru") == LanguageOffer("ru")


def test_an_unclear_message_of_two_clear_questions_answers_the_first() -> None:
    unsure = Ask(("recognition_duration", "recognition_costs"))
    parts = [Answer("recognition_duration"), Answer("recognition_costs")]
    assert two_questions(unsure, parts) == (0, "recognition_costs")
    # parts about the same topic, or one unclear part: keep asking
    assert two_questions(unsure, [Answer("recognition_costs"), Answer("recognition_costs")]) \
        is None
    assert two_questions(unsure, [Ask(("visa_family",)), Answer("recognition_costs")]) is None
    assert two_questions(Answer("recognition_costs"), parts) is None
