"""Message understanding: the shipped classifier with the real model, retraining, determinism.

``embedder`` is the real default model from conftest.py (its ONNX export cached per checkout).
"""

import json
import zlib

import numpy as np
import pytest

from phrasebank import training
from phrasebank.errors import PhraseBankError
from phrasebank.understanding import (
    DATA_DIR,
    LEXICAL_FEATURES,
    MessageClassifier,
    classifier_for,
    classifier_path,
    lexical_features,
)
from phrasebank.vocab import EMOTIONS, POSITIVE_OR_CALM_EMOTIONS, SITUATIONS


class RecordingEmbedder:
    """Poses as another model over the real model's vectors and counts the texts it encodes."""

    def __init__(self, inner, name="other-model"):
        self.inner, self.name, self.requested = inner, name, 0

    @property
    def dim(self):
        return self.inner.dim

    def encode(self, texts):
        texts = list(texts)
        self.requested += len(texts)
        return self.inner.encode(texts)


class TinyEmbedder:
    """Deterministic bag-of-words vectors: enough to test plumbing, not meaning."""

    def __init__(self, name="tiny", dim=8):
        self.name, self.dim = name, dim

    def encode(self, texts):
        rows = []
        for text in texts:
            vector = sum(np.random.default_rng(zlib.crc32(w.encode())).standard_normal(self.dim)
                         for w in text.lower().split()) + np.full(self.dim, 1e-3)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def shipped(embedder):
    return MessageClassifier.load(classifier_path(embedder.name))


def understand(classifier, embedder, text):
    return classifier.understand(embedder.encode_one(text), text)


def test_shipped_classifier_was_trained_for_the_default_model(shipped, embedder):
    assert shipped.model_name == embedder.name
    assert shipped.dim == embedder.dim == 384
    assert shipped.emotions == EMOTIONS and shipped.situations == SITUATIONS
    assert np.all((shipped.thresholds > 0) & (shipped.thresholds < 1))
    assert shipped.metadata["training"]["support_messages"] >= 800
    assert 0 < shipped.metadata["emotion"]["tuning"]["macro_f1"] <= 1


def test_fallback_settings_are_the_ones_the_search_chose(shipped):
    assert shipped.metadata["emotion"]["chosen"] == training.EMOTION_SETTINGS
    assert shipped.metadata["situations"]["chosen"] == training.SITUATION_SETTINGS


@pytest.mark.parametrize("text", [
    "Where is my order?",
    "YOU PEOPLE ARE USELESS!!! I want a refund today.",
    "thx",
])
def test_scores_are_a_distribution_and_situations_clear_their_thresholds(shipped, embedder, text):
    result = understand(shipped, embedder, text)
    assert set(result.scores) == set(EMOTIONS)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= p <= 1.0 for p in result.scores.values())
    assert result.emotion == max(result.scores, key=result.scores.get)
    assert result.confidence == pytest.approx(result.scores[result.emotion])
    confidences = [c for _, c in result.situations]
    assert confidences == sorted(confidences, reverse=True)
    thresholds = dict(zip(shipped.situations, shipped.thresholds))
    assert all(label in SITUATIONS and c >= thresholds[label] for label, c in result.situations)


@pytest.mark.parametrize("text, emotions, situations", [
    ("My mother passed away last week and I need to close her phone account.", {"sad"}, {"bereavement"}),
    ("Thank you so much, the engineer was brilliant and fixed everything in minutes!", {"grateful"}, {"praise"}),
    ("Third time I'm contacting you about this broken modem. Fix it or I'm switching to another provider.",
     {"angry", "frustrated"}, {"repeat_contact", "cancellation_threat"}),
    ("I'm really scared, someone has taken money from my account and my rent is due tomorrow.",
     {"anxious"}, {"urgent_deadline"}),
    ("I don't understand this bill. What is the 'network access' charge for?", {"confused"}, {"billing_problem"}),
    ("Honestly I expected much better, the jacket fell apart after a week.", {"disappointed"}, {"product_defect"}),
    ("My parcel was due on Monday and the tracking hasn't changed since.", set(EMOTIONS), {"delivery_problem"}),
    ("I can't log in, it keeps telling me my password is wrong.", set(EMOTIONS), {"account_access"}),
])
def test_unambiguous_messages(shipped, embedder, text, emotions, situations):
    result = understand(shipped, embedder, text)
    assert result.emotion in emotions
    assert situations <= {label for label, _ in result.situations}


