"""Ranking that learns from agents: a smoothed acceptance prior per phrase, as a small bounded boost.

For each approved phrase, counting only its current wording (an edited phrase
starts fresh):

- evidence: acceptances (a request where the phrase was copied, inserted or
  given a thumbs-up) against rejections (a thumbs-down weighs
  ``THUMBS_DOWN_WEIGHT``, a show that was not used ``UNUSED_WEIGHT``);
- a Beta prior worth ``PRIOR_STRENGTH`` observations, centred on the bank-wide
  rate, so a phrase with little evidence stays near the average;
- an optimistic estimate from the posterior (upper-confidence style, so
  deterministic): its mean plus ``EXPLORATION_Z`` standard deviations.  A
  phrase nobody has seen is uncertain, so it gets a small bonus (about +0.03)
  and is tried; the bonus shrinks as evidence comes in, fastest for a phrase
  agents keep rejecting;
- that estimate's log-odds against the bank-wide rate, squashed by tanh into
  at most ``MAX_BOOST`` up and ``MAX_PENALTY`` down.  The bounds differ on
  purpose: lowering a phrase agents keep rejecting is safe (another phrase
  takes its place), lifting one is not (it could crowd out a better fit).

Relevance weights are 0.40/0.35/0.25
(ranking.WEIGHTS), so feedback re-orders phrases that are close in relevance
and never lifts a poor fit over a good one; phrases the hard rules exclude are
never shown whatever their boost (ranking.rank skips them before scores count).
"""

import threading
import time
from dataclasses import dataclass

import numpy as np

from .feedback import wording_hash

MAX_BOOST = 0.06
MAX_PENALTY = 0.15
EXPLORATION_Z = 1.5
PRIOR_STRENGTH = 10.0
THUMBS_DOWN_WEIGHT = 2.0
UNUSED_WEIGHT = 0.5
DEFAULT_RATE = 0.2  # the bank-wide rate assumed before there is much evidence
# Boosts smaller than this would only add noise to the "why" line.
MIN_BOOST = 0.005
# How often a running server looks for new feedback (one indexed read of two meta rows).
REFRESH_SECONDS = 2.0


@dataclass(frozen=True)
class Tally:
    """Feedback on one wording of a phrase: requests it was shown in, accepted in, thumbed down in."""

    shown: int = 0
    accepted: int = 0
    rejected: int = 0


def _evidence(counts):
    """(positive, negative) weighted observations from an (n, 3) array of shown, accepted, rejected."""
    shown, accepted, rejected = counts[:, 0], counts[:, 1], counts[:, 2]
    unused = np.maximum(shown - accepted - rejected, 0)
    return accepted, THUMBS_DOWN_WEIGHT * rejected + UNUSED_WEIGHT * unused


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _counts(tallies):
    return np.array([(t.shown, t.accepted, t.rejected) for t in tallies], dtype=float).reshape(-1, 3)


def _rate(counts):
    positive, negative = _evidence(counts)
    rate = (positive.sum() + DEFAULT_RATE * PRIOR_STRENGTH) / (positive.sum() + negative.sum() + PRIOR_STRENGTH)
    return float(min(max(rate, 0.01), 0.99))


def _boosts(counts, rate):
    """The boost of each row of counts given the bank-wide rate; within [-MAX_PENALTY, MAX_BOOST]."""
    a, b = _evidence(counts)
    alpha, beta = rate * PRIOR_STRENGTH + a, (1 - rate) * PRIOR_STRENGTH + b
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total * total * (total + 1)))
    optimistic = mean + EXPLORATION_Z * std
    squashed = np.tanh((_logit(optimistic) - _logit(rate)) / 2)
    return np.where(squashed >= 0, MAX_BOOST, MAX_PENALTY) * squashed


def bank_rate(tallies):
    """The bank-wide acceptance rate under the same weighting, smoothed towards DEFAULT_RATE."""
    return _rate(_counts(tallies))


