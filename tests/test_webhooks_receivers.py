"""Webhook receivers: signatures computed here independently with hmac, and every payload shape parsed.

Pure unit tests: no HTTP, no database.  Vendor payloads follow the shapes in
/work/shared/reference/crm-apis.md (Zendesk §2.6-2.7, Freshdesk §4.6,
Chatwoot §5.5-5.6) and our documented templates in docs/webhooks/.
"""

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.webhooks import MalformedPayload, NotConfiguredWebhook, SignatureInvalid, WebhookRequest, receiver_for

NOW_ISO = "2026-11-02T09:15:00Z"
NOW = datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc).timestamp()
ZENDESK_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="  # Zendesk's static secret for unsaved webhooks
CHATWOOT_SECRET = "chatwoot-webhook-secret-for-tests"
GENERIC_SECRET = "generic-webhook-secret-for-tests"
FRESHDESK_SECRET = "freshdesk-shared-secret-for-tests"
SETTINGS = {"ASSIST_ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET, "ASSIST_CHATWOOT_WEBHOOK_SECRET": CHATWOOT_SECRET,
            "ASSIST_WEBHOOK_SECRET": GENERIC_SECRET, "ASSIST_FRESHDESK_WEBHOOK_SECRET": FRESHDESK_SECRET}


def body_of(payload):
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def make_request(body, headers, now=NOW):
    return WebhookRequest("POST", "https://assist.example.com/webhooks/x", {k.lower(): v for k, v in headers.items()},
                          body, now)


# -- signing, done here independently of the receivers ----------------------------------
def zendesk_headers(body, timestamp=NOW_ISO, secret=ZENDESK_SECRET, invocation="8350205582"):
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp, "X-Zendesk-Webhook-Invocation-Id": invocation}


def dotted_signature(secret, timestamp, body):
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def chatwoot_headers(body, timestamp=int(NOW), secret=CHATWOOT_SECRET, delivery="5b1c7e8e-delivery-1"):
    return {"X-Chatwoot-Signature": dotted_signature(secret, timestamp, body), "X-Chatwoot-Timestamp": str(timestamp),
            "X-Chatwoot-Delivery": delivery}


def generic_headers(body, timestamp=int(NOW), secret=GENERIC_SECRET):
    return {"X-Assist-Signature": dotted_signature(secret, timestamp, body), "X-Assist-Timestamp": str(timestamp)}


def freshdesk_headers(body=None, secret=FRESHDESK_SECRET):
    return {"X-Assist-Webhook-Secret": secret}


SIGNERS = {"zendesk": zendesk_headers, "chatwoot": chatwoot_headers, "generic": generic_headers,
           "freshdesk": freshdesk_headers}
SECRET_NAMES = {"zendesk": "ASSIST_ZENDESK_WEBHOOK_SECRET", "chatwoot": "ASSIST_CHATWOOT_WEBHOOK_SECRET",
                "generic": "ASSIST_WEBHOOK_SECRET", "freshdesk": "ASSIST_FRESHDESK_WEBHOOK_SECRET"}
SIGNATURE_HEADERS = {"zendesk": "x-zendesk-webhook-signature", "chatwoot": "x-chatwoot-signature",
                     "generic": "x-assist-signature", "freshdesk": "x-assist-webhook-secret"}
TIMESTAMP_HEADERS = {"zendesk": "x-zendesk-webhook-signature-timestamp", "chatwoot": "x-chatwoot-timestamp",
                     "generic": "x-assist-timestamp"}
