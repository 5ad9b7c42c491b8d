"""Webhooks over real HTTP against the real server process: durable, idempotent, ordered, live.

The signed deliveries use the generic receiver (its signature is the same
HMAC scheme as Chatwoot's); vendor signatures have their own unit tests with
the vendors' published vectors.
"""

import hashlib
import hmac
import json
import threading
import time

import requests

from .conftest import WEBHOOK_SECRET
from .live import LiveServer


def signed_post(server, events, secret=WEBHOOK_SECRET, timestamp=None, timeout=10):
    body = json.dumps(events).encode()
    ts = str(int(timestamp or time.time()))
    signature = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return requests.post(server.url + "/webhooks/generic", data=body, timeout=timeout, headers={
        "Content-Type": "application/json", "X-Assist-Timestamp": ts, "X-Assist-Signature": "sha256=" + signature})


def customer_event(event_id, email, occurred_at, **fields):
    return {"id": event_id, "type": "customer.updated", "occurred_at": occurred_at,
            "customer": {"id": email, "email": email, **fields}}


def card(server, email):
    return requests.get(server.url + "/api/v1/customers/context", params={"email": email},
                        headers=server.headers(), timeout=10).json()


def wait_for(check, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    return check()


def deliveries(server):
    return requests.get(server.url + "/api/v1/admin/webhooks", headers=server.headers("admin"), timeout=10).json()


def test_signed_update_is_applied_and_listed(live_server):
    response = signed_post(live_server, [customer_event("e1", "nia@example.com", "2026-11-20T10:00:00Z",
                                                        name="Nia Adeyemi", tier="Gold")])
    assert response.status_code == 200
    shown = wait_for(lambda: card(live_server, "nia@example.com")["status"] == "ok" and card(live_server, "nia@example.com"))
    assert shown["customer"]["name"] == "Nia Adeyemi" and shown["customer"]["tier"] == "Gold"
    listed = deliveries(live_server)
    assert listed["deliveries"][0]["event_outcomes"][0]["state"] == "applied"
    assert "x-assist-signature" not in json.dumps(listed).lower()


def test_bad_signatures_and_bodies_store_nothing(live_server):
    event = [customer_event("e2", "bad@example.com", "2026-11-20T10:00:00Z", name="Mallory")]
    assert signed_post(live_server, event, secret="wrong").status_code == 401
    assert signed_post(live_server, event, timestamp=time.time() - 600).status_code == 401  # stale
    unsigned = requests.post(live_server.url + "/webhooks/generic", json=event, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "signature_invalid"
    assert signed_post(live_server, {"id": "x"}).status_code == 400
    malformed = requests.post(live_server.url + "/webhooks/nonsense", data=b"{}", timeout=10)
    assert malformed.status_code == 404
    listed = deliveries(live_server)
    assert listed["deliveries"] == [] and len(listed["rejected"]) >= 4
    assert card(live_server, "bad@example.com")["status"] == "not_found"


def test_duplicates_are_applied_once(live_server):
    event = [customer_event("e3", "dup@example.com", "2026-11-20T10:00:00Z", name="Dee")]
    for _ in range(3):
        assert signed_post(live_server, event).status_code == 200
    listed = deliveries(live_server)
    assert [d["new_events"] for d in listed["deliveries"]] == [0, 0, 1]
    assert listed["events_by_state"].get("applied") == 1


def test_older_update_arriving_late_never_overwrites(live_server):
    newer = customer_event("e5", "ord@example.com", "2026-11-20T12:00:00Z", name="Ola New", tier="Platinum")
    older = customer_event("e4", "ord@example.com", "2026-11-20T09:00:00Z", name="Ola Old", company="Acme")
    assert signed_post(live_server, [newer]).status_code == 200
    assert signed_post(live_server, [older]).status_code == 200
    wait_for(lambda: deliveries(live_server)["events_by_state"].get("applied") == 2)
    shown = card(live_server, "ord@example.com")["customer"]
    assert shown["name"] == "Ola New" and shown["tier"] == "Platinum"
    assert shown["company"] == "Acme"  # a field the newer event did not touch still takes the older value
    gone = {"id": "e6", "type": "customer.deleted", "occurred_at": "2026-11-20T13:00:00Z",
            "customer": {"id": "ord@example.com"}}
    late = customer_event("e7", "ord@example.com", "2026-11-20T11:00:00Z", name="Zombie")
    assert signed_post(live_server, [gone]).status_code == 200
    assert signed_post(live_server, [late]).status_code == 200
    wait_for(lambda: deliveries(live_server)["events_by_state"].get("applied", 0) >= 4)
    assert card(live_server, "ord@example.com")["status"] == "not_found"


def read_events(response, found, stop):
    """Collect SSE events (id, data) from a streaming response into ``found`` until closed."""
    try:
        _read_events(response, found, stop)
    except (requests.RequestException, AttributeError, ValueError, OSError):
        pass  # the test closed the response under us: that is how a sidebar goes away


def _read_events(response, found, stop):
    event = {}
    for line in response.iter_lines(decode_unicode=True):
        if stop.is_set():
            return
        if line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line == "" and "data" in event:
            event["at"] = time.time()
            found.append(event)
            event = {}


def test_stream_pushes_an_update_within_a_second_and_resumes(live_server):
    email = "lena@example.com"
    signed_post(live_server, [customer_event("s1", email, "2026-11-20T10:00:00Z", name="Lena")])
    wait_for(lambda: card(live_server, email)["status"] == "ok")
    response = requests.get(live_server.url + "/api/v1/stream", params={"customer": email},
                            headers=live_server.headers(), stream=True, timeout=30)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    found, stop = [], threading.Event()
    threading.Thread(target=read_events, args=(response, found, stop), daemon=True).start()
    assert wait_for(lambda: found, 5)  # the current card on connect
    sent = time.time()
    assert signed_post(live_server, [customer_event("s2", email, "2026-11-20T11:00:00Z", tier="VIP")]).status_code == 200
    update = wait_for(lambda: [e for e in found if e["data"]["customer"]["tier"] == "VIP"], 3)
    assert update and update[0]["at"] - sent < 1.0
    last_id = update[0]["id"]
    stop.set()
    response.close()
    # While the sidebar is away, another update lands; reconnecting with Last-Event-ID delivers it at once.
    signed_post(live_server, [customer_event("s3", email, "2026-11-20T12:00:00Z", company="Lena Ltd")])
    wait_for(lambda: card(live_server, email)["customer"]["company"] == "Lena Ltd")
    again = requests.get(live_server.url + "/api/v1/stream", params={"customer": email},
                         headers={**live_server.headers(), "Last-Event-ID": str(last_id)}, stream=True, timeout=30)
    found2, stop2 = [], threading.Event()
    threading.Thread(target=read_events, args=(again, found2, stop2), daemon=True).start()
    resumed = wait_for(lambda: found2, 5)
    assert resumed[0]["id"] > last_id and resumed[0]["data"]["customer"]["company"] == "Lena Ltd"
    stop2.set()
    again.close()


def test_stream_needs_an_agent_token(live_server):
    response = requests.get(live_server.url + "/api/v1/stream", params={"customer": "x@example.com"}, timeout=10)
    assert response.status_code == 401


def test_sigkill_mid_burst_loses_no_acknowledged_event(tmp_path, model_cache, embedder):
    """Kill the server with SIGKILL during a burst; every event it acknowledged is there after restart."""
    server = LiveServer(tmp_path / "crash", env={"ASSIST_WEBHOOK_SECRET": WEBHOOK_SECRET}, model_cache=model_cache)
    server.start()
    acknowledged, stop = [], threading.Event()

    def burst(worker):
        n = 0
        while not stop.is_set():
            batch = [customer_event(f"k{worker}-{n}-{i}", f"c{worker}-{n}-{i}@example.com",
                                    "2026-11-20T10:00:00Z", name=f"Customer {worker} {n} {i}") for i in range(20)]
            try:
                if signed_post(server, batch, timeout=5).status_code == 200:
                    acknowledged.extend(e["id"] for e in batch)
            except requests.RequestException:
                return
            n += 1

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acknowledged) >= 400, 30)
    server.kill()
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) >= 400
    server.start()  # same data directory
    listed = wait_for(lambda: (lambda s: s if s.get("pending", 0) == 0 else None)(
        deliveries(server)["events_by_state"]), 30)
    assert listed.get("applied", 0) >= len(acknowledged)
    for key in acknowledged[:: max(1, len(acknowledged) // 25)]:
        worker, n, i = key[1:].split("-")
        assert card(server, f"c{worker}-{n}-{i}@example.com")["status"] == "ok", key
    server.stop()
