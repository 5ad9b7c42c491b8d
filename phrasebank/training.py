"""Train the message classifier used by ``phrasebank.understanding``.

    python -m phrasebank.training [--goemotions DIR] [--out PATH] [--model NAME]

Training data is ``data/training_messages.jsonl`` (support-style messages written for
this project). Hyperparameters (regularisation, weight of the lexical cues, whether and
how much GoEmotions to mix in) and the per-situation thresholds are chosen on
``data/tuning_messages.jsonl``, which is never trained on. Runs are deterministic:
lbfgs solvers and a fixed seed for the GoEmotions sample.

GoEmotions (``--goemotions DIR`` with train.tsv and labels.txt) adds emotion examples only,
never situations. Only single-label rows of four or more words whose label maps cleanly:

    anger, disgust -> angry          annoyance -> frustrated
    nervousness, fear -> anxious     confusion -> confused
    disappointment -> disappointed   sadness, grief -> sad
    gratitude -> grateful            neutral -> neutral

Left out: disapproval (disagreeing with an opinion, neither angry nor disappointed),
admiration (praise of third parties, not thanks), relief, curiosity, remorse and the
other positive labels. At most ``GOEMOTIONS_PER_LABEL`` rows per emotion, each weighing
a fraction of a support message, so the support-style data dominates.

scikit-learn is needed here only; the classifier it writes is served with numpy.
"""

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from .understanding import DATA_DIR, LEXICAL_FEATURES, MessageClassifier, classifier_path, lexical_features
from .vocab import EMOTIONS, SITUATIONS

SEED = 0
GOEMOTIONS_MAP = {
    "anger": "angry", "disgust": "angry", "annoyance": "frustrated",
    "nervousness": "anxious", "fear": "anxious", "confusion": "confused",
    "disappointment": "disappointed", "sadness": "sad", "grief": "sad",
    "gratitude": "grateful", "neutral": "neutral",
}
GOEMOTIONS_PER_LABEL = 300
GOEMOTIONS_WEIGHTS = (0.1, 0.2)
# Grids, simplest first: a later setting must do strictly better on the tuning set to win.
EMOTION_C = (1.0, 3.0, 10.0)
SITUATION_C = (3.0, 10.0, 30.0)
LEXICAL_SCALES = (0.0, 0.5, 1.0, 2.0)
# What the search chose for all-MiniLM-L6-v2 (the shipped model's metadata says so, and a
# test checks it); used as-is when a user's machine trains a classifier for another model.
EMOTION_SETTINGS = {"goemotions_weight": 0.0, "lexical_scale": 0.5, "C": 10.0}
SITUATION_SETTINGS = {"lexical_scale": 0.5, "C": 10.0}
THRESHOLDS = np.round(np.arange(0.20, 0.801, 0.05), 2)


def messages_from(path):
    """Return the labelled messages of a JSONL file as dicts (text, emotion, situations)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def goemotions_from(directory, per_label=GOEMOTIONS_PER_LABEL, seed=SEED):
    """Return a seeded sample of (text, emotion) from GoEmotions train.tsv, mapped as documented."""
    directory = Path(directory)
    names = (directory / "labels.txt").read_text().split()
    by_emotion = {}
    with open(directory / "train.tsv", encoding="utf-8") as f:
        for line in f:
            text, labels, _ = line.rstrip("\n").split("\t")
            labels = labels.split(",")
            emotion = GOEMOTIONS_MAP.get(names[int(labels[0])]) if len(labels) == 1 else None
            if emotion and len(text.split()) >= 4:
                by_emotion.setdefault(emotion, []).append(text)
    rng = random.Random(seed)
    sample = []
    for emotion in sorted(by_emotion):
        texts = by_emotion[emotion]
        rng.shuffle(texts)
        sample += [(text, emotion) for text in texts[:per_label]]
    return sample


def encode(embedder, texts, batch=64):
    """Embed ``texts`` in length-sorted batches (less padding), returned in the original order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start:start + batch]
        vectors[chunk] = embedder.encode([texts[i] for i in chunk])
    return vectors


def features_from(vectors, texts, scale):
    """Stack embeddings with lexical cues multiplied by ``scale`` (0 switches them off)."""
    cues = np.stack([lexical_features(t) for t in texts]) if texts else np.zeros((0, len(LEXICAL_FEATURES)))
    return np.hstack([vectors, scale * cues]).astype(np.float64)


