"""Rank approved phrases for one message: similarity, emotion fit, situation fit, channel.

The score is a weighted sum of three parts, each in about [0, 1]: semantic
similarity of message and phrase (with its intended use), how much of the
message's emotion probability the phrase's emotions cover, and how well its
situations match the detected ones.  Hard rules come first: phrases that would
be wrong in tone (an apology to a thank-you, cheer at a bereavement, a
situation the message is not about) are never shown, however similar.
"""

from dataclasses import dataclass, field

import numpy as np

from . import templates
from .vocab import CHANNELS, EMOTIONS, KINDS, POSITIVE_OR_CALM_EMOTIONS, SITUATIONS

WEIGHTS = {"semantic": 0.40, "emotion": 0.35, "situation": 0.25}
# A phrase for any emotion/situation is a safe middle choice, not a perfect one.
GENERIC_EMOTION_FIT = 0.35
GENERIC_SITUATION_FIT = 0.5
# When the message has a situation, general phrases give way to specific ones.
GENERIC_SITUATION_FIT_WHEN_SPECIFIC = 0.3
# Below this, a phrase written for other emotions is off-key for the message.
MIN_EMOTION_FIT = 0.05
# A situation-specific phrase needs its situation detected, or a very close match.
MIN_SITUATION_FIT = 0.2
STRONG_SEMANTIC = 0.55
NEAR_DUPLICATE = 0.9
UNKNOWN_CHANNEL_PENALTY = 0.05
CANDIDATES = 2000


@dataclass
class Context:
    """What the ranker knows about the message beyond its vector."""

    emotion: str
    emotion_scores: dict
    situations: dict  # label -> confidence, only those detected
    channel: str = None
    facts: dict = field(default_factory=dict)  # template slot values from the CRM card
    boosts: dict = field(default_factory=dict)  # phrase id -> additive score (e.g. feedback)
    unseen: frozenset = frozenset()  # boosted phrases with no feedback yet: their boost is exploration
    confirmed: frozenset = frozenset()  # situations the CRM confirms (a repeat contact): their phrases lead


@dataclass
class Scores:
    """Every phrase's score parts for one message, as arrays aligned with the index."""

    semantic: np.ndarray
    emotion: np.ndarray
    situation: np.ndarray
    total: np.ndarray
    excluded: np.ndarray  # bool: never show


def score_all(index, vector, ctx):
    """Score every phrase in ``index`` for the message; returns Scores."""
    n = len(index)
    semantic = np.full(n, -1.0, dtype=np.float32)
    positions, sims = index.search(vector, CANDIDATES)
    semantic[positions] = sims
    emotion_vec = np.array([ctx.emotion_scores.get(e, 0.0) for e in EMOTIONS], dtype=np.float32)
    situation_vec = np.array([ctx.situations.get(s, 0.0) for s in SITUATIONS], dtype=np.float32)
    generic_emotion = index.emotions.sum(axis=1) == 0
    generic_situation = index.situations.sum(axis=1) == 0
    emotion = np.where(generic_emotion, GENERIC_EMOTION_FIT, np.minimum(index.emotions @ emotion_vec, 1.0))
    generic_fit = GENERIC_SITUATION_FIT_WHEN_SPECIFIC if ctx.situations else GENERIC_SITUATION_FIT
    situation = np.where(generic_situation, generic_fit, (index.situations * situation_vec).max(axis=1, initial=0.0))
    total = WEIGHTS["semantic"] * semantic + WEIGHTS["emotion"] * emotion + WEIGHTS["situation"] * situation
    excluded = _excluded(index, ctx, emotion, situation, semantic, generic_emotion, generic_situation)
    restricted = index.channels.sum(axis=1) > 0
    if not ctx.channel:
        total = total - UNKNOWN_CHANNEL_PENALTY * restricted
    if ctx.boosts:
        total = total + _boost_vector(index, ctx.boosts)
    return Scores(semantic, emotion, situation, total, excluded)


def _boost_vector(index, boosts):
    """``boosts`` ({phrase id: score}) as an array aligned with the index; unknown ids are ignored.

    The learned boosts are one dict object until feedback changes, so the array
    is kept on the index snapshot for that dict (a boosts dict is never mutated).
    """
    cached = getattr(index, "_boost_cache", None)
    if cached is not None and cached[0] is boosts:
        return cached[1]
    positions = np.fromiter((index.by_id.get(pid, -1) for pid in boosts), dtype=np.int64, count=len(boosts))
    values = np.fromiter(boosts.values(), dtype=np.float32, count=len(boosts))
    vector = np.zeros(len(index), dtype=np.float32)
    keep = positions >= 0
    vector[positions[keep]] = values[keep]
    index._boost_cache = (boosts, vector)
    return vector


