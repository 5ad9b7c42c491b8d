"""The HubSpot connector over real HTTP against the local HubSpot emulator."""

import time

import pytest

from connectors import AuthFailed, Context, NotConfigured, RateLimited, Unavailable, build_connectors
from connectors.hubspot import HubSpotConnector, hubspot_from_settings
from tests.emulators.hubspot import TOKEN, HubSpotEmulator

FAST = {"timeout": (0.5, 0.3), "backoff": 0.01, "max_wait": 2.0, "page_size": 2, "portal_id": "4242"}


@pytest.fixture(scope="module")
def server():
    emulator = HubSpotEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def hubspot(server):
    """The module's emulator with no queued faults and an empty request log."""
    server.faults.clear()
    server.requests.clear()
    return server


@pytest.fixture
def waits():
    """Every wait the client slept, in order (it still really sleeps)."""
    return []


@pytest.fixture
def connect(hubspot, waits):
    """Build a connector against the emulator; closed after the test."""
    made = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    def connect(**overrides):
        options = {"base_url": hubspot.url, "token": TOKEN, "sleep": sleep, **FAST, **overrides}
        made.append(HubSpotConnector(**options))
        return made[-1]

    yield connect
    for connector in made:
        connector.close()


@pytest.fixture
def connector(connect):
    return connect()


def searches(hubspot):
    return [r for r in hubspot.requests if r.path.endswith("/contacts/search")]


