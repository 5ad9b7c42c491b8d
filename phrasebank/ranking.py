"""Rank approved phrases for one message: similarity, emotion fit, situation fit, channel.

The score is a weighted sum of three parts, each in about [0, 1]:
semantic similarity of message and phrase (with its intended use), how much of
the message's emotion probability the phrase's emotions cover, and how well its
situations match the detected ones.  Hard rules come first: phrases that would
be wrong in tone (an apology to a thank-you, cheer at a bereavement, a
situation the message is not about) are never shown, however similar.
"""

from dataclasses import dataclass, field

from . import rules, templates
from .vocab import KINDS, POSITIVE_OR_CALM_EMOTIONS

WEIGHTS = {"semantic": 0.40, "emotion": 0.35, "situation": 0.25}
# A phrase for any emotion/situation is a safe middle choice, not a perfect one.
GENERIC_EMOTION_FIT = 0.35
GENERIC_SITUATION_FIT = 0.5
# Below this, a phrase written for other emotions is off-key for the message.
MIN_EMOTION_FIT = 0.05
# A situation-specific phrase needs its situation detected, or a very close match.
MIN_SITUATION_FIT = 0.2
STRONG_SEMANTIC = 0.55
NEAR_DUPLICATE = 0.9
UNKNOWN_CHANNEL_PENALTY = 0.05
CANDIDATES = 400


@dataclass
class Context:
    """What the ranker knows about the message beyond its vector."""

    emotion: str
    emotion_scores: dict
    situations: dict  # label -> confidence, only those detected
    channel: str = None
    facts: dict = field(default_factory=dict)  # template slot values from the CRM card
    boosts: dict = field(default_factory=dict)  # phrase id -> additive score (e.g. feedback)


def exclusion(phrase, ctx):
    """Return why a phrase must not be shown for this message, or None."""
    text = phrase["text"]
    calm = ctx.emotion in POSITIVE_OR_CALM_EMOTIONS
    if calm and (phrase["kind"] == "apology" or rules.is_apologetic(text)):
        return "apologetic for a grateful or neutral message"
    if "bereavement" in ctx.situations and (rules.is_cheerful(text) or "praise" in phrase["situations"]):
        return "too cheerful for a bereavement"
    if "praise" in phrase["situations"] and "praise" not in ctx.situations:
        return "thanks for praise the customer did not give"
    if phrase["channels"] and ctx.channel and ctx.channel not in phrase["channels"]:
        return f"written for {', '.join(phrase['channels'])}, not {ctx.channel}"
    return None


def emotion_fit(phrase, ctx):
    """Share of the message's emotion probability that the phrase is written for."""
    if not phrase["emotions"]:
        return GENERIC_EMOTION_FIT
    return min(1.0, sum(ctx.emotion_scores.get(e, 0.0) for e in phrase["emotions"]))


def situation_fit(phrase, ctx):
    """Confidence of the best detected situation the phrase is written for."""
    if not phrase["situations"]:
        return GENERIC_SITUATION_FIT if not ctx.situations else GENERIC_SITUATION_FIT * 0.6
    return max((ctx.situations.get(s, 0.0) for s in phrase["situations"]), default=0.0)


def score(phrase, similarity, ctx):
    """Return (score, parts) for a phrase, or (None, reason) when it must not be shown."""
    reason = exclusion(phrase, ctx)
    if reason:
        return None, reason
    emo, sit = emotion_fit(phrase, ctx), situation_fit(phrase, ctx)
    if phrase["emotions"] and emo < MIN_EMOTION_FIT:
        return None, "written for other emotions"
    if phrase["situations"] and sit < MIN_SITUATION_FIT and similarity < STRONG_SEMANTIC:
        return None, "written for another situation"
    total = WEIGHTS["semantic"] * similarity + WEIGHTS["emotion"] * emo + WEIGHTS["situation"] * sit
    if phrase["channels"] and not ctx.channel:
        total -= UNKNOWN_CHANNEL_PENALTY
    total += ctx.boosts.get(phrase["id"], 0.0)
    return total, {"semantic": similarity, "emotion": emo, "situation": sit}


def explain(phrase, parts, ctx):
    """One line an agent or admin can read: why this phrase ranks where it does."""
    bits = []
    if phrase["emotions"]:
        bits.append(f"fits {ctx.emotion} ({parts['emotion']:.2f})")
    else:
        bits.append("fits any emotion")
    matched = [s for s in phrase["situations"] if s in ctx.situations]
    if matched:
        bits.append("about " + ", ".join(s.replace("_", " ") for s in matched) + f" ({parts['situation']:.2f})")
    bits.append(f"similar to the message ({parts['semantic']:.2f})")
    return "; ".join(bits)


def rank(index, vector, ctx, limit=3, kinds=KINDS):
    """Return {kind: [suggestion, ...]} with at most ``limit`` suggestions per kind."""
    scored = []
    for position, similarity in index.search(vector, CANDIDATES):
        phrase = index.phrases[position]
        if phrase["kind"] not in kinds:
            continue
        total, parts = score(phrase, similarity, ctx)
        if total is None:
            continue
        text = templates.render(phrase["text"], ctx.facts, phrase.get("fallback"))
        if text is None:
            continue
        scored.append((total, position, parts, text))
    scored.sort(key=lambda item: -item[0])
    return _pick(index, scored, ctx, limit, kinds)


def _pick(index, scored, ctx, limit, kinds):
    """Take the best per kind, skipping near-duplicates of phrases already taken."""
    chosen = {kind: [] for kind in kinds}
    taken = {kind: [] for kind in kinds}
    for total, position, parts, text in scored:
        phrase = index.phrases[position]
        kind = phrase["kind"]
        if len(chosen[kind]) >= limit:
            continue
        if any(index.similarity(position, other) > NEAR_DUPLICATE for other in taken[kind]):
            continue
        taken[kind].append(position)
        chosen[kind].append(_suggestion(phrase, text, total, parts, ctx))
    return chosen


def _suggestion(phrase, text, total, parts, ctx):
    return {
        "id": phrase["id"],
        "kind": phrase["kind"],
        "text": text,
        "template": phrase["text"],
        "emotions": phrase["emotions"],
        "situations": phrase["situations"],
        "score": round(float(total), 4),
        "why": explain(phrase, parts, ctx),
    }