def test_a_thank_you_needs_no_apology(shipped, embedder):
    result = understand(shipped, embedder, "Thanks, that's sorted it. Have a lovely day!")
    assert result.emotion in POSITIVE_OR_CALM_EMOTIONS
    assert "bereavement" not in {label for label, _ in result.situations}


def test_a_plain_request_is_neutral_with_no_situation(shipped, embedder):
    result = understand(shipped, embedder, "Could you tell me what time your shop opens on Saturday?")
    assert result.emotion == "neutral"
    assert result.situations == []


def test_understand_rejects_a_vector_of_another_dimension(shipped):
    with pytest.raises(PhraseBankError):
        shipped.understand(np.zeros(shipped.dim + 1, dtype=np.float32), "hello")


def test_lexical_features():
    values = dict(zip(LEXICAL_FEATURES, lexical_features("THANK YOU, MY DAD PASSED AWAY!!!")))
    assert values["exclamations"] == 1.0 and values["shouting"] == 1.0
    assert values["thanks"] == values["death"] == 1.0
    assert values["billing"] == values["question"] == 0.0
    assert lexical_features("").shape == (len(LEXICAL_FEATURES),)


def test_classifier_for_returns_the_shipped_classifier(embedder, tmp_path):
    classifier = classifier_for(embedder, tmp_path)
    assert classifier.model_name == embedder.name
    assert list(tmp_path.iterdir()) == []


def test_classifier_for_trains_and_caches_one_for_an_unknown_model(embedder, tmp_path):
    other = RecordingEmbedder(embedder)
    classifier = classifier_for(other, tmp_path)
    assert (classifier.model_name, classifier.dim) == ("other-model", 384)
    assert len(list(tmp_path.glob("classifier-other-model-*.npz"))) == 1
    assert other.requested > 800
    result = understand(classifier, embedder, "My husband died on Sunday, please close his account.")
    assert result.emotion == "sad" and "bereavement" in {label for label, _ in result.situations}

    requested = other.requested
    again = classifier_for(other, tmp_path)
    assert other.requested == requested  # loaded from the cache, nothing re-embedded
    assert np.array_equal(again.emotion_weights, classifier.emotion_weights)


def test_classifier_for_retrains_when_the_dimension_differs(tmp_path):
    tiny = TinyEmbedder(name="all-MiniLM-L6-v2", dim=8)
    classifier = classifier_for(tiny, tmp_path)
    assert classifier.dim == 8
    assert classifier.understand(tiny.encode(["hi"])[0], "hi").emotion in EMOTIONS


def test_training_without_search_is_deterministic():
    first = training.train_classifier(TinyEmbedder(), search=False)
    second = training.train_classifier(TinyEmbedder(), search=False)
    assert_same_classifier(first, second)


def test_training_with_search_is_deterministic(monkeypatch):
    # A smaller grid keeps this quick; the selection code is the same.
    monkeypatch.setattr(training, "LEXICAL_SCALES", (0.0, 1.0))
    monkeypatch.setattr(training, "EMOTION_C", (1.0, 10.0))
    monkeypatch.setattr(training, "SITUATION_C", (10.0,))
    first = training.train_classifier(TinyEmbedder())
    second = training.train_classifier(TinyEmbedder())
    assert_same_classifier(first, second)


def assert_same_classifier(a, b):
    for name in ("emotion_weights", "emotion_bias", "situation_weights", "situation_bias", "thresholds"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.metadata == b.metadata


def test_training_data_is_labelled_with_the_vocabulary():
    rows = {}
    for name in ("training_messages", "tuning_messages"):
        with open(DATA_DIR / f"{name}.jsonl", encoding="utf-8") as f:
            rows[name] = [json.loads(line) for line in f]
        for row in rows[name]:
            assert row["emotion"] in EMOTIONS and set(row["situations"]) <= set(SITUATIONS)
    counts = {e: sum(r["emotion"] == e for r in rows["training_messages"]) for e in EMOTIONS}
    assert min(counts.values()) >= 100
    train_texts = {r["text"].lower() for r in rows["training_messages"]}
    assert not train_texts & {r["text"].lower() for r in rows["tuning_messages"]}
