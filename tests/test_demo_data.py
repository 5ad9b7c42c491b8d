"""The demo customers import cleanly and tell the stories the /demo page relies on (real model)."""

from datetime import datetime, timedelta, timezone

import pytest

from assist.services import prepare_database
from connectors.applier import Applier
from connectors.context import CustomerContext
from connectors.demo import DEMO_MESSAGES, demo_customers, seed_demo
from connectors.local import LocalConnector
from connectors.localstore import LocalStore
from connectors.phones import to_e164
from phrasebank.db import ThreadLocalDatabase
from phrasebank.vectors import cached_vectors

NOW = datetime(2026, 11, 12, 15, 30, tzinfo=timezone.utc)  # a Thursday afternoon
CUSTOMERS = demo_customers(NOW)
BY_EMAIL = {c["email"]: c for c in CUSTOMERS}

# (email, the ticket the message is about, at least this many contacts including today's)
REPEAT_STORIES = [
    ("maria.gonzalez@example.com", "NW-20417", 4),  # opened 3 weeks ago + two calls since
    ("james.whitaker@example.net", "NW-20588", 4),  # double charge: opened, chased by call and by email
    ("priya.nair@example.org", "NW-20633", 4),  # missing parcel chased twice
    ("hannah.lewis@example.com", "NW-20590", 2),
    ("marcus.webb@example.com", "NW-20712", 2),
    ("kwame.mensah@example.net", "NW-20150", 2),
    ("harold.ellis@example.net", "NW-20701", 2),
]
# New problems, praise and first contacts must not be flagged as repeats.
NOT_REPEATS = ["sofia.rossi@example.net", "aisha.rahman@example.org", "daniel.okafor@example.com",
               "robert.chen@example.com", "lucy.fernandes@example.org"]


@pytest.fixture
def database(tmp_path):
    prepare_database(tmp_path / "assist.db").close()
    return ThreadLocalDatabase(tmp_path / "assist.db")


@pytest.fixture
def seeded(database):
    """A store holding the demo customers, dated relative to NOW."""
    seed_demo(database.get(), now=NOW)
    return database


@pytest.fixture
def context(seeded, embedder):
    """A CustomerContext over the seeded local store with the real model."""
    ctx = CustomerContext({"local": LocalConnector(seeded)}, seeded,
                          embed=lambda texts: cached_vectors(seeded.get(), embedder, texts))
    yield ctx
    ctx.close()


def card_for(context, embedder, email, now=NOW):
    message = DEMO_MESSAGES[email]
    return context.card({"email": email}, message=message, message_vector=embedder.encode_one(message), now=now)


def test_seed_imports_every_customer_ticket_and_activity(database):
    counts = seed_demo(database.get(), now=NOW)
    assert counts == {"customers": len(CUSTOMERS), "tickets": sum(len(c["tickets"]) for c in CUSTOMERS),
                      "activities": sum(len(c["activities"]) for c in CUSTOMERS)}
    assert counts["customers"] >= 12


def test_seed_is_a_no_op_on_a_non_empty_store(database):
    LocalStore(database.get()).import_customers([{"name": "Someone", "email": "someone@example.com"}])
    assert seed_demo(database.get(), now=NOW) is None
    assert database.get()["crm_customers"].count == 1


def test_seeding_twice_adds_nothing(seeded):
    assert seed_demo(seeded.get(), now=NOW) is None
    assert seeded.get()["crm_customers"].count == len(CUSTOMERS)


def test_every_customer_has_a_message_and_fictional_contact_details():
    assert set(DEMO_MESSAGES) == set(BY_EMAIL)
    for customer in CUSTOMERS:
        assert customer["email"].rsplit(".", 1)[1] in ("com", "org", "net")
        assert customer["email"].split("@")[1].startswith("example.")
        assert customer["phone"].startswith(("+1 415-555-01", "+44 7700 900"))


def test_every_time_is_in_the_past_except_future_due_dates():
    for customer in CUSTOMERS:
        for item in customer["tickets"] + customer["activities"]:
            for key in ("at", "created_at", "updated_at"):
                assert item.get(key) is None or datetime.fromisoformat(item[key]) <= NOW


