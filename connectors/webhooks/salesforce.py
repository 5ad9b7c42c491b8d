"""Salesforce outbound messages: SOAP ``notifications`` for Contacts, Cases and Tasks.

Salesforce signs nothing.  What keeps forged messages out (Salesforce's
outbound-messaging security doc) is:

- the ``OrganizationId`` check here: the message must name the org in
  ``ASSIST_SALESFORCE_ORG_ID`` (first 15 characters compared, so 15- and
  18-character ids both work; constant time);
- HTTPS, and optionally allowing only Salesforce's IP ranges at the proxy;
- optionally ``ASSIST_SALESFORCE_WEBHOOK_TOKEN``: the one secret Salesforce can
  carry is one written into the endpoint URL, so when it is set every request
  must carry it as ``?token=...``.

An org id is not a secret (it shows in URLs and exports), so set the token
wherever the endpoint is reachable from the internet.

Each ``Notification`` has an ``Id`` that stays the same on every retry: it is
the event key.  A message carries the record's latest values, and only the
fields chosen in the outbound message, so ``changes`` holds only fields that
are present (an ``xsi:nil`` field is present and empty).  ``SessionId`` is a
live Salesforce session: it is never copied into an event.
"""

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

from ..salesforce import TASK_KINDS, end_of_day
from ..util import iso_utc
from . import MalformedPayload, NotConfiguredWebhook, Receiver, SignatureInvalid, WebhookEvent, register, same

ORG_SETTING = "ASSIST_SALESFORCE_ORG_ID"
TOKEN_SETTING = "ASSIST_SALESFORCE_WEBHOOK_TOKEN"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
ORG_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
MAX_NOTIFICATIONS = 1000  # the WSDL allows 100; a refused message is retried for 24 hours, so leave room
REFUSED_MARKUP = ("<!doctype", "<!entity")  # no DTD means no entity expansion and no external entities
OBJECT_TYPES = {"Contact": "customer", "Case": "ticket", "Task": "activity"}
CONTACT_PREFIX, CASE_PREFIX = "003", "500"  # Salesforce id key prefixes: WhoId may be a Lead, WhatId anything
ACK = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')


@register("salesforce")
class SalesforceReceiver(Receiver):
    """Check Salesforce outbound messages by org id (and token) and turn notifications into WebhookEvents."""

    name = "salesforce"

    def verify(self, request):
        """Raise SignatureInvalid unless the token (if configured) and the OrganizationId match."""
        org_id = (self.settings.get(ORG_SETTING) or "").strip()
        if not org_id:
            raise NotConfiguredWebhook(f"set {ORG_SETTING} to receive Salesforce outbound messages", self.name)
        if not ORG_ID.fullmatch(org_id):
            raise NotConfiguredWebhook(f"{ORG_SETTING} must be a 15- or 18-character org id", self.name)
        token = (self.settings.get(TOKEN_SETTING) or "").strip()
        if token and not same(token, query_token(request.url)):
            raise SignatureInvalid("the token query parameter is missing or wrong", self.name)
        given = _text(self._notifications(request.body), "OrganizationId") or ""
        if not ORG_ID.fullmatch(given) or not same(org_id[:15], given[:15]):
            raise SignatureInvalid("the message is not from the configured Salesforce org", self.name)

    def parse(self, request):
        """One event per ``Notification``, in the order sent."""
        notifications = self._notifications(request.body)
        items = notifications.findall(OUTBOUND + "Notification")
        if len(items) > MAX_NOTIFICATIONS:
            raise MalformedPayload(f"more than {MAX_NOTIFICATIONS} notifications in one message", self.name)
        context = {"organization_id": _text(notifications, "OrganizationId"),
                   "action_id": _text(notifications, "ActionId")}
        received = iso_utc(request.now, epoch="s")
        return [self._event(item, context, received) for item in items]

    def stored_body(self, body):
        """Outbound messages can carry a live SessionId ("Send Session ID"): never keep it at rest."""
        return re.sub(rb"<([A-Za-z0-9_]+:)?SessionId>[^<]*</([A-Za-z0-9_]+:)?SessionId>",
                      b"<SessionId>[redacted]</SessionId>", body)

    def ack(self, events):
        """The SOAP ``notificationsResponse`` with ``<Ack>true</Ack>``; it covers every notification."""
        return 200, "text/xml; charset=utf-8", ACK

    def _notifications(self, body):
        """The ``notifications`` element of a SOAP envelope, refusing DTDs before any parsing."""
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise MalformedPayload("the body is not UTF-8 XML", self.name) from e
        if any(markup in text.lower() for markup in REFUSED_MARKUP):
            raise MalformedPayload("DOCTYPE and ENTITY declarations are refused", self.name)
        try:
            # A str is read as UTF-8 whatever it declares, so the parser reads exactly what was checked.
            root = ET.fromstring(text)
        except ET.ParseError as e:
            raise MalformedPayload("the body is not well-formed XML", self.name) from e
        found = root.find(f"{SOAP}Body/{OUTBOUND}notifications") if root.tag == SOAP + "Envelope" else None
        if found is None:
            raise MalformedPayload("the body is not a SOAP outbound-message notifications call", self.name)
        return found

    def _event(self, item, context, received):
        key, sobject = _text(item, "Id"), item.find(OUTBOUND + "sObject")
        fields = sobject_fields(sobject) if sobject is not None else {}
        sobject_type = (sobject.get(XSI + "type") or "").rpartition(":")[2] if sobject is not None else ""
        if not key or not sobject_type or not fields.get("Id"):
            raise MalformedPayload("a Notification lacks its Id, sObject type or record Id", self.name)
        when = fields.get("LastModifiedDate") or fields.get("SystemModstamp") or fields.get("CreatedDate")
        event = WebhookEvent(key=key, occurred_at=iso_utc(when) or received, type=sobject_type,
                             object_type=OBJECT_TYPES.get(sobject_type, "other"), object_id=fields["Id"],
                             deleted=_flag(fields.get("IsDeleted")) is True,
                             payload={**context, "sobject_type": sobject_type, "fields": fields})
        mapper = MAPPERS.get(sobject_type)
        if mapper:
            mapper(event, fields)
        return event


