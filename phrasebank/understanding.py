"""Message understanding: the customer's emotion and the situations that apply.

A linear model over the message's embedding plus a few lexical cues (``LEXICAL_CUES``):
multinomial logistic regression for the one emotion, one-vs-rest logistic regression
for the situations, each situation with its own threshold picked on the tuning set.
Weights are written by ``phrasebank.training``; inference here is numpy only.
"""

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PhraseBankError
from .vocab import EMOTIONS, SITUATIONS

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
DATA_DIR = Path(__file__).resolve().parent / "data"

# Each cue is 1.0 when its pattern occurs in the message (case-insensitive), else 0.0.
# They carry what a sentence embedding blurs: tone words, "again", "passed away".
LEXICAL_CUES = (
    ("question", r"\?"),
    ("thanks", r"\b(thanks?|thank you|thx|cheers|appreciate\w*|grateful|gracias|much obliged)\b"),
    ("praise", r"\b(great|amazing|brilliant|excellent|fantastic|wonderful|superb|legends?"
               r"|five stars|5 stars|10/10|impressed|the best|above and beyond)\b"),
    ("hostile", r"\b(disgrace\w*|outrage\w*|ridiculous|pathetic|useless|idiots?|fraud\w*|scam\w*"
                r"|liars?|lying|joke|furious|livid|incompetent|shameful|unacceptable|how dare)\b"),
    ("worry", r"\b(worr(y|ied|ying)|scared|afraid|nervous|panic\w*|anxious|stressed|frightened)\b"),
    ("letdown", r"\b(expected|disappoint\w*|let ?down|shame|pity|hoped|hoping|underwhelm\w*|not impressed)\b"),
    ("how_why", r"\b(why|how|what|which|explain|understand|mean|clarify|confus\w*|not sure)\b"),
    ("stuck", r"\b(still|keeps?|tried|trying|in circles|nothing works|same (issue|problem|thing)|fed up)\b"),
    ("repeat", r"\bagain\b|\b(second|third|fourth|fifth|sixth|\d+(st|nd|rd|th)) time\b|\btimes (now|already)\b"
               r"|\balready (told|explained|sent|called|asked|reported)\b|\bfollow(ing)?[- ]?up\b|\bchasing\b"
               r"|\bhow many times\b|\bkeep (asking|calling|telling|being told)\b"),
    ("death", r"\b(died|dies|dead|death|passed away|passed on|funeral|bereave\w*|widow\w*|executor"
              r"|late (husband|wife|partner|father|mother|dad|mum|mom|son|daughter))\b"),
    ("hardship", r"\b(lost my job|redundan\w*|struggl\w*|can'?t afford|cannot afford|diagnos\w*|evicted"
                 r"|heartbr\w*|divorce|hospice|chemo\w*)\b"),
    ("cancel", r"\b(cancel\w*|terminat\w*|close (my|our|the) account|closing (my|all|our)"
               r"|switch(ing)? (provider|supplier|bank|network)s?"
               r"|(other|another|different) (provider|bank|network|supplier|company)|elsewhere"
               r"|competitors?|porting|pac code|not renew\w*|won'?t be renewing)\b"),
    ("urgent", r"\b(today|tonight|tomorrow|asap|urgent\w*|deadline|hurry|immediately|right now|midnight"
               r"|in \d+ (hours?|minutes?)|by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|noon|\d))\b"),
    ("billing", r"\b(bill\w*|charg\w*|refund\w*|invoice\w*|fees?|overcharg\w*|direct debit|statement)\b"),
    ("delivery", r"\b(deliver\w*|parcel|package|courier|tracking|shipp\w*|dispatch\w*|arrived)\b"),
    ("access", r"\b(log ?in|logged (in|out)|sign ?in|password|locked out|lock(ed)? me out|2fa|two-factor"
               r"|verification code|authenticat\w*|reset link|hacked)\b"),
    ("outage", r"\b(down|outage|no (internet|signal|power|water|connection|service)|power cut|offline"
               r"|dropp\w*|cut(ting)? out)\b"),
    ("defect", r"\b(broken|broke|faulty|defect\w*|crash\w*|bugs?|stopped working|cracked|leak\w*|freez\w*)\b"),
)
_CUE_PATTERNS = tuple(re.compile(pattern, re.IGNORECASE) for _, pattern in LEXICAL_CUES)
LEXICAL_FEATURES = ("exclamations", "shouting") + tuple(name for name, _ in LEXICAL_CUES)


def lexical_features(text):
    """Return the lexical cue vector of ``text`` (float32, one value per ``LEXICAL_FEATURES``)."""
    letters = [c for c in text if c.isalpha()]
    shouting = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 8 else 0.0
    values = [min(text.count("!"), 3) / 3, shouting]
    values += [1.0 if pattern.search(text) else 0.0 for pattern in _CUE_PATTERNS]
    return np.array(values, dtype=np.float32)


@dataclass
class Understanding:
    """What a message expresses: one emotion and the situations that apply."""

    emotion: str
    confidence: float
    scores: dict
    situations: list