@pytest.mark.parametrize("customer", CUSTOMERS, ids=lambda c: c["name"])
def test_customers_are_found_by_email_and_phone(seeded, customer):
    connector = LocalConnector(seeded)
    by_email = connector.find_customer(email=customer["email"].upper())
    by_phone = connector.find_customer(phone=customer["phone"].replace("-", " "))
    assert by_email is not None and by_email.name == customer["name"]
    assert by_phone is not None and by_phone.id == by_email.id


def test_a_webhook_record_with_the_same_email_joins_the_seeded_customer(seeded):
    """Seeded (or imported) first, then created again by another system's webhook: one card, both histories."""
    email = "maria.gonzalez@example.com"
    later = (NOW + timedelta(hours=1)).isoformat()
    applier = Applier(seeded.get())
    applier.apply("generic", {"object_type": "customer", "object_id": "crm-77", "occurred_at": later,
                              "customer": {"email": email.upper(), "name": "Maria Gonzalez-Ruiz", "tier": "Gold"}})
    applier.apply("generic", {"object_type": "ticket", "object_id": "G-1", "occurred_at": later,
                              "customer": {"source_id": "crm-77"},
                              "changes": {"subject": "Router replacement", "status": "open",
                                          "customer_source_id": "crm-77"}})
    context = CustomerContext({"local": LocalConnector(seeded)}, seeded)
    try:
        card = context.card({"email": email}, now=NOW + timedelta(hours=2))
    finally:
        context.close()
    assert card["customer"]["name"] == "Maria Gonzalez-Ruiz" and card["customer"]["tier"] == "Gold"
    assert card["customer"]["phone"] == to_e164(BY_EMAIL[email]["phone"])  # the seeded phone survives
    subjects = {t["subject"] for t in card["open_tickets"]}
    assert "Router replacement" in subjects and "No connection every evening" in subjects


@pytest.mark.parametrize("email, ticket_id, count", REPEAT_STORIES)
def test_repeat_contact_stories(context, embedder, email, ticket_id, count):
    repeat = card_for(context, embedder, email)["repeat_contact"]
    assert repeat is not None, DEMO_MESSAGES[email]
    assert repeat["count"] >= max(count, 2)
    assert repeat["related_ticket"]["id"] == ticket_id


@pytest.mark.parametrize("email", NOT_REPEATS)
def test_new_problems_are_not_repeats(context, embedder, email):
    card = card_for(context, embedder, email)
    assert card["status"] == "ok"
    assert card["repeat_contact"] is None


def test_brand_new_customer_has_no_history(context, embedder):
    card = card_for(context, embedder, "sofia.rossi@example.net")
    assert card["open_tickets"] == [] and card["recent_interactions"] == [] and card["follow_ups_due"] == []


@pytest.mark.parametrize("days", range(7), ids=lambda d: (NOW + timedelta(days=d)).strftime("%A"))
def test_overdue_follow_ups_whatever_the_weekday(database, days):
    now = NOW + timedelta(days=days)
    seed_demo(database.get(), now=now)
    context = CustomerContext({"local": LocalConnector(database)}, database)
    try:
        task = context.card({"email": "james.whitaker@example.net"}, now=now)["follow_ups_due"]
        promise = context.card({"phone": "+44 7700 900789"}, now=now)["follow_ups_due"]
    finally:
        context.close()
    assert [(f["text"].split(" - ")[0], f["overdue"]) for f in task] == [("Call back about refund", True)]
    assert len(promise) == 1 and promise[0]["overdue"] and "by Friday" in promise[0]["text"]


def test_notes_give_already_told_us_something_to_find(context, embedder):
    facts = card_for(context, embedder, "priya.nair@example.org")["already_told_us"]
    kinds = {f["kind"]: f["value"] for f in facts}
    assert kinds["order_number"] == "NW-448812"
    assert kinds["address"].startswith("85 Harbor View Drive")
