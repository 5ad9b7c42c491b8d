"""An immutable, searchable snapshot of the approved phrases and their vectors (FAISS)."""

import faiss
import numpy as np


class PhraseIndex:
    """Approved phrases, their unit vectors and a FAISS inner-product index over them.

    Snapshots are never modified: when the bank changes a new one is built from
    the stored vectors (cheap; nothing is re-embedded) and swapped in, so
    searches running in other threads never see a half-updated index.
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

    def __len__(self):
        return len(self.phrases)

    def search(self, vector, k):
        """Return [(position, similarity)] of the ``k`` phrases nearest ``vector``, best first."""
        if not self.phrases:
            return []
        k = min(k, len(self.phrases))
        sims, positions = self.faiss.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [(int(p), float(s)) for p, s in zip(positions[0], sims[0]) if p >= 0]

    def similarity(self, a, b):
        """Cosine similarity of two phrases given by position."""
        return float(np.dot(self.vectors[a], self.vectors[b]))
