"""The admin phrase pages in Debian's chromium, against a real `assist serve`.

Sign in, write a phrase and watch the lint react as you type, save it anyway,
approve it, and see it suggested to an agent; a phrase holding <script> is
shown as text everywhere.  Screenshots go to tests/artifacts/admin-phrases-*.png.
"""

import re

import requests

from .browser import browser, collect_dialogs, playwright, screenshot  # noqa: F401  (fixtures)

MESSAGE = "You charged me twice this month and I want the duplicate payment refunded now!"
JARGON_TEXT = ("I can see the duplicate charge on your account, and I'm raising the refund for it myself "
               "right now, so you won't have to chase this ticket.")
USE_WHEN = "Customer was charged twice and wants the duplicate payment refunded."
SCRIPT = "<script>alert(1)</script> I'm here, and I'll stay with this until it's sorted."


def open_admin(browser, server):  # noqa: F811
    """A page signed in to the admin app that records script errors, CSP violations and dialogs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.dialogs = collect_dialogs(page)
    page.goto(server.url + "/admin/")
    page.wait_for_url(re.compile(r"/admin/signin"))
    screenshot(page, "admin-phrases-signin")
    page.get_by_test_id("token").fill(server.tokens["admin"])
    page.get_by_test_id("signin").click()
    page.wait_for_url(re.compile(r"/admin/phrases$"))
    return page


def suggested(server, message):
    response = requests.post(server.url + "/api/v1/suggest", headers=server.headers("agent"),
                             json={"message": message}, timeout=30)
    assert response.status_code == 200
    return {s["id"]: s for items in response.json()["suggestions"].values() for s in items}


def test_agent_token_cannot_sign_in(browser, live_server):  # noqa: F811
    page = browser.new_page()
    page.goto(live_server.url + "/admin/signin")
    page.get_by_test_id("token").fill(live_server.tokens["agent"])
    page.get_by_test_id("signin").click()
    assert "agent token" in page.get_by_test_id("signin-error").inner_text()
    page.close()


def test_write_lint_approve_and_agents_get_it(browser, live_server):  # noqa: F811
    server = live_server
    page = open_admin(browser, server)
    assert page.get_by_test_id("phrase-row").count() == 50
    screenshot(page, "admin-phrases-list")

    page.get_by_test_id("new-phrase").click()
    page.get_by_test_id("id").fill("browser-refund")
    page.get_by_test_id("kind").select_option("ownership")
    for label in ("emotion-angry", "emotion-frustrated", "situation-billing_problem"):
        page.get_by_test_id(label).check()
    page.get_by_test_id("use-when").fill(USE_WHEN)
    page.get_by_test_id("text").press_sequentially(JARGON_TEXT, delay=2)
    # The lint reacts while typing: jargon is a warning, nothing blocks.
    page.locator("[data-testid=lint] li.warn[data-code=jargon]").wait_for()
    assert "ticket" in page.locator("[data-code=jargon]").inner_text()
    page.locator("[data-testid=ranking]").first.wait_for()
    james = page.locator("[data-testid=ranking]", has_text="two payments")
    assert re.match(r"#\d+", james.locator("td.rank").inner_text())
    screenshot(page, "admin-phrases-new-live-lint", full_page=True)

    page.get_by_test_id("save").click()
    page.get_by_test_id("save-anyway").wait_for()  # warnings need a confirmation
    assert "Not saved yet" in page.get_by_test_id("form-error").inner_text()
    page.get_by_test_id("save-anyway").click()
    page.wait_for_url(re.compile(r"/admin/phrases/browser-refund$"))
    assert page.get_by_test_id("status").inner_text() == "draft"
    assert "browser-refund" not in suggested(server, MESSAGE)

    page.get_by_test_id("to-approved").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "approved"
    screenshot(page, "admin-phrases-approved", full_page=True)
    shown = suggested(server, MESSAGE)
    assert "browser-refund" in shown and shown["browser-refund"]["text"] == JARGON_TEXT

    page.goto(server.url + "/admin/try")
    page.get_by_test_id("message").fill(MESSAGE)
    page.get_by_test_id("try-submit").click()
    page.locator("[data-testid=suggestion][data-phrase-id=browser-refund]").wait_for()
    screenshot(page, "admin-phrases-try", full_page=True)

    page.goto(server.url + "/admin/phrases/browser-refund/history")
    assert page.get_by_test_id("version").count() == 2
    screenshot(page, "admin-phrases-history", full_page=True)
    assert not page.errors and not page.dialogs, (page.errors, page.dialogs)


def test_script_in_a_phrase_shows_as_text(browser, live_server):  # noqa: F811
    server = live_server
    page = open_admin(browser, server)
    page.get_by_test_id("new-phrase").click()
    page.get_by_test_id("id").fill("browser-xss")
    page.get_by_test_id("kind").select_option("reassurance")
    page.get_by_test_id("text").fill(SCRIPT)
    page.get_by_test_id("use-when").fill('"><img src=x onerror=alert(2)>')
    page.locator("#phrase-form[data-preview-state=ready]").wait_for()
    assert page.get_by_test_id("preview-text").inner_text() == SCRIPT
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/admin/phrases/browser-xss$"))
    page.locator("#phrase-form[data-preview-state=ready]").wait_for()
    assert page.get_by_test_id("preview-text").inner_text() == SCRIPT
    assert page.get_by_test_id("text").input_value() == SCRIPT
    page.goto(server.url + "/admin/phrases?q=alert")
    row = page.locator("[data-testid=phrase-row][data-phrase-id=browser-xss]")
    assert row.get_by_test_id("phrase-text").inner_text() == SCRIPT
    screenshot(page, "admin-phrases-xss")
    page.goto(server.url + "/admin/phrases/browser-xss/history")
    assert SCRIPT in page.get_by_test_id("after").first.inner_text()
    assert page.locator("img[src=x]").count() == 0
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)