class MessageClassifier:
    """Linear emotion and situation classifier over [embedding, lexical features]."""

    def __init__(self, model_name, dim, emotion_weights, emotion_bias, situation_weights, situation_bias,
                 thresholds, emotions=EMOTIONS, situations=SITUATIONS, metadata=None):
        self.model_name = model_name
        self.dim = int(dim)
        self.emotions = tuple(emotions)
        self.situations = tuple(situations)
        self.emotion_weights = np.asarray(emotion_weights, dtype=np.float32)
        self.emotion_bias = np.asarray(emotion_bias, dtype=np.float32)
        self.situation_weights = np.asarray(situation_weights, dtype=np.float32)
        self.situation_bias = np.asarray(situation_bias, dtype=np.float32)
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.metadata = metadata or {}
        width = self.dim + len(LEXICAL_FEATURES)
        if self.emotion_weights.shape != (len(self.emotions), width) or \
                self.situation_weights.shape != (len(self.situations), width):
            raise PhraseBankError("classifier weights do not match its model dimension and labels")

    @classmethod
    def load(cls, path):
        """Load a classifier written by ``save`` (or by ``python -m phrasebank.training``)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            features = tuple(str(f) for f in arrays["lexical_features"])
            classifier = cls(
                model_name=str(arrays["model_name"]), dim=int(arrays["dim"]),
                emotion_weights=arrays["emotion_weights"], emotion_bias=arrays["emotion_bias"],
                situation_weights=arrays["situation_weights"], situation_bias=arrays["situation_bias"],
                thresholds=arrays["thresholds"], emotions=[str(e) for e in arrays["emotions"]],
                situations=[str(s) for s in arrays["situations"]], metadata=json.loads(str(arrays["metadata"])),
            )
        except (OSError, ValueError, KeyError) as e:
            raise PhraseBankError(f"cannot load classifier {path}: {e}") from e
        if features != LEXICAL_FEATURES:
            raise PhraseBankError(f"classifier {path} was trained with other lexical features; retrain it")
        return classifier

    def save(self, path):
        """Write the classifier to ``path`` (.npz) atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp, model_name=np.array(self.model_name), dim=np.array(self.dim),
            emotions=np.array(self.emotions), situations=np.array(self.situations),
            lexical_features=np.array(LEXICAL_FEATURES),
            emotion_weights=self.emotion_weights, emotion_bias=self.emotion_bias,
            situation_weights=self.situation_weights, situation_bias=self.situation_bias,
            thresholds=self.thresholds, metadata=np.array(json.dumps(self.metadata, sort_keys=True)),
        )
        os.replace(tmp, path)

    def understand(self, vector, text):
        """Classify one message from its embedding ``vector`` and its raw ``text``."""
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise PhraseBankError(f"expected a vector of shape ({self.dim},), got {vector.shape}")
        features = np.concatenate([vector, lexical_features(text)])
        logits = self.emotion_weights @ features + self.emotion_bias
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        best = int(np.argmax(probabilities))
        situation_scores = 1.0 / (1.0 + np.exp(-(self.situation_weights @ features + self.situation_bias)))
        situations = sorted(
            ((label, float(score)) for label, score, threshold in
             zip(self.situations, situation_scores, self.thresholds) if score >= threshold),
            key=lambda pair: -pair[1],
        )
        return Understanding(
            emotion=self.emotions[best], confidence=float(probabilities[best]),
            scores={label: float(p) for label, p in zip(self.emotions, probabilities)},
            situations=situations,
        )


def _model_key(model_name):
    """The bundled default model answers to two names; both share one classifier."""
    return model_name.removeprefix("sentence-transformers/")


def classifier_path(model_name, directory=MODELS_DIR):
    """Return where the classifier for ``model_name`` lives in ``directory``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", _model_key(model_name)).strip("-")
    return Path(directory) / f"classifier-{slug}.npz"


def _fits(classifier, embedder):
    return _model_key(classifier.model_name) == _model_key(embedder.name) and classifier.dim == embedder.dim


def _cache_path(embedder, cache_dir):
    """Cache file name; its digest changes with the model, the shipped messages and the cues."""
    digest = hashlib.sha256(f"{embedder.name}\0{embedder.dim}\0".encode())
    for name in ("training_messages.jsonl", "tuning_messages.jsonl"):
        digest.update((DATA_DIR / name).read_bytes())
    digest.update(repr(LEXICAL_CUES).encode())
    path = classifier_path(embedder.name, cache_dir)
    return path.with_name(f"{path.stem}-{digest.hexdigest()[:10]}.npz")


def classifier_for(embedder, cache_dir):
    """Return a classifier for ``embedder``: the shipped one if it fits, else one trained and cached."""
    shipped = classifier_path(embedder.name)
    if shipped.exists():
        classifier = MessageClassifier.load(shipped)
        if _fits(classifier, embedder):
            return classifier
    cached = _cache_path(embedder, cache_dir)
    if cached.exists():
        classifier = MessageClassifier.load(cached)
        if _fits(classifier, embedder):
            return classifier
    from .training import train_classifier  # scikit-learn is needed only here

    log.info("training a message classifier for %s (once) into %s", embedder.name, cached)
    classifier = train_classifier(embedder, search=False)
    classifier.save(cached)
    return classifier
