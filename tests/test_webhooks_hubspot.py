"""HubSpot webhook receiver: official signature vectors, freshness, and every event type we map."""

import base64
import hashlib
import hmac
import json

import pytest

from connectors.webhooks import MalformedPayload, NotConfiguredWebhook, SignatureInvalid, WebhookRequest, receiver_for
from connectors.webhooks.hubspot import HubSpotReceiver, v3_uris

# Secret and vectors from HubSpot's docs and SDK tests (reference/crm-apis.md §1.7).
SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
DOC_BODY = (b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
            b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
            b'"changeFlag":"NEW","appId":54321}]')
URI = "https://www.example.com/webhook_uri"
NOW = 1_700_000_000.0  # epoch seconds for the tests that need a fresh timestamp


@pytest.fixture
def receiver():
    """A receiver holding the vectors' client secret."""
    return HubSpotReceiver({"ASSIST_HUBSPOT_CLIENT_SECRET": SECRET})


def request(body=b"[]", headers=None, method="POST", url=URI, now=NOW):
    return WebhookRequest(method=method, url=url, headers=headers or {}, body=body, now=now)


def v3_headers(body, url=URI, method="POST", timestamp_ms=int(NOW * 1000), secret=SECRET):
    message = method.encode() + url.encode() + body + str(timestamp_ms).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return {"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": str(timestamp_ms)}


def event(subscription_type, event_id=1, object_id=101, occurred_at=1564113600000, **fields):
    """One webhook event as HubSpot sends it."""
    return {"eventId": event_id, "subscriptionId": 25, "portalId": 62515, "appId": 54321,
            "occurredAt": occurred_at, "subscriptionType": subscription_type, "attemptNumber": 0,
            **({"objectId": object_id} if object_id is not None else {}), "changeSource": "CRM", **fields}


def parse(receiver, *events):
    return receiver.parse(request(json.dumps(list(events)).encode()))


# -- official test vectors ------------------------------------------------------------
@pytest.mark.parametrize("version, method, body, expected", [
    ("v1", "POST", DOC_BODY, "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"),  # 1
    ("v1", "POST", b"{'example_field':'example_value'}",
     "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"),  # 2
    ("v2", "GET", b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),  # 3
    ("v2", "POST", b'{"example_field":"example_value"}',
     "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"),  # 4
    ("v2", "POST", b"{'example_field':'example_value'}",
     "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"),  # 5
])
def test_official_v1_and_v2_vectors_verify(receiver, version, method, body, expected):
    headers = {"x-hubspot-signature": expected, "x-hubspot-signature-version": version}
    receiver.verify(request(body, headers, method=method))


def test_official_v3_vector_verifies_when_now_is_its_timestamp(receiver):
    headers = {"x-hubspot-signature-v3": "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
               "x-hubspot-request-timestamp": "15000000"}
    receiver.verify(request(b"{'example_field':'example_value'}", headers, now=15000.0))


def test_official_v3_vector_is_stale_at_any_real_time(receiver):
    headers = {"x-hubspot-signature-v3": "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
               "x-hubspot-request-timestamp": "15000000"}
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(b"{'example_field':'example_value'}", headers))


# -- v3 freshness and URI rules -------------------------------------------------------
@pytest.mark.parametrize("age_seconds", [0, 10, 299, -60])
def test_a_fresh_v3_signature_is_accepted(receiver, age_seconds):
    receiver.verify(request(DOC_BODY, v3_headers(DOC_BODY), now=NOW + age_seconds))


@pytest.mark.parametrize("age_seconds", [301, 3600, -301])
def test_a_v3_signature_more_than_five_minutes_off_is_rejected(receiver, age_seconds):
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(DOC_BODY, v3_headers(DOC_BODY), now=NOW + age_seconds))


