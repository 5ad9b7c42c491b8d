"""`assist sync`: every connector's customer listing copied into the local store, over real HTTP.

Each vendor's emulator answers its documented listing with small pages, so every
sync crosses pages.  An interrupted sync is an emulator that fails every request
after a point; the next sync must resume from the saved cursor.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from assist.cli import cli
from assist.services import prepare_database
from connectors import AuthFailed, ConnectorError
from connectors.chatwoot import ChatwootConnector
from connectors.freshdesk import FreshdeskConnector
from connectors.hubspot import HubSpotConnector
from connectors.local import LocalConnector
from connectors.phones import to_e164
from connectors.salesforce import SalesforceConnector
from connectors.sync import sync, sync_state
from connectors.zendesk import ZendeskConnector
from phrasebank.db import ThreadLocalDatabase
from tests.emulators import chatwoot, hubspot
from tests.emulators.chatwoot import ChatwootEmulator
from tests.emulators.freshdesk import FreshdeskEmulator
from tests.emulators.hubspot import HubSpotEmulator
from tests.emulators.salesforce import SalesforceEmulator, sfid
from tests.emulators.zendesk import ZendeskEmulator

FAST = {"timeout": (1.0, 2.0), "backoff": 0.001, "max_wait": 2.0, "sleep": lambda seconds: None}


def days_ago(emulator, days):
    return (emulator.now - timedelta(days=days)).date().isoformat()


def midnight(date, unit=1):
    return int(datetime.fromisoformat(date).replace(tzinfo=timezone.utc).timestamp() * unit)


# -- one spec per vendor: how to connect, what it holds, how its listing looks in the request log -------------
class HubSpot:
    name = "hubspot"
    emulator = HubSpotEmulator

    def connect(self, emulator):
        return HubSpotConnector(base_url=emulator.url, token=hubspot.TOKEN, **FAST)

    def customers(self, emulator):
        """(id, email, phone as typed) of every customer the CRM holds."""
        return [(i, c["properties"].get("email"), c["properties"].get("phone") or c["properties"].get("mobilephone"))
                for i, c in emulator.objects["contacts"].items()]

    def changed_since(self, emulator):
        return "2026-08-15", {"101", "102"}

    def listings(self, emulator):
        return [r for r in emulator.requests
                if r.path == "/crm/v3/objects/contacts" or r.path == "/crm/v3/objects/contacts/search"]

    def is_first_page(self, request):
        if request.method == "GET":
            return "after" not in request.query
        return not any(f["propertyName"] == "hs_object_id" for f in request.json()["filterGroups"][0]["filters"])

    def sent_since(self, request, since):
        wanted = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(midnight(since, 1000))}
        return request.method == "POST" and wanted in request.json()["filterGroups"][0]["filters"]

    def rename(self, emulator):
        emulator.objects["contacts"]["102"]["properties"]["firstname"] = "Amazing"
        return "102", "Amazing Hopper"


class Zendesk:
    name = "zendesk"
    emulator = ZendeskEmulator

    def connect(self, emulator):
        return ZendeskConnector(emulator.url, emulator.email, emulator.token, **FAST)

    def customers(self, emulator):
        return [(str(i), u["email"], u["phone"]) for i, u in emulator.users.items() if u["role"] == "end-user"]

    def changed_since(self, emulator):
        return days_ago(emulator, 20), {"100", "101"}  # 102 and 103 changed longer ago; 90 is an agent

    def listings(self, emulator):
        paths = ("/api/v2/users.json", "/api/v2/incremental/users/cursor.json")
        return [r for r in emulator.requests if r.path in paths]

    def is_first_page(self, request):
        return "page[after]" not in request.query and "cursor" not in request.query

    def sent_since(self, request, since):
        return request.query.get("start_time") == str(midnight(since))

    def rename(self, emulator):
        emulator.users[102]["name"] = "Amazing Grace"
        return "102", "Amazing Grace"


class Salesforce:
    name = "salesforce"
    emulator = SalesforceEmulator

    def connect(self, emulator):
        return SalesforceConnector(emulator.url, emulator.client_id, emulator.client_secret, **FAST)

    def customers(self, emulator):
        return [(c["Id"], c["Email"], c["Phone"] or c["MobilePhone"]) for c in emulator.records["Contact"]]

    def changed_since(self, emulator):
        return "2026-10-03", {sfid("003", 3), sfid("003", 4)}

    def listings(self, emulator):
        def listing(r):
            if r.path.endswith("/query"):
                return "ORDER BY Id" in r.query.get("q", "")
            locator = r.path.rsplit("/", 1)[-1].split("-")[0]
            return "/query/" in r.path and emulator.cursors.get(locator, [{}])[0].get("attributes", {}).get(
                "type") == "Contact"

        return [r for r in emulator.data_requests if listing(r)]

    def is_first_page(self, request):
        return request.path.endswith("/query") and "Id >" not in request.query["q"]

    def sent_since(self, request, since):
        return f"LastModifiedDate >= {since}T00:00:00Z" in request.query.get("q", "")

    def rename(self, emulator):
        emulator.records["Contact"][3]["Name"] = "Amazing Grace"
        return sfid("003", 4), "Amazing Grace"


class Freshdesk:
    name = "freshdesk"
    emulator = FreshdeskEmulator

    def connect(self, emulator):
        return FreshdeskConnector(emulator.url, emulator.api_key, **FAST)

    def customers(self, emulator):
        return [(str(i), c["email"], c["phone"] or c["mobile"]) for i, c in emulator.contacts.items()]

    def changed_since(self, emulator):
        return days_ago(emulator, 30), {"201", "202"}  # 203 changed 90 days ago

    def listings(self, emulator):
        return [r for r in emulator.requests
                if r.path == "/api/v2/contacts" and not {"email", "phone", "mobile"} & set(r.query)]

    def is_first_page(self, request):
        return request.query.get("page", "1") == "1"

    def sent_since(self, request, since):
        return request.query.get("_updated_since") == f"{since}T00:00:00Z"

    def rename(self, emulator):
        emulator.contacts[202]["name"] = "Cat Woman"
        return "202", "Cat Woman"


class Chatwoot:
    name = "chatwoot"
    emulator = ChatwootEmulator

    def connect(self, emulator):
        return ChatwootConnector(emulator.url, chatwoot.ACCOUNT_ID, chatwoot.TOKEN, **FAST)

    def customers(self, emulator):
        return [(str(i), c["email"], c["phone_number"]) for i, c in emulator.contacts.items()]

    def changed_since(self, emulator):
        return "2026-09-01", {"40", "50"}  # the decoys were last active in August

    def listings(self, emulator):
        return [r for r in emulator.requests if r.path == f"/api/v1/accounts/{chatwoot.ACCOUNT_ID}/contacts"]

    def is_first_page(self, request):
        return request.query.get("page", "1") == "1"

    def sent_since(self, request, since):
        return True  # Chatwoot's list has no time filter; the connector applies ``since`` to what it lists

    def rename(self, emulator):
        emulator.contacts[50]["name"] = "Nina P."
        return "50", "Nina P."


VENDORS = [HubSpot(), Zendesk(), Salesforce(), Freshdesk(), Chatwoot()]


@pytest.fixture(params=VENDORS, ids=lambda vendor: vendor.name)
def vendor(request):
    return request.param


@pytest.fixture
def servers():
    """Start emulators on demand; every one is stopped after the test."""
    started = []

    def start(vendor):
        started.append(vendor.emulator().start())
        return started[-1]

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def connectors():
    """Build a vendor's connector against an emulator (fast retries, no real sleeping); closed after the test."""
    made = []

    def connect(vendor, emulator):
        made.append(vendor.connect(emulator))
        return made[-1]

    yield connect
    for connector in made:
        connector.close()


