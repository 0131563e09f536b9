"""Custom Rasa NLU components for Japanese (loaded by Rasa from config.yml; Rasa side only).

Pipeline order in config.yml:
  JapaneseTextNormalizer -> SpacyNLP (trimmed GiNZA, bot.nlu.ginza_pipeline) -> SpacyTokenizer
  -> LexiconEntityExtractor -> DangerDetector -> WordReader -> TextModelClassifier
  -> FallbackClassifier -> CrisisGuard
The logic lives in bot.core.lexicon, bot.core.danger, bot.nlu.text_models and bot.core.routing (testable without
Rasa); these classes only adapt it to Rasa's messages.
"""
from __future__ import annotations

import logging
import pickle
from typing import Any, Dict, List, Optional, Sequence

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import ginza_pipeline, rasa_speedups
from bot.core.danger import detect, kind_entities, parse_from_doc
from bot.core.directory import get_directory
from bot.core.fields import ALL_FIELDS, WORRY_INTENT_FIELD
from bot.core.lexicon import all_lexicons, crisis_lexicon, field_lexicon, lexicon_entities, tokens_from_doc
from bot.core.routing import guard_intent
from bot.nlu.text_models import TextModels, sample_from_doc
from bot.core.textnorm import normalize_text
from bot.core.words import has_negation, read_words

rasa_speedups.install()
logger = logging.getLogger(__name__)

DANGER_KEY = "danger"  # output key: what DangerDetector and TextModelClassifier found
TEXT_MODELS_KEY = "text_models"  # output key: the classifiers' probabilities
WORDS_KEY = "words"  # output key: the words with their negation (bot.core.words)
ANSWER_MAX_CHARS = 60  # longer texts are stories, not form answers: no parse for their negations


class _Stateless(GraphComponent):
    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config)

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config

    def process_training_data(self, training_data: TrainingData, *args) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class JapaneseTextNormalizer(_Stateless):
    """NFKC-normalises the text before spaCy sees it (full-width digits and letters,
    half-width kana), and folds runs of white space."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and text:
            message.set(TEXT, normalize_text(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages


class _TokenizerCache:
    """Compiles the lexicons to the loaded GiNZA model's tokenizer once per model."""

    def __init__(self) -> None:
        self._for: Optional[int] = None

    def ensure(self, model: SpacyModel) -> None:
        nlp = model.model
        if self._for == id(nlp):
            return

        def tokenize(text: str):
            return tokens_from_doc(nlp.make_doc(text))
        for lexicon in all_lexicons():
            lexicon.use_tokenizer(tokenize)
        self._for = id(nlp)


_TOKENIZERS = _TokenizerCache()


def _tokens(message: Message):
    doc = message.get(SPACY_DOCS[TEXT])
    return tokens_from_doc(doc) if doc is not None else None


_PARSED = "ginza_parse"  # the dependency-parsed Doc, kept on the message (not in the output)


def _parsed_doc(message: Message, model: SpacyModel):
    """GiNZA's dependency parse of the message, made once and only when asked for."""
    doc = message.get(_PARSED)
    if doc is None:
        doc = ginza_pipeline.parse(model.model, message.get(TEXT) or "")
        message.set(_PARSED, doc)
    return doc


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False,
                          model_from="SpacyNLP")
class LexiconEntityExtractor(_Stateless):
    """Adds ``field`` and ``urgency`` entities from the maintained lexicons (bot/lexicons/)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        _TOKENIZERS.ensure(model)
        for message in messages:
            text = message.get(TEXT) or ""
            if text:
                entities = list(message.get(ENTITIES, [])) + lexicon_entities(text, _tokens(message))
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False,
                          model_from="SpacyNLP")
class DangerDetector(_Stateless):
    """Danger signs from bot/lexicons/crisis.yml with their context (negation, tense, mourning,
    who is at risk; bot.core.danger). GiNZA's dependency parser runs only for messages with a hit."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        _TOKENIZERS.ensure(model)
        order = get_directory().kind_order
        for message in messages:
            text = message.get(TEXT) or ""
            if not text:
                continue
            tokens = _tokens(message)
            parse = None
            if crisis_lexicon().find(text, tokens):
                parse = parse_from_doc(_parsed_doc(message, model))
            result = detect(text, tokens, parse, order)
            message.set(ENTITIES, list(message.get(ENTITIES, [])) + kind_entities(result), add_to_output=True)
            message.set(DANGER_KEY, result.as_dict(), add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False,
                          model_from="SpacyNLP")
