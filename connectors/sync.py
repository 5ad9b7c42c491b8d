"""Backfill the local store from a CRM, resumably.

The cursor of the last completed page is saved after each page, in the same
transaction as that page's records, so an interrupted sync resumes exactly
where it stopped and never stores a page twice or skips one.
"""

import json

from sqlite_utils import Migrations

from phrasebank.db import write_transaction

from .card import iso
from .localstore import LocalStore

migrations = Migrations("crm_sync")


@migrations(name="0001_sync_state")
def _sync_state(db):
    db["crm_sync_state"].create(
        {"connector": str, "since": str, "cursor": str, "customers": int, "started_at": str, "finished_at": str},
        pk="connector",
    )


def sync_state(db, name):
    """The saved state of the last sync of ``name``, or None."""
    rows = list(db["crm_sync_state"].rows_where("connector = ?", [name]))
    return rows[0] if rows else None


def sync(db, connector, since=None, restart=False, region="US", now=None, on_page=None):
    """Copy every customer (with tickets and activities) from ``connector`` into the local store.

    Resumes an unfinished sync of the same connector and ``since`` unless
    ``restart``.  ``on_page(count)`` is called after each stored page.
    Returns (customers stored in this run, customers stored by the whole sync including resumed runs).
    """
    state = sync_state(db, connector.name)
    resume = state and not state["finished_at"] and state["since"] == since and not restart
    cursor = json.loads(state["cursor"]) if resume and state["cursor"] else None
    total = state["customers"] if resume else 0
    started = state["started_at"] if resume else (now or iso_now())
    store, stored = LocalStore(db, region), 0
    _save_state(db, connector.name, since, cursor, total, started, None)
    for customers, next_cursor in connector.customer_pages(since=since, cursor=cursor):
        records = [connector.record_for(c, since=since) for c in customers]
        with write_transaction(db):
            for record in records:
                if record is not None:
                    store.save_record(record, connector.name)
                    stored += 1
            _save_state(db, connector.name, since, next_cursor, total + stored, started, None)
        if on_page:
            on_page(len(customers))
    _save_state(db, connector.name, since, None, total + stored, started, now or iso_now())
    return stored, total + stored


def _save_state(db, name, since, cursor, customers, started, finished):
    with write_transaction(db):
        db["crm_sync_state"].upsert(
            {"connector": name, "since": since, "cursor": json.dumps(cursor) if cursor is not None else None,
             "customers": customers, "started_at": started, "finished_at": finished},
            pk="connector",
        )


def iso_now():
    """Now, as an ISO 8601 UTC string."""
    from datetime import datetime, timezone

    return iso(datetime.now(timezone.utc))
