"""Admin Coverage, Import/Export and Analytics pages in Debian's chromium, against a real `assist serve`.

Screenshots go to tests/artifacts/admin-*.png for people to look at.
"""

import re

import requests

from .browser import browser, collect_dialogs, playwright, screenshot  # noqa: F401  (fixtures)

SCRIPT = "<script>alert(1)</script>"


def open_admin(browser, server):  # noqa: F811  (the fixture is passed in)
    """A page signed in to the admin app, recording console errors and dialogs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    # Script errors, CSP violations and failed loads (the browser's own favicon request aside).
    page.on("console", lambda message: message.type == "error" and "Failed to load resource" not in message.text
            and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("response", lambda response: response.status >= 400 and not response.url.endswith("/favicon.ico")
            and page.errors.append(f"{response.status} {response.url}"))
    page.goto(server.url + "/admin/signin")
    page.get_by_test_id("token").fill(server.tokens["admin"])
    page.get_by_test_id("signin").click()
    page.wait_for_url(re.compile(r"/admin/phrases"))
    return page


def create_phrase(server, **fields):
    response = requests.post(server.url + "/api/v1/phrases", json=fields, headers=server.headers("admin"), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_import_dry_run_shows_the_diff_then_applies(browser, live_server, tmp_path):  # noqa: F811
    server = live_server
    create_phrase(server, id="edit-me", text="I can see why this is frustrating.", kind="empathy",
                  emotions=["frustrated"], status="approved")
    file = tmp_path / "changes.csv"
    file.write_text(
        "id,text,kind,emotions,status\n"
        f'new-one,"We\'re on it, and {SCRIPT} stays text.",ownership,angry|frustrated,draft\n'
        'edit-me,"I can see why this is so frustrating, and I\'m here to help.",empathy,frustrated,approved\n',
        encoding="utf-8",
    )
    page = open_admin(browser, server)
    dialogs = []

    def on_dialog(dialog):  # accept the "Apply this import?" confirmation; any alert would be the XSS
        dialogs.append((dialog.type, dialog.message))
        dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server.url + "/admin/transfer")
    screenshot(page, "admin-transfer")
    page.get_by_test_id("import-content").fill(
        "id,text,kind\nfine-1,We're checking this now.,ownership\nbad-1,Sorry for any inconvenience.,apology\n")
    page.get_by_test_id("import-preview").click()
    assert page.get_by_test_id("summary-rejected").inner_text() == "1"
    assert "row 3" in page.get_by_test_id("rejected-table").inner_text()
    assert page.get_by_test_id("import-apply").count() == 0  # all or nothing: nothing to apply
    screenshot(page, "admin-import-rejected")
    page.goto(server.url + "/admin/transfer")
    page.get_by_test_id("import-file").set_input_files(str(file))
    page.get_by_test_id("import-preview").click()
    page.wait_for_selector("[data-testid=import-summary]")
    assert page.get_by_test_id("summary-added").inner_text() == "1"
    assert page.get_by_test_id("summary-changed").inner_text() == "1"
    assert page.get_by_test_id("summary-rejected").inner_text() == "0"
    change = page.locator("[data-testid=changed-phrase][data-phrase-id=edit-me]")
    assert change.get_by_test_id("before").first.inner_text() == "I can see why this is frustrating."
    assert "so frustrating" in change.get_by_test_id("after").first.inner_text()
    assert SCRIPT in page.get_by_test_id("added-table").inner_text()  # shown as text, never run
    screenshot(page, "admin-import-preview", full_page=True)
    assert requests.get(server.url + "/api/v1/phrases/new-one", headers=server.headers("admin"),
                        timeout=10).status_code == 404

    page.get_by_test_id("import-apply").click()
    page.wait_for_url(re.compile(r"/admin/transfer$"))
    assert "Imported: 1 added, 1 changed" in page.locator(".flash").inner_text()
    new = requests.get(server.url + "/api/v1/phrases/new-one", headers=server.headers("admin"), timeout=10).json()
    assert new["text"] == f"We're on it, and {SCRIPT} stays text." and new["status"] == "draft"
    edited = requests.get(server.url + "/api/v1/phrases/edit-me", headers=server.headers("admin"), timeout=10).json()
    assert edited["version"] == 2 and "so frustrating" in edited["text"]
    assert [kind for kind, _ in dialogs] == ["confirm"] and not page.errors, (dialogs, page.errors)


def test_analytics_page_draws_charts_from_feedback(browser, live_server):  # noqa: F811
    server = live_server
    create_phrase(server, id="xss-phrase", text=f"I understand. {SCRIPT}", kind="empathy", emotions=["angry"],
                  status="approved")
    others = requests.get(server.url + "/api/v1/phrases?status=approved&per_page=4", headers=server.headers(),
                          timeout=10).json()["phrases"]
    events = []
    for n, phrase_id in enumerate(["xss-phrase"] + [p["id"] for p in others]):
        for i in range(6 - n):
            events.append({"request_id": f"req-{n}-{i}", "phrase_id": phrase_id, "event": "shown"})
        for i in range(max(0, 4 - n)):
            events.append({"request_id": f"req-{n}-{i}", "phrase_id": phrase_id, "event": "inserted"})
        events.append({"request_id": f"req-{n}-0", "phrase_id": phrase_id, "event": "thumbs_up"})
    events.append({"request_id": "req-0-5", "phrase_id": "xss-phrase", "event": "thumbs_down"})
    response = requests.post(server.url + "/api/v1/feedback", json={"events": events}, headers=server.headers(),
                             timeout=10)
    assert response.status_code == 201, response.text

    page = open_admin(browser, server)
    dialogs = collect_dialogs(page)
    page.goto(server.url + "/admin/analytics?period=7")
    series = page.locator("[data-chart=series] svg.chart-svg")
    series.wait_for()
    assert series.get_attribute("role") == "img" and series.locator("title").first.text_content()
    assert series.locator("[data-metric=shown] circle").count() == 7
    assert series.locator("[data-metric=shown] polyline").count() == 1
    bars = page.locator("[data-chart=acceptance] svg.chart-svg rect.bar")
    assert bars.count() == 5
    assert page.locator("[data-chart=acceptance] svg.chart-svg a").first.get_attribute("href") == "/admin/phrases/xss-phrase"
    assert page.get_by_test_id("total-shown").inner_text() == str(sum(e["event"] == "shown" for e in events))
    label = page.locator("[data-chart=acceptance] svg.chart-svg text.bar-label").first.text_content()
    assert label.startswith("I understand. <script>")  # text in the SVG, not markup
    assert SCRIPT in page.locator("[data-testid=phrase-row][data-phrase-id=xss-phrase]").inner_text()
    screenshot(page, "admin-analytics", full_page=True)

    page.get_by_test_id("sort-acceptance").click()
    page.wait_for_url(re.compile(r"sort=acceptance"))
    page.locator("[data-chart=series] svg.chart-svg").wait_for()
    acceptance = [float(t.rstrip("%")) for t in page.get_by_test_id("acceptance").all_inner_texts()]
    assert acceptance == sorted(acceptance, reverse=True)
    page.get_by_test_id("bucket").select_option("week")
    page.get_by_test_id("period").select_option("90")
    page.get_by_test_id("analytics-show").click()
    page.wait_for_url(re.compile(r"bucket=week"))
    assert 13 <= page.locator("[data-chart=series] svg.chart-svg [data-metric=shown] circle").count() <= 15
    assert not dialogs and not page.errors, (dialogs, page.errors)


def test_coverage_grid_cells_open_the_filtered_phrase_list(browser, live_server):  # noqa: F811
    server = live_server
    page = open_admin(browser, server)
    page.goto(server.url + "/admin/coverage")
    grid = page.get_by_test_id("coverage-emotion")
    grid.wait_for()
    screenshot(page, "admin-coverage", full_page=True)
    gaps = page.locator("[data-testid=coverage-cell][data-state=gap]")
    assert gaps.count() >= 1 and "gap" in gaps.first.inner_text().lower()
    cell = grid.locator("[data-testid=coverage-cell][data-kind=empathy][data-label=angry] a.count")
    count = int(cell.inner_text())
    assert count >= 5
    cell.click()
    page.wait_for_url(re.compile(r"/admin/phrases\?"))
    assert re.search(r"kind=empathy", page.url) and re.search(r"emotion=angry", page.url)
    assert re.search(r"status=approved", page.url)
    listed = requests.get(server.url + "/api/v1/phrases?kind=empathy&emotion=angry&status=approved",
                          headers=server.headers(), timeout=10).json()["total"]
    assert listed == count
    assert not page.errors, page.errors
    page.go_back()
    page.get_by_test_id("include-drafts").check()
    page.get_by_role("button", name="Update").click()
    page.wait_for_url(re.compile(r"drafts=1"))
    assert page.get_by_test_id("include-drafts").is_checked()
