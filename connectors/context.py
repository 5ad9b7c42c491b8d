"""Customer context on a deadline: a SQLite card cache with stale-while-revalidate.

Remote CRMs are slow, throttle and fail.  A cached record is served at once
(marked stale once its TTL has passed, while a background refresh runs); with
nothing cached, the caller waits at most its deadline and otherwise gets a
"pending" card while the fetch completes into the cache.  The local store is
read directly: it is fast and always current.
"""

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from datetime import datetime, timezone

from sqlite_utils import Migrations

from phrasebank.db import write_transaction

from .base import Activity, ConnectorError, Customer, CustomerRecord, Ticket
from .card import build_card, iso, merge_records
from .phones import to_e164

log = logging.getLogger(__name__)
migrations = Migrations("crm_cache")
NOT_FOUND_TTL = 60.0


@migrations(name="0001_card_cache")
def _card_cache(db):
    db["crm_card_cache"].create(
        {"key": str, "records": str, "found": int, "fetched_at": str, "expires_at": float}, pk="key"
    )


def cache_key(ref, region="US"):
    """Normalise a customer reference {"email"|"phone"|"id": value} into a cache key."""
    if ref.get("email"):
        return "email:" + ref["email"].strip().lower()
    if ref.get("phone"):
        return "phone:" + (to_e164(ref["phone"], region) or ref["phone"].strip())
    return "id:" + str(ref.get("id")).strip()


def _lookup_args(ref, region):
    if ref.get("email"):
        return {"email": ref["email"].strip().lower()}
    if ref.get("phone"):
        return {"phone": to_e164(ref["phone"], region) or ref["phone"]}
    return {"customer_id": str(ref.get("id")).strip()}


def _record_to_json(record):
    return {"customer": asdict(record.customer), "tickets": [asdict(t) for t in record.tickets],
            "activities": [asdict(a) for a in record.activities]}


def _record_from_json(data):
    return CustomerRecord(Customer(**data["customer"]), [Ticket(**t) for t in data["tickets"]],
                          [Activity(**a) for a in data["activities"]])


