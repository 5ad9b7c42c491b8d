"""The Zendesk connector over real HTTP against the local Zendesk emulator."""

from datetime import datetime, timedelta, timezone

import pytest
import requests

from connectors import AuthFailed, Context, Customer, NotConfigured, RateLimited, Unavailable, build_connectors
from connectors.zendesk import ZendeskConnector, zendesk_from_settings
from tests.emulators.zendesk import NOT_FOUND, UNAUTHORIZED, ZendeskEmulator

SETTINGS = {"ASSIST_ZENDESK_BASE_URL": "https://acme.zendesk.com", "ASSIST_ZENDESK_EMAIL": "agent@acme.test",
            "ASSIST_ZENDESK_API_TOKEN": "zd-token-123"}


@pytest.fixture(scope="module")
def server():
    emulator = ZendeskEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def zendesk(server):
    """The module's emulator with no queued faults and an empty request log."""
    return server.reset()


@pytest.fixture
def sleeps():
    """Every wait the client asked for, instead of really sleeping."""
    return []


@pytest.fixture
def connect(zendesk, sleeps):
    made = []

    def connect(token=None, **options):
        options = {"timeout": (0.5, 0.3), "backoff": 0.01, "max_wait": 5.0, "page_size": 5, **options}
        made.append(ZendeskConnector(zendesk.url, zendesk.email, token or zendesk.token, sleep=sleeps.append,
                                     **options))
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
def test_find_by_email_maps_the_user(connector, zendesk):
    customer = connector.find_customer(email=" ADA@example.com ")
    assert customer.to_dict() == {
        "source": "zendesk", "id": "101", "name": "Ada Lovelace", "email": "ada@example.com",
        "phone": "+14155550100", "company": "Acme Rockets", "tier": "gold",
        "url": f"{zendesk.url}/agent/users/101", "updated_at": customer.updated_at,
    }
    assert customer.updated_at.endswith("+00:00")
    assert zendesk.requests[0].query == {"query": "email:ADA@example.com"}


@pytest.mark.parametrize("typed", ["(415) 555-0100", "+1 415 555 0100", "415.555.0100", "+14155550100",
                                   "1-415-555-0100"])
def test_find_by_phone_in_any_format_skips_other_countries(connector, zendesk, typed):
    # User 100 (+91 41555 50100) shares the national digits and is listed first.
    assert connector.find_customer(phone=typed).id == "101"
    assert _paths(zendesk, "/api/v2/search")[0].query == {"query": "type:user phone:*4155550100"}


def test_find_by_phone_stored_in_national_format(connect):
    customer = connect(region="GB").find_customer(phone="020 7946 0018")
    assert (customer.id, customer.phone, customer.tier) == ("102", "+442079460018", "silver")


def test_find_by_id(connector):
    assert connector.find_customer(customer_id="101").name == "Ada Lovelace"
    assert connector.find_customer(customer_id=103).company is None


@pytest.mark.parametrize("lookup", [{"email": "nobody@example.com"}, {"email": "da@example.com"},
                                    {"phone": "+1 212 555 0199"}, {"phone": "not a phone"},
                                    {"customer_id": "999"}, {"customer_id": "../101"}, {}])
def test_not_found_is_none(connector, lookup):
    assert connector.find_customer(**lookup) is None


# -- tickets and comments -----------------------------------------------------
def test_tickets_follow_every_cursor_page_newest_first(connector, zendesk):
    customer = connector.find_customer(customer_id="101")
    tickets = connector.tickets(customer)
    assert [t.id for t in tickets] == [str(5012 - n) for n in range(12)]
    pages = _paths(zendesk, "/tickets/requested")
    assert len(pages) == 3 and all(p.query["page[size]"] == "5" for p in pages)
    assert "page[after]" not in pages[0].query and pages[2].query["page[after]"]
    by_status = {t.status: t.is_open for t in tickets}
    assert by_status == {"new": True, "open": True, "pending": True, "hold": True, "solved": False, "closed": False}
    first = tickets[0]
    assert (first.subject, first.priority, first.channel) == ("Problem number 12", "urgent", "email")
    assert first.url == f"{zendesk.url}/agent/tickets/5012"
    assert first.updated_at.endswith("+00:00") and first.updated_at > tickets[1].updated_at


def test_tickets_since(connector):
    since = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat()
    tickets = connector.tickets(connector.find_customer(customer_id="101"), since=since)
    assert [t.id for t in tickets] == ["5012", "5011", "5010"]


def test_tickets_of_a_user_that_went_away_are_empty(connector):
    assert connector.tickets(Customer(source="zendesk", id="999")) == []
    assert connector.activities(Customer(source="zendesk", id="999")) == []


def test_activities_read_every_comment_page_of_recent_tickets(connect, zendesk):
    connector = connect(comment_tickets=2)
    activities = connector.activities(connector.find_customer(customer_id="101"))
    assert len(activities) == 12
    assert [a.at for a in activities] == sorted((a.at for a in activities), reverse=True)
    assert {a.ticket_id for a in activities} == {"5012", "5011"}
    comment_pages = _paths(zendesk, "/tickets/5012/comments")
    assert len(comment_pages) == 3 and all(p.query["sort"] == "-created_at" for p in comment_pages)
    assert not _paths(zendesk, "/tickets/5010/comments")
    kinds = {a.id: a.kind for a in activities}
    assert (kinds["7001"], kinds["7003"], kinds["7005"]) == ("comment", "note", "call")
    newest = activities[0]
    assert (newest.id, newest.summary, newest.channel) == ("7011", "Comment 11 body", "email")


