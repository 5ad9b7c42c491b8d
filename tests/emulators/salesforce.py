"""Salesforce REST API emulator: client-credentials tokens, SOQL in batches, SOSL over phone fields.

It answers on two host names for one server: the token endpoint on the login
URL (``127.0.0.1``) and the data API only on the ``instance_url`` it hands out
(``localhost``), so a connector that ignores ``instance_url`` fails.  The SOQL
interpreter is a small tokenizer and recursive-descent parser (nothing is
evaluated as code) covering SELECT / FROM / WHERE with AND, OR, parentheses and
comparisons / ORDER BY / LIMIT, with Salesforce's string escapes.  Errors use
the documented body: a JSON array of ``{message, errorCode}``.
"""

import itertools
import operator
import re
import secrets
import time
from datetime import datetime
from urllib.parse import parse_qs

from .base import Emulator

API = r"/services/data/(?P<version>v\d+\.\d)"
ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
TOKEN = re.compile(r"""\s+
    |(?P<string>'(?:\\.|[^'\\])*')
    |(?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
    |(?P<date>\d{4}-\d\d-\d\d)
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<word>[A-Za-z_][\w.]*)""", re.X | re.S)
SOQL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")
SOSL = re.compile(r"FIND\s*\{(?P<term>(?:\\.|[^\\{}])*)\}\s+IN\s+PHONE\s+FIELDS\s+RETURNING\s+Contact\s*"
                  r"\((?P<fields>[^)]*?)(?:\s+LIMIT\s+(?P<limit>\d+))?\)\s*", re.I | re.S)
OPS = {"=": operator.eq, "!=": operator.ne, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}
SCHEMA = {
    "Contact": ["Id", "Name", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "AccountId",
                "Account.Name", "CreatedDate", "LastModifiedDate"],
    "Case": ["Id", "CaseNumber", "ContactId", "Subject", "Description", "Status", "IsClosed", "Priority",
             "Origin", "CreatedDate", "LastModifiedDate"],
    "Task": ["Id", "WhoId", "Subject", "Description", "Status", "IsClosed", "ActivityDate", "CreatedDate",
             "TaskSubtype", "LastModifiedDate"],
}
ID_FIELDS = {"Id", "AccountId", "ContactId", "WhoId"}


# Ada (0) has Cases and Tasks over three batches of two; Grace (1) has one of each.
CASES = [  # (who, subject, status, closed, priority, origin, created, last modified), times in 2026 UTC
    (0, "Router keeps rebooting", "Closed", True, "Medium", "Phone", "09-01 09:00", "09-03 17:00"),
    (0, "Refund for double charge", "Working", False, "High", "Email", "10-20 09:15", "10-28 11:30"),
    (0, "Change billing address", "Closed", True, "Low", "Web", "08-10 12:00", "08-10 12:30"),
    (0, "Engineer did not arrive", "New", False, "High", "Phone", "10-30 16:45", "10-30 16:45"),
    (0, "Slow broadband in evenings", "Escalated", False, "Medium", "Web", "10-01 08:00", "10-15 10:00"),
    (1, "Password reset", "Closed", True, "Low", "Email", "07-01 09:00", "07-01 09:30"),
]
TASKS = [  # (who, subject, description, status, closed, due date, created, subtype)
    (0, "Call", "Customer reported reboots", "Completed", True, "09-01", "09-01 09:05", "Call"),
    (0, "Call back about refund", "Promised a call once finance confirms", "Not Started", False, "11-03",
     "10-28 11:35", "Call"),
    (0, "Send engineer report", None, "In Progress", False, "10-31", "10-30 17:00", "Task"),
    (0, "Email: refund receipt", "Sent the receipt", "Completed", True, "10-21", "10-21 10:00", "Email"),
    (0, "Check line quality", "Old open task", "Not Started", False, "06-15", "06-01 10:00", "Task"),
    (1, "Welcome call", None, "Completed", True, "07-01", "07-01 09:40", "Call"),
]


def at(month_day_time):
    """'10-28 11:30' in 2026 as Salesforce writes a dateTime: '2026-10-28T11:30:00.000+0000'."""
    return f"2026-{month_day_time.replace(' ', 'T')}:00.000+0000"