def _contact(event, f):
    """Id, Name or FirstName/LastName, Email, Phone/MobilePhone, Account.Name."""
    changes = event.changes
    if "Name" in f:
        changes["name"] = f["Name"]
    elif "FirstName" in f and "LastName" in f:
        changes["name"] = " ".join(filter(None, [f["FirstName"], f["LastName"]])) or None
    else:
        _copy(changes, f, {"FirstName": "first_name", "LastName": "last_name"})
    _copy(changes, f, {"Email": "email"})
    if "Phone" in f or "MobilePhone" in f:
        changes["phone"] = f.get("Phone") or f.get("MobilePhone")
    if isinstance(f.get("Account"), dict) and "Name" in f["Account"]:
        changes["company"] = f["Account"]["Name"]
    event.customer = {"source_id": event.object_id,
                      **{k: changes[k] for k in ("name", "email", "phone", "company") if changes.get(k)}}


def _case(event, f):
    """Id, ContactId, Subject, Description, Status, IsClosed, Priority, CreatedDate, LastModifiedDate."""
    _copy(event.changes, f, {"Subject": "subject", "Description": "description", "Status": "status",
                             "Priority": "priority", "ContactId": "customer_source_id"})
    _copy(event.changes, f, {"CreatedDate": "created_at", "LastModifiedDate": "updated_at"}, iso_utc)
    if f.get("IsClosed") is not None:
        event.changes["is_open"] = not _flag(f["IsClosed"])
    supplied = {"name": f.get("SuppliedName"), "email": f.get("SuppliedEmail"), "phone": f.get("SuppliedPhone")}
    event.customer = {k: v for k, v in {"source_id": f.get("ContactId"), **supplied}.items() if v}


def _task(event, f):
    """Id, WhoId, WhatId, Subject/Description, ActivityDate, IsClosed, TaskSubtype, CreatedDate."""
    changes = event.changes
    changes["kind"] = TASK_KINDS.get(f.get("TaskSubtype"), "task")
    if "Subject" in f or "Description" in f:
        changes["summary"] = ": ".join(filter(None, [f.get("Subject"), f.get("Description")])) or None
    _copy(changes, f, {"CreatedDate": "at"}, iso_utc)
    _copy(changes, f, {"ActivityDate": "due_at"}, end_of_day)
    if f.get("IsClosed") is not None:
        changes["done"] = _flag(f["IsClosed"])
    if (f.get("WhatId") or "").startswith(CASE_PREFIX):
        changes["ticket_id"] = f["WhatId"]
    if (f.get("WhoId") or "").startswith(CONTACT_PREFIX):
        event.customer = {"source_id": f["WhoId"]}


MAPPERS = {"Contact": _contact, "Case": _case, "Task": _task}


def sobject_fields(sobject):
    """The fields of an ``sObject`` by local name: text, None for ``xsi:nil``, a dict for a related record."""
    fields = {}
    for child in sobject:
        if len(child):  # a related record, e.g. Account/Name; one level is all a message carries
            fields[_local(child.tag)] = {_local(c.tag): _value(c) for c in child}
        else:
            fields[_local(child.tag)] = _value(child)
    return fields


def query_token(url):
    """The single ``token`` query parameter of ``url``, or None."""
    values = parse_qs(urlsplit(url).query).get("token") or []
    return values[0] if len(values) == 1 else None


def _copy(changes, fields, names, convert=None):
    for source, ours in names.items():
        if source in fields:
            value = fields[source]
            changes[ours] = convert(value) if convert and value is not None else value


def _value(element):
    if element.get(XSI + "nil") == "true":
        return None
    return element.text if element.text and element.text.strip() else None


def _text(parent, name):
    found = parent.find(OUTBOUND + name)
    return ((found.text or "").strip() or None) if found is not None else None


def _local(tag):
    return tag.rpartition("}")[2]


def _flag(value):
    """A SOAP boolean ("true", "1") as bool; None when absent."""
    return None if value is None else value.strip().lower() in ("true", "1")
