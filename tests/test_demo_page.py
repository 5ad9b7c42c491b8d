"""/demo, the demo help desk: served safely, and it works in a real browser."""

import json
import re
import threading
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from assist import demo as demo_module
from connectors.demo import DEMO_MESSAGES

from .browser import browser, collect_dialogs, playwright, screenshot  # noqa: F401

HOSTILE = "<img src=x onerror=alert(1)>"


def data_block(html):
    found = re.search(r'<script type="application/json" id="demo-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_page_lists_every_demo_customer(client):
    response = client.get("/demo")
    assert response.status_code == 200 and response.mimetype == "text/html"
    conversations = data_block(response.get_data(as_text=True))
    assert [c["email"] for c in conversations] == list(DEMO_MESSAGES)
    maria = conversations[0]
    assert maria["name"] == "Maria Gonzalez" and maria["phone"] == "+1 415-555-0142"
    assert maria["messages"] == [{"role": "customer", "text": DEMO_MESSAGES["maria.gonzalez@example.com"]}]


def test_strict_csp_and_no_inline_script(client):
    response = client.get("/demo")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html and " on" not in re.sub(r"<script.*?</script>", "", html, flags=re.S).lower()
    for path in ("/static/demo/demo.js", "/static/demo/demo.css"):
        with client.get(path) as static:  # close the file response (ResourceWarning is an error)
            assert static.status_code == 200


def test_hostile_text_is_escaped_in_the_data_block(client, monkeypatch):
    evil = "</script><script>alert(1)</script>" + HOSTILE
    monkeypatch.setattr(demo_module, "DEMO_MESSAGES", {"evil@example.com": evil, **DEMO_MESSAGES})
    html = client.get("/demo").get_data(as_text=True)
    assert "<img" not in html and "alert(1)</script>" not in html
    assert data_block(html)[0]["messages"][0]["text"] == evil  # escaped, yet the same text


# -- in a real browser -------------------------------------------------------------------


@pytest.fixture
def demo_url(app):
    """The app served over HTTP in a thread (the page needs a real origin for its CSP and scripts)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/demo"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, demo_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(demo_url)
    yield page
    context.close()


def test_inbox_renders(page):
    links = page.locator("[data-testid=conversation-link]")
    assert links.count() == len(DEMO_MESSAGES)
    assert links.first.get_attribute("data-customer") == "maria.gonzalez@example.com"
    assert "Maria Gonzalez" in links.first.inner_text()
    assert page.locator("[data-testid=no-conversation]").is_visible()
    screenshot(page, "demo-inbox")
    assert page.problems == []


def test_opening_a_conversation_and_replying(page, demo_url):
    page.click("[data-testid=conversation-link][data-customer='maria.gonzalez@example.com']")
    conversation = page.locator("[data-testid=conversation]")
    assert conversation.get_attribute("data-customer") == "maria.gonzalez@example.com"
    assert page.locator(".message.customer").last.inner_text() == \
        DEMO_MESSAGES["maria.gonzalez@example.com"]
    assert page.inner_text("[data-testid=customer-email]") == "maria.gonzalez@example.com"
    assert page.inner_text("[data-testid=customer-phone]") == "+1 415-555-0142"
    assert page.url.endswith("?c=" + quote("maria.gonzalez@example.com", safe=""))
    opened = int(page.evaluate("document.body.dataset.openedAt"))
    assert opened > 0
    page.fill("[data-testid=reply-box]", "I'm so sorry, Maria. I'll look into this now.")
    page.click("[data-testid=send]")
    assert page.locator(".message.agent").inner_text().endswith("I'll look into this now.")
    assert page.input_value("[data-testid=reply-box]") == ""
    screenshot(page, "demo-conversation")

    page.click("[data-testid=conversation-link][data-customer='james.whitaker@example.net']")
    assert page.get_attribute("[data-testid=conversation]", "data-customer") == "james.whitaker@example.net"
    assert int(page.evaluate("document.body.dataset.openedAt")) >= opened
    page.go_back()  # history follows the open conversation, and replies are kept
    assert page.get_attribute("[data-testid=conversation]", "data-customer") == "maria.gonzalez@example.com"
    assert page.locator(".message.agent").count() == 1

    page.goto(demo_url + "?c=" + quote("harold.ellis@example.net"))  # a link opens that conversation
    assert page.inner_text("[data-testid=customer-name]") == "Harold Ellis"
    assert page.locator(".from-customer .message-author").inner_text() == "Susan Ellis"
    assert page.problems == []


def test_hostile_text_shows_as_text(page):
    dialogs = collect_dialogs(page)
    page.click(".simulate summary")
    page.fill("[data-testid=simulate-contact]", "mallory@example.com")
    page.fill("[data-testid=simulate-name]", HOSTILE)
    page.fill("[data-testid=simulate-message]", "<script>alert(2)</script> hello")
    page.click("[data-testid=simulate-submit]")
    assert page.inner_text("[data-testid=customer-name]") == HOSTILE
    assert page.locator(".message.customer").inner_text() == "<script>alert(2)</script> hello"
    assert page.locator("img").count() == 0 and page.locator("[data-testid=conversation] script").count() == 0
    assert page.locator("[data-testid=conversation-link]").count() == len(DEMO_MESSAGES) + 1
    page.wait_for_timeout(200)
    screenshot(page, "demo-hostile-name")
    assert dialogs == [] and page.problems == []
