"""Custom Rasa NLU components for Japanese (loaded by Rasa from config.yml; Rasa side only).

Pipeline order in config.yml:
  JapaneseTextNormalizer -> SpacyNLP(ja_ginza) -> tokenizer/featurizers -> DIETClassifier
  -> FallbackClassifier -> LexiconEntityExtractor -> CrisisGuard
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

from bot.lexicon import Lexicon, crisis_lexicon, field_lexicon, urgency_lexicon
from bot.routing import CRISIS_MIN_CONFIDENCE
from bot.textnorm import looks_unusable, normalize_text

Token = Tuple[str, int, int]
FALLBACK_INTENT = "nlu_fallback"


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
        return _doc_tokens(nlp.make_doc(text)) if hasattr(nlp, "make_doc") else _doc_tokens(nlp(text))
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
        self._compiled_with: Optional[int] = None
        self._lexicons: List[Tuple[str, Lexicon]] = []

    def _lexicons_for(self, model: SpacyModel) -> List[Tuple[str, Lexicon]]:
        if self._compiled_with != id(model.model):
            tokenize = _spacy_tokenizer(model)
            self._lexicons = [
                ("crisis_kind", crisis_lexicon().use_tokenizer(tokenize)),
                ("field", field_lexicon().use_tokenizer(tokenize)),
                ("urgency", urgency_lexicon().use_tokenizer(tokenize)),
            ]
            self._compiled_with = id(model.model)
        return self._lexicons

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        lexicons = self._lexicons_for(model)
        for message in messages:
            text = message.get(TEXT) or ""
            if not text:
                continue
            doc = message.get(SPACY_DOCS[TEXT])
            tokens = _doc_tokens(doc) if doc is not None else None
            entities = list(message.get(ENTITIES, []))
            for entity_name, lexicon in lexicons:
                for match in lexicon.find(text, tokens):
                    entities.append({
                        "entity": entity_name,
                        "value": match.label,
                        "start": match.start,
                        "end": match.end,
                        "text": match.text,
                        "confidence_entity": 1.0,
                        "extractor": "LexiconEntityExtractor",
                        "processors": [],
                    })
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisGuard(_Stateless):
    """Crisis detection that does not hang on one classifier: any positive wins.

    - a ``crisis_kind`` lexicon entity sets the intent to ``crisis`` (confidence 1.0);
    - the classifier's own ``crisis`` below ``threshold`` is demoted to the next intent;
    - text no parser can use (emoji or punctuation only) becomes ``nlu_fallback``.
    ``intent_ranking`` is left as the classifier made it."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"threshold": CRISIS_MIN_CONFIDENCE}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._guard(message)
        return messages

    def _guard(self, message: Message) -> None:
        entities = message.get(ENTITIES) or []
        intent = message.get(INTENT) or {}
        ranking = message.get(INTENT_RANKING_KEY) or []
        if any(e.get("entity") == "crisis_kind" for e in entities):
            message.set(INTENT, {"name": "crisis", "confidence": 1.0}, add_to_output=True)
        elif looks_unusable(message.get(TEXT) or ""):
            message.set(INTENT, {"name": FALLBACK_INTENT, "confidence": 1.0}, add_to_output=True)
        elif intent.get("name") == "crisis" and (intent.get("confidence") or 0) < self.config["threshold"]:
            runner_up = next((r for r in ranking if r.get("name") not in ("crisis", FALLBACK_INTENT, None)),
                             {"name": FALLBACK_INTENT, "confidence": 0.0})
            message.set(INTENT, {"name": runner_up["name"], "confidence": runner_up["confidence"]},
                        add_to_output=True)
        elif intent.get("name") == FALLBACK_INTENT:
            top = next((r for r in ranking if r.get("name") not in (FALLBACK_INTENT, None)), None)
            if top and top["name"] == "crisis" and top.get("confidence", 0) >= self.config["threshold"]:
                message.set(INTENT, {"name": "crisis", "confidence": top["confidence"]}, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