def test_v3_signs_the_uri_with_the_documented_escapes_decoded(receiver):
    sent = "https://assist.example.com/webhooks/hubspot?source=a%3Ab%2Fc&q=x%20y"
    signed = "https://assist.example.com/webhooks/hubspot?source=a:b/c&q=x%20y"  # %20 is not in the list
    assert v3_uris(sent)[0] == signed
    receiver.verify(request(DOC_BODY, v3_headers(DOC_BODY, url=signed), url=sent))
    receiver.verify(request(DOC_BODY, v3_headers(DOC_BODY, url=sent), url=sent))  # the Python SDK's verbatim form


def test_v3_signature_covers_the_query_string(receiver):
    headers = v3_headers(DOC_BODY, url=URI + "?a=1")
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(DOC_BODY, headers, url=URI + "?a=2"))


# -- rejections -----------------------------------------------------------------------
def good_v1():
    return {"x-hubspot-signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
            "x-hubspot-signature-version": "v1"}


@pytest.mark.parametrize("headers, body", [
    ({}, DOC_BODY),  # no signature at all
    ({"x-hubspot-signature-version": "v1"}, DOC_BODY),  # version without signature
    ({**good_v1(), "x-hubspot-signature-version": "v9"}, DOC_BODY),  # unknown version
    ({**good_v1(), "x-hubspot-signature": "0" * 64}, DOC_BODY),  # wrong signature
    (good_v1(), DOC_BODY.replace(b'"objectId":123', b'"objectId":124')),  # tampered body
    ({**good_v1(), "x-hubspot-signature-version": "v2"}, DOC_BODY),  # a v1 signature is not a v2 one
    ({**v3_headers(DOC_BODY), "x-hubspot-request-timestamp": ""}, DOC_BODY),  # v3 without timestamp
    ({**v3_headers(DOC_BODY), "x-hubspot-request-timestamp": "soon"}, DOC_BODY),
    ({**v3_headers(DOC_BODY), "x-hubspot-signature-v3": ""}, DOC_BODY),
    (v3_headers(DOC_BODY), DOC_BODY + b" "),  # tampered body under v3
    (v3_headers(DOC_BODY, secret="another-secret"), DOC_BODY),
    ({**v3_headers(DOC_BODY, secret="bad"), **good_v1()}, DOC_BODY),  # a v3 header decides, even if v1 would pass
])
def test_missing_wrong_or_tampered_signatures_are_rejected(receiver, headers, body):
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(body, headers))


def test_v2_signature_covers_method_and_uri(receiver):
    headers = {"x-hubspot-signature": "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
               "x-hubspot-signature-version": "v2"}
    body = b'{"example_field":"example_value"}'
    for changed in ({"method": "PUT"}, {"url": URI + "/"}, {"url": URI.replace("https", "http")}):
        with pytest.raises(SignatureInvalid):
            receiver.verify(request(body, headers, **changed))


@pytest.mark.parametrize("settings", [{}, {"ASSIST_HUBSPOT_CLIENT_SECRET": ""},
                                      {"ASSIST_HUBSPOT_CLIENT_SECRET": "  "}])
def test_a_missing_secret_is_not_configured(settings):
    with pytest.raises(NotConfiguredWebhook) as caught:
        HubSpotReceiver(settings).verify(request(DOC_BODY, good_v1()))
    assert caught.value.status == 503


def test_rejections_never_echo_the_secret_or_signature(receiver):
    headers = {**good_v1(), "x-hubspot-signature": "f" * 64}
    with pytest.raises(SignatureInvalid) as caught:
        receiver.verify(request(DOC_BODY, headers))
    assert SECRET not in caught.value.message and "f" * 64 not in caught.value.message


def test_the_registry_builds_this_receiver():
    assert isinstance(receiver_for("hubspot", {"ASSIST_HUBSPOT_CLIENT_SECRET": SECRET}), HubSpotReceiver)


