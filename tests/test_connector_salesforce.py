"""The Salesforce connector over real HTTP against the local Salesforce emulator."""

import time

import pytest
import requests

from connectors import Context, build_connectors
from connectors.base import Activity, AuthFailed, ConnectorError, NotConfigured, RateLimited, Ticket, Unavailable
from connectors.salesforce import SalesforceConnector, salesforce_from_settings, soql_datetime, soql_quote, sosl_escape
from tests.emulators.salesforce import SalesforceEmulator, sfid, tokenize, unescape_soql, unescape_sosl

ADA, BRENDAN, GRACE = sfid("003", 2), sfid("003", 3), sfid("003", 4)
NASTY = ["o'brien@example.com", "back\\slash", "\\'", "'; DROP", 'say "hi"', "tab\there\nnewline\r", "\\\\'x'\\"]


@pytest.fixture
def emulator():
    emulator = SalesforceEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def sleeps():
    """Every wait the connector asked for, recorded instead of slept."""
    return []


@pytest.fixture
def make(emulator, sleeps):
    """Build a connector against the emulator; options override the defaults."""
    made = []

    def make(**options):
        options = {"client_id": emulator.client_id, "client_secret": emulator.client_secret,
                   "sleep": sleeps.append, **options}
        made.append(SalesforceConnector(emulator.url, **options))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make):
    return make()


@pytest.fixture
def warm(connector):
    """A connector that already holds a token, so injected faults hit data calls."""
    assert connector.find_customer(customer_id=GRACE) is not None
    return connector


def token_for(emulator):
    return requests.post(f"{emulator.url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": emulator.client_id,
        "client_secret": emulator.client_secret}, timeout=5).json()["access_token"]


# -- tokens -----------------------------------------------------------------
def test_token_is_fetched_once_and_reused_against_the_instance_url(connector, emulator):
    ada = connector.find_customer(email="ada@example.com")
    connector.tickets(ada)
    connector.activities(ada)
    assert len(emulator.token_requests) == 1
    form = emulator.token_requests[0].body.decode()
    assert "grant_type=client_credentials" in form and "client_secret=test-client-secret" in form
    assert "authorization" not in emulator.token_requests[0].headers
    instance_host = emulator.instance_url.split("//")[1]
    assert {r.headers["host"] for r in emulator.data_requests} == {instance_host}
    assert {r.headers["authorization"] for r in emulator.data_requests} == {f"Bearer {emulator.tokens.pop()}"}


def test_an_expired_token_is_replaced_once_and_the_call_succeeds(warm, emulator):
    emulator.expire_tokens()
    assert warm.find_customer(email="ada@example.com").id == ADA
    assert len(emulator.token_requests) == 2
    assert len(emulator.data_requests) == 3  # warm-up, refused, retried


def test_a_session_refused_even_after_a_new_token_is_auth_failed(warm, emulator):
    emulator.reject_sessions = True
    with pytest.raises(AuthFailed):
        warm.find_customer(email="ada@example.com")
    assert len(emulator.token_requests) == 2  # one refresh, no loop


@pytest.mark.parametrize("client_id, client_secret, reason", [
    ("test-client-id", "wrong-secret", "invalid_client"),
    ("unknown-app", "test-client-secret", "invalid_client_id"),
])
def test_bad_client_credentials_are_auth_failed(make, emulator, client_id, client_secret, reason):
    with pytest.raises(AuthFailed) as raised:
        make(client_id=client_id, client_secret=client_secret).find_customer(email="ada@example.com")
    assert f"({reason})" in raised.value.message and client_secret not in raised.value.message
    assert emulator.data_requests == []


def test_a_malformed_token_response_is_unavailable(connector, emulator):
    emulator.fail_next(200, {"access_token": "00D!x"})  # no instance_url
    with pytest.raises(Unavailable):
        connector.find_customer(email="ada@example.com")


# -- contacts ---------------------------------------------------------------
def test_find_by_email_maps_the_contact(connector, emulator):
    ada = connector.find_customer(email=" ada@example.com ")
    assert ada.to_dict() == {
        "source": "salesforce", "id": ADA, "name": "Ada Lovelace", "email": "ada@example.com",
        "phone": "+14155550100", "company": "Acme Ltd", "tier": None,
        "url": f"{emulator.instance_url}/lightning/r/Contact/{ADA}/view", "updated_at": "2026-10-02T08:00:00+00:00"}


