"""Webhooks through the Flask app: vendor signatures over the app's own URL, redaction, retention."""

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from assist import create_app
from connectors.inbox import Inbox

from .test_webhooks_salesforce import CASE, CONTACT, ORG_18, envelope

SECRET = "hubspot-app-client-secret"


@pytest.fixture
def webhook_app(data_dir, embedder, classifier):
    settings = {"ASSIST_HUBSPOT_CLIENT_SECRET": SECRET, "ASSIST_SALESFORCE_ORG_ID": ORG_18}
    return create_app({"DATA_DIR": str(data_dir), "EMBEDDER": embedder, "CLASSIFIER": classifier,
                       "CONNECTOR_SETTINGS": settings, "PUBLIC_URL": None})


def hubspot_post(client, events, url="http://localhost/webhooks/hubspot", path="/webhooks/hubspot", **headers):
    body = json.dumps(events).encode()
    ts = str(int(time.time() * 1000))
    digest = hmac.new(SECRET.encode(), b"POST" + url.encode() + body + ts.encode(), hashlib.sha256).digest()
    return client.post(path, data=body, content_type="application/json", headers={
        "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": ts, **headers})


def events_for_contact(object_id, email, occurred_ms):
    common = {"portalId": 62515, "appId": 1, "subscriptionId": 7, "attemptNumber": 0, "objectId": object_id,
              "changeSource": "CRM"}
    return [
        {**common, "eventId": 1, "occurredAt": occurred_ms, "subscriptionType": "contact.creation"},
        {**common, "eventId": 2, "occurredAt": occurred_ms + 1, "subscriptionType": "contact.propertyChange",
         "propertyName": "email", "propertyValue": email},
        {**common, "eventId": 3, "occurredAt": occurred_ms + 2, "subscriptionType": "contact.propertyChange",
         "propertyName": "firstname", "propertyValue": "Grace"},
    ]


def applied(app):
    services = app.extensions["assist"]
    services.processor.run_once()
    return services.inbox.counts()


def test_hubspot_v3_batch_over_the_app(webhook_app):
    client = webhook_app.test_client()
    now_ms = int(time.time() * 1000)
    response = hubspot_post(client, events_for_contact(901, "grace@example.com", now_ms))
    assert response.status_code == 200
    assert applied(webhook_app).get("applied") == 3
    card = webhook_app.extensions["assist"].context.card({"email": "grace@example.com"})
    assert card["customer"]["name"] == "Grace"


def test_hubspot_signature_over_another_url_is_refused(webhook_app):
    client = webhook_app.test_client()
    response = hubspot_post(client, events_for_contact(902, "x@example.com", 1), url="https://evil.example/webhooks/hubspot")
    assert response.status_code == 401
    assert webhook_app.extensions["assist"].inbox.counts() == {}


def test_public_url_is_what_hubspot_signed(data_dir, embedder, classifier):
    app = create_app({"DATA_DIR": str(data_dir), "EMBEDDER": embedder, "CLASSIFIER": classifier,
                      "CONNECTOR_SETTINGS": {"ASSIST_HUBSPOT_CLIENT_SECRET": SECRET},
                      "PUBLIC_URL": "https://assist.example.com"})
    response = hubspot_post(app.test_client(), events_for_contact(903, "p@example.com", 1),
                            url="https://assist.example.com/webhooks/hubspot")
    assert response.status_code == 200


def test_salesforce_ack_and_session_id_never_stored(webhook_app, admin):
    client = webhook_app.test_client()
    response = client.post("/webhooks/salesforce", data=envelope([CONTACT, CASE]), content_type="text/xml")
    assert response.status_code == 200 and b"<Ack>true</Ack>" in response.data
    listed = client.get("/api/v1/admin/webhooks", headers=admin).get_json()
    delivery = listed["deliveries"][0]
    assert delivery["events"] == 2 and delivery["payload_kept"]
    raw = client.get(f"/api/v1/admin/webhooks/{delivery['id']}/payload", headers=admin).data
    assert b"FakeSession" not in raw and b"[redacted]" in raw


def test_payload_needs_admin_and_is_purged_after_retention(webhook_app, agent, admin):
    client = webhook_app.test_client()
    hubspot_post(client, events_for_contact(904, "r@example.com", int(time.time() * 1000)))
    delivery_id = client.get("/api/v1/admin/webhooks", headers=admin).get_json()["deliveries"][0]["id"]
    assert client.get(f"/api/v1/admin/webhooks/{delivery_id}/payload", headers=agent).status_code == 403
    assert client.get(f"/api/v1/admin/webhooks/{delivery_id}/payload", headers=admin).status_code == 200
    applied(webhook_app)
    inbox = webhook_app.extensions["assist"].inbox
    assert inbox.purge(7) == 0  # still within retention
    assert inbox.purge(7, now=datetime.now(timezone.utc) + timedelta(days=8)) == 1
    assert client.get(f"/api/v1/admin/webhooks/{delivery_id}/payload", headers=admin).status_code == 404


def test_unconfigured_receiver_is_503_and_stores_nothing(webhook_app):
    response = webhook_app.test_client().post("/webhooks/zendesk", data=b"{}", content_type="application/json")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "webhook_not_configured"
    assert webhook_app.extensions["assist"].inbox.counts() == {}


def test_inbox_rejects_are_memory_only(webhook_app):
    inbox = webhook_app.extensions["assist"].inbox
    assert isinstance(inbox, Inbox)
    webhook_app.test_client().post("/webhooks/hubspot", data=b"[]", content_type="application/json")
    assert inbox.rejected[0]["code"] == "signature_invalid"
    db = webhook_app.extensions["assist"].database.get()
    assert db["webhook_deliveries"].count == 0
