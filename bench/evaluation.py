"""Score an emotion classifier: accuracy, macro-F1, per-label scores, confusion matrix.

Also the naive baseline every figure is compared with: cosine similarity between
a message vector and the vector of a one-line description of each label, argmax.
numpy only, so tests can import it; the caller supplies the embedder.
"""

import numpy as np

# Written once from the label guidelines in tests/data/README.md and never tuned:
# the baseline is only worth anything as a fixed yardstick.
LABEL_DESCRIPTIONS = {
    "angry": "angry: the customer is angry, hostile and outraged, blaming and threatening",
    "frustrated": "frustrated: the customer is fed up and worn down after repeated failed attempts",
    "anxious": "anxious: the customer is worried and scared about what will happen and needs help urgently",
    "confused": "confused: the customer does not understand something and asks how or why",
    "disappointed": "disappointed: the customer feels let down because it was not what they expected",
    "sad": "sad: the customer is grieving a loss or going through personal hardship",
    "grateful": "grateful: the customer is thankful and praises the service",
    "neutral": "neutral: the customer makes a plain request or asks a simple question",
}

# Three-way sentiment of each emotion, for sets labelled only with sentiment.
SENTIMENT_OF = {"grateful": "positive", "neutral": "neutral"}
SENTIMENTS = ("negative", "neutral", "positive")


def encode_in_batches(embedder, texts, batch=256):
    """Encode ``texts`` ``batch`` at a time; returns one (n, dim) float32 array."""
    parts = [embedder.encode(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else embedder.encode([])


def sentiment_of(emotion):
    """Map one of our emotions to negative / neutral / positive."""
    return SENTIMENT_OF.get(emotion, "negative")


def confusion_matrix(true, pred, labels):
    """Return a (len(labels), len(labels)) int array: rows = true label, columns = predicted."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(true, pred, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


def _safe_div(num, den):
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def per_label_scores(matrix, labels):
    """Precision, recall, F1 and support of each label from a confusion matrix."""
    tp = np.diag(matrix).astype(np.float64)
    precision = _safe_div(tp, matrix.sum(axis=0).astype(np.float64))
    recall = _safe_div(tp, matrix.sum(axis=1).astype(np.float64))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {
        label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                "support": int(matrix[i].sum())}
        for i, label in enumerate(labels)
    }


def scores(true, pred, labels):
    """Accuracy, macro-F1 (over ``labels``), per-label scores and the confusion matrix."""
    matrix = confusion_matrix(true, pred, labels)
    per_label = per_label_scores(matrix, labels)
    return {
        "n": int(matrix.sum()),
        "accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)),
        "macro_f1": float(np.mean([s["f1"] for s in per_label.values()])),
        "per_label": per_label,
        "labels": list(labels),
        "confusion": matrix.tolist(),
    }


def situation_scores(true_sets, pred_sets, labels):
    """Micro- and macro-F1 of multi-label predictions (macro over labels seen in truth or prediction)."""
    tp = np.zeros(len(labels))
    fp = np.zeros(len(labels))
    fn = np.zeros(len(labels))
    for truth, guess in zip(true_sets, pred_sets, strict=True):
        for i, label in enumerate(labels):
            tp[i] += label in truth and label in guess
            fp[i] += label not in truth and label in guess
            fn[i] += label in truth and label not in guess
    f1 = _safe_div(2 * tp, 2 * tp + fp + fn)
    seen = (tp + fp + fn) > 0
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
    per_label = {label: {"f1": float(f1[i]), "support": int(tp[i] + fn[i]), "predicted": int(tp[i] + fp[i])}
                 for i, label in enumerate(labels)}
    return {"micro_f1": float(micro), "macro_f1": float(f1[seen].mean()) if seen.any() else 0.0,
            "per_label": per_label}


class NaiveBaseline:
    """Nearest label description by cosine similarity, with the same embedder as the classifier."""

    def __init__(self, embedder, descriptions=None):
        self.descriptions = dict(descriptions or LABEL_DESCRIPTIONS)
        self.labels = list(self.descriptions)
        self.vectors = np.asarray(embedder.encode(list(self.descriptions.values())), dtype=np.float32)

    def predict(self, vectors):
        """Return the best-matching label for each (normalised) message vector."""
        similarity = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        return [self.labels[i] for i in similarity.argmax(axis=1)]


def format_confusion(matrix, labels):
    """An aligned text table of a confusion matrix: rows = true, columns = predicted."""
    matrix = np.asarray(matrix)
    short = [label[:6] for label in labels]
    corner = "true\\pred"
    width = max(len(corner), *(len(label) for label in labels))
    col = max(6, len(str(matrix.max())))
    lines = [f"{corner:<{width}}  " + " ".join(f"{s:>{col}}" for s in short)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"{label:<{width}}  " + " ".join(f"{v:>{col}}" for v in row))
    return "\n".join(lines)


def format_per_label(per_label):
    """An aligned text table of per-label precision, recall, F1 and support."""
    width = max(len("label"), *(len(label) for label in per_label))
    lines = [f"{'label':<{width}}  precision  recall     f1  support"]
    for label, s in per_label.items():
        lines.append(f"{label:<{width}}  {s['precision']:9.3f}  {s['recall']:6.3f}  {s['f1']:5.3f}  {s['support']:7d}")
    return "\n".join(lines)
