"""Finding facts customers already gave, and promised follow-ups, in free text."""

from datetime import datetime, timezone

import pytest

from connectors.facts import extract_facts, is_promise, promised_due

WRITTEN = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # a Friday


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("My account number is 40012345, thanks", "account_number", "40012345"),
        ("order #AB-12345 never came", "order_number", "AB-12345"),
        ("Order no. 77812 is late", "order_number", "77812"),
        ("my booking reference: QX-4411 please", "reference", "QX-4411"),
        ("tracking number 1Z999AA10123456784", "tracking_number", "1Z999AA10123456784"),
        ("write to me at jo.bloggs@example.co.uk", "email", "jo.bloggs@example.co.uk"),
        ("I'm at 14 Elm Road, Leeds LS1 4AB now", "address", "14 Elm Road, Leeds LS1 4AB"),
        ("it was delivered on 3 Nov apparently", "date", "3 Nov"),
        ("call me on (415) 555-0100", "phone", "+14155550100"),
    ],
)
def test_extracts_facts(text, kind, value):
    assert {"kind": kind, "value": value, "source": "chat"} in extract_facts(text, "chat")


@pytest.mark.parametrize(
    "text",
    ["I have had an account with you for 10 years", "The order arrived", "Tracking says delivered", ""],
)
def test_no_false_facts(text):
    assert [f for f in extract_facts(text, "chat") if f["kind"] != "date"] == []


def test_digits_inside_a_tracking_number_are_not_a_phone():
    facts = extract_facts("tracking number 1Z999AA10123456784", "chat")
    assert [f["kind"] for f in facts] == ["tracking_number"]


@pytest.mark.parametrize(
    "text, due",
    [
        ("Promised to call back tomorrow", "2026-11-21"),
        ("Will call her back by Monday", "2026-11-23"),
        ("Agreed to follow up within 48 hours", "2026-11-22"),
        ("Will confirm the refund on 25 Nov", "2026-11-25"),
        ("Callback booked 2026-12-01", "2026-12-01"),
        ("Will update them today", "2026-11-20"),
        ("Will chase courier, update Jan 3", "2027-01-03"),
    ],
)
def test_promise_due_dates(text, due):
    assert is_promise(text)
    assert promised_due(text, WRITTEN).date().isoformat() == due


def test_notes_without_promise_or_date():
    assert not is_promise("Customer was polite, line tested fine")
    assert promised_due("Will call back at some point", WRITTEN) is None
