"""Writing to the embedded CRM store: imports, sync from a CRM, demo data, (later) webhooks.

Records from another system keep their identity as (source, source_id), so a
re-import or a second sync updates rows instead of duplicating them.  Every
import is validated whole before anything is written, then written in one
transaction.
"""

import csv
import io
import json
from pathlib import Path

from phrasebank.db import write_transaction

from .base import ConnectorError
from .card import iso, parse_time
from .local import new_id
from .phones import to_e164

CUSTOMER_FIELDS = ("name", "email", "phone", "company", "tier", "url")
TICKET_FIELDS = ("subject", "description", "status", "priority", "created_at", "updated_at", "url", "channel")
ACTIVITY_FIELDS = ("at", "kind", "channel", "summary", "ticket_id", "due_at", "done", "outcome")
ACTIVITY_KINDS = ("note", "task", "comment", "call", "email", "chat", "message")
CLOSED_STATUSES = {"closed", "solved", "resolved", "done", "cancelled", "canceled"}
MAX_TEXT = 10000


class InvalidImport(ConnectorError):
    """A CRM import file has a bad row; ``field`` names what is wrong and where."""

    status = 400
    code = "invalid_import"

    def __init__(self, message, field=None):
        super().__init__(message, "local")
        self.field = field


def _text(value, where, limit=MAX_TEXT):
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int, float)):
        raise InvalidImport(f"{where} must be text", field=where)
    return str(value).strip()[:limit] or None


def _time(value, where):
    if value in (None, ""):
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise InvalidImport(f"{where} is not an ISO 8601 date/time: {value!r}", field=where)
    return iso(parsed)


class LocalStore:
    """Upsert customers, tickets and activities into the crm_* tables of ``db``."""

    def __init__(self, db, region="US"):
        self.db = db
        self.region = region

    # -- single records ------------------------------------------------------------
    def upsert_customer(self, data, source="local", source_id=None):
        """Insert or update a customer; matched by (source, source_id), then email, then phone. Returns its id."""
        row = {f: _text(data.get(f), f"customer.{f}", 500) for f in CUSTOMER_FIELDS}
        row["email"] = row["email"].lower() if row["email"] else None
        row["phone"] = to_e164(row["phone"], self.region) if row["phone"] else None
        if not (row["email"] or row["phone"] or source_id):
            raise InvalidImport("a customer needs an email, a phone or an id", field="customer.email")
        source_id = str(source_id or row["email"] or row["phone"])
        existing = self._existing_customer(source, source_id, row["email"], row["phone"])
        row.update(source=source, source_id=source_id, updated_at=_time(data.get("updated_at"), "customer.updated_at"))
        if existing:
            merged = {k: (v if v is not None else existing.get(k)) for k, v in row.items()}
            self.db["crm_customers"].update(existing["id"], merged)
            return existing["id"]
        row["id"] = new_id("c")
        self.db["crm_customers"].insert(row)
        return row["id"]

    def _existing_customer(self, source, source_id, email, phone):
        """The stored customer this data describes: same origin record, else same email, else same phone.

        A phone match only counts when the emails do not contradict it: family
        members and colleagues share phone numbers, but not email addresses.
        """
        rows = list(self.db["crm_customers"].rows_where("source = ? and source_id = ?", [source, source_id], limit=1))
        if not rows and email:
            rows = list(self.db["crm_customers"].rows_where("email = ?", [email], limit=1))
        if not rows and phone:
            rows = [r for r in self.db["crm_customers"].rows_where("phone = ?", [phone], limit=5)
                    if not email or not r["email"]][:1]
        return rows[0] if rows else None

    def upsert_ticket(self, customer_id, data, source="local"):
        """Insert or update a ticket by (source, id)."""
        source_id = _text(data.get("id"), "ticket.id", 200) or new_id("t")
        row = {f: _text(data.get(f), f"ticket.{f}") for f in TICKET_FIELDS}
        for f in ("created_at", "updated_at"):
            row[f] = _time(data.get(f), f"ticket.{f}")
        row["updated_at"] = row["updated_at"] or row["created_at"]
        is_open = data.get("is_open")
        row["is_open"] = int(is_open if isinstance(is_open, bool) else (row["status"] or "open").lower() not in CLOSED_STATUSES)
        row.update(customer_id=customer_id, source=source, source_id=source_id)
        self._upsert("crm_tickets", row, "t")

    def upsert_activity(self, customer_id, data, source="local"):
        """Insert or update an activity (note, task, call, ...) by (source, id)."""
        kind = _text(data.get("kind"), "activity.kind", 20) or "note"
        if kind not in ACTIVITY_KINDS:
            raise InvalidImport(f"activity.kind must be one of {', '.join(ACTIVITY_KINDS)}", field="activity.kind")
        row = {f: _text(data.get(f), f"activity.{f}") for f in ACTIVITY_FIELDS}
        row.update(kind=kind, at=_time(data.get("at"), "activity.at"), due_at=_time(data.get("due_at"), "activity.due_at"))
        done = data.get("done")
        row["done"] = int(done if isinstance(done, bool) else str(done or "").lower() in ("1", "true", "yes", "done"))
        source_id = _text(data.get("id"), "activity.id", 200) or new_id("a")
        row.update(customer_id=customer_id, source=source, source_id=source_id)
        self._upsert("crm_activities", row, "a")

    def _upsert(self, table, row, prefix):
        existing = list(self.db[table].rows_where("source = ? and source_id = ?", [row["source"], row["source_id"]], limit=1))
        if existing:
            self.db[table].update(existing[0]["id"], row)
        else:
            self.db[table].insert({**row, "id": new_id(prefix)})

    # -- whole records and files ------------------------------------------------------
    def save_record(self, record, source):
        """Store a connector's CustomerRecord (used by `assist sync`)."""
        customer_id = self.upsert_customer(record.customer.to_dict(), source, record.customer.id)
        for ticket in record.tickets:
            self.upsert_ticket(customer_id, ticket.to_dict(), source)
        for activity in record.activities:
            self.upsert_activity(customer_id, activity.to_dict(), source)
        return customer_id

    def import_customers(self, customers, source="import"):
        """Import [{customer fields, "tickets": [...], "activities": [...]}] atomically; returns counts."""
        if not isinstance(customers, list):
            raise InvalidImport("expected a list of customers", field="customers")
        counts = {"customers": 0, "tickets": 0, "activities": 0}
        with write_transaction(self.db):
            for index, item in enumerate(customers):
                try:
                    self._import_one(item, source, counts)
                except InvalidImport as e:
                    raise InvalidImport(f"customer {index}: {e.message}", field=e.field) from e
        return counts

    def _import_one(self, item, source, counts):
        if not isinstance(item, dict):
            raise InvalidImport("each customer must be an object", field="customer")
        customer_id = self.upsert_customer(item, source, item.get("id"))
        counts["customers"] += 1
        for key, method in (("tickets", self.upsert_ticket), ("activities", self.upsert_activity)):
            rows = item.get(key) or []
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise InvalidImport(f"{key} must be a list of objects", field=key)
            for row in rows:
                method(customer_id, row, source)
                counts[key] += 1


