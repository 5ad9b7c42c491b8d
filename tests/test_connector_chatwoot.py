"""The Chatwoot connector over real HTTP against the local Chatwoot emulator."""

import time

import pytest
import requests

from connectors import AuthFailed, Context, NotConfigured, RateLimited, Unavailable, build_connectors
from connectors.chatwoot import ChatwootConnector, chatwoot_from_settings
from tests.emulators.chatwoot import ACCOUNT_ID, BASE_TIME, TOKEN, ChatwootEmulator

FAST = {"timeout": (0.5, 0.3), "backoff": 0.01, "max_wait": 2.0}
SETTINGS = {"ASSIST_CHATWOOT_BASE_URL": "https://chat.example.com", "ASSIST_CHATWOOT_ACCOUNT_ID": "7",
            "ASSIST_CHATWOOT_API_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def server():
    emulator = ChatwootEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def chatwoot(server):
    """The module's emulator with no queued faults and an empty request log."""
    server.faults.clear()
    server.requests.clear()
    return server


@pytest.fixture
def waits():
    """Every wait the client slept, in order (it still really sleeps)."""
    return []


@pytest.fixture
def connect(chatwoot, waits):
    """Build a connector against the emulator; closed after the test."""
    made = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    def connect(**overrides):
        options = {"base_url": chatwoot.url, "account_id": ACCOUNT_ID, "token": TOKEN, "sleep": sleep,
                   **FAST, **overrides}
        made.append(ChatwootConnector(**options))
        return made[-1]

    yield connect
    for connector in made:
        connector.close()


@pytest.fixture
def connector(connect):
    return connect()


def searches(chatwoot):
    return [r for r in chatwoot.requests if r.path.endswith("/contacts/search")]


def iso(unix):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(unix))


# -- finding contacts --------------------------------------------------------
def test_finds_a_contact_by_email_confirming_the_exact_match_across_pages(connector, chatwoot):
    customer = connector.find_customer(email=" Sam@Example.com")
    assert customer.to_dict() == {
        "source": "chatwoot", "id": "40", "name": "Sam Carter", "email": "sam@example.com",
        "phone": "+14155550123", "company": "Stargate", "tier": "gold",
        "url": f"{chatwoot.url}/app/accounts/7/contacts/40", "updated_at": iso(BASE_TIME + 40),
    }
    sent = searches(chatwoot)
    assert [(r.query["q"], r.query["page"]) for r in sent] == [("sam@example.com", str(p)) for p in (1, 2, 3)]
    assert sent[0].headers["api_access_token"] == TOKEN
    assert sent[0].path == "/api/v1/accounts/7/contacts/search"


@pytest.mark.parametrize("typed", ["(415) 555-0123", "+1 415-555-0123", "415.555.0123", "+14155550123"])
def test_finds_a_contact_by_phone_typed_any_way(connector, chatwoot, typed):
    assert connector.find_customer(phone=typed).id == "40"
    assert {r.query["q"] for r in searches(chatwoot)} == {"+14155550123"}


def test_finds_a_foreign_number_with_the_region(connect):
    assert connect(region="GB").find_customer(phone="020 7946 0958").name == "Nina Patel"


def test_finds_a_contact_by_id(connector, chatwoot):
    nina = connector.find_customer(customer_id="50")
    assert (nina.email, nina.phone, nina.company, nina.tier) == ("nina@example.org", "+442079460958", None, None)
    assert chatwoot.requests[0].path == "/api/v1/accounts/7/contacts/50"


@pytest.mark.parametrize("lookup, requests_made", [
    ({"email": "nobody@example.com"}, 1),
    ({"email": "am@example.com"}, 3),  # substring of 36 contacts, exact match of none
    ({"customer_id": "999"}, 1),
    ({"customer_id": "40/notes"}, 0),
    ({"phone": "not a phone"}, 0),
    ({}, 0),
])
def test_not_found_is_none(connector, chatwoot, lookup, requests_made):
    assert connector.find_customer(**lookup) is None
    assert len(chatwoot.requests) == requests_made


def test_search_stops_at_the_page_limit(connect, chatwoot):
    assert connect(max_search_pages=2).find_customer(email="sam@example.com") is None
    assert len(chatwoot.requests) == 2


# -- conversations and notes -------------------------------------------------
def test_conversations_are_tickets_most_recently_active_first(connector, chatwoot):
    tickets = connector.tickets(connector.find_customer(customer_id="40"))
    assert len(tickets) == 20  # Chatwoot returns the newest 20 conversations
    assert [t.id for t in tickets[:6]] == ["21", "22", "20", "18", "19", "5"]
    assert {t.status: t.is_open for t in tickets} == {"open": True, "pending": True, "snoozed": True,
                                                      "resolved": False}
    email = tickets[0]  # resolved: its last message is an activity, so the text is the last real message
    assert (email.status, email.subject, email.description) == (
        "resolved", "Invoice 21", "Question number 21\nwith a second line")
    assert (email.channel, email.priority) == ("email", None)
    assert email.url == f"{chatwoot.url}/app/accounts/7/conversations/21"
    assert (email.created_at, email.updated_at) == (iso(BASE_TIME + 21 * 3600), iso(BASE_TIME + 23 * 3600))
    by_id = {t.id: t for t in tickets}
    assert (by_id["20"].subject, by_id["20"].channel, by_id["20"].priority) == ("Question number 20", "chat", "low")
    assert (by_id["22"].channel, by_id["22"].priority) == ("whatsapp", "high")