STALE = {"zendesk": lambda seconds: datetime.fromtimestamp(NOW + seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "chatwoot": lambda seconds: int(NOW + seconds), "generic": lambda seconds: int(NOW + seconds)}
SAMPLE = b'{"type":"zen:event-type:user.created","id":"e-1","event":"message_created","assist_template":1,' \
         b'"ticket":{"id":"1"}}'


DOCS = Path(__file__).parent.parent / "docs" / "webhooks"


def receiver(name, settings=SETTINGS):
    return receiver_for(name, settings)


def parse(name, payload, headers=None):
    body = body_of(payload)
    request = make_request(body, headers if headers is not None else SIGNERS[name](body))
    found = receiver(name)
    found.verify(request)
    return found.parse(request)


# -- published and locally constructed vectors -----------------------------------------
def test_zendesk_vector_uses_the_test_secret_as_literal_bytes():
    body, timestamp = b'{"event":"ticket.updated","id":123}', "2021-03-25T05:09:27Z"
    expected = "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM="
    assert zendesk_headers(body, timestamp)["X-Zendesk-Webhook-Signature"] == expected
    decoded_key = base64.b64encode(hmac.new(base64.b64decode(ZENDESK_SECRET), timestamp.encode() + body,
                                            hashlib.sha256).digest()).decode()
    assert decoded_key != expected  # base64-decoding the secret would be the classic mistake
    now = datetime(2021, 3, 25, 5, 9, 27, tzinfo=timezone.utc).timestamp()
    headers = {"x-zendesk-webhook-signature": expected, "x-zendesk-webhook-signature-timestamp": timestamp}
    receiver("zendesk").verify(make_request(body, headers, now=now))


def test_chatwoot_vector():
    body = b'{"event":"message_created","id":1}'
    expected = "sha256=5edd5afedd7ea62edb707dec5e16760dcce8076f63e459105a3af09dbaa4aa3b"
    assert dotted_signature("test_secret", 1700000000, body) == expected
    headers = {"x-chatwoot-signature": expected, "x-chatwoot-timestamp": "1700000000"}
    receiver("chatwoot", {"ASSIST_CHATWOOT_WEBHOOK_SECRET": "test_secret"}).verify(
        make_request(body, headers, now=1700000000))


def test_generic_vector_matches_openssl_style_hex():
    body = b'{"id":"evt-1","type":"customer.updated","customer":{"id":"42"}}'
    signature = dotted_signature("s3cret-for-the-doc-example", 1700000000, body)
    assert signature == "sha256=" + hmac.new(b"s3cret-for-the-doc-example", b"1700000000." + body,
                                             hashlib.sha256).hexdigest()
    headers = {"x-assist-signature": signature, "x-assist-timestamp": "1700000000"}
    receiver("generic", {"ASSIST_WEBHOOK_SECRET": "s3cret-for-the-doc-example"}).verify(
        make_request(body, headers, now=1700000000 + 299))


# -- verification, the same cases for every receiver -----------------------------------
@pytest.mark.parametrize("name", list(SIGNERS))
def test_fresh_signature_is_accepted(name):
    receiver(name).verify(make_request(SAMPLE, SIGNERS[name](SAMPLE)))


@pytest.mark.parametrize("name", ["zendesk", "chatwoot", "generic"])
@pytest.mark.parametrize("seconds", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_refused_even_when_signed(name, seconds):
    headers = SIGNERS[name](SAMPLE, timestamp=STALE[name](seconds))
    with pytest.raises(SignatureInvalid):
        receiver(name).verify(make_request(SAMPLE, headers))


@pytest.mark.parametrize("name", ["zendesk", "chatwoot", "generic"])
def test_timestamp_just_inside_the_window_is_accepted(name):
    headers = SIGNERS[name](SAMPLE, timestamp=STALE[name](-299))
    receiver(name).verify(make_request(SAMPLE, headers))


@pytest.mark.parametrize("name", ["zendesk", "chatwoot", "generic"])
@pytest.mark.parametrize("timestamp", ["yesterday", "", "17e8"])
def test_unreadable_timestamp_is_refused(name, timestamp):
    headers = SIGNERS[name](SAMPLE, timestamp=timestamp)
    with pytest.raises(SignatureInvalid):
        receiver(name).verify(make_request(SAMPLE, headers))


@pytest.mark.parametrize("name", list(SIGNERS))
def test_wrong_secret_is_refused(name):
    headers = SIGNERS[name](SAMPLE, secret="not-the-secret")
    with pytest.raises(SignatureInvalid) as caught:
        receiver(name).verify(make_request(SAMPLE, headers))
    assert SETTINGS[SECRET_NAMES[name]] not in caught.value.message
    assert headers[next(k for k in headers if k.lower() == SIGNATURE_HEADERS[name])] not in caught.value.message


@pytest.mark.parametrize("name, missing", [(name, missing) for name in SIGNERS
                                           for missing in ("signature", "timestamp", "everything")
                                           if not (name == "freshdesk" and missing == "timestamp")])
def test_missing_signature_headers_are_refused(name, missing):
    headers = {k.lower(): v for k, v in SIGNERS[name](SAMPLE).items()}
    drop = {"signature": [SIGNATURE_HEADERS[name]], "timestamp": [TIMESTAMP_HEADERS.get(name)],
            "everything": list(headers)}[missing]
    headers = {k: v for k, v in headers.items() if k not in drop}
    with pytest.raises(SignatureInvalid):
        receiver(name).verify(make_request(SAMPLE, headers))


@pytest.mark.parametrize("name", ["zendesk", "chatwoot", "generic"])
def test_tampered_body_is_refused(name):
    headers = SIGNERS[name](SAMPLE)
    tampered = SAMPLE.replace(b'"e-1"', b'"e-2"')
    with pytest.raises(SignatureInvalid):
        receiver(name).verify(make_request(tampered, headers))


@pytest.mark.parametrize("name", ["zendesk", "chatwoot", "generic"])
def test_signature_over_reserialised_json_is_refused(name):
    """The signature covers the raw bytes: the same JSON with other spacing does not verify."""
    headers = SIGNERS[name](SAMPLE)
    respaced = json.dumps(json.loads(SAMPLE), indent=1).encode()
    with pytest.raises(SignatureInvalid):
        receiver(name).verify(make_request(respaced, headers))


@pytest.mark.parametrize("name", ["chatwoot", "generic"])
def test_hex_signature_is_compared_whole(name):
    headers = SIGNERS[name](SAMPLE)
    key = next(k for k in headers if k.lower() == SIGNATURE_HEADERS[name])
    for forged in (headers[key][:-1], headers[key].removeprefix("sha256="), "sha1=" + headers[key][7:]):
        with pytest.raises(SignatureInvalid):
            receiver(name).verify(make_request(SAMPLE, {**headers, key: forged}))


def test_freshdesk_secret_must_match_exactly():
    for given in (FRESHDESK_SECRET[:-1], FRESHDESK_SECRET + "x", FRESHDESK_SECRET.upper(), ""):
        with pytest.raises(SignatureInvalid):
            receiver("freshdesk").verify(make_request(SAMPLE, {"x-assist-webhook-secret": given}))


@pytest.mark.parametrize("name", list(SIGNERS))
@pytest.mark.parametrize("settings", [{}, "blank"])
def test_missing_secret_means_not_configured(name, settings):
    settings = {**SETTINGS, SECRET_NAMES[name]: "  "} if settings == "blank" else {}
    with pytest.raises(NotConfiguredWebhook) as caught:
        receiver(name, settings).verify(make_request(SAMPLE, SIGNERS[name](SAMPLE)))
    assert caught.value.status == 503 and SECRET_NAMES[name] in caught.value.message


# -- Zendesk payloads ---------------------------------------------------------------------
def zendesk_event(kind, detail, event=None, subject=None, event_id="01HXZ-event-1", time="2026-11-02T09:14:58Z"):
    return {"type": f"zen:event-type:{kind}", "account_id": 12514403, "id": event_id, "time": time,
            "zendesk_event_version": "2022-06-20", "subject": subject, "detail": detail, "event": event or {}}


USER = {"created_at": "2026-11-01T08:00:00Z", "email": "ada@example.com", "external_id": "", "default_group_id": "0",
        "id": "6596848315901", "organization_id": "0", "role": "end-user", "updated_at": "2026-11-02T09:14:58Z"}
TICKET = {"id": "35436", "subject": "Printer on fire", "description": "It smokes", "status": "Open",
          "priority": "HIGH", "requester_id": "6596848315901", "created_at": "2026-11-01T08:00:00Z",
          "updated_at": "2026-11-02T09:14:58Z", "via": {"channel": "web"}}


def test_zendesk_user_created_is_a_customer_event():
    [event] = parse("zendesk", zendesk_event("user.created", USER, subject="zen:user:6596848315901"))
    assert (event.key, event.type, event.object_type, event.object_id) == \
        ("01HXZ-event-1", "user.created", "customer", "6596848315901")
    assert event.occurred_at == "2026-11-02T09:14:58+00:00"
    assert event.customer == {"source_id": "6596848315901", "email": "ada@example.com"}
    assert event.changes == {"email": "ada@example.com"} and not event.deleted


def test_zendesk_user_name_changed_carries_the_new_name():
    [event] = parse("zendesk", zendesk_event("user.name_changed", USER, {"current": "Ada L.", "previous": "Ada"}))
    assert event.changes == {"email": "ada@example.com", "name": "Ada L."}


def test_zendesk_user_id_falls_back_to_the_subject():
    detail = {k: v for k, v in USER.items() if k != "id"}
    [event] = parse("zendesk", zendesk_event("user.created", detail, subject="zen:user:77"))
    assert event.object_id == "77"


@pytest.mark.parametrize("kind, change", [("user.deleted", {}),
                                          ("user.active_changed", {"current": False, "previous": True})])
def test_zendesk_user_deletion(kind, change):
    [event] = parse("zendesk", zendesk_event(kind, USER, change))
    assert event.object_type == "customer" and event.deleted and event.changes == {}


def test_zendesk_reactivated_user_is_not_deleted():
    [event] = parse("zendesk", zendesk_event("user.active_changed", USER, {"current": True, "previous": False}))
    assert not event.deleted


def test_zendesk_agents_are_not_customers():
    [event] = parse("zendesk", zendesk_event("user.created", {**USER, "role": "agent"}))
    assert event.object_type == "other"


def test_zendesk_ticket_created_is_a_ticket_event():
    [event] = parse("zendesk", zendesk_event("ticket.created", TICKET, {"current": {"status": "Open"}}))
    assert (event.object_type, event.object_id, event.type) == ("ticket", "35436", "ticket.created")
    assert event.customer == {"source_id": "6596848315901"}
    assert event.changes == {"subject": "Printer on fire", "description": "It smokes", "status": "open",
                             "priority": "high", "created_at": "2026-11-01T08:00:00+00:00",
                             "updated_at": "2026-11-02T09:14:58+00:00", "customer_source_id": "6596848315901",
                             "is_open": True}


@pytest.mark.parametrize("status, is_open", [("new", True), ("open", True), ("pending", True), ("hold", True),
                                             ("solved", False), ("closed", False)])
def test_zendesk_status_changed_uses_the_current_status(status, is_open):
    [event] = parse("zendesk", zendesk_event("ticket.status_changed", TICKET,
                                             {"current": status.upper(), "previous": "OPEN"}))
    assert event.changes["status"] == status and event.changes["is_open"] is is_open


@pytest.mark.parametrize("kind", ["ticket.soft_deleted", "ticket.permanently_deleted"])
def test_zendesk_ticket_deletion(kind):
    [event] = parse("zendesk", zendesk_event(kind, TICKET))
    assert event.object_type == "ticket" and event.object_id == "35436" and event.deleted and event.changes == {}


@pytest.mark.parametrize("public, kind", [(True, "comment"), (False, "note")])
def test_zendesk_comment_added_is_an_activity(public, kind):
    change = {"comment": {"id": "9001", "body": "Have you tried  turning it off?", "is_public": public,
                          "author": {"id": "1", "name": "Agent"}}}
    [event] = parse("zendesk", zendesk_event("ticket.comment_added", TICKET, change))
    assert (event.object_type, event.object_id) == ("activity", "9001")
    assert event.changes == {"kind": kind, "summary": "Have you tried turning it off?",
                             "at": "2026-11-02T09:14:58+00:00", "ticket_id": "35436"}
    assert event.customer == {"source_id": "6596848315901"}


def test_zendesk_event_without_id_uses_the_invocation_id():
    payload = zendesk_event("user.created", USER)
    del payload["id"]
    [event] = parse("zendesk", payload)
    assert event.key == "8350205582"


@pytest.mark.parametrize("kind", ["organization.created", "article.published", "agent.state_changed"])
def test_zendesk_unknown_event_types_are_other(kind):
    [event] = parse("zendesk", zendesk_event(kind, {"id": "5"}))
    assert event.object_type == "other" and event.type == kind and event.key == "01HXZ-event-1"


ZENDESK_TEMPLATE = {"assist_template": 1,
                    "ticket": {"id": "35436", "subject": "Printer on fire", "status": "On-hold", "priority": "Normal",
                               "created_at": "2026-11-01T08:00Z", "updated_at": "2026-11-02T09:14Z"},
                    "requester": {"id": "6596848315901", "name": "Ada Lovelace", "email": "ada@example.com",
                                  "phone": "+44 20 7946 0000", "organization": "Analytical Engines"}}


def test_zendesk_trigger_template_is_a_ticket_event_with_its_requester():
    [event] = parse("zendesk", ZENDESK_TEMPLATE)
    assert event.key == "8350205582:35436:2026-11-02T09:14Z"
    assert (event.type, event.object_type, event.object_id) == ("ticket.trigger", "ticket", "35436")
    assert event.occurred_at == "2026-11-02T09:14:00+00:00"
    assert event.customer == {"source_id": "6596848315901", "email": "ada@example.com", "name": "Ada Lovelace",
                              "phone": "+44 20 7946 0000", "company": "Analytical Engines"}
    assert event.changes == {"subject": "Printer on fire", "status": "hold", "priority": "normal",
                             "created_at": "2026-11-01T08:00:00+00:00", "updated_at": "2026-11-02T09:14:00+00:00",
                             "customer_source_id": "6596848315901", "is_open": True}


def test_zendesk_template_ignores_empty_and_unrendered_placeholders():
    payload = json.loads(json.dumps(ZENDESK_TEMPLATE))
    payload["requester"].update(phone="", organization="{{ticket.organization.name}}")
    payload["ticket"]["status"] = "Solved"
    [event] = parse("zendesk", payload)
    assert "phone" not in event.customer and "company" not in event.customer
    assert event.changes["is_open"] is False


def test_zendesk_other_trigger_bodies_are_other_keyed_by_invocation():
    [event] = parse("zendesk", {"ticket_id": "35436", "note": "someone else's template"})
    assert (event.object_type, event.key, event.type) == ("other", "8350205582", "zendesk.trigger")


@pytest.mark.parametrize("payload", [ZENDESK_TEMPLATE, zendesk_event("user.created", USER),
                                     zendesk_event("ticket.status_changed", TICKET, {"current": "solved"})])
def test_zendesk_replayed_delivery_has_the_same_key(payload):
    body = body_of(payload)
    first, = parse("zendesk", body, zendesk_headers(body))
    again, = parse("zendesk", body, zendesk_headers(body, timestamp="2026-11-02T09:16:00Z"))
    assert first.key == again.key


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"', b"null", b"{" * 5000])
def test_zendesk_malformed_bodies(body):
    with pytest.raises(MalformedPayload):
        parse("zendesk", body)


@pytest.mark.parametrize("payload", [
    {"assist_template": 1, "ticket": {"subject": "no id"}},
    {"assist_template": 1, "ticket": {"id": "{{ticket.id}}"}},
    {"assist_template": 1, "ticket": "35436"},
    zendesk_event("user.created", {"email": "a@example.com"}),
    zendesk_event("ticket.created", {"subject": "no id"}),
])
def test_zendesk_payloads_without_required_ids(payload):
    with pytest.raises(MalformedPayload):
        parse("zendesk", payload)


def test_zendesk_body_without_type_or_invocation_is_malformed():
    body = b'{"hello": "world"}'
    headers = zendesk_headers(body)
    del headers["X-Zendesk-Webhook-Invocation-Id"]
    with pytest.raises(MalformedPayload):
        parse("zendesk", body, headers)


# -- Freshdesk payloads -------------------------------------------------------------------
FRESHDESK_TEMPLATE = {"assist_template": 1, "event": "ticket.updated",
                      "ticket": {"id": "11", "subject": "Test ticket subject ☃", "status": "Pending",
                                 "priority": "High", "updated_at": "2026-11-02T09:14:58Z"},
                      "contact": {"id": "5001", "name": "Requester Bob", "email": "requester-bob@example.com",
                                  "phone": "", "mobile": "+1 415 555 0100"},
                      "company": {"name": "Bob & Co"}}


def test_freshdesk_template_is_a_ticket_event():
    [event] = parse("freshdesk", FRESHDESK_TEMPLATE)
    assert event.key == "11:2026-11-02T09:14:58Z:ticket.updated"
    assert (event.type, event.object_type, event.object_id) == ("ticket.updated", "ticket", "11")
    assert event.occurred_at == "2026-11-02T09:14:58+00:00"
    assert event.customer == {"source_id": "5001", "name": "Requester Bob", "email": "requester-bob@example.com",
                              "phone": "+1 415 555 0100", "company": "Bob & Co"}
    assert event.changes == {"subject": "Test ticket subject ☃", "status": "pending", "priority": "high",
                             "updated_at": "2026-11-02T09:14:58+00:00", "customer_source_id": "5001",
                             "is_open": True}


@pytest.mark.parametrize("status, is_open", [("Open", True), ("Pending", True), ("Waiting on Customer", True),
                                             ("Resolved", False), ("Closed", False)])
def test_freshdesk_status_labels(status, is_open):
    payload = {**FRESHDESK_TEMPLATE, "ticket": {**FRESHDESK_TEMPLATE["ticket"], "status": status}}
    [event] = parse("freshdesk", payload)
    assert event.changes["status"] == status.lower() and event.changes["is_open"] is is_open


def test_freshdesk_created_and_deleted_events():
    [created] = parse("freshdesk", {**FRESHDESK_TEMPLATE, "event": "ticket.created"})
    [deleted] = parse("freshdesk", {**FRESHDESK_TEMPLATE, "event": "ticket.deleted"})
    assert created.key != deleted.key and created.object_type == deleted.object_type == "ticket"
    assert not created.deleted and deleted.deleted and deleted.changes == {}


@pytest.mark.parametrize("updated, expected", [
    ("2026-11-02 09:14:58", "2026-11-02T09:14:58+00:00"),
    ("Mon, 02 Nov 2026 09:14:58 +0000", "2026-11-02T09:14:58+00:00"),
    ("2 Nov 2026 at 9:14 AM", None),
])
def test_freshdesk_updated_at_formats(updated, expected):
    payload = {**FRESHDESK_TEMPLATE, "ticket": {**FRESHDESK_TEMPLATE["ticket"], "updated_at": updated}}
    [event] = parse("freshdesk", payload)
    assert event.key == f"11:{updated}:ticket.updated"  # the raw text: stable across retries whatever its format
    assert event.changes.get("updated_at") == expected
    assert event.occurred_at == (expected or "2026-11-02T09:15:00+00:00")


def test_freshdesk_unrendered_contact_id_is_left_out():
    payload = {**FRESHDESK_TEMPLATE, "contact": {**FRESHDESK_TEMPLATE["contact"], "id": "{{ticket.requester.id}}"}}
    [event] = parse("freshdesk", payload)
    assert "source_id" not in event.customer and "customer_source_id" not in event.changes
    assert event.customer["email"] == "requester-bob@example.com"


def test_freshdesk_unknown_events_are_other():
    [event] = parse("freshdesk", {**FRESHDESK_TEMPLATE, "event": "sla.escalated"})
    assert event.object_type == "other" and event.object_id == "11" and event.changes == {}


def test_freshdesk_replay_has_the_same_key_and_a_new_update_a_new_one():
    [first] = parse("freshdesk", FRESHDESK_TEMPLATE)
    [again] = parse("freshdesk", FRESHDESK_TEMPLATE)
    later = {**FRESHDESK_TEMPLATE, "ticket": {**FRESHDESK_TEMPLATE["ticket"], "updated_at": "2026-11-02T09:20:00Z"}}
    [newer] = parse("freshdesk", later)
    assert first.key == again.key != newer.key


@pytest.mark.parametrize("body", [b"", b"<xml/>", b"[]", b"42"])
def test_freshdesk_malformed_bodies(body):
    with pytest.raises(MalformedPayload):
        parse("freshdesk", body)


@pytest.mark.parametrize("payload", [
    {k: v for k, v in FRESHDESK_TEMPLATE.items() if k != "event"},
    {**FRESHDESK_TEMPLATE, "ticket": {"subject": "no id"}},
    {**FRESHDESK_TEMPLATE, "ticket": {"id": "{{ticket.id}}"}},
    {**FRESHDESK_TEMPLATE, "ticket": None},
])
def test_freshdesk_payloads_without_required_fields(payload):
    with pytest.raises(MalformedPayload):
        parse("freshdesk", payload)


# -- Chatwoot payloads --------------------------------------------------------------------
CONTACT = {"id": 14, "name": "little-haze-776", "email": "haze@example.com", "phone_number": "+14155550100",
           "identifier": None, "thumbnail": "", "avatar": "", "account": {"id": 1, "name": "Acme Inc"},
           "additional_attributes": {"company_name": "Haze Ltd"}, "custom_attributes": {"tier": "gold"}}
SENDER = {"id": 14, "name": "little-haze-776", "email": "haze@example.com", "phone_number": None,
          "identifier": None, "type": "contact"}
CONVERSATION = {"id": 10, "inbox_id": 1, "channel": "Channel::WebWidget", "can_reply": True, "status": "open",
                "additional_attributes": {}, "priority": None,
                "messages": [{"id": 120, "content": "My order never arrived\nIt was #1234", "message_type": 0,
                              "created_at": 1793610000, "private": False, "conversation_id": 10}],
                "meta": {"sender": SENDER, "assignee": {"id": 1, "name": "John", "type": "user"}},
                "unread_count": 1, "timestamp": 1793610000, "created_at": 1793600000, "updated_at": 1793610000.25}
MESSAGE = {"id": 118, "content": "hi", "created_at": "2026-11-02T09:14:30.000Z", "message_type": "incoming",
           "content_type": "text", "private": False, "content_attributes": {}, "source_id": None,
           "sender": {"id": 14, "name": "little-haze-776", "avatar": "", "type": "contact"},
           "inbox": {"id": 1, "name": "Acme Support"}, "conversation": CONVERSATION,
           "account": {"id": 1, "name": "Acme Inc"}}


@pytest.mark.parametrize("name", ["contact_created", "contact_updated"])
def test_chatwoot_contact_events_are_customer_events(name):
    [event] = parse("chatwoot", {**CONTACT, "event": name})
    assert (event.key, event.type, event.object_type, event.object_id) == \
        ("5b1c7e8e-delivery-1", name, "customer", "14")
    assert event.occurred_at == "2026-11-02T09:15:00+00:00"  # contacts carry no time: the signed one
    assert event.customer == {"source_id": "14", "name": "little-haze-776", "email": "haze@example.com",
                              "phone": "+14155550100", "company": "Haze Ltd", "tier": "gold"}
    assert event.changes == {k: v for k, v in event.customer.items() if k != "source_id"}


def test_chatwoot_contact_deleted():
    [event] = parse("chatwoot", {**CONTACT, "event": "contact_deleted"})
    assert event.object_type == "customer" and event.deleted and event.changes == {}


@pytest.mark.parametrize("name", ["conversation_created", "conversation_status_changed", "conversation_updated"])
def test_chatwoot_conversation_events_are_ticket_events(name):
    [event] = parse("chatwoot", {**CONVERSATION, "event": name})
    assert (event.object_type, event.object_id) == ("ticket", "10")
    assert event.customer == {"source_id": "14", "name": "little-haze-776", "email": "haze@example.com"}
    assert event.occurred_at == "2026-11-02T09:00:00+00:00"
    assert event.changes == {"subject": "My order never arrived", "description": "My order never arrived\nIt was #1234",
                             "status": "open", "created_at": "2026-11-02T06:13:20+00:00",
                             "updated_at": "2026-11-02T09:00:00+00:00", "customer_source_id": "14", "is_open": True}


@pytest.mark.parametrize("status, is_open", [("open", True), ("pending", True), ("snoozed", True),
                                             ("resolved", False)])
def test_chatwoot_conversation_status(status, is_open):
    [event] = parse("chatwoot", {**CONVERSATION, "status": status, "event": "conversation_status_changed",
                                 "changed_attributes": [{"status": {"previous_value": "open",
                                                                    "current_value": status}}]})
    assert event.changes["status"] == status and event.changes["is_open"] is is_open


def test_chatwoot_email_conversation_subject():
    [event] = parse("chatwoot", {**CONVERSATION, "event": "conversation_created",
                                 "additional_attributes": {"mail_subject": "Refund request"}})
    assert event.changes["subject"] == "Refund request"


def test_chatwoot_incoming_message_is_an_activity_from_the_customer():
    [event] = parse("chatwoot", {**MESSAGE, "event": "message_created"})
    assert (event.object_type, event.object_id, event.type) == ("activity", "118", "message_created")
    assert event.occurred_at == "2026-11-02T09:14:30+00:00"
    assert event.customer["source_id"] == "14"
    assert event.changes == {"kind": "message", "summary": "hi", "at": "2026-11-02T09:14:30+00:00",
                             "ticket_id": "10"}


@pytest.mark.parametrize("message_type, private, kind", [("outgoing", False, "comment"), ("outgoing", True, "note"),
                                                         (1, False, "comment"), (0, False, "message")])
def test_chatwoot_message_kinds(message_type, private, kind):
    payload = {**MESSAGE, "message_type": message_type, "private": private, "event": "message_created",
               "sender": {"id": 1, "name": "John", "type": "user"}}
    [event] = parse("chatwoot", payload)
    assert event.changes["kind"] == kind and event.customer["source_id"] == "14"


def test_chatwoot_incoming_message_without_conversation_contact_uses_the_sender():
    payload = {**MESSAGE, "event": "message_created", "conversation": {"id": 10}}
    [event] = parse("chatwoot", payload)
    assert event.customer == {"source_id": "14", "name": "little-haze-776"}


def test_chatwoot_activity_messages_are_other():
    [event] = parse("chatwoot", {**MESSAGE, "message_type": "activity", "content": "Resolved by John",
                                 "event": "message_created"})
    assert event.object_type == "other"


@pytest.mark.parametrize("name", ["webwidget_triggered", "inbox_created", "conversation_typing_on", "brand_new"])
def test_chatwoot_unknown_events_are_other(name):
    [event] = parse("chatwoot", {"id": 3, "event": name})
    assert event.object_type == "other" and event.type == name


def test_chatwoot_replay_has_the_same_key():
    body = body_of({**MESSAGE, "event": "message_created"})
    [first] = parse("chatwoot", body, chatwoot_headers(body))
    [retry] = parse("chatwoot", body, chatwoot_headers(body, timestamp=int(NOW) + 3))
    [other] = parse("chatwoot", body, chatwoot_headers(body, delivery="another-delivery"))
    assert first.key == retry.key != other.key


def test_chatwoot_without_delivery_header_keys_on_the_body():
    body = body_of({**CONTACT, "event": "contact_updated"})
    headers = chatwoot_headers(body)
    del headers["X-Chatwoot-Delivery"]
    [first] = parse("chatwoot", body, headers)
    [again] = parse("chatwoot", body, headers)
    assert first.key == again.key == "sha256:" + hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("body", [b"", b"nope", b"[{}]", b'{"id": 1}', b'{"event": 5}'])
def test_chatwoot_malformed_bodies(body):
    with pytest.raises(MalformedPayload):
        parse("chatwoot", body)


@pytest.mark.parametrize("name", ["contact_created", "conversation_created", "message_created"])
def test_chatwoot_known_events_need_an_id(name):
    with pytest.raises(MalformedPayload):
        parse("chatwoot", {"event": name, "content": "no id"})


# -- generic payloads ---------------------------------------------------------------------
GENERIC_CUSTOMER = {"id": "evt-1", "type": "customer.updated", "occurred_at": "2026-11-02T10:14:58+01:00",
                    "customer": {"id": "42", "email": "ada@example.com", "phone": "+442079460000",
                                 "name": "Ada Lovelace", "company": "Analytical Engines", "tier": "gold",
                                 "favourite_colour": "green"}}
GENERIC_TICKET = {"id": "evt-2", "type": "ticket.updated", "occurred_at": "2026-11-02T09:14:58Z",
                  "customer": {"id": "42"},
                  "ticket": {"id": "T-7", "subject": "Invoice wrong", "status": "open", "priority": "high",
                             "is_open": True, "updated_at": "2026-11-02T09:14:58Z"}}
GENERIC_ACTIVITY = {"id": "evt-3", "type": "activity.created", "customer": {"email": "ada@example.com"},
                    "activity": {"id": "A-3", "kind": "task", "summary": "Call back", "at": "2026-11-02T09:00:00Z",
                                 "due_at": "2026-11-03T09:00:00Z", "done": False, "ticket_id": "T-7"}}


def test_generic_customer_event():
    [event] = parse("generic", GENERIC_CUSTOMER)
    assert (event.key, event.type, event.object_type, event.object_id) == \
        ("evt-1", "customer.updated", "customer", "42")
    assert event.occurred_at == "2026-11-02T09:14:58+00:00"
    assert event.customer == {"source_id": "42", "email": "ada@example.com", "phone": "+442079460000",
                              "name": "Ada Lovelace", "company": "Analytical Engines", "tier": "gold"}
    assert event.changes == {k: v for k, v in event.customer.items() if k != "source_id"}


def test_generic_ticket_event():
    [event] = parse("generic", GENERIC_TICKET)
    assert (event.object_type, event.object_id) == ("ticket", "T-7")
    assert event.changes == {"subject": "Invoice wrong", "status": "open", "priority": "high",
                             "updated_at": "2026-11-02T09:14:58+00:00", "is_open": True, "customer_source_id": "42"}


def test_generic_activity_event_keyed_by_email_and_timed_by_the_signature():
    [event] = parse("generic", GENERIC_ACTIVITY)
    assert (event.object_type, event.object_id) == ("activity", "A-3")
    assert event.occurred_at == "2026-11-02T09:15:00+00:00"
    assert event.customer == {"source_id": "ada@example.com", "email": "ada@example.com"}
    assert event.changes == {"kind": "task", "summary": "Call back", "ticket_id": "T-7",
                             "at": "2026-11-02T09:00:00+00:00", "due_at": "2026-11-03T09:00:00+00:00",
                             "done": False}


@pytest.mark.parametrize("payload, object_type", [({**GENERIC_CUSTOMER, "type": "customer.deleted"}, "customer"),
                                                  ({**GENERIC_TICKET, "type": "ticket.deleted"}, "ticket"),
                                                  ({**GENERIC_ACTIVITY, "type": "activity.deleted"}, "activity")])
def test_generic_deletions(payload, object_type):
    [event] = parse("generic", payload)
    assert event.object_type == object_type and event.deleted and event.changes == {}


def test_generic_customer_merge():
    payload = {"id": "evt-9", "type": "customer.merged", "customer": {"id": "43", "merged_into": "42"}}
    [event] = parse("generic", payload)
    assert (event.object_type, event.object_id, event.changes) == ("customer", "43", {"merged_into": "42"})


def test_generic_batch_keeps_order_and_keys():
    events = parse("generic", [GENERIC_CUSTOMER, GENERIC_TICKET, GENERIC_ACTIVITY])
    assert [e.key for e in events] == ["evt-1", "evt-2", "evt-3"]
    assert parse("generic", []) == []


def test_generic_batch_limit():
    batch = [{**GENERIC_CUSTOMER, "id": f"evt-{n}"} for n in range(100)]
    assert len(parse("generic", batch)) == 100
    with pytest.raises(MalformedPayload):
        parse("generic", batch + [{**GENERIC_CUSTOMER, "id": "evt-100"}])


@pytest.mark.parametrize("kind", ["invoice.paid", "subscription.deleted", "ping"])
def test_generic_unknown_types_are_other(kind):
    [event] = parse("generic", {"id": "evt-5", "type": kind, "invoice": {"id": "I-1"}})
    assert (event.object_type, event.type, event.deleted, event.changes) == ("other", kind, False, {})


def test_generic_replay_has_the_same_key():
    body = body_of(GENERIC_TICKET)
    [first] = parse("generic", body, generic_headers(body))
    [again] = parse("generic", body, generic_headers(body, timestamp=int(NOW) + 60))
    assert first.key == again.key == "evt-2"


@pytest.mark.parametrize("body", [b"", b"{", b'"evt"', b"[1]", b"[[]]"])
def test_generic_malformed_bodies(body):
    with pytest.raises(MalformedPayload):
        parse("generic", body)


@pytest.mark.parametrize("payload", [
    {"type": "customer.updated", "customer": {"id": "42"}},
    {"id": "evt-1", "customer": {"id": "42"}},
    {"id": "", "type": "customer.updated", "customer": {"id": "42"}},
    {"id": {"nested": 1}, "type": "customer.updated", "customer": {"id": "42"}},
    {"id": "evt-1", "type": "customer.updated", "customer": {"name": "No identifier"}},
    {"id": "evt-1", "type": "customer.updated"},
    {"id": "evt-1", "type": "customer.updated", "customer": "42"},
    {"id": "evt-1", "type": "customer.merged", "customer": {"id": "43"}},
    {"id": "evt-1", "type": "ticket.updated", "ticket": {"subject": "no id"}},
    {"id": "evt-1", "type": "activity.created", "activity": None},
    {"id": "evt-1", "type": "ticket.updated", "ticket": {"id": "T-1", "is_open": "yes"}},
    {"id": "evt-1", "type": "ticket.updated", "ticket": {"id": "T-1", "updated_at": "last tuesday"}},
    {"id": "evt-1", "type": "ticket.updated", "ticket": {"id": "T-1", "subject": ["a", "list"]}},
    {"id": "evt-1", "type": "ticket.updated", "occurred_at": "soon", "ticket": {"id": "T-1"}},
])
def test_generic_invalid_events(payload):
    with pytest.raises(MalformedPayload):
        parse("generic", payload)


def test_generic_one_bad_event_refuses_the_whole_batch():
    with pytest.raises(MalformedPayload) as caught:
        parse("generic", [GENERIC_CUSTOMER, {"id": "evt-2", "type": "ticket.updated"}])
    assert "event 1" in caught.value.message


# -- the registry ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SIGNERS))
def test_receivers_register_under_their_connector_name(name):
    found = receiver(name)
    assert found.name == name and found.ack([]) == (200, "application/json", b'{"ok": true}')


def test_several_secrets_each_verify():
    """One Zendesk webhook per kind (events, triggers), each with its own secret; or old and new while rotating."""
    settings = {**SETTINGS, "ASSIST_ZENDESK_WEBHOOK_SECRET": f"old-secret, {ZENDESK_SECRET}"}
    receiver("zendesk", settings).verify(make_request(SAMPLE, zendesk_headers(SAMPLE)))
    receiver("zendesk", settings).verify(make_request(SAMPLE, zendesk_headers(SAMPLE, secret="old-secret")))
    with pytest.raises(SignatureInvalid):
        receiver("zendesk", settings).verify(make_request(SAMPLE, zendesk_headers(SAMPLE, secret="old")))


# -- the docs: what they tell people to configure is what the receivers read ----------------------
def json_blocks(name):
    return re.findall(r"```json\n(.*?)```", (DOCS / f"{name}.md").read_text(), re.S)


def render(template, values):
    """A template as the vendor would send it: placeholders replaced with JSON-safe sample text."""
    return re.sub(r"\{\{\s*([^}]+?)\s*\}\}", lambda m: values.get(m.group(1), ""), template).encode()


def test_zendesk_doc_template_parses():
    [template] = [b for b in json_blocks("zendesk") if "assist_template" in b]
    body = render(template, {"ticket.id": "35436", "ticket.title": "Printer on fire", "ticket.status": "Pending",
                             "ticket.priority": "Urgent", "ticket.created_at_with_timestamp": "2026-11-01T08:00Z",
                             "ticket.updated_at_with_timestamp": "2026-11-02T09:14Z",
                             "ticket.requester.id": "6596848315901", "ticket.requester.name": "Ada Lovelace",
                             "ticket.requester.email": "ada@example.com"})
    [event] = parse("zendesk", body)
    assert (event.object_type, event.object_id, event.key) == ("ticket", "35436", "8350205582:35436:2026-11-02T09:14Z")
    assert event.changes["status"] == "pending" and event.changes["customer_source_id"] == "6596848315901"
    assert event.customer == {"source_id": "6596848315901", "email": "ada@example.com", "name": "Ada Lovelace"}


def test_freshdesk_doc_template_parses():
    [template] = [b for b in json_blocks("freshdesk") if "assist_template" in b]
    body = render(template, {"ticket.id": "11", "ticket.subject": "Refund", "ticket.status": "Resolved",
                             "ticket.priority": "Low", "ticket.updated_at": "2026-11-02T09:14:58Z",
                             "ticket.requester.id": "5001", "ticket.contact.email": "bob@example.com",
                             "ticket.company.name": "Bob & Co"})
    [event] = parse("freshdesk", body)
    assert (event.object_type, event.object_id, event.key) == ("ticket", "11", "11:2026-11-02T09:14:58Z:ticket.updated")
    assert event.changes["is_open"] is False and event.changes["customer_source_id"] == "5001"
    assert event.customer == {"source_id": "5001", "email": "bob@example.com", "company": "Bob & Co"}


def test_generic_doc_examples_parse():
    [ticket] = json_blocks("generic")
    [event] = parse("generic", ticket.encode())
    assert (event.object_type, event.object_id, event.changes["customer_source_id"]) == ("ticket", "T-7", "42")
    merge = re.search(r"`(\{\"id\": \"evt-7\".*?\})`", (DOCS / "generic.md").read_text()).group(1)
    [merged] = parse("generic", merge.encode())
    assert merged.changes == {"merged_into": "42"}


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("bash")), reason="needs openssl and bash")
def test_generic_doc_curl_example_signs_correctly():
    """Run the doc's own BODY= and SIG= lines (openssl) and check assist accepts the result."""
    lines = (DOCS / "generic.md").read_text().splitlines()
    body_line = next(line for line in lines if line.startswith("BODY='"))
    sig_line = next(line for line in lines if line.startswith("SIG=$("))
    script = f"SECRET='s3cret-for-the-doc-example'\n{body_line}\nTS={int(NOW)}\n{sig_line}\nprintf '%s' \"$SIG\""
    signature = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    body = body_line[len("BODY='"):-1].encode()
    request = make_request(body, {"x-assist-timestamp": str(int(NOW)), "x-assist-signature": "sha256=" + signature})
    found = receiver("generic", {"ASSIST_WEBHOOK_SECRET": "s3cret-for-the-doc-example"})
    found.verify(request)
    [event] = found.parse(request)
    assert (event.key, event.object_type, event.object_id) == ("evt-1001", "customer", "42")
