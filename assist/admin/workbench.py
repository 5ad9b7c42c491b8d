"""What the admin pages compute (no Flask): previews of a draft phrase and "try a message".

A preview shows a draft as agents would see it: rendered with a demo
customer's CRM facts, linted, and ranked against a fixed set of sample
messages (the demo customers' messages) next to the approved bank.
"""

import threading
import time

import numpy as np

from connectors.card import slot_facts
from connectors.demo import DEMO_MESSAGES
from phrasebank import lint, phrases, templates
from phrasebank.index import PhraseIndex
from phrasebank.ranking import Context, exclusion, score_all
from phrasebank.search import BankVectors
from phrasebank.vectors import cached_vectors
from phrasebank.vocab import KINDS, SITUATIONS

from .. import assistant

SAMPLE_AGENT = "Sam"
SUGGESTION_LIMIT = 3  # what the sidebar asks for
SAMPLE_TTL = 60.0  # seconds the sample messages' understanding and cards are reused
NEAR_MISSES = 5


class Workbench:
    """Per-app helper holding the caches the admin pages share (one per app)."""

    def __init__(self, services):
        self.services = services
        self.bank_vectors = BankVectors(services.embedder)
        self._samples = (0.0, [])
        self._lock = threading.Lock()

    # -- samples -------------------------------------------------------------------------

    def samples(self):
        """[{"email", "message", "vector", "ctx", "facts"}] for the demo messages, cached briefly."""
        with self._lock:
            made_at, samples = self._samples
            if time.monotonic() - made_at > SAMPLE_TTL:
                samples = self._build_samples()
                self._samples = (time.monotonic(), samples)
            return samples

    def _build_samples(self):
        db = self.services.database.get()
        emails = list(DEMO_MESSAGES)
        vectors = cached_vectors(db, self.services.embedder, [DEMO_MESSAGES[e] for e in emails])
        samples = []
        for email, vector in zip(emails, vectors):
            message = DEMO_MESSAGES[email]
            card = self.customer_card(email, message, vector)
            samples.append({"email": email, "message": message, "vector": vector,
                            "ctx": self._context(message, vector, card), "name": _name(card)})
        return samples

    def customer_card(self, email, message=None, vector=None):
        """The card agents would get for a demo customer (None when ``email`` is empty)."""
        if not email:
            return None
        return self.services.context.card({"email": email}, message=message, message_vector=vector,
                                          deadline=self.services.config["CRM_DEADLINE_MS"] / 1000)

    def _context(self, message, vector, card):
        # The same context agents' requests get, without learned boosts: a draft has no feedback yet.
        engine = self.services.engine
        return engine.context(engine.understand(message, vector), facts=slot_facts(card, agent_name=SAMPLE_AGENT),
                              boosts={}, extra_situations=assistant.crm_situations(card))

    # -- previews ------------------------------------------------------------------------

    def draft_vector(self, draft):
        """The embedding of a draft's text as the bank would embed it (not stored)."""
        return self.services.embedder.encode_one(phrases.embedding_text(draft))

    def check(self, draft, vector=None, exclude=None):
        """Lint problems of a draft, near-duplicates of the bank included."""
        problems = lint.lint_phrase(draft)
        if lint.blocking(problems) and any(p["code"] == "missing" for p in problems):
            return problems
        vector = self.draft_vector(draft) if vector is None else vector
        near = self.bank_vectors.nearest(self.services.database.get(), vector, lint.NEAR_DUPLICATE, exclude=exclude)
        return lint.lint_phrase(draft, near)

    def render(self, draft, email):
        """The draft filled with a demo customer's facts: {"text", "facts", "used_fallback", "customer"}."""
        sample = next((s for s in self.samples() if s["email"] == email), None)
        facts = sample["ctx"].facts if sample else slot_facts(None, agent_name=SAMPLE_AGENT)
        text = draft.get("text") or ""
        missing = [s for s in templates.slots_in(text) if s not in facts
                   and not (s == "contact_count_ordinal" and "contact_count" in facts)]
        rendered = templates.render(text, facts, draft.get("fallback")) if text else None
        return {"text": rendered, "facts": facts, "missing": missing,
                "used_fallback": bool(rendered) and bool(missing),
                "customer": sample["name"] if sample else None}

    def rankings(self, draft, vector):
        """Where the draft would rank, per sample message, among approved phrases of its kind."""
        index = self.services.engine.index
        single = PhraseIndex([{**draft, "id": draft.get("id") or "(draft)"}], vector.reshape(1, -1))
        rows = []
        for sample in self.samples():
            rows.append(self._rank_one(index, single, draft, sample))
        return sorted(rows, key=lambda r: (r["excluded"] is not None, r["rank"] or 999, -r["score"]))

    def _rank_one(self, index, single, draft, sample):
        ctx = sample["ctx"]
        mine = score_all(single, sample["vector"], ctx)
        score = float(mine.total[0])
        excluded = exclusion(single, 0, ctx, mine)
        rendered = templates.render(draft["text"], ctx.facts, draft.get("fallback"))
        if excluded is None and rendered is None:
            excluded = "slots cannot be filled for this customer and there is no fallback"
        rank = None
        if excluded is None:
            rank = 1 + _better(index, sample, ctx, draft, score)
        return {"email": sample["email"], "customer": sample["name"], "message": sample["message"],
                "emotion": ctx.emotion, "situations": sorted(ctx.situations), "score": round(score, 4),
                "rank": rank, "shown": rank is not None and rank <= SUGGESTION_LIMIT, "excluded": excluded}

    # -- try a message -------------------------------------------------------------------

    def try_message(self, message, email=None, channel=None, limit=SUGGESTION_LIMIT):
        """What agents would see for ``message`` (the /api/v1/suggest body), plus near misses."""
        ref = {"email": email} if email else None
        result = assistant.suggest(self.services, message, customer_ref=ref, channel=channel, limit=limit)
        result["near_misses"] = self._near_misses(message, result, channel)
        return result

    def _near_misses(self, message, result, channel):
        """The best-scoring phrases the hard rules removed, with the rule that removed each."""
        engine = self.services.engine
        index = engine.index
        if not len(index):
            return []
        vector = engine.embed(message)
        ctx = Context(emotion=result["emotion"]["label"], emotion_scores=result["emotion"]["scores"],
                      situations={s["label"]: s["confidence"] for s in result["situations"]}, channel=channel)
        scores = score_all(index, vector, ctx)
        candidates = np.where(scores.excluded & (scores.semantic > -0.99))[0]
        best = candidates[np.argsort(-scores.total[candidates], kind="stable")][:NEAR_MISSES]
        return [{"id": index.phrases[i]["id"], "kind": index.phrases[i]["kind"], "text": index.phrases[i]["text"],
                 "score": round(float(scores.total[i]), 4), "reason": exclusion(index, i, ctx, scores)}
                for i in best]


def _better(index, sample, ctx, draft, score):
    """How many approved phrases of the draft's kind (other than itself) outscore it and may be shown."""
    if not len(index):
        return 0
    scores = sample.get("_scores")
    if scores is None or sample.get("_revision") != index.revision:
        scores = score_all(index, sample["vector"], ctx)
        sample["_scores"], sample["_revision"] = scores, index.revision
    eligible = (index.kind == KINDS.index(draft["kind"])) & ~scores.excluded
    if draft.get("id") in index.by_id:
        eligible[index.by_id[draft["id"]]] = False
    better = eligible & (scores.total > score)
    count = int(better.sum())
    if not ctx.confirmed:
        return count
    # The best phrase about a situation the CRM confirms leads its kind (ranking._leads).
    columns = [SITUATIONS.index(s) for s in ctx.confirmed]
    leading = eligible & (index.situations[:, columns] > 0).any(axis=1)
    if ctx.confirmed & set(draft.get("situations") or ()):
        return count if (leading & better).any() else 0  # the draft itself leads unless a better one does
    return count + int((leading & ~better).any())  # a weaker leading phrase still goes ahead of it


def _name(card):
    customer = (card or {}).get("customer") or {}
    return customer.get("name")