@pytest.mark.parametrize("phone, expected", [
    ("(415) 555-0100", ADA),  # the decoy +44 4155 550100 shares the digits and is skipped
    ("+14155550100", ADA),
    ("415.555.0199", GRACE),  # mobile phone
    ("+44 20 7946 0958", BRENDAN),
])
def test_find_by_phone_through_sosl(connector, emulator, phone, expected):
    assert connector.find_customer(phone=phone).id == expected
    search = emulator.data_requests[-1]
    assert search.path == "/services/data/v60.0/search"
    assert search.query["q"].startswith("FIND {") and " IN PHONE FIELDS RETURNING Contact(" in search.query["q"]


@pytest.mark.parametrize("customer_id", [ADA, ADA[:15]])
def test_find_by_id(connector, customer_id):
    assert connector.find_customer(customer_id=customer_id).name == "Ada Lovelace"


@pytest.mark.parametrize("lookup", [
    {"email": "nobody@example.com"},
    {"phone": "+1 202 555 0111"},
    {"customer_id": sfid("003", 99)},
])
def test_not_found_is_none(connector, lookup):
    assert connector.find_customer(**lookup) is None


@pytest.mark.parametrize("lookup", [{}, {"customer_id": "../../sobjects/User"}, {"phone": "not a phone"}])
def test_lookups_that_cannot_match_make_no_calls(connector, emulator, lookup):
    assert connector.find_customer(**lookup) is None
    assert emulator.requests == []


def test_an_unknown_id_falls_through_to_the_email(connector):
    assert connector.find_customer(customer_id=sfid("003", 99), email="grace@example.com").id == GRACE


def test_an_email_with_a_quote_is_found(connector, emulator):
    assert connector.find_customer(email="o'brien@example.com").id == BRENDAN
    assert "WHERE Email = 'o\\'brien@example.com' LIMIT 1" in emulator.data_requests[-1].query["q"]


@pytest.mark.parametrize("email", [
    "nobody@example.com' OR Name != '",
    "nobody@example.com\\' OR Name != '",
    "' OR Email != null OR Email = '",
    "x\\\\' OR Name != '",
])
def test_an_email_cannot_break_out_of_the_soql_literal(connector, emulator, email):
    assert connector.find_customer(email=email) is None
    assert tokenize(emulator.data_requests[-1].query["q"])[-4:] == [
        ("op", "="), ("string", soql_quote(email)), ("word", "LIMIT"), ("number", "1")]


def test_the_same_email_unescaped_would_have_matched(emulator):
    """Control for the test above: the emulator does evaluate an injected OR."""
    q = "SELECT Id FROM Contact WHERE Email = 'nobody@example.com' OR Name != '' LIMIT 1"
    answer = requests.get(f"{emulator.instance_url}/services/data/v60.0/query", params={"q": q}, timeout=5,
                          headers={"Authorization": f"Bearer {token_for(emulator)}"}).json()
    assert answer["totalSize"] == 1


@pytest.mark.parametrize("value", NASTY)
def test_soql_quote_round_trips_through_salesforce_escaping(value):
    literal = soql_quote(value)
    assert tokenize(literal) == [("string", literal)]
    assert unescape_soql(literal[1:-1]) == value


def test_sosl_escape_covers_every_reserved_character():
    reserved = "?&|!{}[]()^~*:\\\"'+-"
    assert sosl_escape(f"a{reserved}b") == "a" + "".join("\\" + c for c in reserved) + "b"
    assert unescape_sosl(sosl_escape(f"a{reserved}b")) == f"a{reserved}b"


