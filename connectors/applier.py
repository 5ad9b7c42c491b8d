"""Apply webhook events to the embedded store, in the vendor's order of occurrence.

Vendors deliver at least once and in any order.  Each field of each record
remembers the occurrence time of the value it holds, so an older update that
arrives late never overwrites a newer one; a deletion leaves a tombstone time
that older updates cannot resurrect.  Deleting a customer (or a privacy
deletion) erases their records, cached cards and cached ticket vectors.
"""

from phrasebank.db import write_transaction

from .inbox import migrations
from .local import new_id
from .localstore import CLOSED_STATUSES
from .phones import to_e164

CUSTOMER_FIELDS = ("name", "email", "phone", "company", "tier")
TICKET_FIELDS = ("subject", "description", "status", "priority", "created_at", "updated_at", "is_open", "url")
ACTIVITY_FIELDS = ("kind", "summary", "at", "due_at", "done", "ticket_id", "channel", "outcome")
TABLES = {"customer": "crm_customers", "ticket": "crm_tickets", "activity": "crm_activities"}
DELETED = "_deleted"


@migrations(name="0002_field_times")
def _field_times(db):
    db["crm_field_times"].create(
        {"source": str, "object_type": str, "source_id": str, "field": str, "occurred_at": str},
        pk=("source", "object_type", "source_id", "field"),
    )


class Applier:
    """Apply one event at a time to ``db`` for connector ``source``; returns the customer keys touched."""

    def __init__(self, db, region="US", model_name=None):
        self.db = db
        self.region = region
        self.model_name = model_name

    def apply(self, source, event):
        """Apply a WebhookEvent dict; returns (state, customer keys to refresh)."""
        kind = event["object_type"]
        if kind not in TABLES or not event.get("object_id"):
            return "skipped", []
        with write_transaction(self.db):
            if event.get("deleted"):
                return "applied", self._delete(source, kind, event)
            if kind == "customer" and (event.get("changes") or {}).get("merged_into"):
                return "applied", self._merge(source, event)
            handler = {"customer": self._customer, "ticket": self._ticket, "activity": self._activity}[kind]
            return "applied", handler(source, event)

    # -- ordering ---------------------------------------------------------------
    def _newer_fields(self, source, kind, source_id, changes, occurred_at):
        """The subset of ``changes`` not already overtaken by a later event; empty if deleted later."""
        rows = self.db.execute(
            "select field, occurred_at from crm_field_times where source = ? and object_type = ? and source_id = ?",
            [source, kind, source_id],
        ).fetchall()
        times = dict(rows)
        if times.get(DELETED) and times[DELETED] >= occurred_at:
            return {}
        fresh = {f: v for f, v in changes.items() if times.get(f, "") <= occurred_at}
        for field in fresh:
            self.db.execute(
                "insert or replace into crm_field_times values (?, ?, ?, ?, ?)",
                [source, kind, source_id, field, occurred_at],
            )
        return fresh

    # -- customers ----------------------------------------------------------------
    def _customer_row(self, source, source_id, create=True):
        cursor = self.db.execute("select * from crm_customers where source = ? and source_id = ?", [source, source_id])
        found = cursor.fetchone()
        if found:
            return dict(zip([c[0] for c in cursor.description], found))
        if not create:
            return None
        row = {"id": new_id("c"), "source": source, "source_id": source_id}
        self._insert("crm_customers", row)
        return row

    def _customer(self, source, event):
        source_id = str(event["object_id"])
        changes = {**_customer_changes(event.get("customer") or {}),
                   **_customer_changes(event.get("changes") or {}, keep_cleared=True)}
        before = self._customer_row(source, source_id)
        keys = customer_keys(before)
        fresh = self._newer_fields(source, "customer", source_id, changes, event["occurred_at"])
        update = _compose_name(before, fresh)
        for field in ("email", "phone", "company", "tier"):
            if field in fresh:
                update[field] = fresh[field]  # None when the CRM cleared it
        if update.get("email"):
            update["email"] = update["email"].strip().lower()
        if update.get("phone"):
            update["phone"] = to_e164(update["phone"], self.region) or update["phone"]
        if update:
            update["updated_at"] = event["occurred_at"]
            self._update("crm_customers", before["id"], update)
        return keys + customer_keys({**before, **update})

    def _customer_id_for(self, source, source_id):
        return self._customer_row(source, str(source_id))["id"] if source_id else None

    # -- tickets and activities --------------------------------------------------------
    def _ticket(self, source, event):
        return self._child(source, event, "ticket", TICKET_FIELDS, "t")

    def _activity(self, source, event):
        return self._child(source, event, "activity", ACTIVITY_FIELDS, "a")

    def _child(self, source, event, kind, fields, prefix):
        table, source_id = TABLES[kind], str(event["object_id"])
        changes = dict(event.get("changes") or {})
        owner = changes.pop("customer_source_id", None) or (event.get("customer") or {}).get("source_id")
        if kind == "ticket" and "status" in changes and "is_open" not in changes:
            changes["is_open"] = (changes["status"] or "").lower() not in CLOSED_STATUSES
        fresh = self._newer_fields(source, kind, source_id, {k: v for k, v in changes.items() if k in fields},
                                   event["occurred_at"])
        fresh = {k: (int(v) if isinstance(v, bool) else v) for k, v in fresh.items()}
        existing = self.db.execute(f"select id, customer_id from {table} where source = ? and source_id = ?",
                                   [source, source_id]).fetchall()
        customer_id = self._customer_id_for(source, owner) if owner else (existing[0][1] if existing else None)
        # A ticket may arrive before its link to a customer: keep it unowned (shown on
        # no card) so its fields are not lost; the association event adopts it.
        if existing:
            self._update(table, existing[0][0], {**fresh, "customer_id": customer_id})
        else:
            self._insert(table, {"id": new_id(prefix), "source": source, "source_id": source_id,
                                 "customer_id": customer_id, **fresh})
        return customer_keys(self._row("crm_customers", customer_id)) if customer_id else []

    # -- deletion and merge ----------------------------------------------------------------
    def _delete(self, source, kind, event):
        source_id = str(event["object_id"])
        self.db.execute("insert or replace into crm_field_times values (?, ?, ?, ?, ?)",
                        [source, kind, source_id, DELETED, event["occurred_at"]])
        if kind != "customer":
            rows = self.db.execute(f"select customer_id from {TABLES[kind]} where source = ? and source_id = ?",
                                   [source, source_id]).fetchall()
            self.db.execute(f"delete from {TABLES[kind]} where source = ? and source_id = ?", [source, source_id])
            return customer_keys(self._row("crm_customers", rows[0][0])) if rows else []
        customer = self._customer_row(source, source_id, create=False)
        return self.erase(customer) if customer else []

    def erase(self, customer):
        """Erase a customer: records, cached cards, cached ticket vectors. Returns their keys."""
        keys = customer_keys(customer)
        self._forget_vectors(customer["id"])
        for table in ("crm_tickets", "crm_activities"):
            self.db.execute(f"delete from {table} where customer_id = ?", [customer["id"]])
        self.db.execute("delete from crm_customers where id = ?", [customer["id"]])
        for key in keys:
            self.db.execute("delete from crm_card_cache where key = ?", [key])
        return keys

    def _forget_vectors(self, customer_id):
        """Delete the cached vectors of this customer's ticket texts (they were derived from their data)."""
        if not self.model_name:
            return
        from phrasebank.phrases import content_hash

        from .card import ticket_text

        rows = self.db.execute("select subject, description from crm_tickets where customer_id = ?", [customer_id])
        hashes = [content_hash(self.model_name, ticket_text({"subject": s, "description": d})) for s, d in rows]
        for h in hashes:
            self.db.execute("delete from embeddings where content_hash = ?", [h])

    def _merge(self, source, event):
        primary = self._customer_row(source, str(event["changes"]["merged_into"]))
        merged = self._customer_row(source, str(event["object_id"]), create=False)
        if merged is None or merged["id"] == primary["id"]:
            return customer_keys(primary)
        for table in ("crm_tickets", "crm_activities"):
            self.db.execute(f"update {table} set customer_id = ? where customer_id = ?", [primary["id"], merged["id"]])
        fill = {f: merged[f] for f in CUSTOMER_FIELDS if merged.get(f) and not primary.get(f)}
        self.db.execute("delete from crm_customers where id = ?", [merged["id"]])
        if fill:
            self._update("crm_customers", primary["id"], fill)
        return customer_keys(merged) + customer_keys({**primary, **fill})

    # Plain SQL: sqlite-utils' table helpers read the schema on every call, which
    # was most of the applier's time.  Column names come from our own field lists.
    def _insert(self, table, row):
        columns = ", ".join(row)
        self.db.execute(f"insert into {table} ({columns}) values ({', '.join('?' * len(row))})", list(row.values()))

    def _update(self, table, row_id, fields):
        if fields:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            self.db.execute(f"update {table} set {assignments} where id = ?", [*fields.values(), row_id])

    def _row(self, table, row_id):
        cursor = self.db.execute(f"select * from {table} where id = ?", [row_id])
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row)) if row else None


