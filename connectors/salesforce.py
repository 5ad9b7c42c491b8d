"""Salesforce: contacts by SOQL and SOSL, their Cases and Tasks, over the REST API.

A token comes from the OAuth 2.0 client-credentials flow against the org's My
Domain and is cached until a call answers 401 ``INVALID_SESSION_ID``; then one
new token is fetched and the call is tried once more.  Query results are
followed across batches (``done`` / ``nextRecordsUrl``).  Salesforce throttles
with 403 ``REQUEST_LIMIT_EXCEEDED`` and no Retry-After, so we back off.

A sync queries ``SELECT ... FROM Contact [WHERE LastModifiedDate >= since]
ORDER BY Id`` and pages through its batches by ``nextRecordsUrl``.  The saved
cursor holds that URL and the last Id stored: a query locator expires after
about 15 minutes unused, so a later resume asks again for Ids above that one.
"""

import logging
import re
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .base import Activity, AuthFailed, Connector, ConnectorError, Customer, NotConfigured, Ticket, Unavailable
from .http import DEFAULT_TIMEOUT, HttpClient
from .phones import national_digits, to_e164
from .registry import register, require
from .util import cursor_pages, iso_utc, parse_utc

log = logging.getLogger(__name__)

CONTACT_FIELDS = "Id, Name, FirstName, LastName, Email, Phone, MobilePhone, Account.Name, LastModifiedDate"
CASE_FIELDS = ("Id, CaseNumber, Subject, Description, Status, IsClosed, Priority, Origin, "
               "CreatedDate, LastModifiedDate")
TASK_FIELDS = "Id, Subject, Description, Status, IsClosed, ActivityDate, CreatedDate, TaskSubtype"
TASK_KINDS = {"Call": "call", "Email": "email", "ListEmail": "email"}  # any other subtype is a task
SEARCH_LIMIT = 20
DAILY_LIMIT_WAIT = 3600.0  # the daily allocation is a rolling 24 hours: a few seconds' wait cannot help
ID_PATTERN = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
VERSION_PATTERN = re.compile(r"v?(\d{2,3}\.\d)")
# Client credentials are refused on the shared login hosts (Salesforce help article 000886201).
SHARED_LOGIN_HOSTS = {"login.salesforce.com", "test.salesforce.com"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                "\f": "\\f"}
SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


class SessionExpired(AuthFailed):
    """401 INVALID_SESSION_ID: the cached token is no longer good; get another once."""


def soql_quote(value):
    """``value`` as a SOQL string literal: quote, backslash and control characters escaped."""
    return "'" + "".join(SOQL_ESCAPES.get(c, c) for c in str(value)) + "'"


def sosl_escape(term):
    """``term`` with every SOSL reserved character backslash-escaped, for use inside FIND {...}."""
    return "".join("\\" + c if c in SOSL_RESERVED else c for c in term)


def salesforce_throttle(response):
    """403 REQUEST_LIMIT_EXCEEDED is a throttle; 401 INVALID_SESSION_ID raises SessionExpired."""
    if not 400 <= response.status_code < 500:
        return False, None
    codes = {e.get("errorCode"): e.get("message") or "" for e in _errors(response)}
    if response.status_code == 401 and "INVALID_SESSION_ID" in codes:
        raise SessionExpired("salesforce session expired", "salesforce")
    if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
        daily = codes["REQUEST_LIMIT_EXCEEDED"].startswith("TotalRequests")
        return True, DAILY_LIMIT_WAIT if daily else None
    # Only the codes: messages can quote the query, and with it an email address.
    log.warning("salesforce refused a call: HTTP %s %s", response.status_code, ",".join(map(str, codes)))
    return False, None


def token_throttle(response):
    """The token endpoint answers 400/401 with an OAuth error for bad or unusable credentials."""
    if response.status_code not in (400, 401):
        return False, None
    try:
        error = str((response.json() or {}).get("error") or "")
    except (ValueError, AttributeError):
        error = ""
    reason = f" ({error})" if re.fullmatch(r"[a-z_]{1,40}", error) else ""
    raise AuthFailed(f"salesforce refused the client credentials{reason}", "salesforce")