@pytest.fixture
def store(tmp_path):
    """A fresh migrated store: the sqlite-utils Database, and a LocalConnector reading it."""
    db = prepare_database(tmp_path / "assist.db")
    yield db, LocalConnector(ThreadLocalDatabase(tmp_path / "assist.db"))
    db.close()


def stored(db, source):
    return {row["source_id"]: row for row in db["crm_customers"].rows_where("source = ?", [source])}


def count(db, table, customer_id):
    return db[table].count_where("customer_id = ?", [customer_id])


# -- a full sync ------------------------------------------------------------------------------------------------
def test_a_full_sync_stores_every_customer_with_tickets_and_activities(vendor, servers, connectors, store):
    db, local = store
    emulator = servers(vendor)
    pages = []
    assert sync(db, connectors(vendor, emulator), on_page=pages.append)[0] == len(vendor.customers(emulator))
    assert len(pages) >= 2 and sum(pages) == len(vendor.customers(emulator))  # the listing crossed pages
    rows = stored(db, vendor.name)
    assert set(rows) == {i for i, _, _ in vendor.customers(emulator)}
    assert db["crm_customers"].count == len(rows)

    check, phones = connectors(vendor, emulator), [to_e164(p) for _, _, p in vendor.customers(emulator)]
    with_history = 0
    for customer_id, email, phone in vendor.customers(emulator):
        row, record = rows[customer_id], check.record(customer_id=customer_id)
        assert (count(db, "crm_tickets", row["id"]), count(db, "crm_activities", row["id"])) == (
            len(record.tickets), len(record.activities))
        with_history += bool(record.tickets and record.activities)
        assert local.find_customer(email=email).id == row["id"]
        if to_e164(phone) and phones.count(to_e164(phone)) == 1:
            assert local.find_customer(phone=phone).id == row["id"]
    assert with_history >= 1
    state = sync_state(db, vendor.name)
    assert (state["cursor"], state["customers"], bool(state["finished_at"])) == (None, len(rows), True)


