"""The webhook inbox: every accepted delivery and its events, committed before we acknowledge.

Events are unique per (connector, vendor key), so a vendor's retries and
duplicate deliveries are stored once and applied once.  Events wait in state
``pending`` until the processor applies them; after a crash the processor
simply starts again from the pending ones.
"""

import json
from collections import deque
from datetime import datetime, timedelta, timezone

from sqlite_utils import Migrations

from phrasebank.db import write_transaction

from .card import iso

migrations = Migrations("webhooks")
# Headers worth keeping for debugging an integration; signatures and secrets are not kept.
KEPT_HEADERS = ("content-type", "user-agent", "x-zendesk-webhook-invocation-id", "x-chatwoot-delivery",
                "x-hubspot-request-timestamp", "x-zendesk-webhook-signature-timestamp", "x-chatwoot-timestamp")


@migrations(name="0001_inbox")
def _inbox(db):
    db["webhook_deliveries"].create(
        {"id": int, "connector": str, "received_at": str, "events": int, "new_events": int, "outcome": str,
         "headers": str, "body": bytes},
        pk="id",
    )
    db["webhook_deliveries"].create_index(["received_at"])
    db["webhook_events"].create(
        {"id": int, "connector": str, "key": str, "delivery_id": int, "occurred_at": str, "type": str,
         "object_type": str, "object_id": str, "event": str, "state": str, "error": str, "applied_at": str},
        pk="id",
    )
    db["webhook_events"].create_index(["connector", "key"], unique=True)
    db["webhook_events"].create_index(["state", "id"])
    db["webhook_event_customers"].create({"event_id": int, "customer_key": str}, pk=("customer_key", "event_id"))


def _now():
    return datetime.now(timezone.utc)


class Inbox:
    """Durable storage of webhook deliveries and events in the app's SQLite file."""

    def __init__(self, database, rejected_log_size=200):
        self.database = database
        # Rejected requests (bad signature, malformed) are not stored: nothing
        # unverified is written.  The admin view still shows the latest ones.
        self.rejected = deque(maxlen=rejected_log_size)

    def accept(self, connector, headers, body, events):
        """Store a verified delivery and its events in one transaction; returns (delivery_id, new, duplicates)."""
        db = self.database.get()
        kept = {k: v for k, v in headers.items() if k in KEPT_HEADERS}
        # Serialise before taking the write lock: it is most of the work, and
        # events hold only JSON values, so a shallow dict is a full copy.
        rows = [(connector, e.key, e.occurred_at, e.type, e.object_type, e.object_id, json.dumps(e.__dict__))
                for e in events]
        with write_transaction(db):
            cursor = db.execute(
                "insert into webhook_deliveries (connector, received_at, events, new_events, outcome, headers, body) "
                "values (?, ?, ?, 0, 'accepted', ?, ?)",
                [connector, iso(_now()), len(events), json.dumps(kept), body],
            )
            delivery_id = cursor.lastrowid
            before = db.conn.total_changes
            db.conn.executemany(
                "insert or ignore into webhook_events (connector, key, delivery_id, occurred_at, type, object_type,"
                " object_id, event, state) values (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                [(c, k, delivery_id, o, t, ot, oi, e) for c, k, o, t, ot, oi, e in rows],
            )
            new = db.conn.total_changes - before
            duplicates = len(events) - new
            db.execute(
                "update webhook_deliveries set new_events = ?, outcome = ? where id = ?",
                [new, "accepted" if not duplicates else f"accepted ({duplicates} duplicate)", delivery_id],
            )
        return delivery_id, new, duplicates

    def reject(self, connector, status, code, message):
        """Remember a rejected request in memory only (for the admin view)."""
        self.rejected.appendleft({"connector": connector, "received_at": iso(_now()), "status": status,
                                  "code": code, "message": message})

    def pending(self, limit=500):
        """Pending events, in order of arrival: [(id, connector, event dict)]."""
        rows = self.database.get().execute(
            "select id, connector, event from webhook_events where state = 'pending' order by id limit ?", [limit]
        ).fetchall()
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def finish(self, event_id, state, customer_keys=(), error=None):
        """Mark an event applied, skipped or failed, and index the customers it touched."""
        db = self.database.get()
        with write_transaction(db):
            db.execute("update webhook_events set state = ?, error = ?, applied_at = ? where id = ?",
                       [state, error, iso(_now()), event_id])
            for key in set(customer_keys):
                db.execute("insert or ignore into webhook_event_customers (event_id, customer_key) values (?, ?)",
                           [event_id, key])

    def latest_for(self, customer_key, after=0):
        """The newest event id at or after ``after`` that touched this customer (0 if none)."""
        row = self.database.get().execute(
            "select max(event_id) from webhook_event_customers where customer_key = ? and event_id > ?",
            [customer_key, after],
        ).fetchone()
        return row[0] or 0

    def recent(self, limit=50, connector=None):
        """Recent deliveries with their events' outcomes, newest first (no raw bodies)."""
        db = self.database.get()
        where, args = ("where connector = ?", [connector]) if connector else ("", [])
        deliveries = db.execute(
            f"select id, connector, received_at, events, new_events, outcome, headers, body is not null "
            f"from webhook_deliveries {where} order by id desc limit ?", [*args, limit]
        ).fetchall()
        result = []
        for d in deliveries:
            events = db.execute(
                "select id, key, type, object_type, object_id, occurred_at, state, error from webhook_events "
                "where delivery_id = ? order by id", [d[0]]
            ).fetchall()
            result.append({
                "id": d[0], "connector": d[1], "received_at": d[2], "events": d[3], "new_events": d[4],
                "outcome": d[5], "headers": json.loads(d[6] or "{}"), "payload_kept": bool(d[7]),
                "event_outcomes": [dict(zip(("id", "key", "type", "object_type", "object_id", "occurred_at",
                                             "state", "error"), e)) for e in events],
            })
        return result

    def payload(self, delivery_id):
        """The raw body of a delivery (None once purged or unknown)."""
        row = self.database.get().execute("select body from webhook_deliveries where id = ?", [delivery_id]).fetchone()
        return row[0] if row else None

    def purge(self, retention_days, now=None):
        """Drop raw payloads older than the retention period; returns how many were purged."""
        cutoff = iso((now or _now()) - timedelta(days=retention_days))
        db = self.database.get()
        with write_transaction(db):
            cursor = db.execute(
                "update webhook_deliveries set body = null where body is not null and received_at < ?", [cutoff]
            )
            db.execute("update webhook_events set event = '{}' where state != 'pending' and applied_at < ?", [cutoff])
        return cursor.rowcount

    def counts(self):
        """Events by state (for /healthz)."""
        rows = self.database.get().execute("select state, count(*) from webhook_events group by state").fetchall()
        return dict(rows)