class QueryError(Exception):
    """A query Salesforce would refuse with HTTP 400 and this errorCode."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def sfid(prefix, n):
    """An 18-character record id with a real key prefix (003 Contact, 500 Case, 00T Task)."""
    return f"{prefix}EM{n:010d}AAA"


def attributes(sobject, record_id):
    return {"type": sobject, "url": f"/services/data/v60.0/sobjects/{sobject}/{record_id}"}


def errors(status, code, message, headers=None):
    return status, [{"message": message, "errorCode": code}], headers or {}


# -- SOQL -------------------------------------------------------------------
def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match:
            raise QueryError("MALFORMED_QUERY", f"unexpected character at {pos}")
        if match.lastgroup:
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return tokens


def unescape_soql(body):
    """A SOQL string literal's content with its escapes resolved; a bad escape is an error."""
    out, i = [], 0
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
        elif body[i + 1] in "uU" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif body[i + 1].lower() in SOQL_ESCAPES:  # \n or \N, \r or \R, ... and the quotes and backslash
            out.append(SOQL_ESCAPES[body[i + 1].lower()])
            i += 2
        else:
            raise QueryError("MALFORMED_QUERY", "invalid escape sequence in a string literal")
    return "".join(out)


class Parser:
    """SELECT f, ... FROM Object [WHERE expr] [ORDER BY f [ASC|DESC]] [LIMIT n]."""

    def __init__(self, text):
        self.tokens, self.pos = tokenize(text), 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind, value=None):
        got_kind, got = self.peek()
        if got_kind != kind or (value is not None and got.upper() != value):
            raise QueryError("MALFORMED_QUERY", f"expected {value or kind} near {got!r}")
        self.pos += 1
        return got

    def accept(self, kind, value):
        got_kind, got = self.peek()
        if got_kind == kind and got.upper() == value:
            self.pos += 1
            return True
        return False

    def query(self):
        self.take("word", "SELECT")
        fields = [self.take("word")]
        while self.accept("punct", ","):
            fields.append(self.take("word"))
        self.take("word", "FROM")
        query = {"fields": fields, "sobject": self.take("word"), "where": None, "order": None, "limit": None}
        if self.accept("word", "WHERE"):
            query["where"] = self.expr()
        if self.accept("word", "ORDER"):
            self.take("word", "BY")
            field = self.take("word")
            descending = self.accept("word", "DESC")
            if not descending:
                self.accept("word", "ASC")
            query["order"] = (field, descending)
        if self.accept("word", "LIMIT"):
            query["limit"] = int(self.take("number"))
        if self.peek()[0] is not None:
            raise QueryError("MALFORMED_QUERY", f"unexpected token {self.peek()[1]!r}")
        return query

    def expr(self):
        terms = [self.term()]
        while self.accept("word", "OR"):
            terms.append(self.term())
        return ("or", terms)

    def term(self):
        factors = [self.factor()]
        while self.accept("word", "AND"):
            factors.append(self.factor())
        return ("and", factors)

    def factor(self):
        if self.accept("punct", "("):
            inner = self.expr()
            self.take("punct", ")")
            return inner
        field, op = self.take("word"), self.take("op")
        return ("cmp", field, op, self.literal())

    def literal(self):
        kind, value = self.peek()
        self.pos += 1
        if kind == "string":
            return unescape_soql(value[1:-1])
        if kind == "datetime":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind in ("date", "number"):
            return value
        if kind == "word" and value.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value.lower()]
        raise QueryError("MALFORMED_QUERY", f"expected a value near {value!r}")


def compare(field, left, op, right):
    """``left op right`` as Salesforce compares: text case-insensitively, ids on their first 15 characters."""
    if isinstance(right, datetime):
        left = datetime.fromisoformat(left) if left else None
    elif field in ID_FIELDS and isinstance(right, str):
        if not ID.fullmatch(right):
            raise QueryError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {right}")
        left, right = (left or "")[:15], right[:15]
    elif isinstance(left, str) and isinstance(right, str):
        left, right = left.casefold(), right.casefold()
    if left is None or right is None:
        return OPS[op](left, right) if op in ("=", "!=", "<>") else False
    return OPS[op](left, right)