# -- parsing --------------------------------------------------------------------------
def test_the_documented_event_parses_with_its_idempotency_key(receiver):
    (parsed,) = receiver.parse(request(DOC_BODY))
    assert parsed.key == "contact.creation:123:1564113600000:1"
    assert parsed.occurred_at == "2019-07-26T04:00:00+00:00"
    assert (parsed.type, parsed.object_type, parsed.object_id) == ("contact.creation", "customer", "123")
    assert parsed.customer == {"source_id": "123"} and parsed.changes == {} and not parsed.deleted
    assert parsed.payload["changeFlag"] == "NEW"


def test_a_replayed_event_has_the_same_key(receiver):
    first = event("contact.propertyChange", propertyName="email", propertyValue="ada@example.com")
    replay = {**first, "attemptNumber": 3}
    later = {**first, "occurredAt": first["occurredAt"] + 1}
    keys = [e.key for e in parse(receiver, first, replay, later)]
    assert keys[0] == keys[1] != keys[2]


def test_event_id_alone_does_not_make_the_key(receiver):
    same_id = [event("contact.creation", object_id=1), event("contact.deletion", object_id=1),
               event("contact.creation", object_id=2)]
    assert len({e.key for e in parse(receiver, *same_id)}) == 3


def test_legacy_event_type_is_accepted_for_subscription_type(receiver):
    legacy = {"objectId": 1246965, "propertyName": "lifecyclestage", "propertyValue": "subscriber",
              "changeSource": "ACADEMY", "eventId": 3816279340, "subscriptionId": 25, "portalId": 33,
              "appId": 1160452, "occurredAt": 1462216307945, "eventType": "contact.propertyChange",
              "attemptNumber": 0}
    (parsed,) = parse(receiver, legacy)
    assert parsed.key == "contact.propertyChange:1246965:1462216307945:3816279340"
    assert parsed.changes == {"tier": "subscriber"}


def prop(name, value, object_type="contact", **fields):
    return event(f"{object_type}.propertyChange", propertyName=name, propertyValue=value, **fields)


