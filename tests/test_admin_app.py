"""The admin web app at /admin, through the Flask test client."""

import html
import json
import re

import pytest

from assist import tokens
from connectors.demo import DEMO_MESSAGES


def csrf_of(page):
    """The CSRF token a page carries in its meta tag."""
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def signin(client, token):
    """Sign in with ``token``; returns the response of the POST."""
    csrf = csrf_of(client.get("/admin/signin").get_data(as_text=True))
    return client.post("/admin/signin", data={"token": token, "csrf_token": csrf})


@pytest.fixture
def admin_client(client, admin_token):
    """A test client signed in as an admin; ``.csrf`` holds its session's CSRF token."""
    assert signin(client, admin_token).status_code == 302
    client.csrf = csrf_of(client.get("/admin/phrases").get_data(as_text=True))
    return client


def test_signin_with_admin_token_opens_the_phrase_list(client, admin_token):
    response = signin(client, admin_token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/phrases")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert admin_token not in cookie
    page = client.get("/admin/phrases")
    assert page.status_code == 200 and "test admin" in page.get_data(as_text=True)


def test_session_cookie_is_secure_over_https(client, admin_token):
    csrf = csrf_of(client.get("/admin/signin", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/admin/signin", data={"token": admin_token, "csrf_token": csrf},
                           base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_bad_token_is_refused(client):
    response = signin(client, "asd_nope")
    assert response.status_code == 401
    assert "not valid" in response.get_data(as_text=True)
    assert client.get("/admin/phrases").status_code == 302


def test_agent_token_gets_403(client, agent_token):
    response = signin(client, agent_token)
    assert response.status_code == 403
    assert "agent token" in response.get_data(as_text=True)
    assert client.get("/admin/phrases").status_code == 302


def test_failed_signins_are_rate_limited(client):
    for _ in range(10):
        assert signin(client, "asd_wrong").status_code == 401
    assert signin(client, "asd_wrong").status_code == 429


def test_pages_redirect_and_api_answers_401_when_signed_out(client):
    response = client.get("/admin/phrases")
    assert response.status_code == 302 and "/admin/signin" in response.headers["Location"]
    csrf = csrf_of(client.get("/admin/signin").get_data(as_text=True))
    response = client.post("/admin/api/preview", json={"text": "x"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_post_without_csrf_is_refused(admin_client):
    response = admin_client.post("/admin/api/preview", json={"text": "I'm so sorry."})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    response = admin_client.post("/admin/phrases/new", data={"text": "I'm so sorry.", "kind": "apology"})
    assert response.status_code == 400
    response = admin_client.post("/admin/api/preview", json={"text": "I'm so sorry."},
                                 headers={"X-CSRF-Token": "wrong"})
    assert response.status_code == 400


def test_signout_ends_the_session(admin_client):
    assert admin_client.post("/admin/signout").status_code == 400  # CSRF applies to sign-out too
    response = admin_client.post("/admin/signout", data={"csrf_token": admin_client.csrf})
    assert response.status_code == 302
    assert admin_client.get("/admin/phrases").status_code == 302


def test_revoked_token_ends_the_session(admin_client, db):
    token_id = db.execute("select id from tokens where name = 'test admin'").fetchone()[0]
    tokens.revoke_token(db, token_id)
    assert admin_client.get("/admin/phrases").status_code == 302


def test_every_admin_page_sends_a_strict_csp(admin_client):
    for path in ("/admin/phrases", "/admin/signin", "/admin/try", "/admin/static/admin.js"):
        response = admin_client.get(path)
        response.close()  # the static file stays open otherwise
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_unknown_phrase_is_an_html_404(admin_client):
    response = admin_client.get("/admin/phrases/no-such-phrase")
    assert response.status_code == 404 and response.mimetype == "text/html"


# -- helpers for forms ---------------------------------------------------------------------------


def form(client, **fields):
    """Form data for the phrase form: lists become repeated fields, plus the CSRF token."""
    data = {"csrf_token": client.csrf, "language": "en", "use_when": "", "fallback": ""}
    data.update(fields)
    return data


def create(client, **fields):
    return client.post("/admin/phrases/new", data=form(client, **fields))


def acknowledged(page):
    """The warning keys a refused save asks the admin to confirm."""
    return re.findall(r'name="acknowledge" value="([^"]+)"', page)


def create_confirmed(client, **fields):
    """Create a phrase, confirming its warnings if it has any; returns the new phrase id."""
    response = create(client, **fields)
    if response.status_code == 422:
        page = response.get_data(as_text=True)
        assert "save-anyway" in page, page
        response = create(client, **fields, confirm="1", acknowledge=acknowledged(page))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


REFUND = {
    "id": "test-refund-own",
    "text": "I can see the duplicate charge on your account, and I'm raising the refund for it myself right now.",
    "kind": "ownership",
    "emotions": ["angry", "frustrated"],
    "situations": ["billing_problem"],
    "use_when": "Customer was charged twice and wants the duplicate payment refunded.",
}


# -- lint on save --------------------------------------------------------------------------------


def test_blocking_lint_refuses_to_save(admin_client, db):
    before = db["phrases"].count
    response = create(admin_client, text="We apologise for any inconvenience caused.", kind="apology")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "non apology" in page and "Blocks" in page and "save-anyway" not in page
    # Even a forged confirmation cannot save a blocked phrase.
    response = create(admin_client, text="We apologise for any inconvenience caused.", kind="apology",
                      confirm="1", acknowledge=["non_apology:text:inconvenien"])
    assert response.status_code == 422
    assert db["phrases"].count == before


@pytest.mark.parametrize("text, code", [
    ("Oh you poor thing, that must be awful.", "pity"),
    ("I guarantee this will never happen again.", "impossible_promise"),
    ("You should have read the terms before ordering.", "blame"),
    ("Hi {firstname}, I'm looking into it now.", "unknown_slot"),
    ("I'm on it. " * 60, "too_long"),
])
def test_each_blocking_rule_is_named(admin_client, text, code):
    response = create(admin_client, text=text, kind="ownership")
    assert response.status_code == 422
    assert f'data-code="{code}"' in response.get_data(as_text=True)


def test_warnings_need_an_explicit_save_anyway(admin_client, db):
    fields = {"text": "I've passed your ticket to our billing team and I'll call you back by 5pm today.",
              "kind": "ownership"}
    response = create(admin_client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-code="jargon"' in page and "save-anyway" in page
    keys = acknowledged(page)
    assert keys
    # The plain "Save" button does not confirm, even with the keys present.
    assert create(admin_client, **fields, acknowledge=keys).status_code == 422
    response = create(admin_client, **fields, confirm="1", acknowledge=keys)
    assert response.status_code == 302
    phrase_id = response.headers["Location"].rsplit("/", 1)[1]
    row = db["phrases"].get(phrase_id)
    assert row["status"] == "draft" and row["author"] == "test admin"


def test_long_text_warns(admin_client):
    text = "I understand how much this matters to you, and I want to get it right. " * 4
    assert 280 < len(text.strip()) <= 600
    page = create(admin_client, text=text, kind="empathy").get_data(as_text=True)
    assert 'data-code="too_long"' in page and "save-anyway" in page


def test_near_duplicate_warns_and_links_the_existing_phrase(admin_client, db):
    existing = db.execute("select id, text, use_when from phrases where status = 'approved' and kind = 'empathy' "
                          "order by id limit 1").fetchone()
    response = create(admin_client, text=existing[1], use_when=existing[2], kind="empathy")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-code="near_duplicate"' in page
    assert f'href="/admin/phrases/{existing[0]}"' in page and "save-anyway" in page


# -- workflow and suggestions --------------------------------------------------------------------


def suggested_ids(client, agent, message):
    response = client.post("/api/v1/suggest", headers=agent, json={"message": message})
    assert response.status_code == 200
    return [s["id"] for items in response.get_json()["suggestions"].values() for s in items]


def test_approve_then_agents_get_it_suggested(admin_client, agent, db):
    message = "You charged me twice this month and I want the duplicate payment refunded now!"
    phrase_id = create_confirmed(admin_client, **REFUND)
    assert phrase_id == "test-refund-own"
    assert phrase_id not in suggested_ids(admin_client, agent, message)  # a draft is never suggested
    version = db["phrases"].get(phrase_id)["version"]
    response = admin_client.post(f"/admin/phrases/{phrase_id}/status",
                                 data={"csrf_token": admin_client.csrf, "status": "approved", "version": version})
    assert response.status_code == 302
    assert db["phrases"].get(phrase_id)["status"] == "approved"
    assert phrase_id in suggested_ids(admin_client, agent, message)
    admin_client.post(f"/admin/phrases/{phrase_id}/status", data={"csrf_token": admin_client.csrf, "status": "retired"})
    assert db["phrases"].get(phrase_id)["status"] == "retired"
    assert phrase_id not in suggested_ids(admin_client, agent, message)
    history = admin_client.get(f"/admin/phrases/{phrase_id}/history").get_data(as_text=True)
    assert history.count("test admin") >= 3 and "approved" in history and "retired" in history


def test_status_change_must_follow_the_workflow(admin_client, db):
    phrase_id = create_confirmed(admin_client, **REFUND)
    response = admin_client.post(f"/admin/phrases/{phrase_id}/status",
                                 data={"csrf_token": admin_client.csrf, "status": "published"})
    assert response.status_code == 302 and db["phrases"].get(phrase_id)["status"] == "draft"


def edit(client, phrase_id, db, **changes):
    phrase = db["phrases"].get(phrase_id)
    fields = {k: phrase[k] for k in ("text", "kind", "language", "use_when", "fallback")}
    for name in ("emotions", "situations", "channels"):
        fields[name] = json.loads(phrase[name])
    fields.update(changes)
    return client.post(f"/admin/phrases/{phrase_id}", data=form(client, version=phrase["version"], **fields))


def test_edit_history_shows_before_and_after_and_restores(admin_client, db):
    phrase_id = create_confirmed(admin_client, **REFUND)
    new_text = "I can see you were charged twice, and I'm sorting out the refund for you myself today."
    assert edit(admin_client, phrase_id, db, text=new_text).status_code == 302
    assert db["phrases"].get(phrase_id)["version"] == 2
    page = html.unescape(admin_client.get(f"/admin/phrases/{phrase_id}/history").get_data(as_text=True))
    before = page.index('data-testid="before"')
    assert REFUND["text"] in page[before:] and new_text in page[before:]
    assert page.count('data-testid="version"') == 2 and "test admin" in page

    response = admin_client.post(f"/admin/phrases/{phrase_id}/restore", data={"csrf_token": admin_client.csrf,
                                                                              "version": "1"})
    assert response.status_code == 302
    phrase = db["phrases"].get(phrase_id)
    assert phrase["version"] == 3 and phrase["text"] == REFUND["text"] and phrase["status"] == "draft"
    page = admin_client.get(f"/admin/phrases/{phrase_id}/history").get_data(as_text=True)
    assert page.count('data-testid="version"') == 3


def test_recent_changes_log_the_whole_bank_newest_first(admin_client, db):
    phrase_id = create_confirmed(admin_client, **{**REFUND, "use_when": "Charged twice <script>alert(1)</script>"})
    new_text = "I can see you were charged twice, and I'm sorting out the refund for you myself today."
    assert edit(admin_client, phrase_id, db, text=new_text).status_code == 302
    page = admin_client.get("/admin/changes").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    versions = re.findall(r'data-testid="change" data-phrase-id="([^"]+)" data-version="(\d+)"', page)
    assert versions[:2] == [(phrase_id, "2"), (phrase_id, "1")]  # the edit, then the creation
    newest = html.unescape(page.split('data-testid="change"')[1])
    assert REFUND["text"] in newest and new_text in newest and "test admin" in newest  # before, after, who

    mine = admin_client.get("/admin/changes?by=test+admin").get_data(as_text=True)
    assert len(re.findall(r'data-testid="change"', mine)) == 2
    total = db.execute("select count(*) from phrase_revisions").fetchone()[0]
    assert f"({total} changes)" in page  # the default bank's own revisions are in the log too, on later pages
    assert admin_client.get("/admin/changes?page=999999").status_code == 200
    assert admin_client.get("/admin/changes?page=-1").status_code == 200


def test_recent_changes_need_an_admin_session(client):
    response = client.get("/admin/changes")
    assert response.status_code == 302 and "/admin/signin" in response.headers["Location"]


def test_edit_with_a_stale_version_is_refused(admin_client, db):
    phrase_id = create_confirmed(admin_client, **REFUND)
    stale = db["phrases"].get(phrase_id)["version"]
    edit(admin_client, phrase_id, db, use_when="Charged twice for one bill.")
    response = admin_client.post(f"/admin/phrases/{phrase_id}",
                                 data=form(admin_client, version=stale, text=REFUND["text"], kind="ownership"))
    assert response.status_code == 409 and "meanwhile" in response.get_data(as_text=True)


def test_edit_refuses_blocking_lint(admin_client, db):
    phrase_id = create_confirmed(admin_client, **REFUND)
    response = edit(admin_client, phrase_id, db, text="Sorry if you feel that way.")
    assert response.status_code == 422 and db["phrases"].get(phrase_id)["text"] == REFUND["text"]


# -- live preview ----------------------------------------------------------------------------


def preview(client, **body):
    return client.post("/admin/api/preview", json=body, headers={"X-CSRF-Token": client.csrf})


def test_preview_renders_with_crm_facts_lints_and_ranks(admin_client):
    response = preview(admin_client, text="{first_name}, I'm sorry this is the {contact_count_ordinal} time, "
                       "and I'm taking this on myself.", kind="apology", emotions=["frustrated", "angry"],
                       situations=["repeat_contact", "service_outage"], fallback="I'm sorry you've had to come back to us.",
                       customer="maria.gonzalez@example.com")
    assert response.status_code == 200
    body = response.get_json()
    assert body["rendered"]["text"].startswith("Maria, I'm sorry this is the ")
    assert body["rendered"]["customer"] == "Maria Gonzalez" and not body["rendered"]["used_fallback"]
    assert body["blocked"] is False
    rows = {r["email"]: r for r in body["rankings"]}
    assert len(rows) == 12
    maria = rows["maria.gonzalez@example.com"]
    assert maria["excluded"] is None and maria["rank"] >= 1 and maria["score"] > 0
    # An apology is never offered for a thank-you.
    assert rows["aisha.rahman@example.org"]["excluded"] and rows["aisha.rahman@example.org"]["rank"] is None


@pytest.mark.parametrize("draft", [
    {"id": "draft-repeat", "text": "I can see you've had to come back about this, and I'm so sorry we let it drag on.",
     "situations": ["repeat_contact"]},
    {"id": "draft-outage", "text": "I'm so sorry the connection keeps dropping every evening when you need it most.",
     "situations": ["service_outage"]},
])
def test_preview_rank_is_where_agents_then_see_it(admin_client, admin, agent, draft):
    """Maria is a confirmed repeat contact, so the preview must apply the same repeat-contact lead as /suggest."""
    fields = {**draft, "kind": "apology", "emotions": ["frustrated", "angry"],
              "use_when": "Customer's connection drops again in the evening."}
    body = preview(admin_client, **fields, customer="maria.gonzalez@example.com").get_json()
    previewed = {r["email"]: r for r in body["rankings"]}["maria.gonzalez@example.com"]["rank"]
    assert previewed is not None
    created = admin_client.post("/api/v1/phrases", json={**fields, "status": "approved"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    email = "maria.gonzalez@example.com"
    result = admin_client.post("/api/v1/suggest", headers=agent, json={
        "message": DEMO_MESSAGES[email], "customer": {"email": email}, "kinds": ["apology"], "limit": 10}).get_json()
    served = [s["id"] for s in result["suggestions"]["apology"]]
    assert draft["id"] in served and served.index(draft["id"]) + 1 == previewed, (served, previewed)


def test_preview_uses_the_fallback_without_facts_and_lints_as_you_type(admin_client):
    body = preview(admin_client, text="Hi {first_name}, sorry for any inconvenience.", kind="apology",
                   fallback="").get_json()
    assert body["rendered"]["text"] is None and body["rendered"]["missing"] == ["first_name"]
    assert body["blocked"] is True
    assert {p["code"] for p in body["lint"]} >= {"non_apology", "no_fallback"}


def test_preview_flags_a_near_duplicate(admin_client, db):
    phrase = db.execute("select id, text, use_when from phrases where status = 'approved' limit 1").fetchone()
    body = preview(admin_client, text=phrase[1], use_when=phrase[2], kind="empathy").get_json()
    dupes = [p for p in body["lint"] if p["code"] == "near_duplicate"]
    assert dupes and dupes[0]["phrase_id"] == phrase[0] and dupes[0]["similarity"] > 0.9
    # Editing that phrase itself is not a duplicate of itself.
    body = preview(admin_client, id=phrase[0], text=phrase[1], use_when=phrase[2], kind="empathy").get_json()
    assert not [p for p in body["lint"] if p.get("phrase_id") == phrase[0]]


@pytest.mark.parametrize("body, field", [({"text": "x", "kind": "hug"}, "kind"), ({}, "body")])
def test_preview_rejects_bad_input(admin_client, body, field):
    response = preview(admin_client, **body) if body else admin_client.post(
        "/admin/api/preview", data="", content_type="application/json", headers={"X-CSRF-Token": admin_client.csrf})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


# -- try a message -----------------------------------------------------------------------------


def test_try_a_message_shows_what_agents_see(admin_client):
    response = admin_client.post("/admin/try", data={
        "csrf_token": admin_client.csrf, "customer": "maria.gonzalez@example.com", "channel": "chat",
        "message": "My internet has cut out AGAIN tonight, same as every evening. I can't keep doing this."})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'data-testid="emotion">frustrated<' in page or 'data-testid="emotion">angry<' in page
    assert "Maria Gonzalez" in page and "Repeat contact" in page and "repeat contact" in page
    assert page.count('data-testid="suggestion"') >= 6
    assert "similar to the message" in page  # the reason for each rank
    assert "Maria, " in page  # slots filled from her card, as agents get them


def test_try_a_message_shows_near_misses(admin_client):
    response = admin_client.post("/admin/try", data={"csrf_token": admin_client.csrf,
                                                     "message": "Thank you so much, the new router works perfectly!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="near-misses"' in page
    assert "apologetic for a grateful or neutral message" in page


def test_try_a_message_needs_a_message(admin_client):
    response = admin_client.post("/admin/try", data={"csrf_token": admin_client.csrf, "message": "  "})
    assert response.status_code == 422 and "Type a customer message" in response.get_data(as_text=True)


# -- list: search, filters, sort, pages ------------------------------------------------------------


def rows(page):
    return re.findall(r'data-testid="phrase-row" data-phrase-id="([^"]+)"', page)


def listing(client, **args):
    response = client.get("/admin/phrases", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_list_pages_through_the_bank(admin_client, db):
    total = db["phrases"].count
    first = listing(admin_client)
    assert f"{total} phrases" in first and len(rows(first)) == 50 and 'rel="next"' in first
    second = rows(listing(admin_client, page=2))
    assert len(second) == 50 and not set(second) & set(rows(first))
    last_page = -(-total // 50)
    last = listing(admin_client, page=last_page)
    assert len(rows(last)) == total - 50 * (last_page - 1) and 'rel="next"' not in last
    assert rows(listing(admin_client, page=999)) == rows(last)  # past the end: the last page


def test_list_filters(admin_client, db):
    page = listing(admin_client, kind="apology", emotion="angry", status="approved")
    found = rows(page)
    assert found
    for phrase_id in found:
        phrase = db["phrases"].get(phrase_id)
        assert phrase["kind"] == "apology" and "angry" in json.loads(phrase["emotions"])
    bereavement = rows(listing(admin_client, situation="bereavement", per_page=500))
    assert bereavement and all("bereavement" in db["phrases"].get(i)["situations"] for i in bereavement)
    assert rows(listing(admin_client, language="fr")) == []
    assert len(rows(listing(admin_client, kind="not-a-kind"))) == 50  # an unknown value filters nothing


def test_list_words_search_text_and_use_when(admin_client, db):
    found = rows(listing(admin_client, q="refund"))
    assert found
    for phrase_id in found:
        phrase = db["phrases"].get(phrase_id)
        assert "refund" in (phrase["text"] + phrase["use_when"] + phrase_id).lower()
    assert rows(listing(admin_client, q="100%_\\")) == []  # LIKE wildcards are literal


def test_list_semantic_search_finds_phrases_like_a_message(admin_client, db):
    create_confirmed(admin_client, **REFUND)  # drafts are searched too
    page = listing(admin_client, like="you took my money twice, I want the second payment back")
    found = rows(page)
    assert "Similarity" in page and "test-refund-own" in found[:5]
    top = db["phrases"].get(found[0])
    assert "billing_problem" in top["situations"]


def test_list_sorts_by_last_change_and_by_usage(admin_client, db):
    phrase_id = create_confirmed(admin_client, **REFUND)
    assert rows(listing(admin_client, sort="updated"))[0] == phrase_id
    from phrasebank import feedback

    used = db.execute("select id from phrases where status = 'approved' order by id desc limit 1").fetchone()[0]
    feedback.record(db, {"events": [
        {"request_id": "r1", "phrase_id": used, "event": "shown"},
        {"request_id": "r1", "phrase_id": used, "event": "inserted"},
    ]}, "test agent")
    page = listing(admin_client, sort="usage")
    assert rows(page)[0] == used
    assert rows(listing(admin_client, sort="acceptance"))[0] == used
    assert "100%" in page


# -- untrusted text ------------------------------------------------------------------------------------


SCRIPT = "<script>alert(1)</script> I'm here, and I'll stay with this until it's sorted."


def test_script_in_a_phrase_is_text_everywhere(admin_client, agent, db):
    phrase_id = create_confirmed(admin_client, id="test-xss", text=SCRIPT, kind="reassurance",
                                 use_when='"><img src=x onerror=alert(2)>')
    admin_client.post(f"/admin/phrases/{phrase_id}/status", data={"csrf_token": admin_client.csrf,
                                                                  "status": "approved"})
    pages = [
        listing(admin_client, q="script"),
        admin_client.get(f"/admin/phrases/{phrase_id}").get_data(as_text=True),
        admin_client.get(f"/admin/phrases/{phrase_id}/history").get_data(as_text=True),
        listing(admin_client, like=SCRIPT),
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    body = preview(admin_client, text=SCRIPT, kind="reassurance").get_json()
    assert body["rendered"]["text"] == SCRIPT  # JSON carries it as data; the page sets it as text
