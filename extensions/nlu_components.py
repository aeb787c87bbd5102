"""Rasa NLU components: gazetteer entities for any script, and the language gate that marks
messages in a language the assistant does not speak (yet)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.entities import matcher
from bot.languages import detector

UNSUPPORTED_LANGUAGE_INTENT = "unsupported_language"
# Declaring a message "not in a language we speak" costs the person an answer, so the gate
# needs more certainty than a language switch does: a very sure detector and an intent
# classifier that did not recognise the message either (Levantine Arabic was once taken
# for Persian at 0.6 by the detector, while the classifier was sure of the intent).
UNSUPPORTED_MIN_CONFIDENCE = 0.85
UNSUPPORTED_MAX_INTENT_CONFIDENCE = 0.5


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts language, profession, country and region with normalised values."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GazetteerEntityExtractor:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._matcher = matcher()  # built once when the model loads

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: m.entity,
                    ENTITY_ATTRIBUTE_VALUE: m.value,
                    ENTITY_ATTRIBUTE_START: m.start,
                    ENTITY_ATTRIBUTE_END: m.end,
                    "confidence_entity": 1.0,
                }
                for m in self._matcher.find(text)
            ]
            if found:
                found = self.add_extractor_name(found)
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class LanguageGate(GraphComponent):
    """Marks a message confidently written in an unsupported language with the intent
    `unsupported_language`, so the dialogue can answer with the list of languages instead of
    guessing an intent from words it was never trained on. Place after the classifier."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageGate:
        return cls()

    def __init__(self) -> None:
        self._detector = detector()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):  # button payloads and commands are not prose
                continue
            detection = self._detector.detect(text)
            intent_confidence = (message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY, 0.0)
            if (detection.confident and not detection.supported
                    and detection.confidence >= UNSUPPORTED_MIN_CONFIDENCE
                    and intent_confidence < UNSUPPORTED_MAX_INTENT_CONFIDENCE):
                intent = {INTENT_NAME_KEY: UNSUPPORTED_LANGUAGE_INTENT,
                          PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages
