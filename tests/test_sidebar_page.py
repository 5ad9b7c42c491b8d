"""/sidebar: the extension's panel as a web page, driven in real headless chromium against a
real server. Paste a message and get suggestions; CRM data that looks like HTML stays text;
Chatwoot's appContext is taken only from the configured origin; a strict CSP is sent."""

import http.server
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from functools import partial
from urllib.parse import quote

import pytest
import requests

from assist.sidebar import content_security_policy, origins_from_setting

from .browser import browser, collect_dialogs, playwright, screenshot  # noqa: F401
from .live import LiveServer, free_port

HTML_NAME = "<img src=x onerror=alert(1)>"
HTML_EMAIL = "html.name@example.com"
MARIA = "maria.gonzalez@example.com"
MARIA_SAYS = ("My internet has cut out AGAIN tonight, same as every evening. "
              "I work from home and I can't keep doing this.")

PARENT_PAGE = """<!doctype html><meta charset="utf-8"><title>help desk</title>
<body><script>
  // A stand-in for Chatwoot's dashboard: frames the app and answers fetch-info like Chatwoot.
  window.received = [];
  const q = new URLSearchParams(location.search);
  window.addEventListener('message', (e) => {
    window.received.push({origin: e.origin, data: e.data});
    if (e.data === 'chatwoot-dashboard-app:fetch-info' && q.get('reply')) e.source.postMessage(q.get('reply'), '*');
  });
  for (const id of ['sidebar', 'evil']) {
    const frame = document.createElement('iframe');
    frame.id = frame.name = id; frame.src = q.get(id); frame.width = 360; frame.height = 900;
    document.body.append(frame);
  }
</script></body>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def help_desk(tmp_path_factory):
    """A tiny 'help desk' web server on its own port: it frames /sidebar like Chatwoot does."""
    root = tmp_path_factory.mktemp("helpdesk")
    (root / "parent.html").write_text(PARENT_PAGE)
    (root / "evil.html").write_text("<!doctype html><title>another site</title><p>not the help desk</p>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, help_desk):
    """The real server, allowing the help desk's origin (127.0.0.1:<port>), not localhost:<port>."""
    data_dir = tmp_path_factory.mktemp("sidebar") / "live"
    live = LiveServer(data_dir, env={"ASSIST_SIDEBAR_ORIGINS": f"http://127.0.0.1:{help_desk}"},
                      model_cache=model_cache)
    live.start()
    import_html_customer(data_dir)
    yield live
    live.stop()


def import_html_customer(data_dir):
    """A customer whose CRM fields look like HTML, loaded with `assist crm import` (after the demo seed)."""
    now = datetime.now(timezone.utc)
    record = [{
        "id": "X-1", "name": HTML_NAME, "email": HTML_EMAIL, "company": "<b>ACME</b>",
        "tickets": [{"id": "X-T1", "subject": "<script>alert(2)</script> router broken", "status": "open",
                     "priority": "high", "created_at": (now - timedelta(days=3)).isoformat(),
                     "url": "javascript:alert(3)"}],
        "activities": [{"id": "X-A1", "kind": "note", "at": (now - timedelta(days=1)).isoformat(),
                        "summary": "<img src=y onerror=alert(4)> promised to call back"}],
    }]
    path = data_dir / "html-customer.json"
    path.write_text(json.dumps(record))
    env = {**os.environ, "ASSIST_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "assist.cli", "crm", "import", str(path)], env=env, check=True,
                   capture_output=True)


@pytest.fixture
def page(browser):  # noqa: F811
    """A narrow (320 px) page: the sidebar must work at the width of a side panel."""
    context = browser.new_context(viewport={"width": 320, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def sign_in(target, token):
    """Enter the agent token in the sidebar's token form (page or frame)."""
    target.locator("[data-testid=token-input]").fill(token)
    target.locator("[data-testid=token-save]").click()
    target.locator("[data-testid=state][data-state=no-customer]").wait_for(state="attached")


def app_context(email, message, name="Customer"):
    """An appContext message shaped like Chatwoot's dashboard-app event."""
    return {"event": "appContext", "data": {
        "conversation": {"id": 42, "meta": {"channel": "Channel::WebWidget", "sender": {"email": email}},
                         "messages": [{"id": 1, "content": "Hello?", "message_type": 0},
                                      {"id": 2, "content": "Hi, how can I help?", "message_type": 1},
                                      {"id": 3, "content": message, "message_type": 0}]},
        "contact": {"id": 7, "name": name, "email": email, "phone_number": ""},
        "currentAgent": {"id": 1, "name": "Sam", "email": "sam@example.com"},
    }}


# -- the page and its headers ----------------------------------------------------------------

def test_sidebar_sends_a_strict_csp(server, help_desk):
    response = requests.get(server.url + "/sidebar", timeout=10)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert csp.endswith(f"frame-ancestors 'self' http://127.0.0.1:{help_desk}")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.text  # only <script type="module" src=...>


@pytest.mark.parametrize("name, status", [
    ("panel.js", 200), ("render.js", 200), ("api.js", 200), ("forms.js", 200), ("index.css", 200), ("sidebar.js", 200),
    ("icon.png", 200),
    ("manifest.json", 404), ("index.js", 404), ("..%2Fmanifest.json", 404), ("%2E%2E%2F%2E%2E%2Fpyproject.toml", 404),
])
def test_sidebar_serves_only_its_allow_list(client, name, status):
    response = client.get(f"/sidebar/static/{name}")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype in ("text/javascript", "text/css", "image/png")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_sidebar_origins_setting_is_parsed_strictly():
    assert origins_from_setting(" https://chat.example.com/, http://127.0.0.1:3000 ,, nonsense,"
                                "https://x.example/path, javascript:alert(1)") == [
        "https://chat.example.com", "http://127.0.0.1:3000"]
    assert content_security_policy([]).endswith("frame-ancestors 'self'")


# -- in the browser ---------------------------------------------------------------------------

def test_paste_a_message_and_see_suggestions(server, page):
    dialogs = collect_dialogs(page)
    page.goto(server.url + "/sidebar")
    page.wait_for_selector("[data-testid=state][data-state=not-configured]")
    sign_in(page, server.tokens["agent"])
    page.fill("[data-testid=customer-search]", MARIA)
    page.press("[data-testid=customer-search]", "Enter")
    page.wait_for_selector("[data-testid=state][data-state=ready]")
    page.fill("[data-testid=paste-box]", MARIA_SAYS)
    page.click("[data-testid=paste-submit]")
    page.wait_for_selector("[data-testid=suggestion]")
    page.wait_for_selector("[data-testid=state][data-state=ready]")
    assert page.inner_text("[data-testid=customer-name]") == "Maria Gonzalez"
    assert "contact about 'No connection every evening'" in page.inner_text("[data-testid=repeat-banner]")
    assert page.get_attribute("[data-testid=emotion]", "data-emotion") in ("frustrated", "angry")
    suggestions = page.locator("[data-testid=suggestion]")
    assert suggestions.count() >= 3
    assert all(suggestions.nth(i).get_attribute("data-phrase-id") for i in range(suggestions.count()))
    assert page.evaluate("document.body.dataset.requestId")
    # Narrow: nothing sticks out sideways at 320 px.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 320
    screenshot(page, "sidebar-paste", full_page=True)
    # Insert in a plain page has no reply box to type into: it copies and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    suggestions.first.locator("[data-action=insert]").click()
    page.wait_for_selector("[data-testid=toast]:has-text('copied to the clipboard')")
    assert page.evaluate("navigator.clipboard.readText()") == suggestions.first.locator(".suggestion-text").inner_text()
    # Alt+2 uses the second suggestion, from the keyboard alone.
    page.keyboard.press("Alt+2")
    page.wait_for_function("() => navigator.clipboard.readText().then((t) => t === "
                           "document.querySelectorAll('.suggestion-text')[1].textContent)")
    assert dialogs == []


def test_a_customer_named_like_html_is_shown_as_text(server, page):
    dialogs = collect_dialogs(page)
    page.goto(server.url + "/sidebar")
    sign_in(page, server.tokens["agent"])
    page.fill("[data-testid=customer-search]", HTML_EMAIL)
    page.press("[data-testid=customer-search]", "Enter")
    page.wait_for_selector("[data-testid=customer-name]")
    page.fill("[data-testid=paste-box]", "My router is broken again and nobody called me back.")
    page.click("[data-testid=paste-submit]")
    page.wait_for_selector("[data-testid=suggestion]")
    assert page.inner_text("[data-testid=customer-name]") == HTML_NAME
    panel = page.locator("#assist-panel")
    assert "<script>alert(2)</script> router broken" in panel.inner_text()
    assert panel.locator("img, script, b").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    screenshot(page, "sidebar-html-name", full_page=True)
    assert dialogs == []


def test_app_context_is_used_only_from_the_allowed_origin(server, help_desk, page):
    sidebar_url = server.url + "/sidebar"
    evil_url = f"http://localhost:{help_desk}/evil.html"  # another origin: localhost is not 127.0.0.1
    page.set_viewport_size({"width": 800, "height": 950})
    page.goto(f"http://127.0.0.1:{help_desk}/parent.html?sidebar={quote(sidebar_url)}&evil={quote(evil_url)}")
    sidebar = page.frame_locator("#sidebar")
    sign_in(sidebar, server.tokens["agent"])
    # The sidebar asked the help desk (and only it) for the conversation.
    received = page.evaluate("window.received")
    assert {"origin": server.url, "data": "chatwoot-dashboard-app:fetch-info"} in received

    # Another site framed in the same page posts a context: ignored.
    evil = page.frame(name="evil")
    evil.evaluate("(m) => parent.frames['sidebar'].postMessage(m, '*')",
                  app_context("james.whitaker@example.net", "Where is my refund?"))
    page.wait_for_timeout(1000)
    assert sidebar.locator("[data-testid=suggestion]").count() == 0
    assert sidebar.locator("[data-testid=state]").get_attribute("data-state") == "no-customer"
    assert "Connected as" in sidebar.locator("[data-testid=state]").inner_text()

    # The help desk itself posts it (Chatwoot sends a JSON string): used.
    page.evaluate("(m) => document.getElementById('sidebar').contentWindow.postMessage(m, '*')",
                  json.dumps(app_context(MARIA, MARIA_SAYS, name="Maria Gonzalez")))
    sidebar.locator("[data-testid=state][data-state=ready]").wait_for(state="attached")
    sidebar.locator("[data-testid=suggestion]").first.wait_for()
    assert sidebar.locator("[data-testid=customer-name]").inner_text() == "Maria Gonzalez"
    screenshot(page, "sidebar-in-chatwoot-frame")


def test_chatwoot_answering_fetch_info_fills_the_sidebar(server, help_desk, page):
    sidebar_url = server.url + "/sidebar"
    reply = quote(json.dumps(app_context(MARIA, MARIA_SAYS)))
    page.set_viewport_size({"width": 800, "height": 950})
    page.goto(f"http://127.0.0.1:{help_desk}/parent.html?sidebar={quote(sidebar_url)}&evil=about:blank"
              f"&reply={reply}")
    sidebar = page.frame_locator("#sidebar")
    # The context arrived before the token: it is kept and used once signed in.
    sidebar.locator("[data-testid=token-input]").fill(server.tokens["agent"])
    sidebar.locator("[data-testid=token-save]").click()
    sidebar.locator("[data-testid=suggestion]").first.wait_for()
    assert sidebar.locator("[data-testid=customer-name]").inner_text() == "Maria Gonzalez"


def test_a_wrong_token_says_so(server, page):
    page.goto(server.url + "/sidebar")
    page.fill("[data-testid=token-input]", "asa_not-a-real-token")
    page.click("[data-testid=token-save]")
    page.wait_for_selector("[data-testid=state][data-state=not-configured]:has-text('refused the token')")
    page.click("[data-testid=open-settings]")
    assert page.is_visible("[data-testid=token-input]")


@pytest.mark.parametrize("scheme, dark", [("light", False), ("dark", True)])
def test_follows_light_and_dark_mode_with_readable_contrast(server, browser, scheme, dark):  # noqa: F811
    context = browser.new_context(viewport={"width": 320, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(server.url + "/sidebar")
    page.locator("[data-testid=state]").wait_for(state="attached")
    background, text = page.evaluate("""() => {
        const luminance = (css) => {
            const [r, g, b] = css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
                v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const style = getComputedStyle(document.body);
        return [luminance(style.backgroundColor), luminance(style.color)];
    }""")
    context.close()
    assert (background < 0.2) is dark
    lighter, darker = max(background, text), min(background, text)
    assert (lighter + 0.05) / (darker + 0.05) >= 7  # WCAG AAA for body text