class SalesforceEmulator(Emulator):
    """Seeded org: Acme's contacts, Ada's Cases and Tasks over several query batches."""

    def __init__(self, client_id="test-client-id", client_secret="test-client-secret", batch_size=2,
                 api_limit=15000):
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.batch_size, self.api_limit = batch_size, api_limit
        self.tokens = set()
        self.reject_sessions = False  # True: every data call answers INVALID_SESSION_ID, even a fresh token
        self.cursors = {}
        self._locators = itertools.count(1)
        self.accounts, self.records = {}, {"Contact": [], "Case": [], "Task": []}
        self.seed()
        self.route("POST", r"/services/oauth2/token", self._token)
        self.route("GET", API + r"/query/?", self._api(self._query))
        self.route("GET", API + r"/query/(?P<locator>01g\w+)-(?P<offset>\d+)", self._api(self._more))
        self.route("GET", API + r"/search/?", self._api(self._search))
        self.route("GET", r"/services/data/.*", self._api(self._not_found))

    @property
    def instance_url(self):
        return f"http://localhost:{self.server.server_address[1]}"

    # -- controls for tests ---------------------------------------------------
    def expire_tokens(self):
        """Invalidate every token handed out, as a session timeout would."""
        self.tokens.clear()

    def expire_query_locators(self):
        """Forget every open query cursor, as Salesforce does after about 15 minutes unused."""
        self.cursors.clear()

    def limit_exceeded(self, times=1, message="ConcurrentRequests (Concurrent API Requests) Limit exceeded."):
        """Answer the next ``times`` requests with 403 REQUEST_LIMIT_EXCEEDED."""
        self.fail_next(403, [{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}], times=times)

    @property
    def token_requests(self):
        return [r for r in self.requests if r.path == "/services/oauth2/token"]

    @property
    def data_requests(self):
        return [r for r in self.requests if r.path.startswith("/services/data/")]

    # -- seed data ------------------------------------------------------------
    def seed(self):
        self.accounts[sfid("001", 1)] = {"Id": sfid("001", 1), "Name": "Acme Ltd"}
        contacts = [  # the decoy comes first so a phone search must check the whole number
            ("Decoy", "Person", "decoy@example.com", "+44 4155 550100", None, None),
            ("Ada", "Lovelace", "ada@example.com", "(415) 555-0100", None, sfid("001", 1)),
            ("Brendan", "O'Brien", "o'brien@example.com", "+44 20 7946 0958", None, None),
            ("Grace", "Hopper", "grace@example.com", None, "415.555.0199", sfid("001", 1)),
        ]
        for n, (first, last, email, phone, mobile, account) in enumerate(contacts, 1):
            self.add("Contact", Id=sfid("003", n), FirstName=first, LastName=last, Name=f"{first} {last}",
                     Email=email, Phone=phone, MobilePhone=mobile, AccountId=account,
                     CreatedDate="2025-01-05T10:00:00.000+0000", LastModifiedDate=f"2026-10-0{n}T08:00:00.000+0000")
        ada, grace = sfid("003", 2), sfid("003", 4)
        for n, (who, subject, status, closed, priority, origin, created, modified) in enumerate(CASES, 1):
            self.add("Case", Id=sfid("500", n), CaseNumber=f"{1000 + n:08d}", ContactId=(ada, grace)[who],
                     Subject=subject, Description=f"{subject}.", Status=status, IsClosed=closed, Priority=priority,
                     Origin=origin, CreatedDate=at(created), LastModifiedDate=at(modified))
        for n, (who, subject, description, status, closed, due, created, subtype) in enumerate(TASKS, 1):
            self.add("Task", Id=sfid("00T", n), WhoId=(ada, grace)[who], Subject=subject, Description=description,
                     Status=status, IsClosed=closed, ActivityDate=f"2026-{due}", CreatedDate=at(created),
                     TaskSubtype=subtype, LastModifiedDate=at(created))

    def add(self, sobject, **fields):
        self.records[sobject].append(fields)
        return fields

    # -- handlers -------------------------------------------------------------
    def _token(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, {}
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}, {}
        if form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        token = f"00DEM0000000001!{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "signature": secrets.token_urlsafe(32), "scope": "api",
                     "instance_url": self.instance_url, "id": f"{self.url}/id/00DEM0000000001/005EM0000000001",
                     "token_type": "Bearer", "issued_at": str(int(time.time() * 1000))}, {}

    def _api(self, handler):
        """Wrap a data handler: instance host only, bearer token, usage header on every answer."""

        def wrapped(request):
            usage = {"Sforce-Limit-Info": f"api-usage={len(self.data_requests)}/{self.api_limit}"}
            if request.headers.get("host") != self.instance_url.split("//", 1)[1]:
                return errors(404, "NOT_FOUND", "The requested resource does not exist", usage)
            auth = request.headers.get("authorization", "")
            if self.reject_sessions or not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return errors(401, "INVALID_SESSION_ID", "Session expired or invalid", usage)
            try:
                status, body, headers = handler(request)
            except QueryError as e:
                return errors(400, e.code, e.message, usage)
            return status, body, {**usage, **headers}

        return wrapped

    def _query(self, request):
        query = Parser(request.query.get("q", "")).query()
        rows = self._select(query)
        return 200, self._batch(rows, request.match["version"], 0, None), {}

    def _more(self, request):
        locator, offset = request.match["locator"], int(request.match["offset"])
        if locator not in self.cursors:
            raise QueryError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._batch(self.cursors[locator], request.match["version"], offset, locator), {}

    def _not_found(self, request):
        return errors(404, "NOT_FOUND", "The requested resource does not exist")

    def _select(self, query):
        sobject = query["sobject"]
        if sobject not in self.records:
            raise QueryError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        fields = [self._field(sobject, f) for f in query["fields"]]
        rows = [r for r in self.records[sobject] if query["where"] is None or self._matches(sobject, query["where"], r)]
        if query["order"]:
            field, descending = query["order"]
            field = self._field(sobject, field)
            rows.sort(key=lambda r: self._value(r, field) or "", reverse=descending)
        return [self._project(sobject, r, fields) for r in rows[: query["limit"]]]

    def _field(self, sobject, name):
        for field in SCHEMA[sobject]:
            if field.lower() == name.lower():
                return field
        raise QueryError("INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'.")

    def _matches(self, sobject, node, record):
        if node[0] == "or":
            return any(self._matches(sobject, n, record) for n in node[1])
        if node[0] == "and":
            return all(self._matches(sobject, n, record) for n in node[1])
        field = self._field(sobject, node[1])
        return compare(field, self._value(record, field), node[2], node[3])

    def _value(self, record, field):
        if field == "Account.Name":
            account = self.accounts.get(record.get("AccountId"))
            return account["Name"] if account else None
        return record.get(field)

    def _project(self, sobject, record, fields):
        out = {"attributes": attributes(sobject, record["Id"])}
        for field in fields:
            if field == "Account.Name":
                account = self.accounts.get(record.get("AccountId"))
                out["Account"] = account and {"attributes": attributes("Account", account["Id"]),
                                              "Name": account["Name"]}
            else:
                out[field] = record.get(field)
        return out

    def _batch(self, rows, version, offset, locator):
        """One batch of ``rows`` from ``offset``; later batches are fetched by nextRecordsUrl."""
        page = {"totalSize": len(rows), "done": offset + self.batch_size >= len(rows),
                "records": rows[offset: offset + self.batch_size]}
        if not page["done"]:
            locator = locator or f"01gEM{next(self._locators):013d}"
            self.cursors[locator] = rows
            page["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{offset + self.batch_size}"
        return page

    def _search(self, request):
        match = SOSL.fullmatch(request.query.get("q", ""))
        if not match:
            raise QueryError("MALFORMED_SEARCH", "expected FIND {...} IN PHONE FIELDS RETURNING Contact(...)")
        digits = re.sub(r"\D", "", unescape_sosl(match["term"]))
        if len(digits) < 2:
            raise QueryError("MALFORMED_SEARCH", "search term must be longer than one character")
        fields = [self._field("Contact", f.strip()) for f in match["fields"].split(",")]
        hits = [c for c in self.records["Contact"]
                if any(re.sub(r"\D", "", c.get(f) or "").endswith(digits) for f in ("Phone", "MobilePhone"))]
        limit = int(match["limit"]) if match["limit"] else None
        return 200, {"searchRecords": [self._project("Contact", c, fields) for c in hits[:limit]]}, {}


def unescape_sosl(term):
    """A FIND term with its backslash escapes resolved; an unescaped operator is refused."""
    out, escaped = [], False
    for c in term:
        if escaped:
            if c not in SOSL_RESERVED:
                raise QueryError("MALFORMED_SEARCH", f"invalid escape \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in SOSL_RESERVED:
            raise QueryError("MALFORMED_SEARCH", f"the emulator takes literal terms only, not {c!r}")
        else:
            out.append(c)
    return "".join(out)