class WordReader(_Stateless):
    """The words of the message with their negation (bot.core.words), under ``words`` in the output:
    the intake form reads answers from them. The parser runs only when a negation is possible."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None or not message.get(TEXT):
                continue
            parse = None
            if len(message.get(TEXT)) <= ANSWER_MAX_CHARS and has_negation(t.lemma_ for t in doc):
                doc = _parsed_doc(message, model)
                parse = parse_from_doc(doc)
            tokens = [(t.text, t.norm_, t.lemma_, t.pos_) for t in doc]
            message.set(WORDS_KEY, read_words(tokens, parse), add_to_output=True)
        return messages


def _example_labels(example: Message, order: Sequence[str]) -> tuple:
    """(danger, kinds, fields) training labels of one NLU example: block metadata first, the
    lexicons for older examples without it; ``fields`` None for examples that teach no fields."""
    intent = example.get(INTENT)
    metadata = example.get("metadata") or {}
    block = metadata.get("intent") if isinstance(metadata.get("intent"), dict) else metadata
    text = example.get(TEXT) or ""
    if intent == "crisis":
        kinds = list(block.get("kinds") or []) or detect(text, None, None, order).kinds
        return True, kinds, None
    if intent in WORRY_INTENT_FIELD:
        return False, [], [WORRY_INTENT_FIELD[intent]]
    if intent == "worry_complex":
        fields = block.get("fields") or field_lexicon().labels(text)
        return False, [], [f for f in fields if f in ALL_FIELDS]
    return False, [], []


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True,
                          model_from="SpacyNLP")
class TextModelClassifier(GraphComponent):
    """Calibrated danger, danger-kind and field classifiers (bot.nlu.text_models) trained on the
    project's examples; their probabilities go to the output under ``text_models``."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # intent_classifier: true makes the component the intent classifier too (no DIET needed).
        return {"intent_classifier": False}

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 models: Optional[TextModels] = None) -> None:
        self.config, self._storage, self._resource, self.models = config, model_storage, resource, models

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "TextModelClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs) -> "TextModelClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                with open(directory / "text_models.pkl", "rb") as handle:
                    return cls(config, model_storage, resource, pickle.load(handle))
        except (ValueError, FileNotFoundError):
            logger.warning("text models not found; the component does nothing")
            return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData, model: SpacyModel) -> Resource:
        order = get_directory().kind_order
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        samples = [sample_from_doc(e.get(TEXT), e.get(SPACY_DOCS[TEXT])) for e in examples]
        labels = [_example_labels(e, order) for e in examples]
        self.models = TextModels(kinds=[k for k in order if k != "general"], fields=ALL_FIELDS,
                                 with_intents=bool(self.config.get("intent_classifier"))).fit(
            samples, [l[0] for l in labels], [l[1] for l in labels], [l[2] for l in labels],
            [e.get(INTENT) for e in examples])
        with self._storage.write_to(self._resource) as directory:
            with open(directory / "text_models.pkl", "wb") as handle:
                pickle.dump(self.models, handle)
        return self._resource

    def process_training_data(self, training_data: TrainingData, *args) -> TrainingData:
        return training_data

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self.models is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if text:
                prediction = self.models.predict([sample_from_doc(text, message.get(SPACY_DOCS[TEXT]))])[0]
                ranking = prediction.pop("intents", None)
                message.set(TEXT_MODELS_KEY, prediction, add_to_output=True)
                if ranking:
                    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]}, add_to_output=True)
                    message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking[:10]],
                                add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisGuard(_Stateless):
    """Danger that does not hang on one classifier: a lexicon finding, or DIET's or the danger
    model's positive outside the listed false-alarm patterns, makes the intent ``crisis``
    (bot.core.routing.guard_intent). ``intent_ranking`` is left as the classifier made it."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            guarded = guard_intent(message.get(INTENT) or {}, message.get(INTENT_RANKING_KEY) or [],
                                   message.get(ENTITIES) or [], message.get(TEXT) or "",
                                   message.get(DANGER_KEY) or {}, message.get(TEXT_MODELS_KEY) or {})
            message.set(INTENT, guarded, add_to_output=True)
        return messages