def fit_emotion(X, y, weights, C):
    """Multinomial logistic regression; returns (weights, bias) over the emotion labels."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=10000).fit(X, y, sample_weight=weights)
    return model.coef_, model.intercept_


def fit_situations(X, Y, C):
    """One balanced binary logistic regression per situation; returns (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    coefs, biases = [], []
    for j in range(Y.shape[1]):
        model = LogisticRegression(C=C, max_iter=10000, class_weight="balanced").fit(X, Y[:, j])
        coefs.append(model.coef_[0])
        biases.append(model.intercept_[0])
    return np.array(coefs), np.array(biases)


def f1(gold, predicted):
    """F1 of boolean arrays (0 when there is nothing to find and nothing found)."""
    tp = np.sum(gold & predicted)
    return float(2 * tp / (gold.sum() + predicted.sum())) if gold.sum() + predicted.sum() else 0.0


def emotion_figures(y, predicted):
    """Accuracy, macro-F1 and per-label F1 of emotion predictions (label indices)."""
    per_label = {e: f1(y == i, predicted == i) for i, e in enumerate(EMOTIONS)}
    return {"accuracy": float(np.mean(y == predicted)), "macro_f1": float(np.mean(list(per_label.values()))),
            "f1": per_label}


def pick_threshold(scores, gold):
    """The threshold with the best F1 on the tuning set; ties go to the one nearest 0.5."""
    ranked = sorted(THRESHOLDS, key=lambda t: (-f1(gold, scores >= t), abs(t - 0.5)))
    return float(ranked[0])


def _emotion_predictions(W, b, X):
    return np.argmax(X @ W.T + b, axis=1)


def _situation_scores(W, b, X):
    return 1.0 / (1.0 + np.exp(-(X @ W.T + b)))


def _better(score, best):
    """Compare rounded scores so that float noise never beats a simpler, earlier setting."""
    return best is None or tuple(round(x, 3) for x in score) > tuple(round(x, 3) for x in best)


def _emotion_candidates(goemotions, search):
    if not search:
        return [EMOTION_SETTINGS]
    weights = (0.0,) + (GOEMOTIONS_WEIGHTS if len(goemotions["y"]) else ())
    return [{"goemotions_weight": w, "lexical_scale": s, "C": C}
            for w in weights for s in LEXICAL_SCALES for C in EMOTION_C]


def _emotion_training_set(train, goemotions, weight, scale):
    """Features, labels and sample weights: support messages weigh 1, GoEmotions rows ``weight``."""
    parts = [(train, 1.0)] + ([(goemotions, weight)] if weight else [])
    X = np.vstack([features_from(p["vectors"], p["texts"], scale) for p, _ in parts])
    y = np.concatenate([p["y"] for p, _ in parts])
    w = np.concatenate([np.full(len(p["y"]), pw) for p, pw in parts])
    return X, y, w


def _select_emotion(train, tune, goemotions, search, log):
    """Pick the emotion setting with the best tuning macro-F1; returns (choice, W, b, figures, grid)."""
    best, grid = None, []
    for choice in _emotion_candidates(goemotions, search):
        W, b = fit_emotion(*_emotion_training_set(train, goemotions, choice["goemotions_weight"],
                                                  choice["lexical_scale"]), choice["C"])
        X = features_from(tune["vectors"], tune["texts"], choice["lexical_scale"])
        figures = emotion_figures(tune["y"], _emotion_predictions(W, b, X))
        grid.append({**choice, "macro_f1": round(figures["macro_f1"], 4), "accuracy": round(figures["accuracy"], 4)})
        log(f"emotion {choice}: macro-F1 {figures['macro_f1']:.3f} accuracy {figures['accuracy']:.3f}")
        if _better((figures["macro_f1"], figures["accuracy"]), best and (best[3]["macro_f1"], best[3]["accuracy"])):
            best = (choice, W, b, figures)
    return (*best, grid)


def _select_situations(train, tune, search, log):
    """Pick the situation setting by tuning macro-F1 at 0.5, then per-label thresholds."""
    candidates = [{"lexical_scale": s, "C": C} for s in LEXICAL_SCALES for C in SITUATION_C] \
        if search else [SITUATION_SETTINGS]
    best = None
    for choice in candidates:
        scale = choice["lexical_scale"]
        W, b = fit_situations(features_from(train["vectors"], train["texts"], scale), train["Y"], choice["C"])
        P = _situation_scores(W, b, features_from(tune["vectors"], tune["texts"], scale))
        macro = float(np.mean([f1(tune["Y"][:, j], P[:, j] >= 0.5) for j in range(len(SITUATIONS))]))
        log(f"situations {choice}: macro-F1@0.5 {macro:.3f}")
        if _better((macro,), best and (best[0],)):
            best = (macro, choice, W, b, P)
    _, choice, W, b, P = best
    thresholds = np.array([pick_threshold(P[:, j], tune["Y"][:, j]) for j in range(len(SITUATIONS))])
    return choice, W, b, thresholds, _situation_figures(tune["Y"], P, thresholds)


def _situation_figures(Y, P, thresholds):
    return {s: {"f1_at_0.5": round(f1(Y[:, j], P[:, j] >= 0.5), 4),
                "f1_at_threshold": round(f1(Y[:, j], P[:, j] >= thresholds[j]), 4),
                "threshold": float(thresholds[j]), "positives": int(Y[:, j].sum())}
            for j, s in enumerate(SITUATIONS)}


def _labelled(rows, vectors):
    return {
        "texts": [r["text"] for r in rows], "vectors": vectors,
        "y": np.array([EMOTIONS.index(r["emotion"]) for r in rows]),
        "Y": np.array([[s in r["situations"] for s in SITUATIONS] for r in rows], dtype=bool),
    }


def fit_classifier(model_name, train, tune, goemotions=None, search=True, log=lambda message: None):
    """Fit on already-embedded data (dicts of texts, vectors, y, Y); returns a classifier.

    With ``search`` the settings are chosen on the tuning set; without, the shipped
    model's settings (``EMOTION_SETTINGS``, ``SITUATION_SETTINGS``) are used and only
    the situation thresholds are picked, which takes about a second.
    """
    dim = train["vectors"].shape[1]
    goemotions = goemotions or {"texts": [], "vectors": np.zeros((0, dim)), "y": np.zeros(0, int)}
    e_choice, eW, eb, e_figures, grid = _select_emotion(train, tune, goemotions, search, log)
    s_choice, sW, sb, thresholds, s_figures = _select_situations(train, tune, search, log)
    # Fold each model's lexical scale into its weights so inference uses raw cue values.
    eW, sW = eW.copy(), sW.copy()
    eW[:, dim:] *= e_choice["lexical_scale"]
    sW[:, dim:] *= s_choice["lexical_scale"]
    macro = {key: round(float(np.mean([f[key] for f in s_figures.values()])), 4)
             for key in ("f1_at_0.5", "f1_at_threshold")}
    metadata = {
        "embedding_model": model_name, "dim": dim,
        "training": {"support_messages": len(train["texts"]),
                     "support_per_emotion": {e: int(np.sum(train["y"] == i)) for i, e in enumerate(EMOTIONS)},
                     "goemotions_rows": len(goemotions["texts"]) if e_choice["goemotions_weight"] else 0,
                     "tuning_messages": len(tune["texts"])},
        "emotion": {"chosen": e_choice, "tuning": e_figures, "grid": grid},
        "situations": {"chosen": s_choice, "tuning": s_figures, "macro_f1_at_threshold": macro["f1_at_threshold"],
                       "macro_f1_at_0.5": macro["f1_at_0.5"]},
        "note": "tuning figures are from the set used to choose these settings, so they are optimistic",
    }
    return MessageClassifier(model_name, dim, eW, eb, sW, sb, thresholds, metadata=metadata)


def train_classifier(embedder, goemotions_dir=None, search=True, log=lambda message: None):
    """Embed the shipped messages (and GoEmotions, if given) with ``embedder`` and fit a classifier."""
    train_rows = messages_from(DATA_DIR / "training_messages.jsonl")
    tune_rows = messages_from(DATA_DIR / "tuning_messages.jsonl")
    log(f"embedding {len(train_rows)} training and {len(tune_rows)} tuning messages with {embedder.name}")
    train = _labelled(train_rows, encode(embedder, [r["text"] for r in train_rows]))
    tune = _labelled(tune_rows, encode(embedder, [r["text"] for r in tune_rows]))
    goemotions = None
    if goemotions_dir:
        sample = goemotions_from(goemotions_dir)
        log(f"embedding {len(sample)} GoEmotions rows")
        goemotions = {"texts": [t for t, _ in sample], "vectors": encode(embedder, [t for t, _ in sample]),
                      "y": np.array([EMOTIONS.index(e) for _, e in sample])}
    return fit_classifier(embedder.name, train, tune, goemotions, search, log)


def main(argv=None):
    """Command line: train, write the .npz and print the tuning-set figures."""
    from .embedder import DEFAULT_MODEL, Embedder

    parser = argparse.ArgumentParser(prog="python -m phrasebank.training", description=__doc__.split("\n")[0])
    parser.add_argument("--goemotions", help="GoEmotions directory (train.tsv, labels.txt) to mix in")
    parser.add_argument("--out", help="output .npz (default: phrasebank/models/classifier-<model>.npz)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model name")
    parser.add_argument("--cache-dir", help="where the embedder keeps its ONNX export")
    args = parser.parse_args(argv)
    embedder = Embedder(model=args.model, cache_dir=args.cache_dir)
    classifier = train_classifier(embedder, args.goemotions, log=lambda m: print(m, file=sys.stderr))
    out = Path(args.out) if args.out else classifier_path(embedder.name)
    classifier.save(out)
    summary = dict(classifier.metadata)
    summary["emotion"] = {k: v for k, v in summary["emotion"].items() if k != "grid"}
    print(json.dumps(summary, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
