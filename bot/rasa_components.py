"""Custom Rasa NLU components for Japanese (loaded by Rasa from config.yml; Rasa side only).

Pipeline order in config.yml:
  JapaneseTextNormalizer -> SpacyNLP(ja_ginza) -> tokenizer/featurizers -> DIETClassifier
  -> FallbackClassifier -> LexiconEntityExtractor -> CrisisGuard
The logic of the last two lives in bot.lexicon and bot.routing (testable without Rasa).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import rasa_speedups
from bot.lexicon import lexicon_entities
from bot.routing import guard_intent
from bot.textnorm import normalize_text

Token = Tuple[str, int, int]

rasa_speedups.install()


class _Stateless(GraphComponent):
    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config)

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config


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


def _doc_tokens(doc) -> List[Token]:
    return [(t.norm_, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]


def _spacy_tokenizer(model: SpacyModel):
    nlp = model.model

    def tokenize(text: str) -> Sequence[Token]:
        return _doc_tokens(nlp.make_doc(text))  # the tokenizer alone gives Sudachi's norms
    return tokenize


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False,
                          model_from="SpacyNLP")
class LexiconEntityExtractor(_Stateless):
    """Adds entities from the maintained lexicons (bot/lexicons/): ``field`` (elderly, ...),
    ``crisis_kind`` (suicide, ...) and ``urgency`` (high, medium), matched on folded text and
    on Sudachi normalised forms."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        self._tokenizer = None
        self._tokenizer_for: Optional[int] = None

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._tokenizer_for != id(model.model):
            self._tokenizer, self._tokenizer_for = _spacy_tokenizer(model), id(model.model)
        for message in messages:
            text = message.get(TEXT) or ""
            if not text:
                continue
            doc = message.get(SPACY_DOCS[TEXT])
            tokens = _doc_tokens(doc) if doc is not None else None
            entities = list(message.get(ENTITIES, [])) + lexicon_entities(text, tokens, self._tokenizer)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisGuard(_Stateless):
    """Crisis detection that does not hang on one classifier: any positive wins
    (bot.routing.guard_intent). ``intent_ranking`` is left as the classifier made it."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            guarded = guard_intent(message.get(INTENT) or {}, message.get(INTENT_RANKING_KEY) or [],
                                   message.get(ENTITIES) or [], message.get(TEXT) or "")
            message.set(INTENT, guarded, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
