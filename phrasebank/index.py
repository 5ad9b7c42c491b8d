"""An immutable, searchable snapshot of the approved phrases and their vectors (FAISS)."""

import faiss
import numpy as np

from . import rules
from .vocab import CHANNELS, EMOTIONS, KINDS, SITUATIONS


def _membership(phrase_list, field, vocabulary):
    """An (n, len(vocabulary)) 0/1 matrix: which labels each phrase lists in ``field``."""
    matrix = np.zeros((len(phrase_list), len(vocabulary)), dtype=np.float32)
    for row, phrase in enumerate(phrase_list):
        for label in phrase[field]:
            matrix[row, vocabulary.index(label)] = 1.0
    return matrix


class PhraseIndex:
    """Approved phrases, their unit vectors, a FAISS index, and per-phrase features as arrays.

    Snapshots are never modified: when the bank changes a new one is built from
    the stored vectors (cheap; nothing is re-embedded) and swapped in, so
    searches running in other threads never see a half-updated index.  The
    feature arrays let the ranker score every candidate with a few numpy
    operations instead of a Python loop.
    """

    def __init__(self, phrase_list, vectors, revision=0):
        self.phrases = list(phrase_list)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.revision = revision
        self.by_id = {p["id"]: i for i, p in enumerate(self.phrases)}
        dim = self.vectors.shape[1] if len(self.vectors) else 1
        # Exact search: a phrase bank holds thousands of phrases, not millions,
        # so a flat index is both fastest to build and exact.
        self.faiss = faiss.IndexFlatIP(dim)
        if len(self.vectors):
            self.faiss.add(self.vectors)
        self._build_features()

    def _build_features(self):
        phrase_list = self.phrases
        self.emotions = _membership(phrase_list, "emotions", EMOTIONS)
        self.situations = _membership(phrase_list, "situations", SITUATIONS)
        self.channels = _membership(phrase_list, "channels", CHANNELS)
        self.kind = np.array([KINDS.index(p["kind"]) for p in phrase_list], dtype=np.int64)
        self.apologetic = np.array(
            [p["kind"] == "apology" or rules.is_apologetic(p["text"]) for p in phrase_list], dtype=bool
        )
        self.praise = self.situations[:, SITUATIONS.index("praise")] > 0 if phrase_list else np.zeros(0, bool)
        self.cheerful = np.array([rules.is_cheerful(p["text"]) for p in phrase_list], dtype=bool) | self.praise

    def __len__(self):
        return len(self.phrases)

    def search(self, vector, k):
        """Return (positions, similarities) of the ``k`` phrases nearest ``vector``, best first."""
        if not self.phrases:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        k = min(k, len(self.phrases))
        sims, positions = self.faiss.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        keep = positions[0] >= 0
        return positions[0][keep], sims[0][keep]

    def similarity(self, a, b):
        """Cosine similarity of two phrases given by position."""
        return float(np.dot(self.vectors[a], self.vectors[b]))