def read_crm_file(path):
    """Parse a CRM import file (JSON, or a flat CSV of interactions) into the import shape."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).lower().endswith(".csv"):
        return customers_from_csv(text)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise InvalidImport(f"cannot parse JSON: {e}", field="file") from e
    return data.get("customers") if isinstance(data, dict) else data


def customers_from_csv(text):
    """Group a flat CSV (one interaction per row, customer columns repeated) into customers.

    Columns: email, phone, name, company, tier, and per row: at, kind, channel,
    summary, due_at, done, outcome, ticket_id, ticket_subject, ticket_status,
    ticket_priority, ticket_created_at.
    """
    by_customer = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        key = (row.get("email") or "").lower() or row.get("phone")
        if not key:
            raise InvalidImport(f"line {line}: each row needs an email or a phone", field="email")
        customer = by_customer.setdefault(key, {**{f: row.get(f) for f in CUSTOMER_FIELDS}, "tickets": [], "activities": []})
        if row.get("ticket_id") and row.get("ticket_subject"):
            customer["tickets"].append({"id": row["ticket_id"], "subject": row["ticket_subject"],
                                        "status": row.get("ticket_status"), "priority": row.get("ticket_priority"),
                                        "created_at": row.get("ticket_created_at") or row.get("at")})
        if row.get("summary") or row.get("kind"):
            customer["activities"].append({f: row.get(f) for f in ACTIVITY_FIELDS})
    return list(by_customer.values())


def repeat_candidate_texts(db, days=30, customer_ids=None):
    """Texts of tickets repeat detection compares messages with: open, or opened in the last ``days``.

    Embedding these when tickets are written (import, sync, webhooks) keeps
    the model off the request path when a card is built.
    """
    from datetime import datetime, timedelta, timezone

    from .card import ticket_text

    since = iso(datetime.now(timezone.utc) - timedelta(days=days))
    sql = "select subject, description from crm_tickets where (is_open = 1 or created_at >= ?)"
    args = [since]
    if customer_ids is not None:
        ids = list(customer_ids)[:500]
        sql += f" and customer_id in ({','.join('?' * len(ids))})"
        args += ids
    return sorted({ticket_text({"subject": s, "description": d}) for s, d in db.execute(sql, args)} - {""})