# (event, object_type, object_id, changes, customer, deleted)
CASES = [
    (event("contact.creation"), "customer", "101", {}, {"source_id": "101"}, False),
    (prop("firstname", "Ada"), "customer", "101", {"first_name": "Ada"}, {"source_id": "101"}, False),
    (prop("lastname", "Lovelace"), "customer", "101", {"last_name": "Lovelace"}, {"source_id": "101"}, False),
    (prop("email", "ada@example.com"), "customer", "101", {"email": "ada@example.com"},
     {"source_id": "101", "email": "ada@example.com"}, False),
    (prop("phone", "+44 20 7946 0018"), "customer", "101", {"phone": "+44 20 7946 0018"},
     {"source_id": "101", "phone": "+44 20 7946 0018"}, False),
    (prop("mobilephone", "+1 415 555 0100"), "customer", "101", {"phone": "+1 415 555 0100"},
     {"source_id": "101", "phone": "+1 415 555 0100"}, False),
    (prop("company", "Acme"), "customer", "101", {"company": "Acme"}, {"source_id": "101", "company": "Acme"}, False),
    (prop("lifecyclestage", "customer"), "customer", "101", {"tier": "customer"},
     {"source_id": "101", "tier": "customer"}, False),
    (prop("hs_lead_status", "OPEN"), "customer", "101", {"tier": "OPEN"},
     {"source_id": "101", "tier": "OPEN"}, False),
    (prop("email", ""), "customer", "101", {"email": None}, {"source_id": "101"}, False),  # cleared
    (prop("hs_analytics_source", "DIRECT"), "customer", "101", {}, {"source_id": "101"}, False),
    (event("contact.deletion"), "customer", "101", {}, {"source_id": "101"}, True),
    (event("contact.privacyDeletion"), "customer", "101", {}, {"source_id": "101"}, True),
    (event("contact.restore"), "customer", "101", {}, {"source_id": "101"}, False),
    (event("ticket.creation", object_id=501), "ticket", "501", {}, {}, False),
    (prop("subject", "Refund", "ticket", object_id=501), "ticket", "501", {"subject": "Refund"}, {}, False),
    (prop("content", "Card charged twice", "ticket", object_id=501), "ticket", "501",
     {"description": "Card charged twice"}, {}, False),
    (prop("hs_pipeline_stage", "4", "ticket", object_id=501), "ticket", "501",
     {"status": "closed", "is_open": False}, {}, False),
    (prop("hs_pipeline_stage", "1", "ticket", object_id=501), "ticket", "501",
     {"status": "new", "is_open": True}, {}, False),
    (prop("hs_pipeline_stage", "9876543", "ticket", object_id=501), "ticket", "501",
     {"status": "9876543", "is_open": True}, {}, False),
    (prop("hs_ticket_priority", "HIGH", "ticket", object_id=501), "ticket", "501", {"priority": "high"}, {}, False),
    (prop("hs_lastmodifieddate", "1564113600000", "ticket", object_id=501), "ticket", "501",
     {"updated_at": "2019-07-26T04:00:00+00:00"}, {}, False),
    (event("ticket.deletion", object_id=501), "ticket", "501", {}, {}, True),
    (event("contact.associationChange", associationType="CONTACT_TO_TICKET", fromObjectId=101, toObjectId=501,
           associationRemoved=False, isPrimaryAssociation=False),
     "ticket", "501", {"customer_source_id": "101"}, {"source_id": "101"}, False),
    (event("contact.associationChange", associationType="CONTACT_TO_TICKET", fromObjectId=101, toObjectId=501,
           associationRemoved=True, isPrimaryAssociation=False),
     "ticket", "501", {}, {}, False),  # an unlink changes nothing; a new link arrives as its own event
    (event("ticket.associationChange", object_id=501, associationType="TICKET_TO_CONTACT", fromObjectId=501,
           toObjectId=101, associationRemoved=False),
     "ticket", "501", {"customer_source_id": "101"}, {"source_id": "101"}, False),
    (event("contact.associationChange", associationType="CONTACT_TO_COMPANY", fromObjectId=101, toObjectId=9,
           associationRemoved=False), "other", "101", {}, {}, False),
    (event("object.propertyChange", objectTypeId="0-1", propertyName="email", propertyValue="b@example.com"),
     "customer", "101", {"email": "b@example.com"}, {"source_id": "101", "email": "b@example.com"}, False),
    (event("object.deletion", object_id=501, objectTypeId="0-5"), "ticket", "501", {}, {}, True),
    (event("object.creation", objectTypeId="0-3"), "other", "101", {}, {}, False),
    (event("deal.creation"), "other", "101", {}, {}, False),
    (event("conversation.newMessage", messageId="m1", messageType="MESSAGE"), "other", "101", {}, {}, False),
    (event("contact.someFutureThing"), "other", "101", {}, {}, False),
]


@pytest.mark.parametrize("sent, object_type, object_id, changes, customer, deleted", CASES)
def test_each_event_type_maps_to_our_terms(receiver, sent, object_type, object_id, changes, customer, deleted):
    (parsed,) = parse(receiver, sent)
    assert parsed.type == sent["subscriptionType"] and parsed.payload == sent
    assert (parsed.object_type, parsed.object_id) == (object_type, object_id)
    assert (parsed.changes, parsed.customer, parsed.deleted) == (changes, customer, deleted)


