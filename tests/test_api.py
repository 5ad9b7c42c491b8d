"""The HTTP API: auth, input validation, JSON errors, phrase CRUD."""

import pytest

from phrasebank import EMOTIONS, KINDS


def suggest(client, headers, body=None, **kwargs):
    return client.post("/api/v1/suggest", json=body, headers=headers, **kwargs)


def test_healthz_reports_model_phrases_and_schema(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["model"] == "all-MiniLM-L6-v2"
    assert body["approved_phrases"] >= 250
    assert body["indexed_phrases"] == body["approved_phrases"]
    assert body["schema_version"] >= 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}],
)
def test_api_needs_a_valid_token(client, headers):
    response = suggest(client, headers, {"message": "hello"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_revoked_token_is_refused(client, db, agent_token, agent):
    from assist import tokens

    assert suggest(client, agent, {"message": "hi"}).status_code == 200
    token_id = next(t["id"] for t in tokens.list_tokens(db) if t["name"] == "test agent")
    tokens.revoke_token(db, token_id)
    assert suggest(client, agent, {"message": "hi"}).status_code == 401


def test_tokens_are_stored_hashed(db, agent_token):
    stored = [r["token_hash"] for r in db["tokens"].rows]
    assert agent_token not in stored
    assert all(len(h) == 64 for h in stored)


def test_agent_cannot_write_the_bank(client, agent):
    response = client.post("/api/v1/phrases", json={"text": "We're on it.", "kind": "ownership"}, headers=agent)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_me_names_the_role(client, agent, admin):
    assert client.get("/api/v1/me", headers=agent).get_json()["role"] == "agent"
    assert client.get("/api/v1/me", headers=admin).get_json()["role"] == "admin"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": 42}, "message"),
        ({"message": "x" * 5001}, "message"),
        ({"message": "hi", "channel": "fax"}, "channel"),
        ({"message": "hi", "limit": 0}, "limit"),
        ({"message": "hi", "limit": 11}, "limit"),
        ({"message": "hi", "limit": "3"}, "limit"),
        ({"message": "hi", "limit": True}, "limit"),
        ({"message": "hi", "customer": "a@b.c"}, "customer"),
        ({"message": "hi", "customer": {}}, "customer"),
        ({"message": "hi", "customer": {"email": 5}}, "customer.email"),
        ({"message": "hi", "customer": {"fax": "1"}}, "customer.fax"),
        ({"message": "hi", "kinds": ["pity"]}, "kinds"),
        ({"message": "hi", "mesage": "typo"}, "mesage"),
        ({"message": "hi", "conversation_id": 7}, "conversation_id"),
    ],
)
def test_bad_suggest_input_is_a_400_naming_the_field(client, agent, body, field):
    response = suggest(client, agent, body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"]


@pytest.mark.parametrize(
    "data, content_type, field",
    [
        ("", "application/json", "body"),
        ("{not json", "application/json", "body"),
        ("[1, 2]", "application/json", "body"),
        ('"just a string"', "application/json", "body"),
        (b"\xff\xfe\x00", "application/json", "body"),
    ],
)
def test_non_json_bodies_are_400(client, agent, data, content_type, field):
    response = client.post("/api/v1/suggest", data=data, content_type=content_type, headers=agent)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_wrong_content_type_is_415_json(client, agent):
    response = client.post("/api/v1/suggest", data="message=hi", content_type="text/plain", headers=agent)
    assert response.status_code == 415
    assert response.get_json()["error"]["field"] == "Content-Type"


def test_unknown_routes_and_methods_answer_json(client, agent):
    assert client.get("/api/v1/nothing", headers=agent).get_json()["error"]["code"] == "not_found"
    response = client.get("/api/v1/suggest", headers=agent)
    assert response.status_code == 405
    assert "error" in response.get_json()


def test_oversized_body_is_413_json(client, agent):
    response = client.post(
        "/api/v1/suggest", data="x" * (3 * 1024 * 1024), content_type="application/json", headers=agent
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"]


def test_suggest_response_shape(client, agent):
    body = suggest(client, agent, {"message": "My order still hasn't arrived and I'm worried.", "limit": 2}).get_json()
    assert len(body["request_id"]) == 32
    assert body["emotion"]["label"] in EMOTIONS
    assert set(body["emotion"]["scores"]) == set(EMOTIONS)
    assert abs(sum(body["emotion"]["scores"].values()) - 1) < 0.01
    assert set(body["suggestions"]) == set(KINDS)
    for kind, items in body["suggestions"].items():
        assert len(items) <= 2
        for s in items:
            assert s["kind"] == kind
            assert {"id", "text", "template", "emotions", "situations", "score", "why"} <= set(s)
            assert "{" not in s["text"] and "}" not in s["text"]
        scores = [s["score"] for s in items]
        assert scores == sorted(scores, reverse=True)
    assert body["customer"] is None
    assert body["timing_ms"]["total"] > 0


def test_suggest_can_restrict_kinds(client, agent):
    body = suggest(client, agent, {"message": "I was charged twice", "kinds": ["empathy"]}).get_json()
    assert list(body["suggestions"]) == ["empathy"]


def test_only_approved_phrases_are_suggested(client, admin, agent):
    draft = {
        "id": "draft-only",
        "text": "We're going to sort out this double charge for you today, together.",
        "kind": "ownership",
        "situations": ["billing_problem"],
        "use_when": "Customer was charged twice.",
    }
    assert client.post("/api/v1/phrases", json=draft, headers=admin).status_code == 201
    message = {"message": "You charged me twice this month!", "limit": 10}
    ids = lambda: {s["id"] for items in suggest(client, agent, message).get_json()["suggestions"].values() for s in items}  # noqa: E731
    assert "draft-only" not in ids()
    assert client.patch("/api/v1/phrases/draft-only", json={"status": "approved"}, headers=admin).status_code == 200
    assert "draft-only" in ids()
    assert client.delete("/api/v1/phrases/draft-only", headers=admin).get_json()["status"] == "retired"
    assert "draft-only" not in ids()


def test_phrase_crud_versions_and_history(client, admin):
    created = client.post(
        "/api/v1/phrases", json={"text": "We'll look into this now.", "kind": "ownership"}, headers=admin
    ).get_json()
    assert created["status"] == "draft" and created["version"] == 1 and created["author"] == "test admin"
    url = f"/api/v1/phrases/{created['id']}"
    changed = client.patch(url, json={"text": "I'll look into this now.", "version": 1}, headers=admin).get_json()
    assert changed["version"] == 2
    stale = client.patch(url, json={"text": "Again.", "version": 1}, headers=admin)
    assert stale.status_code == 409
    assert client.get(url, headers=admin).get_json()["text"] == "I'll look into this now."
    history = client.get(url + "/history", headers=admin).get_json()["history"]
    assert [h["version"] for h in history] == [1, 2]
    assert history[0]["data"]["text"] == "We'll look into this now."


def test_changes_is_the_audit_log_newest_first(client, admin, agent):
    created = client.post("/api/v1/phrases", json={"text": "We'll look into this now.", "kind": "ownership"},
                          headers=admin).get_json()
    client.patch(f"/api/v1/phrases/{created['id']}", json={"text": "I'll look into this now."}, headers=admin)
    log = client.get("/api/v1/changes", query_string={"per_page": 2}, headers=admin).get_json()
    newest, creation = log["changes"]
    assert (newest["phrase_id"], newest["version"], newest["changed_by"]) == (created["id"], 2, "test admin")
    assert (newest["before"]["text"], newest["after"]["text"]) == ("We'll look into this now.", "I'll look into this now.")
    assert creation["before"] is None and creation["version"] == 1
    assert log["total"] > 300 and log["pages"] == -(-log["total"] // 2)  # the default bank's creations are logged too
    mine = client.get("/api/v1/changes", query_string={"by": "test admin"}, headers=admin).get_json()
    assert mine["total"] == 2
    assert client.get("/api/v1/changes", headers=agent).status_code == 403
    bad = client.get("/api/v1/changes", query_string={"per_page": "0"}, headers=admin)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "per_page"


@pytest.mark.parametrize(
    "phrase, field",
    [
        ({"kind": "ownership"}, "text"),
        ({"text": "Hello", "kind": "pity"}, "kind"),
        ({"text": "Hello", "kind": "empathy", "emotions": ["bored"]}, "emotions"),
        ({"text": "Hello", "kind": "empathy", "situations": "nope"}, "situations"),
        ({"text": "Hello", "kind": "empathy", "status": "live"}, "status"),
        ({"text": "Sorry for any inconvenience.", "kind": "apology"}, "text"),
        ({"text": "This will never happen again.", "kind": "reassurance"}, "text"),
        ({"text": "Hi {favourite_colour}", "kind": "empathy"}, "text"),
        ({"text": "Hi {first_name", "kind": "empathy"}, "text"),
        ({"text": "Hi {first_name}", "kind": "empathy", "fallback": "Hi {first_name}"}, "fallback"),
        ({"id": "Bad Id!", "text": "Hello", "kind": "empathy"}, "id"),
        ({"id": "emp-angry-x", "text": "x" * 601, "kind": "empathy"}, "text"),
    ],
)
def test_invalid_phrases_are_rejected_and_change_nothing(client, admin, phrase, field):
    before = client.get("/api/v1/phrases?per_page=1", headers=admin).get_json()["total"]
    response = client.post("/api/v1/phrases", json=phrase, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert client.get("/api/v1/phrases?per_page=1", headers=admin).get_json()["total"] == before


def test_missing_phrase_is_404(client, agent):
    response = client.get("/api/v1/phrases/no-such-phrase", headers=agent)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "id"


def test_phrase_list_filters_and_pages(client, agent):
    page = client.get("/api/v1/phrases?kind=empathy&emotion=sad&per_page=3", headers=agent).get_json()
    assert page["total"] >= 5 and len(page["phrases"]) == 3
    assert all(p["kind"] == "empathy" and "sad" in p["emotions"] for p in page["phrases"])
    second = client.get("/api/v1/phrases?kind=empathy&emotion=sad&per_page=3&page=2", headers=agent).get_json()
    assert {p["id"] for p in page["phrases"]}.isdisjoint(p["id"] for p in second["phrases"])
    bad = client.get("/api/v1/phrases?emotion=bored", headers=agent)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "emotion"


def test_import_dry_run_then_apply(client, admin):
    rows = [
        {"id": "imp-1", "text": "We're looking at your refund now.", "kind": "ownership", "status": "approved"},
        {"id": "imp-2", "text": "Sorry for any inconvenience.", "kind": "apology"},
    ]
    dry = client.post("/api/v1/phrases/import", json={"phrases": rows, "dry_run": True}, headers=admin).get_json()
    assert dry["summary"] == {"added": 1, "changed": 0, "unchanged": 0, "rejected": 1}
    assert dry["rejected"][0]["id"] == "imp-2" and dry["rejected"][0]["field"] == "text"
    refused = client.post("/api/v1/phrases/import", json={"phrases": rows}, headers=admin)
    assert refused.status_code == 400
    assert client.get("/api/v1/phrases/imp-1", headers=admin).status_code == 404  # all or nothing
    applied = client.post("/api/v1/phrases/import", json={"phrases": rows[:1]}, headers=admin).get_json()
    assert applied["summary"]["added"] == 1
    again = client.post("/api/v1/phrases/import", json={"phrases": rows[:1]}, headers=admin).get_json()
    assert again["summary"]["unchanged"] == 1


def test_export_round_trips_every_field(client, admin):
    exported = client.get("/api/v1/phrases/export", headers=admin).get_json()
    assert len(exported) >= 250
    assert set(exported[0]) >= {"id", "text", "kind", "emotions", "situations", "channels", "language",
                                "status", "author", "created_at", "updated_at", "version", "use_when", "fallback"}
    response = client.post("/api/v1/phrases/import", json={"phrases": exported, "dry_run": True}, headers=admin)
    assert response.get_json()["summary"]["unchanged"] == len(exported)
    csv_text = client.get("/api/v1/phrases/export?format=csv", headers=admin).get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("id,text,kind")
    assert len(csv_text.splitlines()) > len(exported)  # header plus rows (text may span lines)


def test_openapi_lists_every_route(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {("/api/v1" + path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule.replace("<phrase_id>", "{phrase_id}").replace("<int:delivery_id>", "{delivery_id}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in documented
