"""The embedded CRM store in SQLite: the default connector, fed by imports, sync and webhooks.

It registers through the same registry as any third-party connector.
"""

import uuid

from sqlite_utils import Migrations

from .base import Activity, Connector, Customer, CustomerRecord, NotConfigured, Ticket
from .phones import to_e164
from .registry import register

migrations = Migrations("crm")
RECENT_LIMIT = 50
# One person can be in the store more than once: seeded or imported, then created
# again by a webhook from another system with the same email or phone.
RECORDS_PER_PERSON = 20
CUSTOMER_TEXT_FIELDS = ("name", "email", "phone", "company", "tier", "url")


@migrations(name="0001_crm")
def _crm(db):
    db["crm_customers"].create(
        {"id": str, "name": str, "email": str, "phone": str, "company": str, "tier": str, "url": str,
         "source": str, "source_id": str, "updated_at": str},
        pk="id",
    )
    db["crm_customers"].create_index(["email"])
    db["crm_customers"].create_index(["phone"])
    db["crm_customers"].create_index(["source", "source_id"], unique=True)
    db["crm_tickets"].create(
        {"id": str, "customer_id": str, "source": str, "source_id": str, "subject": str, "description": str,
         "status": str, "priority": str, "created_at": str, "updated_at": str, "url": str, "is_open": int,
         "channel": str},
        pk="id",
    )
    db["crm_tickets"].create_index(["customer_id", "updated_at"])
    db["crm_tickets"].create_index(["source", "source_id"], unique=True)
    db["crm_activities"].create(
        {"id": str, "customer_id": str, "source": str, "source_id": str, "at": str, "kind": str, "channel": str,
         "summary": str, "ticket_id": str, "due_at": str, "done": int, "outcome": str},
        pk="id",
    )
    db["crm_activities"].create_index(["customer_id", "at"])
    db["crm_activities"].create_index(["source", "source_id"], unique=True)


@migrations(name="0002_open_tasks_index")
def _open_tasks_index(db):
    # Open tasks are looked up on every card; without this the query reads all
    # of a customer's activities and sorts them (p95 1.0 ms, max 6 ms at 10M rows).
    db.execute(
        "create index if not exists idx_crm_activities_open_tasks on crm_activities (customer_id, due_at) "
        "where due_at is not null and done = 0"
    )


def _customer(row):
    return Customer(source="local", id=row["id"], name=row["name"], email=row["email"], phone=row["phone"],
                    company=row["company"], tier=row["tier"], url=row["url"], updated_at=row["updated_at"])


def _merged_customer(rows):
    """One customer from the rows of one person, freshest first: each field's freshest non-empty value."""
    merged = dict(rows[0])
    for name in CUSTOMER_TEXT_FIELDS:
        merged[name] = next((row[name] for row in rows if row[name]), None)
    return _customer(merged)


def _ticket(row):
    return Ticket(source="local", id=row["source_id"] or row["id"], subject=row["subject"],
                  description=row["description"], status=row["status"], priority=row["priority"],
                  created_at=row["created_at"], updated_at=row["updated_at"], url=row["url"],
                  is_open=bool(row["is_open"]), channel=row["channel"])


def _activity(row):
    return Activity(source="local", id=row["source_id"] or row["id"], at=row["at"], kind=row["kind"],
                    channel=row["channel"], summary=row["summary"], ticket_id=row["ticket_id"],
                    due_at=row["due_at"], done=bool(row["done"]), outcome=row["outcome"])


class LocalConnector(Connector):
    """Reads customers, tickets and activities from the local SQLite tables.

    ``database`` has ``get()`` returning this thread's sqlite-utils Database.
    """

    name = "local"
    cacheable = False  # always current and fast: read it directly, never from the card cache

    def __init__(self, database, region="US"):
        self.database = database
        self.region = region

    def _rows(self, sql, params):
        cursor = self.database.get().execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def _matching_rows(self, email=None, phone=None, customer_id=None):
        """Every stored record of the customer asked for, freshest first."""
        if email:
            condition, value = "email = ?", email.strip().lower()
        elif phone:
            condition, value = "phone = ?", to_e164(phone, self.region)
        elif customer_id:
            condition, value = "id = ?", customer_id
        else:
            return []
        if not value:
            return []
        return self._rows(f"select * from crm_customers where {condition}"
                          " order by coalesce(updated_at, '') desc limit ?", [value, RECORDS_PER_PERSON])

    def find_customer(self, email=None, phone=None, customer_id=None):
        """Look a customer up by email (case-insensitive), phone (E.164) or local id.

        Several records with that email or phone (from different sources) are
        one customer: each field takes its freshest non-empty value.
        """
        rows = self._matching_rows(email, phone, customer_id)
        return _merged_customer(rows) if rows else None

    def record(self, email=None, phone=None, customer_id=None, since=None):
        """The customer with the tickets and activities of all their records."""
        rows = self._matching_rows(email, phone, customer_id)
        if not rows:
            return None
        ids = [row["id"] for row in rows]
        return CustomerRecord(_merged_customer(rows), self._tickets_of(ids, since), self._activities_of(ids, since))

    def tickets(self, customer, since=None):
        """The customer's most recent tickets, newest first."""
        return self._tickets_of([customer.id], since)

    def activities(self, customer, since=None):
        """Recent activities newest first, plus every open task whatever its age."""
        return self._activities_of([customer.id], since)

    def _tickets_of(self, ids, since):
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"select * from crm_tickets where customer_id in ({marks}) order by updated_at desc limit ?",
            [*ids, RECENT_LIMIT],
        )
        return [_ticket(r) for r in rows if not since or (r["updated_at"] or "") >= since]

    def _activities_of(self, ids, since):
        marks = ",".join("?" * len(ids))
        recent = self._rows(
            f"select * from crm_activities where customer_id in ({marks}) order by at desc limit ?",
            [*ids, RECENT_LIMIT],
        )
        open_tasks = self._rows(
            f"select * from crm_activities where customer_id in ({marks}) and due_at is not null and done = 0 "
            "order by due_at limit ?",
            [*ids, RECENT_LIMIT],
        )
        seen, merged = set(), []
        for row in recent + open_tasks:
            if row["id"] not in seen and (not since or (row["at"] or "") >= since or row["due_at"]):
                seen.add(row["id"])
                merged.append(_activity(row))
        return merged


def new_id(prefix):
    """A local record id."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@register("local")
def local_from_settings(settings, context):
    """The embedded store needs no settings; it uses the app's SQLite file."""
    if context.database is None:
        raise NotConfigured("the local connector needs the app database")
    return LocalConnector(context.database, region=context.region)
