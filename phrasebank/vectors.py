"""Phrase vectors stored in SQLite as float32 blobs keyed by content hash."""

import numpy as np

from . import phrases
from .db import write_transaction
from .store import utcnow

BATCH = 64


def vectors_for(db, embedder, phrase_list):
    """Return an (n, dim) float32 array for ``phrase_list``, embedding only what is new.

    A phrase whose embedding text and model are unchanged reuses its stored
    vector; new ones are embedded in batches and stored.
    """
    return cached_vectors(db, embedder, [phrases.embedding_text(p) for p in phrase_list])


def cached_vectors(db, embedder, texts):
    """Vectors for any texts, stored by content hash so each distinct text is embedded once."""
    hashes = [phrases.content_hash(embedder.name, t) for t in texts]
    stored = _load(db, embedder.name, set(hashes))
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in stored}.items())
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        vectors = embedder.encode([t for _, t in batch])
        _save(db, embedder.name, [h for h, _ in batch], vectors)
        stored.update({h: v for (h, _), v in zip(batch, vectors)})
    if not hashes:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([stored[h] for h in hashes]).astype(np.float32)


def _load(db, model, hashes):
    found = {}
    wanted = list(hashes)
    for start in range(0, len(wanted), 500):  # stay under SQLite's parameter limit
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"select content_hash, vector from embeddings where model = ? and content_hash in ({marks})",
            [model, *chunk],
        )
        found.update({h: np.frombuffer(blob, dtype=np.float32) for h, blob in rows})
    return found


def _save(db, model, hashes, vectors):
    now = utcnow()
    rows = [
        {"content_hash": h, "model": model, "dim": int(v.shape[0]), "vector": v.astype(np.float32).tobytes(), "created_at": now}
        for h, v in zip(hashes, vectors)
    ]
    with write_transaction(db):
        db["embeddings"].insert_all(rows, pk=("content_hash", "model"), replace=True)


def count_stored(db, model):
    """Number of vectors stored for ``model``."""
    return db.execute("select count(*) from embeddings where model = ?", [model]).fetchone()[0]
