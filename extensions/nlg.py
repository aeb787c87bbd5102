"""Response generator that answers in the conversation's language, as of today.

Configured in endpoints.yml (`nlg: type: extensions.nlg.LocalizedNLG`). Rasa's templated
generator picks the language variant (conditional response variations merged in from
data/texts); `bot.texts.compose` then makes the message exactly as `bot.texts.render` does:
profession-specific text (slot `profession`), yearly figures with their year (or marked as
expired), the "as of" line and the counsellor button of topic answers.

Rasa's Agent creates the generator before the model's domain is known and later assigns
`generator.responses = domain.responses`; `responses` is therefore a property that merges the
translations in whenever it is assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings
from bot.texts import compose, figure_values, localised_responses, supported


class LocalizedNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses with one variant per language, composed by `bot.texts.compose`."""

    def __init__(self, endpoint_config: EndpointConfig | None = None,
                 domain: Domain | None = None,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        super().__init__(dict(domain.responses) if domain is not None else {})
        self.today = today  # tests set a fixed day

    @property  # type: ignore[override]
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        return self._responses

    @responses.setter
    def responses(self, source: dict[str, list[dict[str, Any]]]) -> None:
        self._responses = localised_responses(dict(source)) if source else {}

    async def generate(self, utter_action: str, tracker: DialogueStateTracker,
                       output_channel: str, **kwargs: Any) -> dict[str, Any] | None:
        # a second question in the user's message (extensions/intent_classifier.py) becomes
        # a button under the answer to the first
        # ... and other plausible topics of the message become "Or: …?" buttons
        parsed = tracker.latest_message.parse_data if tracker.latest_message else {}
        return self.generate_from_slots(utter_action, tracker.current_slot_values(),
                                        output_channel, also_asked=parsed.get("also_asked"),
                                        alternatives=parsed.get("alternatives"), **kwargs)

    def generate_from_slots(self, utter_action: str, filled_slots: dict[str, Any],
                            output_channel: str, **kwargs: Any) -> dict[str, Any] | None:
        variant = self._random_response_for(utter_action, output_channel, filled_slots)
        if variant is None:
            return None
        slots = filled_slots or {}
        language = supported(slots.get("language"))
        today = kwargs.pop("today", None) or self.today()
        also_asked = kwargs.pop("also_asked", None)
        alternatives = kwargs.pop("alternatives", None)
        # slot values win over figure names only if someone names a slot like a figure
        values = {**figure_values(language, today), **get_settings().text_variables(),
                  **{k: v for k, v in slots.items() if v is not None}, **kwargs}
        return compose(utter_action, variant, language, values=values,
                       profession=slots.get("profession"), also_asked=also_asked,
                       alternatives=alternatives)
