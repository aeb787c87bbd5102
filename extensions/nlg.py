"""Response generator that answers in the conversation's language and fills yearly figures.

Configured in endpoints.yml (`nlg: type: extensions.nlg.LocalizedNLG`). Rasa's templated
generator does the work: we hand it the merged, language-conditioned responses and add the
formatted figures to the template variables.

Rasa's Agent creates the generator before the model's domain is known and later assigns
`generator.responses = domain.responses`; `responses` is therefore a property that merges the
translations in whenever it is assigned.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot.figures import figure_values
from bot.languages import registry
from bot.texts import fill_placeholders, localised_responses


class LocalizedNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses with one variant per language and yearly figures filled in."""

    def __init__(self, endpoint_config: EndpointConfig | None = None,
                 domain: Domain | None = None) -> None:
        super().__init__(dict(domain.responses) if domain is not None else {})

    @property  # type: ignore[override]
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        return self._responses

    @responses.setter
    def responses(self, source: dict[str, list[dict[str, Any]]]) -> None:
        self._responses = localised_responses(dict(source)) if source else {}

    def _fill_response(self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        # Rasa interpolates button payloads too, and logs an error for every JSON payload
        # such as '/change_language{"language":"uk"}'; only titles carry placeholders here.
        buttons = response.pop("buttons", None)
        filled = super()._fill_response(response, filled_slots, **kwargs)
        if buttons:
            variables = self._response_variables(filled_slots or {}, kwargs)
            filled["buttons"] = [
                {**b, "title": fill_placeholders(str(b.get("title", "")), variables)}
                for b in buttons]
        return filled

    def _response_variables(
        self, filled_slots: dict[str, Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        variables = super()._response_variables(filled_slots, kwargs)
        language = (filled_slots or {}).get("language") or registry().default
        # slot values win over figure names only if someone names a slot like a figure
        return {**figure_values(language), **variables}
