"""The Freshdesk connector over real HTTP against the local Freshdesk emulator."""

from datetime import datetime, timedelta, timezone

import pytest
import requests

from connectors import AuthFailed, Context, Customer, NotConfigured, RateLimited, Unavailable, build_connectors
from connectors.freshdesk import FreshdeskConnector, freshdesk_from_settings
from tests.emulators.freshdesk import UNAUTHORIZED, FreshdeskEmulator

SETTINGS = {"ASSIST_FRESHDESK_BASE_URL": "https://acme.freshdesk.com", "ASSIST_FRESHDESK_API_KEY": "fd-key-123"}


@pytest.fixture(scope="module")
def server():
    emulator = FreshdeskEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def freshdesk(server):
    """The module's emulator with no queued faults and an empty request log."""
    return server.reset()


@pytest.fixture
def sleeps():
    """Every wait the client asked for, instead of really sleeping."""
    return []


@pytest.fixture
def connect(freshdesk, sleeps):
    made = []

    def connect(api_key=None, **options):
        options = {"timeout": (0.5, 0.3), "backoff": 0.01, "max_wait": 5.0, "page_size": 5, **options}
        made.append(FreshdeskConnector(freshdesk.url, api_key or freshdesk.api_key, sleep=sleeps.append, **options))
        return made[-1]

    yield connect
    for connector in made:
        connector.close()


@pytest.fixture
def connector(connect):
    return connect()


def _paths(emulator, fragment):
    return [r for r in emulator.requests if fragment in r.path]