def _customer_changes(data, keep_cleared=False):
    """Customer fields from an event's customer/changes dicts, in our names.

    In ``changes`` a field present with an empty value was cleared in the CRM
    (``keep_cleared``): it becomes None.  In ``customer`` an empty value only
    means the payload did not say.
    """
    names = (*CUSTOMER_FIELDS, "first_name", "last_name")
    if keep_cleared:
        return {k: (data[k] if data[k] != "" else None) for k in names if k in data}
    return {k: data[k] for k in names if data.get(k) not in (None, "")}


def _compose_name(before, fresh):
    """A full name from a name change, or from a first/last name change applied to the current name."""
    if "name" in fresh:
        return {"name": fresh["name"]}
    if "first_name" not in fresh and "last_name" not in fresh:
        return {}
    current = (before.get("name") or "").split(" ", 1)
    first = fresh.get("first_name", current[0] if current and current[0] else "")
    last = fresh.get("last_name", current[1] if len(current) > 1 else "")
    return {"name": f"{first} {last}".strip() or None}


def customer_keys(row):
    """The card-cache / stream keys a customer row is known by."""
    if not row:
        return []
    keys = [f"id:{row['id']}"]
    if row.get("email"):
        keys.append(f"email:{row['email']}")
    if row.get("phone"):
        keys.append(f"phone:{row['phone']}")
    if row.get("source_id"):
        keys.append(f"id:{row['source_id']}")
    return keys

