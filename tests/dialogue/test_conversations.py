"""Conversation tests: the Rasa test stories in tests/conversations/<lang>/ run through the
real agent (NLU, rules, action server, NLG, SQL tracker store).

Two separate promises are checked:
- the dialogue: given the story's intent, the assistant runs the story's actions and every
  reply is in the conversation's language. When the NLU misreads a turn, the turn is sent
  again as the intent's button payload so the rest of the story is still tested;
- the understanding: across all conversation turns of a language, at least 85 % of the
  messages get the story's intent (these messages are written apart from the training and
  held-out data, so they act as a second, conversational test set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.languages import detector, registry

CONVERSATIONS = Path(__file__).resolve().parent.parent / "conversations"


def load_stories() -> list[tuple[str, str, list[dict[str, Any]]]]:
    out = []
    for file in sorted(CONVERSATIONS.glob("*/*.yml")):
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for story in doc.get("stories", []):
            out.append((file.parent.name, f"{file.parent.name}/{file.stem}: {story['story']}",
                        story["steps"]))
    return out


def turns(steps: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    """(user text, expected intent, expected actions) per user turn."""
    out: list[tuple[str, str, list[str]]] = []
    for step in steps:
        if "user" in step:
            out.append((str(step["user"]).strip(), step["intent"], []))
        elif "action" in step and out:
            out[-1][2].append(step["action"])
        # slot_was_set steps document what an action decided; the actions are checked
    return out


STORIES = load_stories()
MIN_TURN_ACCURACY = 0.85


def test_every_language_has_conversation_tests() -> None:
    assert {lang for lang, _, _ in STORIES} >= set(registry().codes)


@pytest.mark.parametrize("language,name,steps", STORIES, ids=[s[1] for s in STORIES])
async def test_story(chat, language: str, name: str, steps: list[dict[str, Any]]) -> None:
    # as on Telegram, the client's language code arrives with every message
    conversation = chat(language_code=language)
    switches_language = any(s.get("intent") == "change_language" for s in steps)
    for text, intent, expected_actions in turns(steps):
        # an NLU miss is measured below; the dialogue goes on with the story's intent,
        # sent as its button payload instead of the misread text
        parsed = await conversation.agent.parse_message(text)
        turn = await conversation.say(text if parsed["intent"]["name"] == intent
                                      else f"/{intent}")
        assert turn.intent == intent
        # stories name the deciding action; rules may add the answer that follows it
        # (action_change_language → utter_language_changed)
        assert turn.actions[: len(expected_actions)] == expected_actions, (
            f"{text!r}: actions {turn.actions}, expected {expected_actions}")
        assert turn.texts, f"{text!r}: no reply"
        if switches_language:
            continue
        for reply in turn.texts:
            found = detector().detect(reply)
            if found.confident:
                assert found.code == language, f"reply to {text!r} is in {found.code}: {reply}"


@pytest.mark.parametrize("language", registry().codes)
async def test_conversation_turns_are_understood(agent, language: str) -> None:
    misses, total = [], 0
    for lang, _name, steps in STORIES:
        if lang != language:
            continue
        for text, intent, _actions in turns(steps):
            total += 1
            got = (await agent.parse_message(text))["intent"]["name"]
            if got != intent:
                misses.append(f"{text!r}: {got} (expected {intent})")
    accuracy = 1 - len(misses) / total
    assert accuracy >= MIN_TURN_ACCURACY, f"{language}: {accuracy:.3f}\n" + "\n".join(misses)