def _errors(response):
    """The documented error body: a JSON array of {message, errorCode}; [] if it is not one."""
    try:
        body = response.json()
    except ValueError:
        return []
    return [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []


class SalesforceConnector(Connector):
    """Reads Salesforce Contacts, their Cases and Tasks as a client-credentials run-as user."""

    name = "salesforce"

    def __init__(self, login_url, client_id, client_secret, api_version="v60.0", region="US",
                 timeout=DEFAULT_TIMEOUT, max_wait=10.0, backoff=0.5, retries=3, sleep=time.sleep):
        self.login_url = checked_url(login_url, "ASSIST_SALESFORCE_LOGIN_URL")
        if urlsplit(self.login_url).hostname in SHARED_LOGIN_HOSTS:
            raise NotConfigured("ASSIST_SALESFORCE_LOGIN_URL must be the org's My Domain URL "
                                "(https://yourcompany.my.salesforce.com): the client-credentials flow "
                                "does not work on login.salesforce.com or test.salesforce.com", self.name)
        self.api_version = api_version_from(api_version)
        self.region = region
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id,
                             "client_secret": client_secret}
        self._session = None  # (access_token, instance_url)
        self._lock = threading.Lock()
        self.api_usage = None  # (used, allowed) from the last Sforce-Limit-Info header
        options = dict(timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait, sleep=sleep)
        self._login = HttpClient(self.name, self.login_url, throttle=token_throttle, **options)
        self._api = HttpClient(self.name, self.login_url, throttle=self._throttle, **options)

    # -- auth ---------------------------------------------------------------
    def _token(self, stale=None):
        """The cached (token, instance_url); fetch a new one if there is none or it is ``stale``."""
        with self._lock:
            if self._session is None or self._session[0] == stale:
                self._session = self._fetch_token()
            return self._session

    def _fetch_token(self):
        body = self._login.json("POST", "/services/oauth2/token", data=self._credentials)
        token = body.get("access_token") if isinstance(body, dict) else None
        instance_url = body.get("instance_url") if isinstance(body, dict) else None
        if not token or not isinstance(instance_url, str):
            raise Unavailable("salesforce sent a malformed token response", self.name)
        try:
            return token, checked_url(instance_url, "instance_url")
        except NotConfigured as e:
            raise Unavailable("salesforce sent an unusable instance_url", self.name) from e

    def _throttle(self, response):
        usage = re.search(r"api-usage=(\d+)/(\d+)", response.headers.get("Sforce-Limit-Info", ""))
        if usage:
            self.api_usage = (int(usage[1]), int(usage[2]))
            if self.api_usage[0] >= 0.9 * self.api_usage[1]:
                log.warning("salesforce API usage at %s of %s daily calls", *self.api_usage)
        return salesforce_throttle(response)

    def _get(self, path, **params):
        """GET a path under the instance URL as JSON, with one token refresh on INVALID_SESSION_ID."""
        token, instance_url = self._token()
        try:
            return self._api.json("GET", instance_url + path, params=params or None,
                                  headers={"Authorization": f"Bearer {token}"})
        except SessionExpired:
            token, instance_url = self._token(stale=token)
            return self._api.json("GET", instance_url + path, params=params or None,
                                  headers={"Authorization": f"Bearer {token}"})

    def _query(self, soql):
        """Every record a SOQL query returns, following ``nextRecordsUrl`` until ``done``."""
        batch, next_url = self._batch(soql=soql)
        records, seen = list(batch), set()
        while next_url:
            if next_url in seen:
                raise Unavailable("salesforce sent an unusable nextRecordsUrl", self.name)
            seen.add(next_url)
            batch, next_url = self._batch(next_url=next_url)
            records += batch
        return records

    def _batch(self, soql=None, next_url=None):
        """One batch of a query (or of its ``next_url``): its records and the next batch's URL, if any."""
        if next_url and not str(next_url).startswith("/services/data/"):
            raise Unavailable("salesforce sent an unusable nextRecordsUrl", self.name)
        page = self._get(next_url) if next_url else self._get(f"/services/data/{self.api_version}/query", q=soql)
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise Unavailable("salesforce sent a malformed query result", self.name)
        done = page.get("done", True) or not page.get("nextRecordsUrl")
        return page["records"], None if done else page["nextRecordsUrl"]  # checked when it is followed

    # -- contacts -----------------------------------------------------------
    def find_customer(self, email=None, phone=None, customer_id=None):
        """The contact with this id, else this email, else this phone number (or None)."""
        found = None
        if customer_id and ID_PATTERN.fullmatch(str(customer_id).strip()):
            found = self._first(f"WHERE Id = {soql_quote(str(customer_id).strip())}")
        if found is None and email and email.strip():
            found = self._first(f"WHERE Email = {soql_quote(email.strip())}")
        if found is None and phone:
            found = self._contact_by_phone(phone)
        return self._customer(found) if found else None

    def _first(self, where):
        records = self._query(f"SELECT {CONTACT_FIELDS} FROM Contact {where} LIMIT 1")
        return records[0] if records else None

    def _contact_by_phone(self, phone):
        """SOSL over phone fields (stored as typed), then keep only an exact E.164 match."""
        e164 = to_e164(phone, self.region)
        if e164 is None:
            return None
        sosl = (f"FIND {{{sosl_escape(national_digits(e164))}}} IN PHONE FIELDS "
                f"RETURNING Contact({CONTACT_FIELDS} LIMIT {SEARCH_LIMIT})")
        body = self._get(f"/services/data/{self.api_version}/search", q=sosl)
        hits = body.get("searchRecords") if isinstance(body, dict) else None
        if not isinstance(hits, list):
            raise Unavailable("salesforce sent a malformed search result", self.name)
        for hit in hits:
            if e164 in (to_e164(hit.get("Phone"), self.region), to_e164(hit.get("MobilePhone"), self.region)):
                return hit
        return None

    def _customer(self, record):
        phone = to_e164(record.get("Phone"), self.region) or to_e164(record.get("MobilePhone"), self.region)
        name = record.get("Name") or " ".join(filter(None, [record.get("FirstName"), record.get("LastName")]))
        return Customer(source=self.name, id=record["Id"], name=name or None, email=record.get("Email"),
                        phone=phone, company=(record.get("Account") or {}).get("Name"),
                        url=self._link("Contact", record["Id"]), updated_at=iso_utc(record.get("LastModifiedDate")))

    # -- listing for a sync -------------------------------------------------------
    def customer_pages(self, since=None, cursor=None):
        """Every contact (modified since ``since``) in Id order, a query batch at a time.

        The cursor is ``{"next": nextRecordsUrl, "after": last Id}``.
        """
        return cursor_pages(lambda position: self._contact_batch(position or {}, since), cursor, self.name)

    def _contact_batch(self, position, since):
        after, records, next_url = position.get("after"), None, position.get("next")
        if next_url:
            try:
                records, next_url = self._batch(next_url=next_url)
            except ConnectorError as e:  # the query locator expired: ask again from the last Id
                if "INVALID_QUERY_LOCATOR" not in (getattr(e, "body", None) or ""):
                    raise
        if records is None:
            records, next_url = self._batch(soql=contacts_soql(after, since))
        after = records[-1]["Id"] if records else after
        return [self._customer(r) for r in records], {"next": next_url, "after": after} if next_url else None

    def _link(self, sobject, record_id):
        return f"{self._token()[1]}/lightning/r/{sobject}/{record_id}/view"

    # -- cases and tasks ----------------------------------------------------
    def tickets(self, customer, since=None):
        """The contact's Cases (all batches), most recently modified first."""
        where = f"ContactId = {soql_quote(customer.id)}"
        if since:
            where += f" AND LastModifiedDate >= {soql_datetime(since)}"
        records = self._query(f"SELECT {CASE_FIELDS} FROM Case WHERE {where} ORDER BY LastModifiedDate DESC")
        return [self._ticket(r) for r in records]

    def _ticket(self, r):
        return Ticket(source=self.name, id=r["Id"], subject=r.get("Subject"), description=r.get("Description"),
                      status=r.get("Status"), priority=r.get("Priority"), created_at=iso_utc(r.get("CreatedDate")),
                      updated_at=iso_utc(r.get("LastModifiedDate")), url=self._link("Case", r["Id"]),
                      is_open=not r.get("IsClosed"), channel=(r.get("Origin") or "").lower() or None)

    def activities(self, customer, since=None):
        """The contact's Tasks (all batches), newest first; open ones whatever their age."""
        where = f"WhoId = {soql_quote(customer.id)}"
        if since:
            where += f" AND (CreatedDate >= {soql_datetime(since)} OR IsClosed = false)"
        records = self._query(f"SELECT {TASK_FIELDS} FROM Task WHERE {where} ORDER BY CreatedDate DESC")
        return [self._activity(r) for r in records]

    def _activity(self, r):
        kind = TASK_KINDS.get(r.get("TaskSubtype"), "task")
        summary = ": ".join(filter(None, [r.get("Subject"), r.get("Description")])) or None
        return Activity(source=self.name, id=r["Id"], at=iso_utc(r.get("CreatedDate")), kind=kind,
                        channel="phone" if kind == "call" else None, summary=summary,
                        due_at=end_of_day(r.get("ActivityDate")), done=bool(r.get("IsClosed")),
                        outcome=r.get("Status"))

    def close(self):
        """Close both HTTP sessions."""
        self._login.close()
        self._api.close()