# -- cases and tasks --------------------------------------------------------
def test_cases_across_batches_newest_first(connector, emulator):
    tickets = connector.tickets(connector.find_customer(customer_id=ADA))
    assert [t.subject for t in tickets] == ["Engineer did not arrive", "Refund for double charge",
                                            "Slow broadband in evenings", "Router keeps rebooting",
                                            "Change billing address"]
    assert [t.is_open for t in tickets] == [True, True, True, False, False]
    assert [r.path.rsplit("-", 1)[1] for r in emulator.data_requests if "/query/01g" in r.path] == ["2", "4"]
    assert tickets[1] == Ticket(
        source="salesforce", id=sfid("500", 2), subject="Refund for double charge",
        description="Refund for double charge.", status="Working", priority="High",
        created_at="2026-10-20T09:15:00+00:00", updated_at="2026-10-28T11:30:00+00:00",
        url=f"{emulator.instance_url}/lightning/r/Case/{sfid('500', 2)}/view", is_open=True, channel="email")


def test_tasks_across_batches_newest_first_with_due_and_done(connector):
    activities = connector.activities(connector.find_customer(customer_id=ADA))
    assert [(a.summary.split(":")[0], a.kind, a.done) for a in activities] == [
        ("Send engineer report", "task", False),
        ("Call back about refund", "call", False),
        ("Email", "email", True),
        ("Call", "call", True),
        ("Check line quality", "task", False),
    ]
    assert activities[1] == Activity(
        source="salesforce", id=sfid("00T", 2), at="2026-10-28T11:35:00+00:00", kind="call", channel="phone",
        summary="Call back about refund: Promised a call once finance confirms",
        due_at="2026-11-03T23:59:59+00:00", done=False, outcome="Not Started")


def test_since_limits_cases_by_last_modified(connector, emulator):
    ada = connector.find_customer(customer_id=ADA)
    tickets = connector.tickets(ada, since="2026-10-16T02:00:00+02:00")
    assert [t.subject for t in tickets] == ["Engineer did not arrive", "Refund for double charge"]
    assert "LastModifiedDate >= 2026-10-16T00:00:00Z" in emulator.data_requests[-1].query["q"]


def test_since_keeps_open_tasks_whatever_their_age(connector):
    activities = connector.activities(connector.find_customer(customer_id=ADA), since="2026-10-25T00:00:00Z")
    assert [a.summary.split(":")[0] for a in activities] == [
        "Send engineer report", "Call back about refund", "Check line quality"]


def test_soql_datetime_is_utc():
    assert soql_datetime("2026-11-02T09:15:00+00:00") == "2026-11-02T09:15:00Z"
    assert soql_datetime("2026-11-02T10:15:00+01:00") == "2026-11-02T09:15:00Z"


def test_record_uses_one_token_for_everything(connector, emulator):
    record = connector.record(email="ada@example.com")
    assert (len(record.tickets), len(record.activities)) == (5, 5)
    assert len(emulator.token_requests) == 1
    assert connector.api_usage == (len(emulator.data_requests), emulator.api_limit)


def test_a_next_records_url_off_the_instance_is_refused(connector, emulator):
    ada = connector.find_customer(customer_id=ADA)
    emulator.fail_next(200, {"totalSize": 3, "done": False, "nextRecordsUrl": "@evil.example/x", "records": []})
    with pytest.raises(Unavailable):
        connector.tickets(ada)
    assert all(r.headers["host"] != "evil.example" for r in emulator.requests)


# -- limits and faults ------------------------------------------------------
def test_request_limit_exceeded_once_backs_off_then_succeeds(warm, emulator, sleeps):
    emulator.limit_exceeded()
    assert warm.find_customer(email="ada@example.com").id == ADA
    assert len(sleeps) == 1 and 0.4 <= sleeps[0] <= 0.6  # backoff 0.5 s with jitter; no Retry-After exists


def test_request_limit_exceeded_beyond_max_wait_is_rate_limited(make, emulator, sleeps):
    connector = make(max_wait=1.0)
    connector.find_customer(customer_id=GRACE)
    emulator.limit_exceeded(times=10)
    with pytest.raises(RateLimited):
        connector.find_customer(email="ada@example.com")
    assert sleeps and sum(sleeps) <= 1.0


def test_the_daily_allocation_spent_is_rate_limited_without_waiting(warm, emulator, sleeps):
    emulator.limit_exceeded(message="TotalRequests Limit exceeded.")
    with pytest.raises(RateLimited) as raised:
        warm.find_customer(email="ada@example.com")
    assert sleeps == [] and raised.value.retry_after == 3600


