"""The suggestion engine: understand a message and rank the phrase bank for it."""

import logging
import threading
import time
import uuid

import numpy as np

from . import vectors
from .index import PhraseIndex
from .learning import Learner
from .ranking import Context, rank
from .store import PhraseStore
from .vocab import KINDS

log = logging.getLogger(__name__)

# How often a running engine checks the store for phrases changed by another
# process (the CLI, another worker).  Changes made through this engine are seen at once.
REFRESH_SECONDS = 1.0


class SuggestionEngine:
    """Embedder + message classifier + phrase index, kept in step with the store.

    ``database`` is a ThreadLocalDatabase; ``classifier`` has
    ``understand(vector, text)``.  With ``learning`` agent feedback re-orders
    close suggestions (see ``learning.py``).
    """

    def __init__(self, database, embedder, classifier, learning=True):
        self.database = database
        self.embedder = embedder
        self.classifier = classifier
        self.learning = Learner(database) if learning else None
        self._index = PhraseIndex([], np.zeros((0, 1), dtype=np.float32), revision=-1)
        self._lock = threading.Lock()
        self._checked_at = 0.0

    @property
    def index(self):
        """The current snapshot of approved phrases (refreshed if the store changed)."""
        self.refresh()
        return self._index

    def refresh(self, force=False):
        """Rebuild the index snapshot if the phrase bank changed since it was built."""
        now = time.monotonic()
        if not force and now - self._checked_at < REFRESH_SECONDS:
            return
        self._checked_at = now
        store = PhraseStore(self.database.get())
        revision = store.revision()
        if revision == self._index.revision and not force:
            return
        with self._lock:
            if revision == self._index.revision and not force:
                return
            started = time.perf_counter()
            approved = store.list(status="approved")
            matrix = vectors.vectors_for(store.db, self.embedder, approved)
            self._index = PhraseIndex(approved, matrix, revision=revision)
            log.info("phrase index: %d approved phrases in %.0f ms", len(approved), (time.perf_counter() - started) * 1000)
        if force and self.learning:
            self.learning.refresh(force=True)  # an edited phrase's feedback starts fresh at once

    def understand(self, text, vector=None):
        """Return the classifier's Understanding of ``text``."""
        vector = self.embedder.encode_one(text) if vector is None else vector
        return self.classifier.understand(vector, text)

    def embed(self, text):
        """The unit vector of one text."""
        return self.embedder.encode_one(text)

    def context(self, understood, channel=None, facts=None, boosts=None, extra_situations=None):
        """The ranking Context for an Understanding, plus what the CRM adds.

        ``extra_situations`` ({label: confidence}, such as a confirmed repeat
        contact) join the message's own and are marked confirmed; ``boosts``
        defaults to what agent feedback taught (none when learning is off).
        """
        situations = dict(understood.situations)
        for label, confidence in (extra_situations or {}).items():
            situations[label] = max(confidence, situations.get(label, 0.0))
        unseen = frozenset()
        if boosts is None and self.learning:
            boosts, unseen = self.learning.boosts(), self.learning.unseen()
        return Context(emotion=understood.emotion, emotion_scores=understood.scores, situations=situations,
                       channel=channel, facts=facts or {}, boosts=boosts or {}, unseen=unseen,
                       confirmed=frozenset(extra_situations or ()))

    def suggest(self, message, channel=None, limit=3, facts=None, kinds=KINDS, boosts=None, vector=None,
                extra_situations=None):
        """Understand ``message`` and return the suggestion response body (without customer).

        ``boosts`` ({phrase_id: score}) defaults to what agent feedback taught
        (none when learning is off); ``vector`` is the message's embedding if the caller already has it;
        ``extra_situations`` ({label: confidence}) adds what the CRM knows, such
        as a repeat contact, to what the message itself says.
        """
        timing = {}
        started = time.perf_counter()
        index = self.index
        if vector is None:
            vector = self.embedder.encode_one(message)
        timing["embed"] = _ms(started)
        mark = time.perf_counter()
        understood = self.classifier.understand(vector, message)
        timing["understand"] = _ms(mark)
        mark = time.perf_counter()
        ctx = self.context(understood, channel, facts, boosts, extra_situations)
        suggestions = rank(index, vector, ctx, limit=limit, kinds=kinds)
        timing["rank"] = _ms(mark)
        timing["total"] = _ms(started)
        return {
            "request_id": uuid.uuid4().hex,
            "emotion": {
                "label": understood.emotion,
                "confidence": round(float(understood.confidence), 4),
                "scores": {k: round(float(v), 4) for k, v in understood.scores.items()},
            },
            "situations": [
                {"label": s, "confidence": round(float(c), 4)}
                for s, c in sorted(ctx.situations.items(), key=lambda item: -item[1])
            ],
            "suggestions": suggestions,
            "timing_ms": timing,
        }


def _ms(since):
    return round((time.perf_counter() - since) * 1000, 3)
