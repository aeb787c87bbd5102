"""Rasa's check of action server responses: the same verdicts, without re-checking the schema
on every call (that cost ~50 ms per custom action)."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema.validators import Draft202012Validator
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import extensions  # noqa: F401  (installs the cached validator)


def action() -> RemoteAction:
    return RemoteAction("action_validate_slot_mappings", EndpointConfig(url="http://x"))


def test_valid_and_invalid_responses_get_the_same_verdicts() -> None:
    good = {"events": [{"event": "slot", "name": "language", "value": "uk"}], "responses": []}
    assert action()._validate_action_result(good) is True
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        action()._validate_action_result({"events": "not a list", "responses": []})
    with pytest.raises(jsonschema.ValidationError):
        action()._validate_action_result({"events": [{"no": "event name"}]})


def test_the_schema_is_not_checked_again_on_every_response(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    action()._validate_action_result({"events": [], "responses": []})  # first use builds it

    def fail(*_: object, **__: object) -> None:
        raise AssertionError("the schema was checked again")

    for cls in {Draft202012Validator, *jsonschema.validators._VALIDATORS.values()}:
        monkeypatch.setattr(cls, "check_schema", classmethod(fail))
    for _ in range(3):
        assert action()._validate_action_result({"events": [], "responses": []}) is True