def test_another_403_is_auth_failed(warm, emulator, sleeps):
    emulator.fail_next(403, [{"message": "The REST API is not enabled for this Organization.",
                              "errorCode": "API_DISABLED_FOR_ORG"}])
    with pytest.raises(AuthFailed):
        warm.find_customer(email="ada@example.com")
    assert sleeps == []


def test_a_refused_query_is_a_plain_connector_error(warm, emulator):
    emulator.fail_next(400, [{"message": "No such column 'TaskSubtype' on entity 'Task'.",
                              "errorCode": "INVALID_FIELD"}])
    with pytest.raises(ConnectorError) as raised:
        warm.find_customer(email="ada@example.com")
    assert type(raised.value) is ConnectorError


def test_a_5xx_is_retried(warm, emulator, sleeps):
    emulator.fail_next(503, [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}])
    assert warm.find_customer(email="ada@example.com").id == ADA
    assert len(sleeps) == 1


def test_a_slow_answer_beyond_the_read_timeout_is_unavailable(make, emulator):
    connector = make(timeout=(0.5, 0.3), backoff=0.01)
    connector.find_customer(customer_id=GRACE)
    emulator.slow_next(0.6, times=4)  # the first try and all three retries
    started = time.monotonic()
    with pytest.raises(Unavailable):
        connector.find_customer(email="ada@example.com")
    assert time.monotonic() - started < 2.5


def test_one_slow_answer_is_retried(make, emulator):
    connector = make(timeout=(0.5, 0.3), backoff=0.01)
    connector.find_customer(customer_id=GRACE)
    emulator.slow_next(0.6)
    assert connector.find_customer(email="ada@example.com").id == ADA


def test_a_dropped_connection_is_retried(warm, emulator, sleeps):
    emulator.drop_next()
    assert warm.find_customer(email="ada@example.com").id == ADA
    assert len(sleeps) == 1


def test_malformed_json_is_unavailable(warm, emulator):
    emulator.fail_next(200, "<html>maintenance</html>")
    with pytest.raises(Unavailable):
        warm.find_customer(email="ada@example.com")


# -- settings ---------------------------------------------------------------
def test_missing_settings_are_named():
    with pytest.raises(NotConfigured) as raised:
        salesforce_from_settings({"ASSIST_SALESFORCE_CLIENT_ID": "id"}, Context())
    assert raised.value.message == "missing ASSIST_SALESFORCE_LOGIN_URL, ASSIST_SALESFORCE_CLIENT_SECRET"


@pytest.mark.parametrize("login_url, version, complaint", [
    ("https://login.salesforce.com", "", "My Domain"),
    ("https://test.salesforce.com/", "", "My Domain"),
    ("http://acme.my.salesforce.com", "", "https"),
    ("acme.my.salesforce.com", "", "https"),
    ("https://acme.my.salesforce.com", "sixty", "v60.0"),
])
def test_unusable_settings_are_not_configured(login_url, version, complaint):
    settings = {"ASSIST_SALESFORCE_LOGIN_URL": login_url, "ASSIST_SALESFORCE_CLIENT_ID": "id",
                "ASSIST_SALESFORCE_CLIENT_SECRET": "secret", "ASSIST_SALESFORCE_API_VERSION": version}
    with pytest.raises(NotConfigured) as raised:
        salesforce_from_settings(settings, Context())
    assert complaint in raised.value.message


def test_the_registry_builds_a_working_connector(emulator):
    settings = {"ASSIST_SALESFORCE_LOGIN_URL": emulator.url, "ASSIST_SALESFORCE_CLIENT_ID": emulator.client_id,
                "ASSIST_SALESFORCE_CLIENT_SECRET": emulator.client_secret, "ASSIST_SALESFORCE_API_VERSION": "61.0"}
    connectors, problems = build_connectors(["salesforce"], settings, Context(region="GB"))
    connector = connectors["salesforce"]
    assert problems == {} and (connector.api_version, connector.region) == ("v61.0", "GB")
    assert connector.find_customer(phone="020 7946 0958").id == BRENDAN  # national format, GB region
    assert emulator.data_requests[-1].path == "/services/data/v61.0/search"
    connector.close()