class CustomerContext:
    """Build customer cards from the enabled connectors, within a deadline.

    ``connectors`` maps names to Connector; ``problems`` maps names of
    connectors that could not be configured to a reason (shown in health).
    ``embed(texts)`` returns unit vectors for repeat detection.
    """

    def __init__(self, connectors, database, embed=None, problems=None, ttl=300.0, region="US", workers=8,
                 window_days=30, encode=None):
        self.connectors = connectors
        self.encode = encode  # uncached encoder for message clauses
        self.window_days = window_days
        self.database = database
        self.embed = embed
        self.ttl = ttl
        self.region = region
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crm")
        self._inflight = {}
        self._lock = threading.Lock()
        self.health = {name: {"status": "ok", "last_error": None, "last_ok_at": None} for name in connectors}
        for name, problem in (problems or {}).items():
            self.health[name] = {"status": "misconfigured", "last_error": problem, "last_ok_at": None}

    # -- public ---------------------------------------------------------------
    def card(self, ref, message=None, message_vector=None, conversation=None, deadline=0.3, now=None):
        """The customer card for ``ref`` (see connectors.card.build_card), never slower than ``deadline`` s."""
        now = now or datetime.now(timezone.utc)
        records, errors, stale, fetched_at = self._records(ref, deadline)
        if records is None:
            return self._empty("pending", errors)
        merged = merge_records(records)
        if merged is None:
            return self._empty("error" if errors and len(errors) == len(self.connectors) else "not_found", errors)
        card = build_card(merged, now=now, message=message, message_vector=message_vector, embed=self.embed,
                          conversation=conversation, fetched_at=fetched_at, stale=stale,
                          window_days=self.window_days, encode=self.encode)
        if errors:
            card["errors"] = errors
        return card

    def invalidate(self, ref=None):
        """Forget cached cards (one customer, or all); the next request fetches fresh data."""
        db = self.database.get()
        with write_transaction(db):
            if ref is None:
                db.execute("delete from crm_card_cache")
            else:
                db.execute("delete from crm_card_cache where key = ?", [cache_key(ref, self.region)])

    def invalidate_keys(self, keys):
        """Forget cached cards by cache key (as produced by ``cache_key``)."""
        db = self.database.get()
        with write_transaction(db):
            for key in keys:
                db.execute("delete from crm_card_cache where key = ?", [key])

    def close(self):
        """Stop background fetches and close connector sessions."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        for connector in self.connectors.values():
            connector.close()

    # -- records ----------------------------------------------------------------
    def _records(self, ref, deadline):
        """Return (records or None if pending, errors, stale, fetched_at)."""
        started = time.monotonic()
        records, errors, stale, fetched_at = [], [], False, iso(datetime.now(timezone.utc))
        remote = [n for n, c in self.connectors.items() if getattr(c, "cacheable", True)]
        for name, connector in self.connectors.items():
            if name not in remote:
                records.append(self._fetch_one(name, connector, ref, errors))
        if not remote:
            return records, errors, stale, fetched_at
        cached = self._cached(ref)
        if cached and cached["expires_at"] > time.time():
            return records + cached["records"], errors, False, cached["fetched_at"]
        future = self._refresh(ref, remote)
        if cached:  # stale-while-revalidate: answer now, refresh behind
            return records + cached["records"], errors, True, cached["fetched_at"]
        try:
            fresh, remote_errors = future.result(timeout=max(0.0, deadline - (time.monotonic() - started)))
        except FutureTimeout:
            found_locally = any(r is not None for r in records)
            return (records if found_locally else None), errors, True, None
        return records + fresh, errors + remote_errors, False, fetched_at

    def _fetch_one(self, name, connector, ref, errors):
        try:
            record = connector.record(**_lookup_args(ref, self.region))
        except ConnectorError as e:
            self._note_error(name, e.message)
            errors.append({"source": name, "code": e.code, "message": e.message})
            return None
        except Exception as e:  # a connector bug must not take the card down; log it loudly
            log.exception("connector %s failed", name)
            self._note_error(name, f"unexpected {type(e).__name__}")
            errors.append({"source": name, "code": "crm_error", "message": "unexpected connector failure"})
            return None
        self.health[name].update(status="ok", last_ok_at=iso(datetime.now(timezone.utc)))
        return record

    def _refresh(self, ref, names):
        key = cache_key(ref, self.region)
        with self._lock:
            future = self._inflight.get(key)
            if future is None:
                future = self.executor.submit(self._fetch_remote, ref, names, key)
                self._inflight[key] = future
                future.add_done_callback(lambda _: self._inflight.pop(key, None))
        return future

    def _fetch_remote(self, ref, names, key):
        errors = []
        records = [self._fetch_one(n, self.connectors[n], ref, errors) for n in names]
        if errors and len(errors) == len(names):
            return records, errors  # keep serving whatever was cached
        found = [r for r in records if r is not None]
        ttl = self.ttl if found else NOT_FOUND_TTL
        db = self.database.get()
        with write_transaction(db):
            db["crm_card_cache"].upsert(
                {"key": key, "records": json.dumps([_record_to_json(r) for r in found]), "found": int(bool(found)),
                 "fetched_at": iso(datetime.now(timezone.utc)), "expires_at": time.time() + ttl},
                pk="key",
            )
        return found, errors

    def _cached(self, ref):
        rows = list(self.database.get()["crm_card_cache"].rows_where("key = ?", [cache_key(ref, self.region)]))
        if not rows:
            return None
        row = rows[0]
        return {"records": [_record_from_json(r) for r in json.loads(row["records"])],
                "fetched_at": row["fetched_at"], "expires_at": row["expires_at"]}

    def _note_error(self, name, message):
        log.warning("connector %s: %s", name, message)
        self.health[name].update(status="error", last_error=message, last_error_at=iso(datetime.now(timezone.utc)))

    def _empty(self, status, errors):
        card = {"status": status, "customer": None, "open_tickets": [], "recent_interactions": [],
                "repeat_contact": None, "follow_ups_due": [], "already_told_us": [],
                "stale": status != "not_found", "fetched_at": None}
        if errors:
            card["errors"] = errors
        return card