def boost(tally, rate):
    """The additive score for one phrase given its tally and the bank-wide rate; within [-MAX_PENALTY, MAX_BOOST]."""
    return float(_boosts(_counts([tally]), rate)[0])


def _as_dict(ids, counts, every):
    """{id: boost} for the rows of ``counts``, the rate set by ``every``; {} when there is no feedback."""
    if not every.any():
        return {}
    values = _boosts(counts, _rate(every))
    return {pid: float(value) for pid, value in zip(ids, values) if abs(value) >= MIN_BOOST}


def boosts_for(current, all_tallies):
    """{phrase_id: boost} for ``current`` ({phrase_id: Tally of its current wording}).

    ``all_tallies`` (every wording of every phrase) sets the bank-wide rate.
    With no feedback at all there is nothing to learn from: no boosts.
    """
    ids = list(current)
    return _as_dict(ids, _counts([current[pid] for pid in ids]), _counts(list(all_tallies)))


class Learner:
    """A cached snapshot of the boosts, rebuilt when feedback or the phrase bank changes.

    ``boosts()`` is what a suggestion request pays: normally a clock check and
    a dict; every REFRESH_SECONDS one read of two meta rows; when something
    changed, one query over the per-wording counts (a few hundred rows).
    """

    def __init__(self, database, refresh_seconds=REFRESH_SECONDS):
        self.database = database  # a ThreadLocalDatabase
        self.refresh_seconds = refresh_seconds
        self._boosts = {}
        self._unseen = frozenset()
        self._tallies = (None, {})
        self._revision = None
        self._wordings = (None, {})  # (phrases revision, {approved phrase id: wording hash})
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def boosts(self):
        """{phrase_id: boost} for the approved phrases (refreshed if feedback changed)."""
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            self.refresh()
        return self._boosts

    def unseen(self):
        """Approved phrases with no feedback on their current wording: their boost is exploration."""
        self.boosts()
        return self._unseen

    def tally(self, phrase_id):
        """The Tally of a phrase's current wording (zero if none)."""
        self.boosts()
        every, current = self._tallies
        return Tally(*map(int, every[current[phrase_id]])) if phrase_id in current else Tally()

    def refresh(self, force=False):
        """Rebuild the snapshot if feedback or the bank changed (always with ``force``)."""
        if not self._lock.acquire(blocking=force):
            return  # another thread is rebuilding; keep serving the current snapshot
        try:
            self._checked_at = time.monotonic()
            db = self.database.get()
            revision = dict(db.execute(
                "select key, value from meta where key in ('feedback_revision', 'phrases_revision')").fetchall())
            if "feedback_revision" not in revision:
                self._boosts, self._unseen, self._tallies = {}, frozenset(), (None, {})  # feedback migrations not applied: nothing to learn from
                return
            if force or revision != self._revision:
                self._rebuild(db, revision)
        finally:
            self._lock.release()

    def _rebuild(self, db, revision):
        if self._wordings[0] != revision["phrases_revision"]:
            rows = db.execute("select id, text, fallback from phrases where status = 'approved'")
            self._wordings = (revision["phrases_revision"],
                              {pid: wording_hash({"text": text, "fallback": fallback}) for pid, text, fallback in rows})
        wordings = self._wordings[1]
        rows = db.execute(
            "select phrase_id, content_hash, shown, accepted, thumbs_down from feedback_counts").fetchall()
        every = np.array([row[2:] for row in rows], dtype=float).reshape(-1, 3)
        # Only the current wording of an approved phrase counts for it: an edit starts afresh.
        current = {row[0]: i for i, row in enumerate(rows) if wordings.get(row[0]) == row[1]}
        ids = list(wordings)
        counts = np.zeros((len(ids), 3))
        for i, pid in enumerate(ids):
            if pid in current:
                counts[i] = every[current[pid]]
        self._tallies = (every, current)
        self._boosts = _as_dict(ids, counts, every)
        self._unseen = frozenset(pid for pid, row in zip(ids, counts) if not row.any())
        self._revision = revision
