"""The Chrome extension's files: a valid MV3 manifest with minimal permissions, no remote
code, no HTML injection, a clean package; and that it really loads in chromium."""

import http.server
import json
import re
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from .browser import extension_context, extension_copy, extension_id, playwright  # noqa: F401
from .live import free_port

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())
SCRIPTS = sorted(EXTENSION.rglob("*.js")) + sorted((ROOT / "assist" / "static" / "sidebar").glob("*.js"))
PAGES = sorted(EXTENSION.rglob("*.html")) + [ROOT / "assist" / "templates" / "sidebar.html"]



def load_pack():
    import importlib.util

    spec = importlib.util.spec_from_file_location("extension_pack", EXTENSION / "pack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- manifest -------------------------------------------------------------------------------

def test_manifest_is_mv3_with_minimal_permissions():
    assert MANIFEST["manifest_version"] == 3
    assert sorted(MANIFEST["permissions"]) == ["activeTab", "contextMenus", "scripting", "sidePanel", "storage"]
    # Hosts are asked for at run time (backend in the options page, help desks one by one).
    assert "host_permissions" not in MANIFEST
    assert MANIFEST["optional_host_permissions"] == ["https://*/*", "http://*/*"]
    # Content scripts are registered dynamically, only where the agent allowed them.
    assert "content_scripts" not in MANIFEST
    assert "web_accessible_resources" not in MANIFEST
    # The default extension CSP (no remote code, no eval) is kept.
    assert "content_security_policy" not in MANIFEST
    assert MANIFEST["background"] == {"service_worker": "service-worker.js", "type": "module"}
    assert MANIFEST["side_panel"]["default_path"] == "sidepanel/index.html"


def test_manifest_commands_fit_chromes_limit():
    commands = MANIFEST["commands"]
    with_keys = [name for name, c in commands.items() if "suggested_key" in c]
    assert len(with_keys) <= 4  # Chrome ignores suggested keys beyond four
    assert commands["suggest-selection"]["description"] == "Suggest for selection"
    assert {"insert-1", "insert-2", "insert-3"} <= set(commands)


def test_manifest_names_only_existing_files():
    names = load_pack().referenced_files(MANIFEST)
    assert names and all((EXTENSION / name).is_file() for name in names)


# -- no remote code, no HTML injection --------------------------------------------------------

FORBIDDEN = {
    "innerHTML": re.compile(r"\binnerHTML\b"),
    "outerHTML": re.compile(r"\bouterHTML\b"),
    "insertAdjacentHTML": re.compile(r"insertAdjacentHTML"),
    "document.write": re.compile(r"document\.write"),
    "eval": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"new\s+Function\s*\("),
    "string setTimeout": re.compile(r"setTimeout\(\s*['\"`]"),
    "remote import": re.compile(r"""(import\s*\(?|from)\s*['"]https?:"""),
    "importScripts": re.compile(r"importScripts\s*\("),
}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_never_inject_html_or_load_remote_code(script):
    text = script.read_text()
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, f"{script.name} uses {found}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_load_only_local_scripts(page):
    text = page.read_text()
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert scripts, "every page runs a module script"
    for tag in scripts:
        src = re.search(r'src="([^"]+)"', tag)
        assert src, f"inline script in {page.name}: {tag}"
        assert not re.match(r"(https?:)?//", src.group(1)), f"remote script in {page.name}"
    assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {page.name}"
    assert not re.search(r"""(href|src)=["'](https?:)?//""", text), f"remote resource in {page.name}"


def test_the_token_stays_out_of_content_scripts():
    lines = (EXTENSION / "content-script.js").read_text().splitlines()
    content = "\n".join(line for line in lines if not line.strip().startswith("//"))  # code, not comments
    assert "chrome.storage" not in content and "token" not in content.lower()
    assert "fetch(" not in content  # only the panel and service worker talk to the backend


# -- packaging ------------------------------------------------------------------------------

def test_pack_builds_a_reproducible_zip_of_runtime_files_only(tmp_path):
    pack = load_pack()
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    pack.main(["--out", str(first)])
    pack.main(["--out", str(second)])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert json.loads(archive.read("manifest.json")) == MANIFEST
    assert names == sorted(names)
    expected = {
        "manifest.json", "service-worker.js", "content-script.js", "site-adapters.js",
        "sidepanel/index.html", "sidepanel/index.js", "sidepanel/panel.js", "sidepanel/api.js",
        "sidepanel/render.js", "sidepanel/forms.js", "sidepanel/index.css", "options/index.html", "options/index.js",
        "options/connection.js", "options/index.css",
        "icons/icon-16.png", "icons/icon-32.png", "icons/icon-48.png", "icons/icon-128.png",
    }
    assert set(names) == expected
    assert not any(n.endswith((".py", ".md")) for n in names)


