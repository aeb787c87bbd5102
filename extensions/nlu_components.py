"""Rasa NLU components: gazetteer entities for any script, and the language gate that decides
each message's language once (also for Arabic/Russian/Ukrainian typed in Latin letters) and
marks messages in a language the assistant does not speak (yet) or in no language at all."""

from __future__ import annotations

from typing import Any

import joblib
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
from bot.gibberish import is_gibberish
from bot.languages import detector, registry
from bot.romanized import RomanizedLanguageId, training_examples
from bot.settings import PROJECT_ROOT

UNSUPPORTED_LANGUAGE_INTENT = "unsupported_language"
# Declaring a message "not in a language we speak" costs the person an answer, so the gate
# needs more certainty than a language switch does: a very sure detector and an intent
# classifier that did not recognise the message either (Levantine Arabic was once taken
# for Persian at 0.6 by the detector, while the classifier was sure of the intent).
UNSUPPORTED_MIN_CONFIDENCE = 0.85
UNSUPPORTED_MAX_INTENT_CONFIDENCE = 0.5
FALLBACK_INTENT = "nlu_fallback"
LANGUAGE_DETECTION = "language_detection"  # key of the decision in the parse data
ROMANIZED_FILE = "romanized.joblib"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
# "country" is where a qualification comes from; Germany is where people want to go
DESTINATION_COUNTRY = "DE"


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
                if not (m.entity == "country" and m.value == DESTINATION_COUNTRY)
            ]
            if found:
                found = self.add_extractor_name(found)
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LanguageGate(GraphComponent):
    """Decides the message's language once and writes it into the parse data
    (`language_detection`), where the language action and the gateway read it. Marks a
    message confidently written in an unsupported language with `unsupported_language`, and
    one without words with the fallback. Place after the classifier.

    Trained: a small classifier of Latin-script text (bot/romanized.py) on the Latin-script
    lines of data/nlu/<lang>/ — Rasa's training data does not say which language an example
    is in, so the files are read directly (the model fingerprint covers them)."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageGate:
        return cls(model_storage, resource)

    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 romanized: RomanizedLanguageId | None = None) -> None:
        self._detector = detector()
        self._model_storage = model_storage
        self._resource = resource
        self._romanized = romanized

    def train(self, training_data: TrainingData) -> Resource:
        reg = registry()
        texts, labels = training_examples(NLU_DIR, reg.codes, reg.latin_script)
        if len(set(labels)) >= 2:
            self._romanized = RomanizedLanguageId().fit(texts, labels)
            with self._model_storage.write_to(self._resource) as directory:
                joblib.dump(self._romanized, directory / ROMANIZED_FILE)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LanguageGate:
        romanized = None
        try:
            with model_storage.read_from(resource) as directory:
                romanized = joblib.load(directory / ROMANIZED_FILE)
        except (ValueError, FileNotFoundError):
            romanized = None
        return cls(model_storage, resource, romanized)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):  # button payloads and commands are not prose
                continue
            detection = self._detector.detect(text, self._romanized)
            message.set(LANGUAGE_DETECTION, detection.as_dict(), add_to_output=True)
            intent_confidence = (message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY, 0.0)
            if is_gibberish(text):
                set_only_intent(message, FALLBACK_INTENT)
            elif (detection.confident and not detection.supported
                    and detection.confidence >= UNSUPPORTED_MIN_CONFIDENCE
                    and intent_confidence < UNSUPPORTED_MAX_INTENT_CONFIDENCE):
                set_only_intent(message, UNSUPPORTED_LANGUAGE_INTENT)
        return messages


def set_only_intent(message: Message, name: str) -> None:
    """A verdict that leaves nothing to choose from: the intent, alone in the ranking (the
    clarifying action then has no topic to offer)."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
