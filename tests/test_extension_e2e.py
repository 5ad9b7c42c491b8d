"""The Chrome extension end to end: headless chromium, the extension loaded unpacked, the real backend.

One backend process and one browser serve the whole module (the first start
of a data dir embeds the phrase bank, about 20 s). The side panel is opened as
a normal tab pinned to the help-desk tab (`sidepanel/index.html?tabId=N`),
because headless chromium cannot show Chrome's side panel itself. Every step
saves a screenshot in tests/artifacts/.
"""

import re
import time
import uuid

import pytest
import requests

from tests import live

from .browser import (  # noqa: F401
    collect_dialogs,
    extension_context,
    extension_copy,
    extension_id,
    open_panel,
    panel_state,
    playwright,
    screenshot,
    service_worker,
    tab_id,
    wait_for_state,
)
from .conftest import WEBHOOK_SECRET
from .test_webhooks_live import customer_event, signed_post

MARIA = "maria.gonzalez@example.com"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, embedder):
    """`assist serve` on a fresh data dir (demo customers seeded), with the generic webhook enabled."""
    backend = live.LiveServer(tmp_path_factory.mktemp("e2e") / "live", model_cache=model_cache,
                              env={"ASSIST_WEBHOOK_SECRET": WEBHOOK_SECRET})
    backend.start()
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def browser_context(playwright, tmp_path_factory):  # noqa: F811
    """A persistent chromium profile with (a copy of) the extension loaded."""
    directory = tmp_path_factory.mktemp("chromium")
    context = extension_context(playwright, directory / "profile", extension=extension_copy(directory))
    context.extension = extension_id(context)
    context.problems = []
    context.on("weberror", lambda error: context.problems.append(str(error.error)))
    yield context
    context.close()


def options_page(context):
    page = context.new_page()
    page.goto(f"chrome-extension://{context.extension}/options/index.html")
    return page


def check_connection(page, backend_url, token):
    """Fill the options form, press "Save and test connection"; returns (data-result, message)."""
    page.fill("#backend-url", backend_url)
    page.fill("#token", token)
    page.click("[data-testid=save-test]")
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=connection-result]');"
        " return r && r.dataset.result && r.dataset.result !== 'testing'; }")
    result = page.locator("[data-testid=connection-result]")
    return result.get_attribute("data-result"), result.inner_text()


@pytest.fixture(scope="module")
def configured(browser_context, server):
    """The extension configured through its options page with the agent's token."""
    page = options_page(browser_context)
    result, text = check_connection(page, server.url, server.tokens["agent"])
    assert result == "ok", text
    page.close()
    time.sleep(0.3)  # saving the URL registers the content script on <backend>/demo*
    return browser_context


def open_demo(context, server, customer=None):
    """A /demo tab (at a unique URL, to find its tab id), the panel pinned to it, and ``customer`` opened."""
    page = context.new_page()
    page.goto(f"{server.url}/demo?tab={uuid.uuid4().hex}")
    panel = open_panel(context, context.extension, tab_id(context, page))
    if customer:
        open_conversation(page, customer)
    return page, panel


def open_conversation(page, customer):
    page.click(f"[data-testid=conversation-link][data-customer='{customer}']")
    page.wait_for_selector(f"[data-testid=conversation][data-customer='{customer}']")


def simulate(page, contact, message):
    """Make up a conversation on /demo (for customers that are not demo customers)."""
    page.click(".simulate summary")
    page.fill("[data-testid=simulate-contact]", contact)
    page.fill("[data-testid=simulate-message]", message)
    page.click("[data-testid=simulate-submit]")


def painted_for(panel, customer_name, timeout=15000):
    """Wait until the panel shows suggestions for the customer called ``customer_name``."""
    panel.wait_for_function(
        """(name) => document.body.dataset.paintedAt &&
             document.querySelector('[data-testid=customer-name]')?.textContent === name &&
             document.querySelectorAll('[data-testid=suggestion]').length > 0""",
        arg=customer_name, timeout=timeout)