def test_tickets_since(connector):
    tickets = connector.tickets(connector.find_customer(customer_id="40"), since=iso(BASE_TIME + 20 * 3600))
    assert [t.id for t in tickets] == ["21", "22", "20", "18"]


def test_notes_are_activities_newest_first(connector):
    activities = connector.activities(connector.find_customer(customer_id="40"))
    assert [(a.id, a.kind, a.summary) for a in activities] == [
        ("303", "note", "Prefers email, note 3"), ("302", "note", "Prefers email, note 2"),
        ("301", "note", "Prefers email, note 1")]
    assert activities[0].at == iso(BASE_TIME + 3 * 86400) and activities[0].due_at is None


def test_a_contact_without_conversations_or_notes(connector):
    nina = connector.find_customer(customer_id="50")
    assert connector.record(customer_id="50").customer == nina
    assert connector.tickets(nina) == [] and connector.activities(nina) == []


# -- errors, throttling, faults ----------------------------------------------
@pytest.mark.parametrize("overrides", [{"token": "wrong"}, {"account_id": 8}])
def test_refused_credentials_are_auth_failed(connect, overrides):
    with pytest.raises(AuthFailed) as raised:
        connect(**overrides).find_customer(email="sam@example.com")
    assert "wrong" not in raised.value.message


def test_the_emulated_throttle_is_plain_text_without_retry_after(chatwoot):
    chatwoot.throttle_next()
    response = requests.get(f"{chatwoot.url}/api/v1/accounts/7/contacts/40", headers={"api_access_token": TOKEN},
                            timeout=2)
    assert (response.status_code, response.text) == (429, "Retry later\n")
    assert response.headers["Content-Type"] == "text/plain" and "Retry-After" not in response.headers
    response.close()


def test_throttled_once_backs_off_then_succeeds(connector, chatwoot, waits):
    chatwoot.throttle_next()
    assert connector.find_customer(customer_id="40").id == "40"
    assert len(chatwoot.requests) == 2 and len(waits) == 1 and 0.008 <= waits[0] <= 0.012


def test_throttled_beyond_max_wait_is_rate_limited(connect, chatwoot, waits):
    chatwoot.throttle_next(times=10)
    with pytest.raises(RateLimited) as raised:
        connect(backoff=0.05, max_wait=0.1).find_customer(customer_id="40")
    assert raised.value.retry_after > 0 and sum(waits) <= 0.1 and len(chatwoot.requests) == len(waits) + 1


def test_a_5xx_then_success(connector, chatwoot, waits):
    chatwoot.fail_next(500, {"error": "Internal Server Error"})
    assert connector.find_customer(customer_id="40").id == "40"
    assert len(chatwoot.requests) == 2 and len(waits) == 1


def test_slow_beyond_the_read_timeout_is_retried_then_unavailable(connector, chatwoot):
    chatwoot.slow_next(0.5, times=4)
    started = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        connector.find_customer(customer_id="40")
    assert "timed out" in raised.value.message
    assert len(chatwoot.requests) == 4 and time.monotonic() - started < 3


def test_a_dropped_connection_then_success(connector, chatwoot):
    chatwoot.drop_next()
    assert len(connector.tickets(connector.find_customer(customer_id="40"))) == 20
    assert len(chatwoot.requests) == 3


def test_malformed_json_is_unavailable(connector, chatwoot):
    chatwoot.fail_next(200, "<html>Bad gateway</html>", {"Content-Type": "text/html"})
    with pytest.raises(Unavailable) as raised:
        connector.find_customer(email="sam@example.com")
    assert "malformed" in raised.value.message


# -- factory ---------------------------------------------------------------------
@pytest.mark.parametrize("missing", sorted(SETTINGS))
def test_factory_names_each_missing_variable(missing):
    with pytest.raises(NotConfigured) as raised:
        chatwoot_from_settings({**SETTINGS, missing: ""}, Context())
    assert missing in raised.value.message


def test_build_connectors_reports_every_missing_variable():
    connectors, problems = build_connectors(["chatwoot"], {}, Context())
    assert connectors == {} and all(name in problems["chatwoot"] for name in SETTINGS)


@pytest.mark.parametrize("wrong, value", [("ASSIST_CHATWOOT_ACCOUNT_ID", "acme"),
                                          ("ASSIST_CHATWOOT_BASE_URL", "chat.example.com")])
def test_factory_rejects_malformed_settings(wrong, value):
    with pytest.raises(NotConfigured) as raised:
        chatwoot_from_settings({**SETTINGS, wrong: value}, Context())
    assert wrong in raised.value.message


def test_factory_builds_a_working_connector(chatwoot):
    connector = chatwoot_from_settings({**SETTINGS, "ASSIST_CHATWOOT_BASE_URL": chatwoot.url + "/"}, Context())
    try:
        assert connector.find_customer(customer_id="40").url == f"{chatwoot.url}/app/accounts/7/contacts/40"
    finally:
        connector.close()
