"""Print how well the shipped emotion classifier does, next to a naive baseline.

    python bench/emotion_eval.py                      # all sets
    python bench/emotion_eval.py --set heldout        # the headline figure only
    python bench/emotion_eval.py --set all --limit 2000 --json

Sets: the hand-written held-out support messages (tests/data), the GoEmotions
test split mapped to our labels, and high-agreement airline tweets scored as
3-way sentiment.  The baseline is the nearest one-line label description by
cosine similarity with the same embedding model (bench/evaluation.py).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench import eval_sets  # noqa: E402
from bench.evaluation import (  # noqa: E402
    SENTIMENTS,
    NaiveBaseline,
    encode_in_batches,
    format_confusion,
    format_per_label,
    scores,
    sentiment_of,
    situation_scores,
)
from phrasebank.vocab import EMOTIONS, SITUATIONS  # noqa: E402

SETS = ("heldout", "goemotions", "airline")


def run_set(name, texts, truth, labels, embedder, classifier, baseline, to_label=lambda e: e):
    """Score our classifier and the baseline on one set; returns (result dict, understandings)."""
    vectors = encode_in_batches(embedder, texts)
    started = time.perf_counter()
    understood = [classifier.understand(v, t) for v, t in zip(vectors, texts, strict=True)]
    ms_per_message = 1000 * (time.perf_counter() - started) / max(len(texts), 1)
    ours = [to_label(u.emotion) for u in understood]
    naive = [to_label(e) for e in baseline.predict(vectors)]
    result = {"set": name, "n": len(texts), "ours": scores(truth, ours, labels),
              "baseline": scores(truth, naive, labels), "classify_ms_per_message": ms_per_message}
    return result, understood


def evaluate_heldout(embedder, classifier, baseline):
    """The headline set: emotions, situations, and the hard subset."""
    rows = eval_sets.read_heldout()
    texts, truth = [r["text"] for r in rows], [r["emotion"] for r in rows]
    result, understood = run_set("heldout", texts, truth, EMOTIONS, embedder, classifier, baseline)
    predicted_sets = [{label for label, _conf in u.situations} for u in understood]
    result["situations"] = situation_scores([set(r["situations"]) for r in rows], predicted_sets, SITUATIONS)
    hard = [i for i, r in enumerate(rows) if r.get("hard")]
    result["ours_hard_accuracy"] = sum(understood[i].emotion == truth[i] for i in hard) / max(len(hard), 1)
    result["n_hard"] = len(hard)
    return result


def evaluate_goemotions(embedder, classifier, baseline, limit):
    """GoEmotions test split, single-label rows that map cleanly to our labels."""
    texts, truth = eval_sets.sample(*eval_sets.read_goemotions(), limit)
    return run_set("goemotions", texts, truth, EMOTIONS, embedder, classifier, baseline)[0]


def evaluate_airline(embedder, classifier, baseline, limit):
    """Airline tweets, our emotion mapped to negative / neutral / positive."""
    texts, truth = eval_sets.sample(*eval_sets.read_airline(), limit)
    return run_set("airline", texts, truth, SENTIMENTS, embedder, classifier, baseline, sentiment_of)[0]


def print_result(result):
    """Print one set's figures as aligned text tables."""
    print(f"\n=== {result['set']} (n={result['n']}) ===")
    for who in ("ours", "baseline"):
        s = result[who]
        print(f"\n--- {who}: accuracy {s['accuracy']:.3f}  macro-F1 {s['macro_f1']:.3f}")
        print(format_per_label(s["per_label"]))
        print("\nconfusion (rows = true, columns = predicted)")
        print(format_confusion(s["confusion"], s["labels"]))
    if "situations" in result:
        sit = result["situations"]
        print(f"\n--- ours, situations: micro-F1 {sit['micro_f1']:.3f}  macro-F1 {sit['macro_f1']:.3f}")
        for label, s in sit["per_label"].items():
            print(f"{label:<20} f1 {s['f1']:.3f}  support {s['support']:3d}  predicted {s['predicted']:3d}")
        print(f"ours, accuracy on the {result['n_hard']} hard messages: {result['ours_hard_accuracy']:.3f}")
    print(f"classifier: {result['classify_ms_per_message']:.2f} ms per message (after embedding)")


def summary(results):
    """The machine-readable figures: headline numbers per set, without the tables."""
    keep = ("accuracy", "macro_f1", "per_label", "labels", "confusion")
    out = {}
    for r in results:
        out[r["set"]] = {"n": r["n"], **{w: {k: r[w][k] for k in keep} for w in ("ours", "baseline")}}
        for extra in ("situations", "ours_hard_accuracy", "n_hard"):
            if extra in r:
                out[r["set"]][extra] = r[extra]
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=(*SETS, "all"), default="all", help="which evaluation set (default all)")
    parser.add_argument("--limit", type=int, default=None, help="score a fixed random N rows of the big sets")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary instead of tables")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="embedding model (default all-MiniLM-L6-v2)")
    parser.add_argument("--cache-dir", default="/tmp/assist-models", help="ONNX export and classifier cache")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the chosen sets and print their figures."""
    args = parse_args(argv)
    from phrasebank.embedder import Embedder
    from phrasebank.understanding import classifier_for

    embedder = Embedder(model=args.model, backend="onnx", cache_dir=args.cache_dir).load()
    classifier = classifier_for(embedder, args.cache_dir)
    baseline = NaiveBaseline(embedder)
    chosen = SETS if args.set == "all" else (args.set,)
    results = []
    for name in chosen:
        if name == "heldout":
            results.append(evaluate_heldout(embedder, classifier, baseline))
        elif name == "goemotions":
            results.append(evaluate_goemotions(embedder, classifier, baseline, args.limit))
        else:
            results.append(evaluate_airline(embedder, classifier, baseline, args.limit))
        if not args.json:
            print_result(results[-1])
    if args.json:
        print(json.dumps({"model": args.model, "runtime": embedder.runtime, "sets": summary(results)}, indent=2))


if __name__ == "__main__":
    main()