def test_a_second_sync_updates_instead_of_duplicating(vendor, servers, connectors, store):
    db, _ = store
    emulator = servers(vendor)
    sync(db, connectors(vendor, emulator))
    counts = [db[table].count for table in ("crm_customers", "crm_tickets", "crm_activities")]
    customer_id, new_name = vendor.rename(emulator)
    assert sync(db, connectors(vendor, emulator))[0] == len(vendor.customers(emulator))
    assert [db[table].count for table in ("crm_customers", "crm_tickets", "crm_activities")] == counts
    assert stored(db, vendor.name)[customer_id]["name"] == new_name


# -- an interrupted sync -----------------------------------------------------------------------------------------
def requests_per_page(vendor, servers, connectors, tmp_path):
    """How many requests a full sync has made when each page is stored (a rehearsal on its own store)."""
    emulator, db = servers(vendor), prepare_database(tmp_path / "rehearsal.db")
    marks = []
    sync(db, connectors(vendor, emulator), on_page=lambda n: marks.append(len(emulator.requests)))
    db.close()
    return marks


def interrupted(vendor, servers, connectors, db, tmp_path):
    """An emulator that went down during a sync, after page 1 was stored and page 2 listed; now back up."""
    marks = requests_per_page(vendor, servers, connectors, tmp_path)
    emulator = servers(vendor)
    emulator.fail_after(marks[0] + 1)  # page 2 is listed, then the CRM goes down while its records are read
    with pytest.raises(ConnectorError):
        sync(db, connectors(vendor, emulator))
    emulator.recover()
    emulator.requests.clear()
    return emulator


def test_an_interrupted_sync_resumes_from_the_saved_cursor(vendor, servers, connectors, store, tmp_path):
    db, _ = store
    emulator = interrupted(vendor, servers, connectors, db, tmp_path)
    state = sync_state(db, vendor.name)
    first_run = len(stored(db, vendor.name))
    assert state["cursor"] is not None and not state["finished_at"]
    assert 0 < first_run == state["customers"] < len(vendor.customers(emulator))

    resumed, total = sync(db, connectors(vendor, emulator))  # a new process: a new connector, the same store
    listed = vendor.listings(emulator)
    assert listed and not any(vendor.is_first_page(r) for r in listed)
    assert first_run + resumed == total == len(vendor.customers(emulator)) == len(stored(db, vendor.name))
    assert db["crm_customers"].count == len(vendor.customers(emulator))
    state = sync_state(db, vendor.name)
    assert (state["cursor"], state["customers"], bool(state["finished_at"])) == (
        None, len(vendor.customers(emulator)), True)


def test_restart_ignores_the_saved_cursor(servers, connectors, store, tmp_path):
    db, _ = store
    vendor = Freshdesk()
    emulator = interrupted(vendor, servers, connectors, db, tmp_path)
    assert sync(db, connectors(vendor, emulator), restart=True)[0] == len(vendor.customers(emulator))
    assert vendor.is_first_page(vendor.listings(emulator)[0])


def test_salesforce_resumes_by_id_once_the_query_locator_has_expired(servers, connectors, store, tmp_path):
    db, _ = store
    vendor = Salesforce()
    emulator = interrupted(vendor, servers, connectors, db, tmp_path)
    saved = json.loads(sync_state(db, "salesforce")["cursor"])
    emulator.expire_query_locators()
    sync(db, connectors(vendor, emulator))
    expired, asked_again = emulator.data_requests[:2]
    assert expired.path == saved["next"]  # the saved locator first, answered INVALID_QUERY_LOCATOR
    assert asked_again.path.endswith("/query") and f"Id > '{saved['after']}'" in asked_again.query["q"]
    assert set(stored(db, "salesforce")) == {c[0] for c in vendor.customers(emulator)}