def _excluded(index, ctx, emotion, situation, semantic, generic_emotion, generic_situation):
    excluded = semantic < -0.99  # not retrieved
    if ctx.emotion in POSITIVE_OR_CALM_EMOTIONS:
        excluded |= index.apologetic
    if "bereavement" in ctx.situations:
        excluded |= index.cheerful
    if "praise" not in ctx.situations:
        excluded |= index.praise
    if ctx.channel:
        restricted = index.channels.sum(axis=1) > 0
        excluded |= restricted & (index.channels[:, CHANNELS.index(ctx.channel)] == 0)
    excluded |= ~generic_emotion & (emotion < MIN_EMOTION_FIT)
    excluded |= ~generic_situation & (situation < MIN_SITUATION_FIT) & (semantic < STRONG_SEMANTIC)
    return excluded


def exclusion(index, position, ctx, scores):
    """Why the phrase at ``position`` is not shown for this message (None if it may be)."""
    if not scores.excluded[position]:
        return None
    if ctx.emotion in POSITIVE_OR_CALM_EMOTIONS and index.apologetic[position]:
        return "apologetic for a grateful or neutral message"
    if "bereavement" in ctx.situations and index.cheerful[position]:
        return "too cheerful for a bereavement"
    if index.praise[position] and "praise" not in ctx.situations:
        return "thanks for praise the customer did not give"
    if scores.emotion[position] < MIN_EMOTION_FIT:
        return "written for other emotions"
    if scores.situation[position] < MIN_SITUATION_FIT:
        return "written for another situation"
    return f"not written for the {ctx.channel} channel"


def explain(phrase, scores, position, ctx):
    """One line an agent or admin can read: why this phrase ranks where it does."""
    bits = [f"fits {ctx.emotion} ({scores.emotion[position]:.2f})" if phrase["emotions"] else "fits any emotion"]
    matched = [s for s in phrase["situations"] if s in ctx.situations]
    if matched:
        names = ", ".join(s.replace("_", " ") for s in matched)
        bits.append(f"about {names} ({scores.situation[position]:.2f})")
    bits.append(f"similar to the message ({scores.semantic[position]:.2f})")
    if ctx.boosts.get(phrase["id"]):
        source = "new phrase, shown to learn" if phrase["id"] in ctx.unseen else "agent feedback"
        bits.append(f"{source} ({ctx.boosts[phrase['id']]:+.2f})")
    return "; ".join(bits)


def rank(index, vector, ctx, limit=3, kinds=KINDS):
    """Return {kind: [suggestion, ...]} with at most ``limit`` suggestions per kind."""
    chosen = {kind: [] for kind in kinds}
    if not len(index):
        return chosen
    scores = score_all(index, vector, ctx)
    wanted = np.isin(index.kind, [KINDS.index(k) for k in kinds])
    order = np.argsort(-np.where(scores.excluded | ~wanted, -np.inf, scores.total), kind="stable")
    taken = {kind: [] for kind in kinds}
    for kind, (position, suggestion) in _leads(index, order, scores, wanted, ctx).items():
        taken[kind].append(position)
        chosen[kind].append(suggestion)
    for position in order:
        if scores.excluded[position] or not wanted[position]:
            break
        phrase = index.phrases[position]
        kind = phrase["kind"]
        if len(chosen[kind]) >= limit or any(index.similarity(position, o) > NEAR_DUPLICATE for o in taken[kind]):
            continue
        text = templates.render(phrase["text"], ctx.facts, phrase.get("fallback"))
        if text is None:
            continue
        taken[kind].append(position)
        chosen[kind].append(_suggestion(phrase, text, scores, position, ctx))
        if all(len(items) >= limit for items in chosen.values()):
            break
    return chosen


def _leads(index, order, scores, wanted, ctx):
    """Per kind, the best phrase about a situation the CRM confirms, to go first.

    A customer back about the same problem should hear that we know before
    anything else, so the phrase that acknowledges the history leads its kind
    even when a phrase about the problem itself scores a little higher.
    """
    leads = {}
    if not ctx.confirmed:
        return leads
    for position in order:
        if scores.excluded[position] or not wanted[position]:
            break
        phrase = index.phrases[position]
        if phrase["kind"] in leads or not ctx.confirmed.intersection(phrase["situations"]):
            continue
        text = templates.render(phrase["text"], ctx.facts, phrase.get("fallback"))
        if text is not None:
            suggestion = _suggestion(phrase, text, scores, position, ctx)
            named = ", ".join(s.replace("_", " ") for s in phrase["situations"] if s in ctx.confirmed)
            suggestion["why"] += f"; first because the CRM confirms a {named}"
            leads[phrase["kind"]] = (position, suggestion)
    return leads


def _suggestion(phrase, text, scores, position, ctx):
    return {
        "id": phrase["id"],
        "kind": phrase["kind"],
        "text": text,
        "template": phrase["text"],
        "emotions": phrase["emotions"],
        "situations": phrase["situations"],
        "score": round(float(scores.total[position]), 4),
        "why": explain(phrase, scores, position, ctx),
    }
