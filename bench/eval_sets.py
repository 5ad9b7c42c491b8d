"""Load the emotion evaluation sets as (texts, labels) in the project's own label names.

Evaluation only: nothing here is used for training, and none of the public data
is copied into the project (it is read from ../shared/data).
"""

import csv
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "data" / "heldout_messages.jsonl"
SHARED_DATA = ROOT.parent / "shared" / "data"

# GoEmotions label -> ours; rows whose single label is not here are dropped.
GOEMOTIONS_TO_OURS = {
    "anger": "angry",
    "annoyance": "frustrated",
    "nervousness": "anxious",
    "fear": "anxious",
    "confusion": "confused",
    "disappointment": "disappointed",
    "sadness": "sad",
    "grief": "sad",
    "gratitude": "grateful",
    "neutral": "neutral",
}

# The published Tweets.csv had label strings pasted into ~10% of texts by a
# find/replace; undo it (order matters: "Cancelled Flightled" -> "Cancelled").
AIRLINE_TEXT_FIXES = (
    ("Cancelled Flight", "Cancel"),
    ("Late Flight", "late"),
    ("Flight Booking Problems", "booking"),
)
AIRLINE_MIN_CONFIDENCE = 0.9


def read_heldout(path=HELDOUT):
    """The hand-written held-out messages: a list of dicts (text, emotion, situations, domain, hard)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_goemotions(data_dir=SHARED_DATA / "goemotions", split="test"):
    """Single-label GoEmotions rows whose label maps cleanly to ours: (texts, labels)."""
    names = (data_dir / "labels.txt").read_text(encoding="utf-8").split()
    texts, labels = [], []
    with open(data_dir / f"{split}.tsv", encoding="utf-8", newline="") as f:
        for text, indices, _id in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            indices = indices.split(",")
            ours = GOEMOTIONS_TO_OURS.get(names[int(indices[0])]) if len(indices) == 1 else None
            if ours:
                texts.append(text)
                labels.append(ours)
    return texts, labels


def clean_airline_text(text):
    """Undo the label-leaking find/replace defects of the published Tweets.csv."""
    for wrong, right in AIRLINE_TEXT_FIXES:
        text = text.replace(wrong, right)
    return text


def read_airline(path=SHARED_DATA / "airline-tweets" / "Tweets.csv"):
    """High-agreement airline tweets, first copy of each tweet_id: (texts, sentiments)."""
    seen, texts, labels = set(), [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["tweet_id"] in seen:
                continue
            seen.add(row["tweet_id"])
            if float(row["airline_sentiment_confidence"]) >= AIRLINE_MIN_CONFIDENCE:
                texts.append(clean_airline_text(row["text"]))
                labels.append(row["airline_sentiment"])
    return texts, labels


def sample(texts, labels, limit, seed=0):
    """A fixed random subset of at most ``limit`` rows (all rows when limit is None), order kept."""
    if limit is None or limit >= len(texts):
        return texts, labels
    keep = np.sort(np.random.default_rng(seed).choice(len(texts), size=limit, replace=False))
    return [texts[i] for i in keep], [labels[i] for i in keep]