# -- finding customers --------------------------------------------------------
def test_find_by_email_maps_the_contact(connector, freshdesk):
    customer = connector.find_customer(email="Bruce@Example.com")
    assert customer.to_dict() == {
        "source": "freshdesk", "id": "201", "name": "Bruce Wayne", "email": "bruce@example.com",
        "phone": "+14155550123", "company": "Globex", "tier": "platinum",
        "url": f"{freshdesk.url}/a/contacts/201", "updated_at": customer.updated_at,
    }
    assert customer.updated_at.endswith("+00:00")
    assert freshdesk.requests[0].query == {"email": "Bruce@Example.com"}
    assert freshdesk.requests[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("typed, found", [
    ("(415) 555-0123", "201"), ("+1 415 555 0123", "201"), ("415.555.0123", "201"),  # stored +14155550123
    ("+14155550188", "202"), ("415-555-0188", "202"),  # stored as mobile 4155550188
    ("+1 415 555 0177", "203"), ("4155550177", "203"),  # stored (415) 555-0177
])
def test_find_by_phone_or_mobile_in_any_format(connector, typed, found):
    assert connector.find_customer(phone=typed).id == found


def test_phone_lookup_stops_at_the_first_match(connector, freshdesk):
    connector.find_customer(phone="(415) 555-0123")
    assert [r.query for r in freshdesk.requests if r.path == "/api/v2/contacts"] == [{"phone": "+14155550123"}]


def test_find_by_id(connector):
    customer = connector.find_customer(customer_id="202")
    assert (customer.name, customer.phone, customer.tier, customer.company) == ("Selina Kyle", "+14155550188",
                                                                                "vip", None)


@pytest.mark.parametrize("lookup", [{"email": "nobody@example.com"}, {"email": "not-an-email"},
                                    {"phone": "+1 212 555 0199"}, {"phone": "call me"},
                                    {"customer_id": "999"}, {"customer_id": "201/../202"}, {}])
def test_not_found_is_none(connector, lookup):
    assert connector.find_customer(**lookup) is None


# -- tickets and conversations ------------------------------------------------
def test_tickets_follow_every_link_page_newest_first(connector, freshdesk):
    tickets = connector.tickets(connector.find_customer(customer_id="201"))
    assert [t.id for t in tickets] == [str(312 - n) for n in range(12)]  # 301 (400 days old) is past history
    pages = _paths(freshdesk, "/api/v2/tickets")
    assert len(pages) == 3
    first = pages[0].query
    assert (first["requester_id"], first["order_by"], first["order_type"], first["per_page"]) == (
        "201", "updated_at", "desc", "5")
    assert first["updated_since"].endswith("Z") and pages[2].query["page"] == "3"
    assert [(t.status, t.is_open) for t in tickets[:6]] == [
        ("open", True), ("pending", True), ("resolved", False), ("closed", False),
        ("custom_6", True), ("custom_7", True)]
    assert [t.priority for t in tickets[:4]] == ["low", "medium", "high", "urgent"]
    assert [t.channel for t in tickets[:4]] == ["email", "portal", "phone", "chat"]
    assert tickets[0].url == f"{freshdesk.url}/a/tickets/312"
    assert tickets[0].updated_at.endswith("+00:00") and tickets[0].updated_at > tickets[1].updated_at


def test_tickets_since_reaches_past_the_default_window(connector):
    customer = connector.find_customer(customer_id="201")
    long_ago = datetime.now(timezone.utc) - timedelta(days=730)
    assert [t.id for t in connector.tickets(customer, since=long_ago)][-1] == "300"
    recent = datetime.now(timezone.utc) - timedelta(days=5)
    assert [t.id for t in connector.tickets(customer, since=recent)] == ["312", "311"]


def test_without_a_history_window_freshdesk_lists_only_the_last_30_days(connect, freshdesk):
    connector = connect(history_days=None)
    tickets = connector.tickets(connector.find_customer(customer_id="201"))
    assert [t.id for t in tickets] == [str(312 - n) for n in range(10)]
    assert "updated_since" not in _paths(freshdesk, "/api/v2/tickets")[0].query


def test_tickets_of_a_contact_that_went_away_are_empty(connector):
    assert connector.tickets(Customer(source="freshdesk", id="999")) == []
    assert connector.activities(Customer(source="freshdesk", id="999")) == []


def test_activities_read_every_conversation_page_of_recent_tickets(connect, freshdesk):
    connector = connect(conversation_tickets=2)
    activities = connector.activities(connector.find_customer(customer_id="201"))
    assert [a.id for a in activities] == [str(9008 - n) for n in range(8)] + ["9100"]
    assert len(_paths(freshdesk, "/tickets/312/conversations")) == 2
    assert not _paths(freshdesk, "/tickets/310/conversations")
    kinds = {a.id: (a.kind, a.channel) for a in activities}
    assert kinds["9003"] == ("note", None) and kinds["9001"] == ("email", "email") and kinds["9100"] == (
        "comment", None)
    assert (activities[0].summary, activities[0].ticket_id) == ("Message 8", "312")


def test_record_lists_tickets_once_and_filters_since(connector, freshdesk):
    since = datetime.now(timezone.utc) - timedelta(hours=72)
    record = connector.record(email="bruce@example.com", since=since)
    assert [t.id for t in record.tickets] == ["312"]
    assert [a.id for a in record.activities] == ["9008", "9007", "9006", "9005"]
    assert len([r for r in freshdesk.requests if r.path == "/api/v2/tickets"]) == 1  # listed once


# -- failures -----------------------------------------------------------------
def test_wrong_api_key_is_auth_failed(connect, freshdesk):
    with pytest.raises(AuthFailed):
        connect(api_key="wrong").find_customer(email="bruce@example.com")
    answer = requests.get(f"{freshdesk.url}/api/v2/contacts/201", auth=("wrong", "X"), timeout=2)
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_emulator_pages_contacts_with_a_link_header_only_while_more_exist(freshdesk):
    auth = (freshdesk.api_key, "X")
    first = requests.get(f"{freshdesk.url}/api/v2/contacts", params={"per_page": 2}, auth=auth, timeout=2)
    assert first.links["next"]["url"].endswith("per_page=2&page=2") and first.headers["X-RateLimit-Remaining"]
    last = requests.get(first.links["next"]["url"], auth=auth, timeout=2)
    assert "Link" not in last.headers and len(last.json()) == 1
    too_big = requests.get(f"{freshdesk.url}/api/v2/contacts", params={"per_page": 101}, auth=auth, timeout=2)
    assert too_big.status_code == 400 and too_big.json()["description"] == "Validation failed"


def test_throttled_once_waits_retry_after_then_succeeds(connector, freshdesk, sleeps):
    freshdesk.throttle_next(1)
    assert connector.find_customer(email="bruce@example.com").id == "201"
    assert sleeps == [1.0]


def test_throttled_beyond_max_wait_is_rate_limited(connector, freshdesk, sleeps):
    freshdesk.throttle_next(120)
    with pytest.raises(RateLimited) as caught:
        connector.find_customer(email="bruce@example.com")
    assert caught.value.retry_after == 120 and sleeps == []


def test_server_error_then_success(connector, freshdesk, sleeps):
    freshdesk.fail_next(502, "Bad Gateway")
    assert connector.find_customer(customer_id="201").id == "201"
    assert len(sleeps) == 1


def test_slow_answers_are_retried_then_unavailable(connector, freshdesk, sleeps):
    freshdesk.slow_next(0.6, times=4)
    with pytest.raises(Unavailable, match="timed out"):
        connector.find_customer(customer_id="201")
    assert len(sleeps) == 3 and len(freshdesk.requests) == 4


def test_dropped_connection_then_success(connector, freshdesk):
    freshdesk.drop_next()
    assert connector.find_customer(customer_id="201").id == "201"


def test_malformed_json_is_unavailable(connector, freshdesk):
    freshdesk.fail_next(200, "[{not json", {"Content-Type": "application/json"})
    with pytest.raises(Unavailable, match="malformed"):
        connector.find_customer(email="bruce@example.com")


def test_malformed_json_on_a_later_page_is_unavailable(connector, freshdesk):
    customer = connector.find_customer(customer_id="201")
    freshdesk.fail_next(200, {"tickets": []})  # an object where Freshdesk sends a list
    with pytest.raises(Unavailable, match="malformed"):
        connector.tickets(customer)


# -- settings -----------------------------------------------------------------
def test_missing_settings_are_named():
    with pytest.raises(NotConfigured) as caught:
        freshdesk_from_settings({"ASSIST_FRESHDESK_BASE_URL": " "}, Context())
    assert caught.value.message == "missing ASSIST_FRESHDESK_BASE_URL, ASSIST_FRESHDESK_API_KEY"


def test_base_url_without_a_scheme_is_not_configured():
    with pytest.raises(NotConfigured, match="https://"):
        freshdesk_from_settings({**SETTINGS, "ASSIST_FRESHDESK_BASE_URL": "acme.freshdesk.com"}, Context())


def test_built_from_settings_through_the_registry():
    settings = {**SETTINGS, "ASSIST_FRESHDESK_BASE_URL": "https://acme.freshdesk.com/api/v2/"}
    connectors, problems = build_connectors(["freshdesk"], settings, Context(region="GB"))
    connector = connectors["freshdesk"]
    try:
        assert problems == {} and (connector.base_url, connector.region) == ("https://acme.freshdesk.com", "GB")
    finally:
        connector.close()