@pytest.mark.parametrize("fields, absorbed, survivor", [
    ({"primaryObjectId": 101, "mergedObjectIds": [102]}, ["102"], "101"),
    ({"primaryObjectId": 101, "mergedObjectIds": [102, 103], "numberOfPropertiesMoved": 4}, ["102", "103"], "101"),
    ({"primaryObjectId": 101, "mergedObjectIds": [102], "newObjectId": 300}, ["102", "101"], "300"),
    ({"primaryObjectId": 101, "mergedObjectIds": []}, ["101"], "101"),  # nothing absorbed: a no-op merge
])
def test_a_merge_gives_one_event_per_absorbed_contact(receiver, fields, absorbed, survivor):
    sent = event("contact.merge", object_id=101, **fields)
    parsed = parse(receiver, sent)
    assert [e.object_id for e in parsed] == absorbed
    for got in parsed:
        assert (got.object_type, got.changes, got.customer) == ("customer", {"merged_into": survivor},
                                                                {"source_id": survivor})
        assert got.payload == sent and not got.deleted
    expected_keys = (["contact.merge:101:1564113600000:1"] if absorbed == [survivor]
                     else [f"contact.merge:101:1564113600000:1:{old}" for old in absorbed])
    assert [e.key for e in parsed] == expected_keys
    assert [e.key for e in parse(receiver, {**sent, "attemptNumber": 2})] == expected_keys


def test_a_merge_without_a_survivor_is_malformed(receiver):
    with pytest.raises(MalformedPayload):
        parse(receiver, event("contact.merge", mergedObjectIds=[102]))


def test_a_batch_of_100_events_parses_in_order(receiver):
    batch = [{**case[0], "eventId": 1000 + i} for i, case in enumerate(CASES)]
    batch.append(event("contact.merge", event_id=4000, primaryObjectId=101, mergedObjectIds=[102]))
    batch += [prop("phone", f"+1415555{i:04d}", object_id=2000 + i, eventId=5000 + i)
              for i in range(100 - len(batch))]
    parsed = parse(receiver, *batch)
    assert len(parsed) == 100 and len({e.key for e in parsed}) == 100
    assert [e.payload["eventId"] for e in parsed] == [e["eventId"] for e in batch]
    for got, case in zip(parsed, CASES):
        assert (got.object_type, got.object_id, got.changes, got.deleted) == (case[1], case[2], case[3], case[5])
    assert (parsed[len(CASES)].object_id, parsed[len(CASES)].changes) == ("102", {"merged_into": "101"})
    assert parsed[-1].changes == {"phone": f"+1415555{100 - len(CASES) - 2:04d}"}


def test_closed_stages_come_from_the_connector_setting():
    receiver = HubSpotReceiver({"ASSIST_HUBSPOT_CLIENT_SECRET": SECRET, "ASSIST_HUBSPOT_CLOSED_STAGES": "4, 77"})
    (parsed,) = parse(receiver, prop("hs_pipeline_stage", "77", "ticket", object_id=501))
    assert parsed.changes == {"status": "77", "is_open": False}


def test_an_empty_array_is_no_events(receiver):
    assert receiver.parse(request(b"[]")) == []


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe[", b"{}", b'"events"', b"null", b"[1]", b"[[]]",
    json.dumps([event("contact.creation", eventId=None)]).encode(),
    json.dumps([{k: v for k, v in event("contact.creation").items() if k != "eventId"}]).encode(),
    json.dumps([{k: v for k, v in event("contact.creation").items() if k != "occurredAt"}]).encode(),
    json.dumps([event("contact.creation", occurred_at="yesterday")]).encode(),
    json.dumps([event("contact.creation", occurred_at=True)]).encode(),
    json.dumps([event("contact.creation", occurred_at=10 ** 30)]).encode(),
    json.dumps([{k: v for k, v in event("contact.creation").items() if k != "subscriptionType"}]).encode(),
    json.dumps([event("contact.creation", object_id=None)]).encode(),
    json.dumps([event("ticket.propertyChange", object_id={"id": 1})]).encode(),
    json.dumps([event("contact.merge", object_id=None)]).encode(),
    json.dumps([event("contact.associationChange", associationType="CONTACT_TO_TICKET", fromObjectId=1)]).encode(),
    json.dumps([event("contact.creation", event_id=i) for i in range(1001)]).encode(),
])
def test_malformed_bodies_are_rejected(receiver, body):
    with pytest.raises(MalformedPayload) as caught:
        receiver.parse(request(body))
    assert caught.value.status == 400