def test_activities_since_stop_paging_early(connector, zendesk):
    since = datetime.now(timezone.utc) - timedelta(hours=105)
    record = connector.record(customer_id="101", since=since)
    assert [t.id for t in record.tickets] == ["5012", "5011"]
    assert [a.id for a in record.activities] == ["7011", "7010", "7009", "7100", "7008", "7007", "7006"]
    assert len(_paths(zendesk, "/tickets/5012/comments")) == 2
    assert len(_paths(zendesk, "/tickets/requested")) == 3  # record lists tickets once


# -- failures -----------------------------------------------------------------
def test_wrong_token_is_auth_failed(connect, zendesk):
    with pytest.raises(AuthFailed):
        connect(token="wrong").find_customer(email="ada@example.com")
    answer = requests.get(f"{zendesk.url}/api/v2/users/101.json", auth=("agent@acme.test/token", "wrong"), timeout=2)
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_emulator_answers_404_with_the_zendesk_body(zendesk):
    answer = requests.get(f"{zendesk.url}/api/v2/users/999.json", auth=("agent@acme.test/token", zendesk.token),
                          timeout=2)
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)


def test_throttled_once_waits_retry_after_then_succeeds(connector, zendesk, sleeps):
    zendesk.throttle_next(1)
    assert connector.find_customer(email="ada@example.com").id == "101"
    assert sleeps == [1.0]


def test_throttled_beyond_max_wait_is_rate_limited(connector, zendesk, sleeps):
    zendesk.throttle_next(60)
    with pytest.raises(RateLimited) as caught:
        connector.find_customer(email="ada@example.com")
    assert caught.value.retry_after == 60 and sleeps == []


def test_server_error_then_success(connector, zendesk, sleeps):
    zendesk.fail_next(503, {"error": "ServiceUnavailable"})
    assert connector.find_customer(customer_id="101").id == "101"
    assert len(sleeps) == 1


def test_slow_answers_are_retried_then_unavailable(connector, zendesk, sleeps):
    zendesk.slow_next(0.6, times=4)
    with pytest.raises(Unavailable, match="timed out"):
        connector.find_customer(customer_id="101")
    assert len(sleeps) == 3 and len(zendesk.requests) == 4


def test_dropped_connection_then_success(connector, zendesk):
    zendesk.drop_next()
    assert connector.find_customer(customer_id="101").id == "101"


def test_malformed_json_is_unavailable(connector, zendesk):
    zendesk.fail_next(200, "{not json", {"Content-Type": "application/json"})
    with pytest.raises(Unavailable, match="malformed"):
        connector.find_customer(customer_id="101")


def test_json_of_the_wrong_shape_is_unavailable(connector, zendesk):
    zendesk.fail_next(200, {"users": "nope"})
    with pytest.raises(Unavailable, match="malformed"):
        connector.find_customer(email="ada@example.com")


# -- settings -----------------------------------------------------------------
def test_missing_settings_are_named():
    with pytest.raises(NotConfigured) as caught:
        zendesk_from_settings({"ASSIST_ZENDESK_EMAIL": "agent@acme.test"}, Context())
    assert "ASSIST_ZENDESK_BASE_URL (or ASSIST_ZENDESK_SUBDOMAIN)" in caught.value.message
    assert "ASSIST_ZENDESK_API_TOKEN" in caught.value.message
    assert "ASSIST_ZENDESK_EMAIL" not in caught.value.message


@pytest.mark.parametrize("extra, root", [
    ({"ASSIST_ZENDESK_SUBDOMAIN": "acme"}, "https://acme.zendesk.com"),
    ({"ASSIST_ZENDESK_BASE_URL": "https://help.acme.test/api/v2/"}, "https://help.acme.test"),
])
def test_base_url_from_settings(extra, root):
    settings = {k: v for k, v in SETTINGS.items() if k != "ASSIST_ZENDESK_BASE_URL"}
    connector = zendesk_from_settings({**settings, **extra}, Context(region="GB"))
    try:
        assert (connector.base_url, connector.http.base_url, connector.region) == (root, root, "GB")
    finally:
        connector.close()


@pytest.mark.parametrize("bad", [{"ASSIST_ZENDESK_SUBDOMAIN": "acme.zendesk.com/evil"},
                                 {"ASSIST_ZENDESK_BASE_URL": "acme.zendesk.com"}])
def test_malformed_base_settings_are_not_configured(bad):
    settings = {k: v for k, v in SETTINGS.items() if k != "ASSIST_ZENDESK_BASE_URL"}
    with pytest.raises(NotConfigured):
        zendesk_from_settings({**settings, **bad}, Context())


def test_registered_in_the_registry():
    connectors, problems = build_connectors(["zendesk"], SETTINGS, Context())
    try:
        assert isinstance(connectors["zendesk"], ZendeskConnector) and problems == {}
    finally:
        connectors["zendesk"].close()