def checked_url(url, setting):
    """An http(s) base URL without a trailing slash; plain http only for this machine."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured(f"{setting} must be an https:// URL", "salesforce")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise NotConfigured(f"{setting} must use https", "salesforce")
    return url


def api_version_from(value):
    """'60.0' or 'v60.0' as 'v60.0'; NotConfigured for anything else."""
    match = VERSION_PATTERN.fullmatch((value or "").strip())
    if not match:
        raise NotConfigured("ASSIST_SALESFORCE_API_VERSION must look like v60.0", "salesforce")
    return f"v{match[1]}"


def end_of_day(value):
    """A Task's ActivityDate ('2026-11-05', a date with no time) as the end of that day, UTC."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(hour=23, minute=59, second=59,
                                                             tzinfo=timezone.utc).isoformat()
    except (TypeError, ValueError):
        return None


def contacts_soql(after=None, since=None):
    """SOQL for contacts in Id order: Ids above ``after``, modified at or after ``since``."""
    conditions = ([f"Id > {soql_quote(after)}"] if after else []) + (
        [f"LastModifiedDate >= {soql_datetime(since)}"] if since else [])
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return f"SELECT {CONTACT_FIELDS} FROM Contact {where}ORDER BY Id"


def soql_datetime(value):
    """An ISO 8601 date or time as a SOQL dateTime literal in UTC ('2026-11-02T09:15:00Z')."""
    parsed = parse_utc(value)
    if parsed is None:  # never put an unchecked value into a query
        raise ValueError(f"not an ISO 8601 date or time: {value!r}")
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


@register("salesforce")
def salesforce_from_settings(settings, context):
    """Build the connector from ASSIST_SALESFORCE_* settings."""
    login_url, client_id, client_secret = require(
        settings, "ASSIST_SALESFORCE_LOGIN_URL", "ASSIST_SALESFORCE_CLIENT_ID", "ASSIST_SALESFORCE_CLIENT_SECRET")
    version = (settings.get("ASSIST_SALESFORCE_API_VERSION") or "").strip() or "v60.0"
    return SalesforceConnector(login_url, client_id, client_secret, api_version=version, region=context.region)
