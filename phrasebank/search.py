"""Find phrases for curation: filters, words, similarity to a message, sorting and pages.

Words and filters run in SQL (a LIKE scan: 10,000 phrases take a few
milliseconds, and unlike FTS5 it needs no extra tables or triggers on the
shared store).  "Find phrases like this message" ranks every phrase, whatever
its status, by cosine similarity against the stored phrase vectors, which
``BankVectors`` keeps in memory until the bank changes.
"""

import json
import threading
from dataclasses import dataclass, field

import numpy as np

from . import vectors
from .store import PhraseStore

FILTERS = ("kind", "emotion", "situation", "channel", "language", "status")
SORTS = ("id", "updated", "usage", "acceptance", "similarity")
LIST_COLUMNS = {"emotion": "emotions", "situation": "situations", "channel": "channels"}
MAX_WORDS = 8
_EMPTY_STATS = {"shown": 0, "copied": 0, "inserted": 0, "thumbs_up": 0, "thumbs_down": 0, "accepted": 0,
                "acceptance": None}


@dataclass
class PhraseQuery:
    """What the admin asked for; unknown filter names are ignored by the caller's parsing."""

    words: str = ""
    filters: dict = field(default_factory=dict)
    sort: str = "id"
    page: int = 1
    per_page: int = 50


def _escape_like(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(query):
    """SQL condition and arguments for the filters and words of ``query``."""
    clauses, args = [], []
    for name, value in query.filters.items():
        if not value:
            continue
        if name in LIST_COLUMNS:
            # Lists are stored as JSON arrays of known labels, so the quoted label is exact.
            clauses.append(f"{LIST_COLUMNS[name]} like ?")
            args.append(f'%{json.dumps(value)}%')
        elif name in FILTERS:
            clauses.append(f"{name} = ?")
            args.append(value)
    for word in query.words.split()[:MAX_WORDS]:
        pattern = f"%{_escape_like(word)}%"
        clauses.append("(text like ? escape '\\' or use_when like ? escape '\\' or id like ? escape '\\')")
        args += [pattern, pattern, pattern]
    return (" and ".join(clauses) or "1"), args


def find(db, query, stats=None, similarity=None):
    """One page of phrases matching ``query``, with the total.

    ``stats`` maps phrase id to feedback counts (for sorting by usage or
    acceptance; missing ids count as never shown).  ``similarity`` maps phrase
    id to cosine with the admin's message; with it, results sort by it.
    Returns ``{"phrases": [...], "total", "page", "pages", "per_page"}``; each
    phrase carries ``stats`` and, when given, ``similarity``.
    """
    stats = stats or {}
    where, args = _where(query)
    rows = db.execute(f"select id, updated_at from phrases where {where}", args).fetchall()
    ids = _sorted_ids(rows, query.sort, stats, similarity)
    total, per_page = len(ids), query.per_page
    pages = max(1, -(-total // per_page))
    page = min(max(1, query.page), pages)
    chosen = ids[(page - 1) * per_page : page * per_page]
    found = PhraseStore(db).get_many(chosen)
    result = []
    for phrase_id in chosen:
        phrase = found[phrase_id]
        phrase["stats"] = {**_EMPTY_STATS, **stats.get(phrase_id, {})}
        phrase["used"] = phrase["stats"]["copied"] + phrase["stats"]["inserted"]
        if similarity is not None:
            phrase["similarity"] = round(float(similarity.get(phrase_id, 0.0)), 3)
        result.append(phrase)
    return {"phrases": result, "total": total, "page": page, "pages": pages, "per_page": per_page}


def _sorted_ids(rows, sort, stats, similarity):
    ids = sorted(r[0] for r in rows)
    if similarity is not None:
        return sorted(ids, key=lambda i: -similarity.get(i, -1.0))
    if sort == "updated":
        updated = dict(rows)
        return sorted(ids, key=lambda i: updated[i] or "", reverse=True)
    if sort == "usage":
        def used(i):
            s = stats.get(i, {})
            return (s.get("copied", 0) + s.get("inserted", 0), s.get("shown", 0))
        return sorted(ids, key=used, reverse=True)
    if sort == "acceptance":
        # Never-shown phrases (acceptance None) go last, not first.
        def accepted(i):
            value = stats.get(i, {}).get("acceptance")
            return (value is not None, value or 0.0, stats.get(i, {}).get("shown", 0))
        return sorted(ids, key=accepted, reverse=True)
    return ids


class BankVectors:
    """Unit vectors of every phrase (any status), rebuilt from the stored vectors when the bank changes.

    Thread-safe; share one per app.  A draft nobody has embedded yet is
    embedded once on the next rebuild (and stored, like approved phrases).
    """

    def __init__(self, embedder):
        self.embedder = embedder
        self._lock = threading.Lock()
        self._snapshot = (None, [], np.zeros((0, embedder.dim), dtype=np.float32), [])

    def snapshot(self, db):
        """(ids, matrix, phrases) for the current bank revision."""
        revision = PhraseStore(db).revision()
        with self._lock:
            if self._snapshot[0] != revision:
                phrase_list = PhraseStore(db).list()
                matrix = vectors.vectors_for(db, self.embedder, phrase_list)
                self._snapshot = (revision, [p["id"] for p in phrase_list], matrix, phrase_list)
            return self._snapshot[1:]

    def similarities(self, db, vector):
        """{phrase id: cosine with ``vector``} for every phrase."""
        ids, matrix, _ = self.snapshot(db)
        if not ids:
            return {}
        sims = matrix @ np.asarray(vector, dtype=np.float32)
        return dict(zip(ids, sims.tolist()))

    def nearest(self, db, vector, threshold, exclude=None, limit=3):
        """Phrases at cosine >= ``threshold`` to ``vector``, best first: [(phrase, cosine)]."""
        ids, matrix, phrase_list = self.snapshot(db)
        if not ids:
            return []
        sims = matrix @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")
        found = []
        for position in order:
            if sims[position] < threshold or len(found) >= limit:
                break
            if phrase_list[position]["id"] != exclude:
                found.append((phrase_list[position], float(sims[position])))
        return found
