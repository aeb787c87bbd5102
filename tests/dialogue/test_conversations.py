"""Conversation tests: the Rasa test stories in tests/conversations/<lang>/ run through the
real agent (NLU, rules, action server, NLG, SQL tracker store). Each user turn must get the
story's intent and actions, and every reply must be in the conversation's language."""

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
    return out


STORIES = load_stories()


def test_every_language_has_conversation_tests() -> None:
    assert {lang for lang, _, _ in STORIES} >= set(registry().codes)


@pytest.mark.parametrize("language,name,steps", STORIES, ids=[s[1] for s in STORIES])
async def test_story(chat, language: str, name: str, steps: list[dict[str, Any]]) -> None:
    # as on Telegram, the client's language code arrives with every message
    conversation = chat(language_code=language)
    switches_language = any(s.get("intent") == "change_language" for s in steps)
    for text, intent, expected_actions in turns(steps):
        turn = await conversation.say(text)
        assert turn.intent == intent, f"{text!r}: intent {turn.intent}, expected {intent}"
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
