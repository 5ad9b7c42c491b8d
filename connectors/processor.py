"""Apply stored webhook events in the background, then refresh caches and notify open streams.

Receiving only stores (fast, durable); this thread does the rest.  On start it
first applies whatever was stored but not applied before a crash.
"""

import logging
import threading
import time

from phrasebank.db import write_transaction

from .applier import Applier

log = logging.getLogger(__name__)


class Processor:
    """A daemon thread draining the inbox's pending events in arrival order."""

    def __init__(self, inbox, database, context=None, hub=None, region="US", model_name=None, retention_days=7,
                 embed=None):
        self.inbox = inbox
        self.database = database
        self.context = context
        self.hub = hub
        self.region = region
        self.model_name = model_name
        self.retention_days = retention_days
        self.embed = embed  # embed(texts): caches ticket vectors before any card needs them
        self._purged_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Start the background thread (applies anything left pending first)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhook-processor", daemon=True)
            self._thread.start()
        self.wake()
        return self

    def wake(self):
        """Tell the processor new events are waiting."""
        self._wake.set()

    def stop(self):
        """Stop after the current batch."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout=None):
        """Wait for the thread to finish (after ``stop``)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            try:
                while self.run_once():
                    pass
                if time.monotonic() - self._purged_at > 3600:
                    self._purged_at = time.monotonic()
                    self.inbox.purge(self.retention_days)
            except Exception:  # keep the thread alive; the event stays pending and is retried
                log.exception("webhook processor failed; retrying")
                self._stop.wait(1.0)

    def run_once(self, limit=50):
        """Apply up to ``limit`` pending events in one transaction; returns how many were handled.

        One commit per batch instead of two per event; each event runs in its
        own savepoint, so a failing event is rolled back alone and marked failed.
        Batches stay small so webhook receipts never wait long for the write lock.
        """
        batch = self.inbox.pending(limit)
        db = self.database.get()
        applier = Applier(db, region=self.region, model_name=self.model_name)
        touched = []
        with write_transaction(db):
            for event_id, connector, event in batch:
                try:
                    with db.atomic():
                        state, keys = applier.apply(connector, event)
                    self.inbox.finish(event_id, state, keys)
                except Exception as e:  # a bad event must not block the ones behind it
                    log.exception("webhook event %s from %s failed", event_id, connector)
                    self.inbox.finish(event_id, "failed", error=f"{type(e).__name__}: {e}"[:500])
                    continue
                touched.append((event_id, keys))
        for event_id, keys in touched:  # only after the commit: readers must see the new data
            if keys and self.context is not None:
                self.context.invalidate_keys(keys)
            if keys and self.hub is not None:
                self.hub.publish(keys, event_id)
        if batch and self.embed is not None:
            self._embed_tickets([event for _, _, event in batch if event.get("object_type") == "ticket"])
        return len(batch)

    def _embed_tickets(self, events):
        from .card import ticket_text

        texts = {ticket_text(e.get("changes") or {}) for e in events if (e.get("changes") or {}).get("subject")}
        if texts - {""}:
            try:
                self.embed(sorted(texts - {""}))
            except Exception:  # only a cache warm-up; the card embeds on demand if this fails
                log.exception("could not embed ticket texts")
