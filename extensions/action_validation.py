"""Rasa checks every action server response against a JSON schema with `jsonschema.validate`,
which first checks the schema itself against the meta-schema, on every call: about 50 ms per
custom action here, more than the whole rest of a turn (profile in docs/evaluation.md). The
schema is a constant, so this checks it once and keeps the validator; responses are validated
exactly as before, and an invalid one fails with Rasa's own message."""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_bruecke_cached_validator"


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once
    return cls(schema)


def install() -> None:
    """Replace RemoteAction._validate_action_result (idempotent)."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, _MARK, False):
        return

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            _validator().validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions")
            raise e

    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