# -- it loads in chromium ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded(playwright, tmp_path_factory):  # noqa: F811
    """The extension loaded in headless chromium: (context, extension id)."""
    base = tmp_path_factory.mktemp("extension")
    # The one thing mocked: the host permission for 127.0.0.1 is granted in a copy's manifest,
    # because headless chromium cannot click "Allow" on chrome.permissions.request's prompt.
    copy = extension_copy(base)
    context = extension_context(playwright, base / "profile", extension=copy)
    yield context, extension_id(context)
    context.close()


@pytest.fixture(scope="module")
def not_assist_server(tmp_path_factory):
    """A plain static web server: something answers, but it is not assist."""
    root = tmp_path_factory.mktemp("static")
    (root / "index.html").write_text("<p>hello</p>")
    (root / "desk.html").write_text(DESK_PAGE)
    handler = partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# A help desk assist has no built-in adapter for: a thread, a sidebar with the email, and a
# rich-text (contenteditable) reply box. The customer's second message arrives later, with a phone.
DESK_PAGE = """<!doctype html><meta charset="utf-8"><title>Desk</title>
<div class="thread">
  <p class="msg from-customer">My order NW-77 has not arrived.</p>
  <p class="msg from-agent">Let me check.</p>
</div>
<aside><dl><dt>Email</dt><dd class="who">dana@example.com</dd></dl></aside>
<div class="reply" contenteditable="true">Hi Dana,</div>
<script>
  setTimeout(() => {
    const p = document.createElement('p');
    p.className = 'msg from-customer';
    p.textContent = 'Still nothing today, where is it? Call me on +1 415-555-0199.';
    document.querySelector('.thread').append(p);
  }, 300);
</script>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_panel_loads_and_asks_to_be_set_up(loaded):
    context, ext = loaded
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"chrome-extension://{ext}/sidepanel/index.html")
    page.wait_for_selector("[data-testid=state][data-state=not-configured]")
    assert page.is_visible("[data-testid=open-settings]")
    assert page.is_visible("[data-testid=paste-box]")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 320
    assert errors == []
    page.close()


@pytest.mark.parametrize("url, result, words", [
    ("not a url at all", "invalid", "not a URL"),
    ("http://127.0.0.1:{closed}", "unreachable", "Unreachable"),
    ("{static}", "not-assist", "not an assist backend"),
])
def test_test_connection_says_what_is_wrong(loaded, not_assist_server, url, result, words):
    context, ext = loaded
    page = context.new_page()
    page.goto(f"chrome-extension://{ext}/options/index.html")
    page.fill("#backend-url", url.format(closed=free_port(), static=not_assist_server))
    page.fill("#token", "asa_whatever")
    page.click("[data-testid=save-test]")
    out = page.wait_for_selector(f"[data-testid=connection-result][data-result={result}]", timeout=10000)
    assert words in out.inner_text()
    page.close()


ADAPTER_CASES = [
    ("http://127.0.0.1:8400/demo", "assist-demo"),
    ("http://127.0.0.1:8400/demo?c=maria%40example.com", "assist-demo"),
    ("http://127.0.0.1:8401/demo", None),
    ("https://acme.zendesk.com/agent/tickets/12", "zendesk"),
    ("https://zendesk.com.evil.example/agent/tickets/12", None),
    ("https://acme.freshdesk.com/a/tickets/3", "freshdesk"),
    ("https://app.hubspot.com/help-desk/123/view/1", "hubspot"),
    ("https://mail.google.com/mail/u/0/#inbox", "gmail"),
    ("https://desk.example.com/tickets/9", "custom-desk"),
]


def test_site_adapters_match_the_right_pages(loaded):
    context, ext = loaded
    page = context.new_page()
    page.goto(f"chrome-extension://{ext}/sidepanel/index.html")
    found = page.evaluate(
        """async (urls) => {
            const m = await import('/site-adapters.js');
            const custom = m.validateAdapter({name: 'Desk', matches: 'https://desk.example.com/tickets/*',
                                              customerMessage: '.msg'}).adapter;
            const all = [custom, ...m.BUILTIN_ADAPTERS];
            return urls.map((u) => m.adapterForUrl(all, u, 'http://127.0.0.1:8400')?.id ?? null);
        }""",
        [url for url, _ in ADAPTER_CASES],
    )
    assert found == [expected for _, expected in ADAPTER_CASES]
    errors = page.evaluate(
        """async () => {
            const m = await import('/site-adapters.js');
            return [m.validateAdapter({name: '', matches: 'https://x.example/*', customerMessage: '.m'}).field,
                    m.validateAdapter({name: 'X', matches: 'ftp://x', customerMessage: '.m'}).field,
                    m.validateAdapter({name: 'X', matches: 'https://x.example/*'}).field];
        }""")
    assert errors == ["name", "matches", "customerMessage"]
    page.close()


def test_panel_shows_unreachable_with_retry(loaded):
    context, ext = loaded
    page = context.new_page()
    page.goto(f"chrome-extension://{ext}/sidepanel/index.html")
    page.evaluate("(url) => chrome.storage.local.set({backendUrl: url, token: 'asa_x'})",
                  f"http://127.0.0.1:{free_port()}")
    page.wait_for_selector("[data-testid=state][data-state=unreachable]")
    assert "Retrying automatically" in page.inner_text("[data-testid=state]")
    page.click("[data-testid=retry]")
    page.wait_for_selector("[data-testid=state][data-state=unreachable]")
    assert page.is_visible("[data-testid=retry]")
    page.evaluate("chrome.storage.local.remove(['backendUrl', 'token'])")
    page.wait_for_selector("[data-testid=state][data-state=not-configured]")
    page.close()


def test_card_rendering_states_and_text_only(loaded):
    context, ext = loaded
    page = context.new_page()
    page.goto(f"chrome-extension://{ext}/sidepanel/index.html")
    found = page.evaluate(
        """async () => {
            const r = await import('/sidepanel/render.js');
            const {Panel} = await import('/sidepanel/panel.js');
            const card = {status: 'ok', stale: true, customer: {name: '<i>Ann</i>'},
                          repeat_contact: {count: 3, since: '2026-11-02',
                                           related_ticket: {subject: 'No connection every evening'}},
                          open_tickets: [{id: 1, subject: 'x', url: 'javascript:alert(1)'}],
                          follow_ups_due: [{due_at: '2026-11-21T10:00:00+00:00', text: 'Call back', overdue: true}],
                          already_told_us: [{kind: 'order_number', value: 'NW-1'}]};
            const box = document.createElement('div');
            box.append(...r.renderCard(card, {email: 'a@example.com'}));
            return {
                banner: box.querySelector('[data-testid=repeat-banner]').textContent,
                name: box.querySelector('[data-testid=customer-name]').textContent,
                stale: box.querySelector('[data-testid=stale-badge]')?.textContent,
                italics: box.querySelectorAll('i').length,
                links: box.querySelectorAll('a').length,
                followUp: box.querySelector('[data-testid=follow-ups]').textContent,
                ordinals: [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(r.ordinal),
                states: [{stale: true, status: 'ok'}, {status: 'ok'}, {status: 'not_found'}, null]
                    .map((c) => Panel.prototype.stateName.call({card: c})),
            };
        }""")
    assert found["banner"] == "3rd contact about 'No connection every evening' since 2 Nov"
    assert found["name"] == "<i>Ann</i>" and found["italics"] == 0 and found["links"] == 0
    assert found["stale"] == "CRM data may be out of date"
    assert found["followUp"] == "Overdue since 21 Nov: Call back"
    assert found["ordinals"] == ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    assert found["states"] == ["stale", "ready", "no-customer", "no-customer"]
    page.close()


def test_a_custom_adapter_follows_a_new_help_desk(loaded, not_assist_server):
    """Options form -> chrome.storage.sync -> content script registered -> context in the session store."""
    context, ext = loaded
    port = not_assist_server.rsplit(":", 1)[1]
    options = context.new_page()
    options.goto(f"chrome-extension://{ext}/options/index.html")
    options.fill("#adapter-name", "Dana's desk")
    options.fill("#adapter-matches", f"http://127.0.0.1:{port}/desk*")
    options.fill("#adapter-customerMessage", ".thread .msg.from-customer")
    options.fill("#adapter-conversation", ".thread")
    options.fill("#adapter-email", ".who")
    options.fill("#adapter-replyBox", ".reply")
    options.click("#custom-adapter button[type=submit]")
    options.wait_for_selector("#custom-result[data-result=ok]")
    assert options.is_visible("[data-adapter=custom-dana-s-desk]")
    options.wait_for_timeout(300)  # the service worker registers the content script

    desk = context.new_page()
    desk.goto(f"{not_assist_server}/desk.html")
    worker = context.service_workers[0]
    tab = worker.evaluate("async (url) => (await chrome.tabs.query({url})).map((t) => t.id)[0]",
                          f"{not_assist_server}/desk.html")
    read = "async (key) => (await chrome.storage.session.get(key))[key] || null"
    key = f"context:{tab}"
    for _ in range(100):
        stored = worker.evaluate(read, key)
        if stored and stored["message"].startswith("Still nothing"):
            break
        desk.wait_for_timeout(50)
    assert stored["site"] == "Dana's desk"
    assert stored["message"] == "Still nothing today, where is it? Call me on +1 415-555-0199."
    assert stored["conversation"] == [{"role": "customer", "text": "My order NW-77 has not arrived."}]
    assert stored["customer"] == {"email": "dana@example.com"}
    assert stored["candidates"] == {"emails": ["dana@example.com"], "phones": ["+1 415-555-0199"]}
    assert stored["replyBox"] is True

    # The panel asks the content script to insert: at the end of the rich-text box, with a space.
    answer = options.evaluate(
        "(tab) => chrome.tabs.sendMessage(tab, {type: 'insert-text', target: 'content-script',"
        " data: {text: 'I am sorry it is late.'}})", tab)
    assert answer == {"inserted": True}
    assert desk.inner_text(".reply") == "Hi Dana, I am sorry it is late."
    options.evaluate("chrome.storage.sync.remove('customAdapters')")
    desk.close()
    options.close()
