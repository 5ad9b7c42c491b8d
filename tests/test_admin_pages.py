"""Admin Coverage, Import/Export and Analytics pages, and CSV import on the JSON API (Flask test client)."""

import html
import io
import json
import random
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assist import tokens
from phrasebank.coverage import coverage
from phrasebank.store import PhraseStore

from .test_admin_app import csrf_of, signin

SCRIPT = "<script>alert(1)</script>"
PAGES = ("/admin/coverage", "/admin/transfer", "/admin/analytics")




@pytest.fixture
def admin_client(client, admin_token):
    """A client signed in as "test admin"; ``.csrf`` is its session's CSRF token (rotated at sign-in)."""
    assert signin(client, admin_token).status_code == 302
    client.csrf = csrf_of(client.get("/admin/transfer").get_data(as_text=True))
    return client


def text_of(response):
    return response.get_data(as_text=True)


def count_testid(page, name):
    return re.findall(rf'data-testid="{name}"', page)


# --- access -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_pages_need_an_admin_session(client, agent, admin, path):
    for headers in ({}, agent, admin):  # bearer tokens are for the JSON API, not these pages
        response = client.get(path, headers=headers)
        assert response.status_code == 302 and "/admin/signin" in response.headers["Location"]


def test_agent_token_gets_403_and_no_pages(client, agent_token):
    assert signin(client, agent_token).status_code == 403
    for path in PAGES:
        assert client.get(path).status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_with_csp_and_no_inline_script(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = text_of(response)
    # Only external scripts and the JSON data block: nothing the CSP would have to run inline.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in page and " onclick=" not in page


@pytest.mark.parametrize("path", ["/admin/transfer/preview", "/admin/transfer/apply"])
def test_posts_need_the_csrf_token(admin_client, path):
    response = admin_client.post(path, data={"content": "[]"})
    assert response.status_code == 400 and "CSRF" in text_of(response)


# --- coverage -----------------------------------------------------------------------------------------

def test_coverage_grids_link_each_cell_to_the_filtered_list(admin_client, db):
    page = text_of(admin_client.get("/admin/coverage"))
    assert 'data-testid="coverage-emotion"' in page and 'data-testid="coverage-situation"' in page
    assert len(count_testid(page, "coverage-cell")) == (8 + 10) * 6
    assert 'href="/admin/phrases?kind=empathy&amp;emotion=angry&amp;status=approved"' in page
    assert 'href="/admin/phrases?kind=ownership&amp;situation=bereavement&amp;status=approved"' in page
    expected = coverage(PhraseStore(db).list())
    for axis in ("emotion", "situation"):
        gaps = expected[axis]["gaps"]
        assert f'data-testid="gap-count-{axis}">{gaps} gap' in page
    assert page.count('data-state="gap"') == expected["emotion"]["gaps"] + expected["situation"]["gaps"]
    assert page.count('data-state="na"') == 2


def test_coverage_counts_and_flags_a_gap_then_fills_it(admin_client, admin):
    def grateful_reassurance(page):
        return re.search(r'data-kind="reassurance"\s+data-label="grateful" data-state="(\w+)" data-approved="(\d+)"',
                         page)

    before = grateful_reassurance(text_of(admin_client.get("/admin/coverage")))
    assert before.group(1) == "gap" and int(before.group(2)) < 2
    for i in range(2):
        created = admin_client.post("/api/v1/phrases", headers=admin, json={
            "id": f"reassure-grateful-{i}", "text": f"You're all set, and we're here if you need anything ({i}).",
            "kind": "reassurance", "emotions": ["grateful"], "status": "approved"})
        assert created.status_code == 201, created.get_json()
    after = grateful_reassurance(text_of(admin_client.get("/admin/coverage")))
    assert after.group(1) == "ok" and int(after.group(2)) == int(before.group(2)) + 2


def test_coverage_can_include_drafts_and_change_the_threshold(admin_client, admin):
    admin_client.post("/api/v1/phrases", headers=admin, json={
        "id": "draft-sad", "text": "I'm here with you on this.", "kind": "gratitude", "emotions": ["sad"]})
    plain = text_of(admin_client.get("/admin/coverage"))
    assert "draft</a>" not in plain
    with_drafts = text_of(admin_client.get("/admin/coverage?drafts=1"))
    assert 'href="/admin/phrases?kind=gratitude&amp;emotion=sad&amp;status=draft"' in with_drafts
    assert "+1 draft</a>" in with_drafts and 'name="drafts" value="1"' in with_drafts
    strict = text_of(admin_client.get("/admin/coverage?threshold=5"))
    assert strict.count('data-state="gap"') > plain.count('data-state="gap"')
    assert text_of(admin_client.get("/admin/coverage?threshold=banana")).count('data-state="gap"') == \
        plain.count('data-state="gap"')


# --- export and import --------------------------------------------------------------------------------

def preview(client, content, filename=None, fmt="auto"):
    data = {"csrf_token": client.csrf, "format": fmt}
    if filename:
        data["file"] = (io.BytesIO(content.encode("utf-8")), filename)
    else:
        data["content"] = content
    return client.post("/admin/transfer/preview", data=data, content_type="multipart/form-data")


def summary(page):
    return {name: int(re.search(rf'data-testid="summary-{name}">(\d+)<', page).group(1))
            for name in ("added", "changed", "unchanged", "rejected")}


def plan_token(page):
    return html.unescape(re.search(r'name="plan" value="([^"]+)"', page).group(1))


def apply(client, token):
    return client.post("/admin/transfer/apply", data={"csrf_token": client.csrf, "plan": token})


@pytest.fixture
def tricky(admin_client, admin):
    """Phrases whose text is hard to carry through CSV and JSON."""
    texts = ['Comma, "quotes", and \'apostrophes\'', "Two\nlines\r\nand a lone\rreturn",
             "Unicode: café 日本語 🙂", f"{SCRIPT} & <b>markup</b>"]
    for i, text in enumerate(texts):
        response = admin_client.post("/api/v1/phrases", headers=admin, json={
            "id": f"tricky-{i}", "text": text, "kind": "empathy", "emotions": ["sad"], "status": "approved",
            "use_when": f'when "they", say\n{i}'})
        assert response.status_code == 201, response.get_json()
    return texts


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_dry_run_is_all_unchanged(admin_client, admin, tricky, fmt):
    response = admin_client.get(f"/admin/transfer/export?format={fmt}")
    assert response.status_code == 200
    assert re.match(rf'attachment; filename="phrases-[\d-]+\.{fmt}"', response.headers["Content-Disposition"])
    exported = response.get_data(as_text=True)
    api_export = admin_client.get(f"/api/v1/phrases/export?format={fmt}", headers=admin).get_data(as_text=True)
    assert exported == api_export
    total = admin_client.get("/api/v1/phrases?per_page=1", headers=admin).get_json()["total"]
    page = text_of(preview(admin_client, exported, filename=f"bank.{fmt}"))
    assert summary(page) == {"added": 0, "changed": 0, "unchanged": total, "rejected": 0}
    assert 'data-testid="nothing-to-apply"' in page and 'name="plan"' not in page


def test_export_rejects_an_unknown_format(admin_client):
    assert admin_client.get("/admin/transfer/export?format=xml").status_code == 400


def csv_file(rows):
    lines = ["id,text,kind,emotions,status"]
    lines += [",".join(f'"{cell}"' if "," in cell or '"' in cell else cell for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def test_preview_shows_the_diff_then_apply_writes_it(admin_client, admin, db):
    current = admin_client.get("/api/v1/phrases?kind=empathy&per_page=1", headers=admin).get_json()["phrases"][0]
    file = csv_file([
        ["imp-new", f"We're on it. {SCRIPT}", "ownership", "angry|frustrated", "draft"],
        [current["id"], "I can hear how much this matters to you.", current["kind"], "|".join(current["emotions"]),
         current["status"]],
    ])
    response = preview(admin_client, file, filename="changes.csv")
    page = text_of(response)
    assert response.status_code == 200
    assert summary(page)["added"] == 1 and summary(page)["changed"] == 1 and summary(page)["rejected"] == 0
    assert html.escape(current["text"], quote=False) in page and "I can hear how much this matters to you." in page
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert admin_client.get("/api/v1/phrases/imp-new", headers=admin).status_code == 404  # dry run only

    applied = apply(admin_client, plan_token(page))
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/admin/transfer")
    assert "Imported: 1 added, 1 changed" in text_of(admin_client.get("/admin/transfer"))
    new = admin_client.get("/api/v1/phrases/imp-new", headers=admin).get_json()
    assert new["text"] == f"We're on it. {SCRIPT}" and new["emotions"] == ["angry", "frustrated"]
    changed = admin_client.get(f"/api/v1/phrases/{current['id']}", headers=admin).get_json()
    assert changed["text"] == "I can hear how much this matters to you." and changed["version"] == current["version"] + 1
    history = admin_client.get(f"/api/v1/phrases/{current['id']}/history", headers=admin).get_json()["history"]
    assert history[-1]["changed_by"] == "test admin" and history[-1]["action"] == "imported"


def test_rejected_rows_name_where_and_why_and_block_apply(admin_client, admin):
    file = csv_file([["ok-1", "We're looking at your refund now.", "ownership", "", "draft"],
                     ["bad-1", "Sorry for any inconvenience.", "apology", "angry", "draft"],
                     ["bad-2", "Thanks.", "joke", "", "draft"]])
    page = text_of(preview(admin_client, file, filename="mixed.csv"))
    assert summary(page) == {"added": 1, "changed": 0, "unchanged": 0, "rejected": 2}
    rows = re.findall(r'<tr data-testid="rejected-row">(.*?)</tr>', page, re.S)
    assert "row 3" in rows[0] and "bad-1" in rows[0] and "text" in rows[0]
    assert "row 4" in rows[1] and "kind must be one of" in rows[1]
    assert 'name="plan"' not in page
    json_page = text_of(preview(admin_client, json.dumps([{"id": "x", "text": "Hi.", "kind": "nope"}])))
    assert "item 1" in json_page


@pytest.mark.parametrize("content, filename, message", [
    ("", None, "Choose a file"),
    ("id,txt\na,b\n", "x.csv", "unknown column"),
    ("{broken", "x.json", "cannot parse json"),
    ("[]", None, "holds no phrases"),
])
def test_unusable_uploads_are_explained(admin_client, content, filename, message):
    response = preview(admin_client, content, filename=filename)
    assert response.status_code == 400 and message in text_of(response)
    assert 'data-testid="import-error"' in text_of(response)


def test_non_utf8_upload_is_explained(admin_client):
    data = {"csrf_token": admin_client.csrf, "file": (io.BytesIO("id,text\nä,b\n".encode("latin-1")), "x.csv")}
    response = admin_client.post("/admin/transfer/preview", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and "not UTF-8" in text_of(response)


def test_pasted_json_is_detected(admin_client):
    page = text_of(preview(admin_client, json.dumps({"phrases": [
        {"id": "pasted-1", "text": "We'll sort this out together.", "kind": "reassurance"}]})))
    assert summary(page)["added"] == 1 and "pasted text" in page


def test_a_preview_too_large_to_post_back_says_so(admin_client, app):
    # Apply posts the signed preview back as a form field, capped by MAX_FORM_MEMORY_SIZE; the upload
    # itself is a file part (parsed in 64 KiB chunks), so a preview can be bigger than that cap.
    app.config["MAX_FORM_MEMORY_SIZE"] = 150_000
    noise = random.Random(6)
    rows = [[f"big-{i}", "".join(noise.choices(string.ascii_letters, k=500)), "ownership", "", "draft"]
            for i in range(400)]
    page = text_of(preview(admin_client, csv_file(rows), filename="big.csv"))
    assert summary(page)["added"] == 400 and 'data-testid="too-large"' in page and 'name="plan"' not in page


def test_apply_refuses_when_the_bank_changed_since_the_preview(admin_client, admin):
    page = text_of(preview(admin_client, csv_file([["late-1", "We're on it now.", "ownership", "", "draft"]]),
                           filename="a.csv"))
    token = plan_token(page)
    admin_client.post("/api/v1/phrases", headers=admin, json={
        "id": "meanwhile", "text": "Someone else wrote this.", "kind": "empathy"})
    response = apply(admin_client, token)
    assert response.status_code == 409 and "changed since this preview" in text_of(response)
    assert admin_client.get("/api/v1/phrases/late-1", headers=admin).status_code == 404


def test_apply_refuses_a_tampered_or_foreign_preview(admin_client, admin, app, db):
    page = text_of(preview(admin_client, csv_file([["t-1", "We're on it now.", "ownership", "", "draft"]]),
                           filename="a.csv"))
    token = plan_token(page)
    tampered = apply(admin_client, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400 and "could not be verified" in text_of(tampered)
    other = app.test_client()
    assert signin(other, tokens.create_token(db, "admin", "other admin")).status_code == 302
    other.csrf = csrf_of(text_of(other.get("/admin/transfer")))
    assert apply(other, token).status_code == 403
    assert admin_client.get("/api/v1/phrases/t-1", headers=admin).status_code == 404
    assert apply(admin_client, token).status_code == 302  # the real one still works
    assert admin_client.get("/api/v1/phrases/t-1", headers=admin).status_code == 200


def test_applying_twice_is_refused_the_second_time(admin_client, admin):
    page = text_of(preview(admin_client, csv_file([["twice-1", "We're on it now.", "ownership", "", "draft"]]),
                           filename="a.csv"))
    token = plan_token(page)
    assert apply(admin_client, token).status_code == 302
    assert apply(admin_client, token).status_code == 409  # the first apply moved the bank on


# --- CSV import on the JSON API ----------------------------------------------------------------------

def test_api_imports_a_text_csv_body(client, admin):
    body = csv_file([["csv-api-1", "We're checking your order now.", "ownership", "anxious", "draft"]])
    dry = client.post("/api/v1/phrases/import?dry_run=true", data=body, headers={**admin, "Content-Type": "text/csv"})
    assert dry.status_code == 200 and dry.get_json()["summary"]["added"] == 1 and dry.get_json()["dry_run"]
    assert client.get("/api/v1/phrases/csv-api-1", headers=admin).status_code == 404
    done = client.post("/api/v1/phrases/import", data=body, headers={**admin, "Content-Type": "text/csv; charset=utf-8"})
    assert done.status_code == 200 and done.get_json()["summary"]["added"] == 1
    assert client.get("/api/v1/phrases/csv-api-1", headers=admin).get_json()["emotions"] == ["anxious"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_api_imports_content_with_a_format_and_round_trips(client, admin, fmt):
    exported = client.get(f"/api/v1/phrases/export?format={fmt}", headers=admin).get_data(as_text=True)
    response = client.post("/api/v1/phrases/import", headers=admin,
                           json={"format": fmt, "content": exported, "dry_run": True})
    result = response.get_json()
    assert response.status_code == 200 and result["summary"]["unchanged"] > 250
    assert result["summary"]["added"] == result["summary"]["changed"] == result["summary"]["rejected"] == 0


@pytest.mark.parametrize("request_kwargs, field", [
    ({"json": {"content": "id,text\na,b\n"}}, "format"),
    ({"json": {"format": "xml", "content": "x"}}, "format"),
    ({"json": {"format": "csv", "content": "id,txt\na,b\n"}}, "content"),
    ({"json": {"format": "csv", "content": "id,text\n", "phrases": []}}, "phrases"),
    ({"json": {"format": "csv", "phrases": [{"id": "a"}]}}, "format"),
    ({"json": {"format": "csv", "content": "id,text\n"}}, "phrases"),
    ({"json": {"format": "csv", "content": "   "}}, "content"),
    ({"data": "id,txt\na,b\n", "headers": {"Content-Type": "text/csv"}}, "body"),
    ({"data": "id,text\n\xe4,b\n".encode("latin-1"), "headers": {"Content-Type": "text/csv"}}, "body"),
    ({"data": "x", "query_string": {"dry_run": "maybe"}, "headers": {"Content-Type": "text/csv"}}, "dry_run"),
])
def test_api_import_errors_name_the_field(client, admin, request_kwargs, field):
    headers = {**admin, **request_kwargs.pop("headers", {})}
    response = client.post("/api/v1/phrases/import", headers=headers, **request_kwargs)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field, response.get_json()


def test_api_csv_import_needs_admin(client, agent):
    response = client.post("/api/v1/phrases/import", data="id,text\n", headers={**agent, "Content-Type": "text/csv"})
    assert response.status_code == 403


def test_openapi_documents_csv_import(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = spec["paths"]["/phrases/import"]["post"]["requestBody"]["content"]
    assert "text/csv" in body and {"content", "format"} <= set(body["application/json"]["schema"]["properties"])


# --- analytics ----------------------------------------------------------------------------------------

@pytest.fixture
def feedback(client, agent, admin):
    """Feedback on a <script> phrase and a default one: shown 4 / 2 times, accepted 3 / 0 times."""
    created = client.post("/api/v1/phrases", headers=admin, json={
        "id": "xss-phrase", "text": f"I understand. {SCRIPT}", "kind": "empathy", "emotions": ["angry"],
        "status": "approved"})
    assert created.status_code == 201
    other = client.get("/api/v1/phrases?kind=apology&per_page=1", headers=admin).get_json()["phrases"][0]["id"]
    events = [{"request_id": f"r{i}", "phrase_id": "xss-phrase", "event": "shown"} for i in range(4)]
    events += [{"request_id": "r0", "phrase_id": "xss-phrase", "event": "inserted"},
               {"request_id": "r1", "phrase_id": "xss-phrase", "event": "copied"},
               {"request_id": "r2", "phrase_id": "xss-phrase", "event": "thumbs_up"},
               {"request_id": "r3", "phrase_id": "xss-phrase", "event": "thumbs_down"}]
    events += [{"request_id": f"r{i}", "phrase_id": other, "event": "shown"} for i in range(2)]
    response = client.post("/api/v1/feedback", headers=agent, json={"events": events})
    assert response.status_code == 201, response.get_json()
    return other


def chart_data(page):
    return json.loads(re.search(r'<script type="application/json" id="analytics-data">(.*?)</script>', page,
                                re.S).group(1))


def test_analytics_shows_totals_charts_data_and_tables(admin_client, feedback):
    page = text_of(admin_client.get("/admin/analytics"))
    assert re.search(r'data-testid="total-shown">6<', page) and re.search(r'data-testid="total-inserted">1<', page)
    assert re.search(r'data-testid="total-acceptance">50%<', page)
    data = chart_data(page)
    assert sum(point["shown"] for point in data["series"]) == 6 and len(data["series"]) == 30
    assert [p["id"] for p in data["phrases"]] == ["xss-phrase", feedback]
    assert data["phrases"][0]["acceptance"] == 0.75 and data["phrases"][0]["url"].startswith("/admin/phrases/")
    assert 'data-chart="series"' in page and 'data-chart="acceptance"' in page
    assert 'data-testid="series-table"' in page and len(count_testid(page, "phrase-row")) == 2
    assert f'href="/admin/phrases/{feedback}"' in page
    assert 'data-testid="never-used"' in page


def test_script_phrase_is_text_on_every_page(admin_client, feedback):
    for path in ("/admin/analytics", "/admin/coverage", "/admin/analytics?sort=acceptance&period=7&bucket=week"):
        page = text_of(admin_client.get(path))
        assert SCRIPT not in page and "alert(1)</script>" not in page, path
    page = text_of(admin_client.get("/admin/analytics"))
    assert "I understand. &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\u003cscript\\u003e" in page  # inside the JSON block, tojson escapes it too
    assert chart_data(page)["phrases"][0]["text"] == f"I understand. {SCRIPT}"


def test_analytics_sorts_by_acceptance_or_shown(admin_client, feedback):
    by_shown = re.findall(r'data-testid="phrase-row" data-phrase-id="([^"]+)"',
                          text_of(admin_client.get("/admin/analytics?sort=shown")))
    assert by_shown == ["xss-phrase", feedback]
    page = text_of(admin_client.get("/admin/analytics?sort=acceptance&period=90"))
    assert re.findall(r'data-testid="phrase-row" data-phrase-id="([^"]+)"', page) == ["xss-phrase", feedback]
    assert 'aria-sort="descending"' in page
    assert 'href="/admin/analytics?period=90&amp;bucket=day&amp;sort=shown"' in page


@pytest.mark.parametrize("query, points, bucket", [("period=7", 7, "day"), ("period=90", 90, "day"),
                                                   ("period=90&bucket=week", None, "week"),
                                                   ("period=12345", 30, "day")])
def test_analytics_periods_and_buckets(admin_client, feedback, query, points, bucket):
    data = chart_data(text_of(admin_client.get(f"/admin/analytics?{query}")))
    assert data["bucket"] == bucket
    if points:
        assert len(data["series"]) == points
    else:
        assert 13 <= len(data["series"]) <= 15
    assert sum(point["shown"] for point in data["series"]) == 6


def test_analytics_custom_dates_and_bad_dates(admin_client, feedback):
    page = text_of(admin_client.get("/admin/analytics?period=custom&since=2020-01-01&until=2020-01-10"))
    assert len(chart_data(page)["series"]) == 10 and re.search(r'data-testid="total-shown">0<', page)
    assert 'data-testid="acceptance-empty"' in page
    for query in ("since=yesterday&until=2020-01-01", "since=2020-02-01&until=2020-01-01", f"since={SCRIPT}"):
        response = admin_client.get(f"/admin/analytics?period=custom&{query}")
        page = text_of(response)
        assert response.status_code == 200 and 'data-testid="analytics-error"' in page
        assert "Showing the last 30 days instead" in page and SCRIPT not in page


# --- no upload makes a 500 ---------------------------------------------------------------------------

CSV_TEXT = st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=5), max_size=4).map(
    lambda rows: "\n".join(",".join(cells) for cells in [["id", "text", "kind"], *rows]))
UPLOADS = st.one_of(st.text(max_size=300), CSV_TEXT)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=UPLOADS, fmt=st.sampled_from(["csv", "json"]))
def test_api_import_content_never_500(client, admin, text, fmt):
    response = client.post("/api/v1/phrases/import", headers=admin,
                           json={"format": fmt, "content": text, "dry_run": True})
    assert response.status_code < 500 and (response.status_code == 200 or response.get_json()["error"]["field"])
    raw = client.post("/api/v1/phrases/import?dry_run=1", data=text.encode("utf-8", "surrogatepass"),
                      headers={**admin, "Content-Type": "text/csv"})
    assert raw.status_code < 500


@FUZZ
@given(content=st.binary(max_size=400), fmt=st.sampled_from(["auto", "csv", "json", "xml"]))
def test_admin_preview_never_500(admin_client, content, fmt):
    data = {"csrf_token": admin_client.csrf, "format": fmt, "file": (io.BytesIO(content), "upload.txt")}
    response = admin_client.post("/admin/transfer/preview", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 400)
