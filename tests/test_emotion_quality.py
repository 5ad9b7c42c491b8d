"""The shipped emotion classifier, judged on held-out messages it was never trained or tuned on.

tests/data/heldout_messages.jsonl is hand-written by an independent evaluator
(see tests/data/README.md). The floors below are measured figures minus 0.03,
so a real regression fails while run-to-run noise does not.
"""

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from bench.eval_sets import read_heldout  # noqa: E402
from bench.evaluation import NaiveBaseline, encode_in_batches, scores  # noqa: E402
from phrasebank.vocab import EMOTIONS, SITUATIONS  # noqa: E402

# Measured 2026-11-23 with classifier-all-MiniLM-L6-v2.npz of 16:51 UTC, by:
#   .venv/bin/python bench/emotion_eval.py --set heldout
#   ours:           accuracy 0.869 (278/320), macro-F1 0.868
#   naive baseline: accuracy 0.428,           macro-F1 0.380
FLOOR = 0.869 - 0.03
FLOOR_F1 = 0.868 - 0.03
# "Clearly better than the baseline": measured gaps are 0.44 (accuracy) and 0.49
# (macro-F1); require at least 0.25 on both.
MARGIN = 0.25


@pytest.fixture(scope="module")
def heldout():
    return read_heldout()


@pytest.fixture(scope="module")
def heldout_vectors(embedder, heldout):
    return encode_in_batches(embedder, [r["text"] for r in heldout])


@pytest.fixture(scope="module")
def ours(classifier, heldout, heldout_vectors):
    """Scores of the shipped classifier on the held-out set."""
    predicted = [classifier.understand(v, r["text"]).emotion for v, r in zip(heldout_vectors, heldout, strict=True)]
    return scores([r["emotion"] for r in heldout], predicted, EMOTIONS)


@pytest.fixture(scope="module")
def naive(embedder, heldout, heldout_vectors):
    """Scores of the nearest-label-description baseline on the held-out set."""
    predicted = NaiveBaseline(embedder).predict(heldout_vectors)
    return scores([r["emotion"] for r in heldout], predicted, EMOTIONS)


def test_heldout_has_40_messages_per_emotion(heldout):
    assert Counter(r["emotion"] for r in heldout) == {emotion: 40 for emotion in EMOTIONS}


def test_heldout_uses_only_valid_labels(heldout):
    for row in heldout:
        assert set(row) == {"text", "emotion", "situations", "domain", "hard"}, row
        assert row["emotion"] in EMOTIONS, row
        assert set(row["situations"]) <= set(SITUATIONS), row
        assert len(set(row["situations"])) == len(row["situations"]), row
        assert row["text"].strip() and row["domain"], row
    assert len({r["text"] for r in heldout}) == len(heldout), "duplicate messages"


def test_classifier_accuracy_meets_floor(ours):
    assert ours["accuracy"] >= FLOOR, f"accuracy {ours['accuracy']:.3f} < floor {FLOOR:.3f}"


def test_classifier_macro_f1_meets_floor(ours):
    assert ours["macro_f1"] >= FLOOR_F1, f"macro-F1 {ours['macro_f1']:.3f} < floor {FLOOR_F1:.3f}"


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_classifier_clearly_beats_naive_baseline(ours, naive, metric):
    assert ours[metric] >= naive[metric] + MARGIN, (
        f"{metric}: ours {ours[metric]:.3f}, baseline {naive[metric]:.3f}, required margin {MARGIN}"
    )