# -- finding contacts --------------------------------------------------------
def test_finds_a_contact_by_email_with_its_fields(connector, hubspot):
    customer = connector.find_customer(email="  ADA@Example.com ")
    assert customer.to_dict() == {
        "source": "hubspot", "id": "101", "name": "Ada Lovelace", "email": "ada@example.com",
        "phone": "+14155550100", "company": "Analytical Engines", "tier": "customer",
        "url": "https://app.hubspot.com/contacts/4242/record/0-1/101", "updated_at": "2026-10-30T08:00:00+00:00",
    }
    sent = searches(hubspot)[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.json()["filterGroups"] == [
        {"filters": [{"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}]}]


@pytest.mark.parametrize("typed", ["(415) 555-0100", "+1 415-555-0100", "415.555.0100", "+14155550100"])
def test_finds_a_contact_by_phone_typed_any_way_searching_national_digits(connector, hubspot, typed):
    assert connector.find_customer(phone=typed).id == "101"  # not 104, which shares the national digits
    groups = searches(hubspot)[0].json()["filterGroups"]
    assert groups == [{"filters": [{"propertyName": name, "operator": "EQ", "value": "4155550100"}]}
                      for name in ("phone", "mobilephone")]


@pytest.mark.parametrize("typed, region, expected", [
    ("+44 20 7946 0958", "US", "102"),  # mobilephone only
    ("020 7946 0958", "GB", "102"),
    ("+44 4155 550100", "US", "104"),
])
def test_phone_search_confirms_the_country_client_side(connect, typed, region, expected):
    assert connect(region=region).find_customer(phone=typed).id == expected


def test_finds_a_contact_by_id(connector):
    customer = connector.find_customer(customer_id="103")
    assert (customer.name, customer.phone, customer.tier) == ("Alan Turing", "+12125550199", None)


@pytest.mark.parametrize("lookup", [
    {"email": "nobody@example.com"}, {"phone": "+1 212 555 0100"}, {"customer_id": "999"},
    {"customer_id": "../contacts"}, {"phone": "not a phone"}, {},
])
def test_not_found_is_none(connector, lookup):
    assert connector.find_customer(**lookup) is None


def test_record_url_is_absent_without_portal_id(connect):
    assert connect(portal_id=None).find_customer(customer_id="101").url is None


# -- tickets and activities --------------------------------------------------
def test_tickets_across_association_pages_newest_first(connector, hubspot):
    tickets = connector.tickets(connector.find_customer(customer_id="101"))
    assert [t.id for t in tickets] == ["9002", "9005", "9004", "9003", "9001"]
    assert [t.is_open for t in tickets] == [True, True, False, True, False]
    assert [t.status for t in tickets] == ["new", "waiting on us", "closed", "waiting on contact", "closed"]
    first = tickets[0]
    assert (first.subject, first.description, first.priority) == ("Refund for order 77", "Charged twice.", "medium")
    assert (first.created_at, first.updated_at) == ("2026-07-01T09:00:00+00:00", "2026-10-29T09:00:00+00:00")
    assert first.url == "https://app.hubspot.com/contacts/4242/record/0-5/9002"
    pages = [r for r in hubspot.requests if r.path.endswith("/associations/tickets")]
    assert [r.query.get("after") for r in pages] == [None, "Mg==", "NA=="]  # 6 ids, 2 a page
    assert all(r.query["limit"] == "2" for r in pages)
    batch = [r for r in hubspot.requests if r.path == "/crm/v3/objects/tickets/batch/read"]
    assert len(batch) == 1 and len(batch[0].json()["inputs"]) == 6  # the deleted one comes back as a 207 error


def test_tickets_since_and_custom_closed_stages(connect):
    connector = connect(closed_stages=("3", "4"))
    tickets = connector.tickets(connector.find_customer(customer_id="101"), since="2026-09-01T00:00:00Z")
    assert [(t.id, t.is_open) for t in tickets] == [("9002", True), ("9005", False), ("9004", False)]


def test_a_contact_without_associations_has_nothing(connector, hubspot):
    alan = connector.find_customer(customer_id="103")
    assert connector.tickets(alan) == [] and connector.activities(alan) == []
    assert not [r for r in hubspot.requests if r.path.endswith("/batch/read")]


def test_batch_reads_go_100_at_a_time(connect, hubspot):
    connector = connect(page_size=500)
    notes = {str(50000 + n): {"id": str(50000 + n), "properties": {"hs_note_body": f"bulk {n}",
                                                                    "hs_timestamp": "2026-01-01T00:00:00Z"}}
             for n in range(150)}
    hubspot.objects["notes"].update(notes)
    hubspot.associations["103"] = {"notes": list(notes)}
    try:
        activities = connector.activities(connector.find_customer(customer_id="103"))
    finally:
        del hubspot.associations["103"]
        for note_id in notes:
            del hubspot.objects["notes"][note_id]
    assert len(activities) == 150
    batches = [r.json()["inputs"] for r in hubspot.requests if r.path.endswith("/notes/batch/read")]
    assert [len(b) for b in batches] == [100, 50]


def test_notes_and_tasks_newest_first_with_due_and_done(connector):
    activities = connector.activities(connector.find_customer(customer_id="101"))
    assert [a.id for a in activities] == ["8002", "7005", "7004", "7003", "7002", "8001", "7001", "8003"]
    note = activities[1]
    assert (note.kind, note.at, note.summary) == ("note", "2026-10-05T12:00:00+00:00",
                                                  "Called about refund, step 5 & more")
    tasks = {a.id: a for a in activities if a.kind == "task"}
    assert (tasks["8001"].due_at, tasks["8001"].done, tasks["8001"].channel) == (
        "2026-10-03T15:00:00+00:00", True, "call")
    assert tasks["8001"].summary == "Call back about refund - Promised a call"
    assert (tasks["8002"].due_at, tasks["8002"].done, tasks["8002"].channel) == (
        "2026-11-04T09:00:00+00:00", False, "email")
    assert (tasks["8003"].done, tasks["8003"].channel) == (False, None)


def test_activities_since_keep_open_tasks_whatever_their_age(connector):
    activities = connector.activities(connector.find_customer(customer_id="101"), since="2026-10-04T00:00:00+00:00")
    assert [a.id for a in activities] == ["8002", "7005", "7004", "8003"]


def test_record_bundles_customer_tickets_and_activities(connector):
    record = connector.record(email="ada@example.com")
    assert record.customer.id == "101" and len(record.tickets) == 5 and len(record.activities) == 8


# -- errors, throttling, faults ----------------------------------------------
def test_wrong_token_is_auth_failed(connect, hubspot):
    with pytest.raises(AuthFailed) as raised:
        connect(token="pat-na1-wrong").find_customer(email="ada@example.com")
    assert TOKEN not in raised.value.message and len(hubspot.requests) == 1


def test_missing_scope_is_auth_failed(connector, hubspot):
    hubspot.fail_next(403, {"status": "error", "message": "This app hasn't been granted all required scopes",
                            "category": "MISSING_SCOPES"})
    with pytest.raises(AuthFailed):
        connector.find_customer(email="ada@example.com")


def test_throttled_once_waits_the_rate_limit_window_then_succeeds(connector, hubspot, waits):
    hubspot.throttle_next(interval_ms=200)
    started = time.monotonic()
    assert connector.find_customer(email="ada@example.com").id == "101"
    assert waits == [0.2] and time.monotonic() - started >= 0.2
    assert len(searches(hubspot)) == 2


def test_retry_after_wins_over_the_window_when_present(connect, hubspot, waits):
    hubspot.throttle_next(interval_ms=10000, retry_after=1)
    assert connect(sleep=waits.append).find_customer(customer_id="101").id == "101"
    assert waits == [1.0]


def test_throttle_without_headers_backs_off_exponentially(connector, hubspot, waits):
    hubspot.fail_next(429, {"status": "error", "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}, times=2)
    assert connector.find_customer(customer_id="101").id == "101"
    assert len(waits) == 2 and 0.008 <= waits[0] <= 0.012 and 0.016 <= waits[1] <= 0.024


def test_throttled_beyond_max_wait_is_rate_limited_without_sleeping(connect, hubspot, waits):
    hubspot.throttle_next(interval_ms=20000)
    with pytest.raises(RateLimited) as raised:
        connect(max_wait=1.0).find_customer(email="ada@example.com")
    assert raised.value.retry_after == 20 and waits == [] and len(hubspot.requests) == 1


def test_daily_limit_is_rate_limited_at_once(connector, hubspot, waits):
    hubspot.throttle_next(policy="DAILY", interval_ms=100)
    with pytest.raises(RateLimited):
        connector.find_customer(email="ada@example.com")
    assert waits == []


def test_a_5xx_then_success(connector, hubspot, waits):
    hubspot.fail_next(502, {"status": "error", "message": "Bad gateway"})
    assert connector.find_customer(email="ada@example.com").id == "101"
    assert len(searches(hubspot)) == 2 and len(waits) == 1


def test_5xx_on_every_attempt_is_unavailable(connector, hubspot):
    hubspot.fail_next(504, "Gateway Timeout", times=4)
    with pytest.raises(Unavailable):
        connector.find_customer(email="ada@example.com")
    assert len(hubspot.requests) == 4


def test_slow_beyond_the_read_timeout_is_retried_then_unavailable(connector, hubspot):
    hubspot.slow_next(0.5, times=4)
    started = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        connector.find_customer(email="ada@example.com")
    assert "timed out" in raised.value.message
    assert len(hubspot.requests) == 4 and time.monotonic() - started < 3


def test_slow_once_then_success(connector, hubspot):
    hubspot.slow_next(0.5)
    assert connector.find_customer(email="ada@example.com").id == "101"
    assert len(hubspot.requests) == 2


def test_a_dropped_connection_then_success(connector, hubspot):
    hubspot.drop_next()
    tickets = connector.tickets(connector.find_customer(customer_id="101"))
    assert len(tickets) == 5 and len(hubspot.requests) == 1 + 1 + 3 + 1  # id, drop, 3 pages, batch


def test_malformed_json_is_unavailable(connector, hubspot):
    hubspot.fail_next(200, '{"results": [', {"Content-Type": "application/json"})
    with pytest.raises(Unavailable) as raised:
        connector.find_customer(email="ada@example.com")
    assert "malformed" in raised.value.message


# -- factory ---------------------------------------------------------------------
def test_factory_without_a_token_names_the_variable():
    with pytest.raises(NotConfigured) as raised:
        hubspot_from_settings({"ASSIST_HUBSPOT_TOKEN": "  "}, Context())
    assert "ASSIST_HUBSPOT_TOKEN" in raised.value.message


def test_build_connectors_reports_the_missing_variable():
    connectors, problems = build_connectors(["hubspot"], {}, Context())
    assert connectors == {} and "ASSIST_HUBSPOT_TOKEN" in problems["hubspot"]


@pytest.mark.parametrize("settings, wrong", [
    ({"ASSIST_HUBSPOT_PORTAL_ID": "acme"}, "ASSIST_HUBSPOT_PORTAL_ID"),
    ({"ASSIST_HUBSPOT_BASE_URL": "api.hubapi.com"}, "ASSIST_HUBSPOT_BASE_URL"),
])
def test_factory_rejects_malformed_settings(settings, wrong):
    with pytest.raises(NotConfigured) as raised:
        hubspot_from_settings({"ASSIST_HUBSPOT_TOKEN": TOKEN, **settings}, Context())
    assert wrong in raised.value.message


def test_factory_builds_a_working_connector(hubspot):
    settings = {"ASSIST_HUBSPOT_TOKEN": TOKEN, "ASSIST_HUBSPOT_BASE_URL": hubspot.url,
                "ASSIST_HUBSPOT_PORTAL_ID": "4242", "ASSIST_HUBSPOT_CLOSED_STAGES": "3, 4"}
    connector = hubspot_from_settings(settings, Context(region="GB"))
    try:
        grace = connector.find_customer(phone="020 7946 0958")
        assert grace.url == "https://app.hubspot.com/contacts/4242/record/0-1/102"
        assert connector.closed_stages == {"3", "4"}
    finally:
        connector.close()