def wait_for(check, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    return check()


def test_options_test_the_connection(browser_context, server):
    page = options_page(browser_context)
    screenshot(page, "e2e-01-options-empty")
    result, text = check_connection(page, server.url, "asa_not-a-real-token")
    screenshot(page, "e2e-02-options-bad-token")
    assert result == "bad-token" and "token" in text.lower(), text
    result, text = check_connection(page, server.url, server.tokens["admin"])
    assert result == "ok" and "agents should use an agent token" in text, text  # works, but says so
    result, text = check_connection(page, server.url, server.tokens["agent"])
    screenshot(page, "e2e-03-options-ok")
    assert result == "ok", text
    page.close()


def test_conversation_shows_card_emotion_and_suggestions(configured, server):
    page, panel = open_demo(configured, server, MARIA)
    painted_for(panel, "Maria Gonzalez")
    screenshot(page, "e2e-04-demo-maria")
    screenshot(panel, "e2e-05-panel-maria")
    screenshot(panel, "e2e-05-panel-maria-full", full_page=True)
    assert panel_state(panel) == "ready"
    banner = panel.inner_text("[data-testid=repeat-banner]")
    # Her evening outage was reported three weeks ago and she has called about it since.
    assert re.search(r"\b[34](rd|th) contact about 'No connection every evening' since", banner), banner
    assert panel.get_attribute("[data-testid=emotion]", "data-emotion") in ("frustrated", "angry")
    assert panel.locator("[data-testid=suggestion]").count() >= 3
    painted, opened = panel.evaluate("document.body.dataset.paintedAt"), page.evaluate("document.body.dataset.openedAt")
    assert int(painted) >= int(opened)
    page.close()
    panel.close()


def test_insert_and_thumbs_up(configured, server):
    page, panel = open_demo(configured, server, MARIA)
    painted_for(panel, "Maria Gonzalez")
    first = panel.locator("[data-testid=suggestion]").first
    text, phrase_id = first.locator(".suggestion-text").inner_text(), first.get_attribute("data-phrase-id")
    first.locator("[data-action=insert]").click()
    page.wait_for_function("(text) => document.querySelector('[data-testid=reply-box]').value.includes(text)",
                           arg=text, timeout=5000)
    first.locator("[data-action=thumbs-up]").click()
    screenshot(panel, "e2e-06-panel-after-thumbs-up")
    screenshot(page, "e2e-07-demo-inserted")

    def phrase_counts():
        response = requests.get(server.url + "/api/v1/analytics", params={"phrase_id": phrase_id},
                                headers=server.headers("admin"), timeout=10)
        assert response.status_code == 200, response.text
        rows = [p for p in response.json()["phrases"] if p["id"] == phrase_id]
        return rows[0] if rows and rows[0]["thumbs_up"] and rows[0]["inserted"] else None

    recorded = wait_for(phrase_counts)
    assert recorded, "the thumbs-up and the insert never reached /api/v1/analytics"
    assert recorded["thumbs_up"] == 1 and recorded["inserted"] == 1 and recorded["shown"] >= 1
    page.close()
    panel.close()


def test_suggest_for_selection_and_insert_commands(configured, server):
    """The context-menu item and the Chrome commands, through the service worker's own handlers.

    Headless chromium cannot click a context-menu item or press a Chrome
    command, so the test calls the two listeners the worker registers
    (exposed as ``assistHandlers``); what they do from there is all real.
    """
    page, panel = open_demo(configured, server, MARIA)
    painted_for(panel, "Maria Gonzalez")
    message = "I was charged twice for my subscription this month and I am really annoyed about it."
    page.evaluate("""(text) => {
        const quoted = document.createElement('p'); quoted.textContent = text; document.body.append(quoted);
        const range = document.createRange(); range.selectNodeContents(quoted);
        getSelection().removeAllRanges(); getSelection().addRange(range); }""", message)
    worker, tab = service_worker(configured), tab_id(configured, page)
    worker.evaluate("async (id) => assistHandlers.onCommand('suggest-selection', await chrome.tabs.get(id))", tab)
    panel.wait_for_function(
        """() => document.querySelector('[data-testid=source]')?.textContent.includes('selected text') &&
             /billing/i.test(document.querySelector('[data-testid=situations]')?.textContent || '')""",
        timeout=15000)
    # The customer the adapter found on this page stays: the card is still Maria's.
    assert panel.inner_text("[data-testid=customer-name]") == "Maria Gonzalez"
    screenshot(panel, "e2e-06b-panel-selection")

    second = panel.locator("[data-testid=suggestion]").nth(1).locator(".suggestion-text").inner_text()
    page.evaluate("() => { const box = document.querySelector('[data-testid=reply-box]'); box.value = ''; box.focus(); }")
    worker.evaluate("async (id) => assistHandlers.onCommand('insert-2', await chrome.tabs.get(id))", tab)
    page.wait_for_function("(text) => document.querySelector('[data-testid=reply-box]').value.includes(text)",
                           arg=second, timeout=5000)

    menu = "A different question: how do I change the email address on my account?"
    worker.evaluate("""async ([id, text]) => assistHandlers.onMenuClick(
        {menuItemId: 'suggest-selection', selectionText: text}, await chrome.tabs.get(id))""", [tab, menu])
    panel.wait_for_function(
        "() => !/billing/i.test(document.querySelector('[data-testid=situations]')?.textContent || '')"
        " && document.querySelectorAll('[data-testid=suggestion]').length > 0", timeout=15000)
    page.close()
    panel.close()


def test_crm_webhook_updates_the_open_panel(configured, server):
    email = "nia.adeyemi@example.com"
    assert signed_post(server, [customer_event("e2e-1", email, "2026-11-20T10:00:00Z", name="Nia Adeyemi")]).ok
    wait_for(lambda: requests.get(server.url + "/api/v1/customers/context", params={"email": email},
                                  headers=server.headers(), timeout=10).json()["status"] == "ok")
    page, panel = open_demo(configured, server)
    simulate(page, email, "My router keeps restarting and I have a video call in ten minutes, please help!")
    painted_for(panel, "Nia Adeyemi")
    panel.evaluate("window.notReloaded = true")
    screenshot(panel, "e2e-08-panel-before-webhook")
    assert signed_post(server, [customer_event("e2e-2", email, "2026-11-20T11:00:00Z", name="Nia Adeyemi-Cole",
                                               tier="Gold")]).ok
    panel.wait_for_function(
        "() => document.querySelector('[data-testid=customer-name]')?.textContent === 'Nia Adeyemi-Cole'",
        timeout=5000)
    assert panel.evaluate("window.notReloaded") is True
    assert "Gold" in panel.inner_text("body")
    screenshot(panel, "e2e-09-panel-after-webhook")
    page.close()
    panel.close()


def test_hostile_customer_name_is_text(configured, server):
    email = "mallory@example.com"
    assert signed_post(server, [customer_event("e2e-3", email, "2026-11-20T10:00:00Z", name=HOSTILE)]).ok
    wait_for(lambda: requests.get(server.url + "/api/v1/customers/context", params={"email": email},
                                  headers=server.headers(), timeout=10).json()["status"] == "ok")
    page, panel = open_demo(configured, server)
    dialogs = {"demo": collect_dialogs(page), "panel": collect_dialogs(panel)}
    simulate(page, email, "I was charged twice this month and nobody answers my emails.")
    painted_for(panel, HOSTILE)
    panel.wait_for_timeout(300)  # give an injected onerror a chance to fire
    screenshot(panel, "e2e-10-panel-hostile-name")
    assert panel.locator("img").count() == 0
    assert dialogs == {"demo": [], "panel": []}
    page.close()
    panel.close()


def test_backend_down_shows_unreachable_then_recovers(configured, server, monkeypatch):
    page, panel = open_demo(configured, server, MARIA)
    painted_for(panel, "Maria Gonzalez")
    port = server.port
    server.stop()
    try:
        wait_for_state(panel, "unreachable", timeout=20000)
        screenshot(panel, "e2e-11-panel-unreachable")
        assert panel.locator("[data-testid=retry]").is_visible()
    finally:
        # Same port: the extension is configured with this URL.
        monkeypatch.setattr(live, "free_port", lambda: port)
        server.start()
    panel.click("[data-testid=retry]")
    wait_for_state(panel, "ready", timeout=20000)
    painted_for(panel, "Maria Gonzalez")
    screenshot(panel, "e2e-12-panel-recovered")
    page.close()
    panel.close()


def test_no_page_errors(configured):
    """Nothing threw in any page during the run (runs last)."""
    assert configured.problems == []