# -- since --------------------------------------------------------------------------------------------------------
def test_since_reaches_the_vendor_and_limits_the_sync(vendor, servers, connectors, store):
    db, _ = store
    emulator = servers(vendor)
    since, changed = vendor.changed_since(emulator)
    assert sync(db, connectors(vendor, emulator), since=since)[0] == len(changed)
    assert set(stored(db, vendor.name)) == changed
    listed = vendor.listings(emulator)
    assert listed and vendor.is_first_page(listed[0]) and vendor.sent_since(listed[0], since)
    assert sync_state(db, vendor.name)["since"] == since


def test_chatwoot_reads_the_records_of_changed_contacts_only(servers, connectors, store):
    db, _ = store
    vendor = Chatwoot()
    emulator = servers(vendor)
    sync(db, connectors(vendor, emulator), since="2026-09-01")
    # Records are read through each contact's conversations and notes (the listed contact is reused).
    shown = {r.path.split("/")[-2] for r in emulator.requests if r.path.endswith(("/conversations", "/notes"))}
    assert shown == {"40", "50"}


def test_zendesk_since_needs_an_admin_token(servers, connectors, store):
    db, _ = store
    vendor = Zendesk()
    emulator = servers(vendor)
    emulator.admin = False
    with pytest.raises(AuthFailed, match="admin"):
        sync(db, connectors(vendor, emulator), since=days_ago(emulator, 20))
    assert sync(db, connectors(vendor, emulator))[0] == len(vendor.customers(emulator))  # the plain list is open to agents


# -- the command line ---------------------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path):
    """A data dir of its own, no demo data and no HubSpot settings from the outer environment."""
    return {"ASSIST_DATA_DIR": str(tmp_path), "ASSIST_DEMO_DATA": "0", "ASSIST_HUBSPOT_TOKEN": None,
            "ASSIST_HUBSPOT_BASE_URL": None}


def test_cli_syncs_hubspot_and_prints_the_count(servers, env, tmp_path):
    emulator = servers(HubSpot())
    env.update(ASSIST_HUBSPOT_TOKEN=hubspot.TOKEN, ASSIST_HUBSPOT_BASE_URL=emulator.url)
    result = CliRunner().invoke(cli, ["sync", "hubspot"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "4 customers synced from hubspot" in result.stderr
    db = prepare_database(tmp_path / "assist.db")
    assert set(stored(db, "hubspot")) == {"101", "102", "103", "104"}
    db.close()
    emulator.requests.clear()
    result = CliRunner().invoke(cli, ["sync", "hubspot", "--since", "2026-08-15"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "2 customers synced from hubspot" in result.stderr
    assert HubSpot().sent_since(HubSpot().listings(emulator)[0], "2026-08-15")


@pytest.mark.parametrize("args, settings, message", [
    (["sync", "hubspot"], {}, "hubspot: missing ASSIST_HUBSPOT_TOKEN"),
    (["sync", "zendesk"], {"ASSIST_ZENDESK_EMAIL": "a@b.test", "ASSIST_ZENDESK_API_TOKEN": None,
                           "ASSIST_ZENDESK_BASE_URL": None, "ASSIST_ZENDESK_SUBDOMAIN": None},
     "zendesk: missing ASSIST_ZENDESK_BASE_URL (or ASSIST_ZENDESK_SUBDOMAIN), ASSIST_ZENDESK_API_TOKEN"),
    (["sync", "nosuchcrm"], {}, "nosuchcrm: unknown connector; known:"),
    (["sync", "hubspot", "--since", "last week"], {"ASSIST_HUBSPOT_TOKEN": "x"}, "use YYYY-MM-DD"),
])
def test_cli_names_what_is_misconfigured(env, args, settings, message):
    result = CliRunner().invoke(cli, args, env={**env, **settings})
    assert result.exit_code in (1, 2) and message in result.stderr


def test_cli_reports_a_refusing_crm_without_a_traceback(servers, env):
    emulator = servers(HubSpot())
    env.update(ASSIST_HUBSPOT_TOKEN="wrong-token", ASSIST_HUBSPOT_BASE_URL=emulator.url)
    result = CliRunner().invoke(cli, ["sync", "hubspot"], env=env)
    assert result.exit_code == 1 and "hubspot refused our credentials (HTTP 401)" in result.stderr
