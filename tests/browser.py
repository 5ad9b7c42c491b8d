"""Shared Playwright helpers: Debian's chromium, headless, optionally with the extension loaded.

Browser tests fail (never skip) when chromium is missing, with the command
that installs it: `make test` installs it, and a skipped browser test would
let a broken sidebar pass CI. Playwright's own browser downloads are never
used (`executable_path` points at the system chromium).

Test modules import the fixtures they use from here, e.g.
``from .browser import browser, playwright  # noqa: F401``.
"""

import re
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# No sandbox: CI runs as root in a container. The rest keeps the browser quiet and offline.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
INSTALL_HINT = ("chromium is not installed (no `chromium` on PATH). Browser tests need Debian's chromium: "
                "run `make test` (it installs it), or `sudo apt-get update && sudo apt-get install -y chromium`. "
                "Do not use `playwright install`.")


def chromium_path():
    """The system chromium, or a test failure saying how to install it."""
    path = shutil.which("chromium")
    if not path:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


def sync_api():
    """Playwright's sync API, or a test failure saying how to install it."""
    try:
        from playwright import sync_api as api
    except ImportError:
        pytest.fail("Playwright for Python is missing: run `make test` (it installs the test extra, "
                    "`pip install -e '.[test]'`).", pytrace=False)
    return api


# Each test module imports the fixtures, so pytest sees one session fixture per
# module; a second sync_playwright() in the same thread is an error, so they
# share one driver, stopped when the last module's fixture is torn down.
_DRIVER = {"driver": None, "users": 0}


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the session, shared by every module that uses it."""
    chromium_path()
    if not _DRIVER["users"]:
        _DRIVER["driver"] = sync_api().sync_playwright().start()
    _DRIVER["users"] += 1
    yield _DRIVER["driver"]
    _DRIVER["users"] -= 1
    if not _DRIVER["users"]:
        _DRIVER["driver"].stop()
        _DRIVER["driver"] = None


@pytest.fixture(scope="session")
def browser(playwright):
    """Headless chromium without extensions, for pages on their own."""
    launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
    yield launched
    launched.close()


def extension_context(playwright, user_data_dir, extension=EXTENSION, viewport=None):
    """A persistent headless context with ``extension`` loaded unpacked (extensions need one)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=chromium_path(), headless=True,
        viewport=viewport or {"width": 1280, "height": 800},
        args=[*LAUNCH_ARGS, f"--disable-extensions-except={extension}", f"--load-extension={extension}"],
    )


def extension_id(context, timeout=15.0):
    """The loaded extension's id, read from its service worker's URL."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for worker in context.service_workers:
            found = re.match(r"chrome-extension://([a-p]{32})/", worker.url)
            if found:
                return found.group(1)
        try:
            context.wait_for_event("serviceworker", timeout=1000)
        except sync_api().TimeoutError:
            pass
    pytest.fail("the extension's service worker never started: is extension/manifest.json valid?", pytrace=False)


def screenshot(page, name, full_page=False):
    """Save ``page`` as tests/artifacts/<name>.png (kept after the run for people to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def collect_dialogs(page):
    """Record every dialog (alert, confirm) ``page`` opens, dismissing it; returns the live list."""
    seen = []

    def on_dialog(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


# -- the extension -------------------------------------------------------------------------

def extension_copy(directory, origins=("http://127.0.0.1/*",)):
    """A copy of extension/ whose manifest already grants ``origins``.

    The real extension asks for the backend's host permission in the options
    page (chrome.permissions.request); headless chromium has no way to click
    "Allow" on that prompt. Granting it in the copy's manifest makes the same
    request resolve at once, so the tests still run the options page's code.
    """
    import json

    target = Path(directory) / "extension"
    shutil.copytree(EXTENSION, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["host_permissions"] = sorted(set(manifest.get("host_permissions", [])) | set(origins))
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target


def service_worker(context):
    """The extension's service worker (started by extension_id)."""
    for worker in context.service_workers:
        if worker.url.startswith("chrome-extension://"):
            return worker
    pytest.fail("the extension's service worker is not running", pytrace=False)


def tab_id(context, page):
    """Chrome's tab id for a Playwright ``page``, found by its (unique) URL."""
    found = service_worker(context).evaluate(
        "async (url) => (await chrome.tabs.query({})).filter((t) => t.url === url).map((t) => t.id)", page.url)
    assert len(found) == 1, f"expected one tab at {page.url}, found {found}"
    return found[0]


def open_panel(context, extension, tab, width=360, height=800):
    """The side panel as a normal tab pinned to ``tab`` (the panel page supports ?tabId= for this)."""
    panel = context.new_page()
    panel.set_viewport_size({"width": width, "height": height})
    panel.goto(f"chrome-extension://{extension}/sidepanel/index.html?tabId={tab}")
    return panel


def panel_state(panel):
    """The panel's current state name (data-state of [data-testid=state])."""
    return panel.get_attribute("[data-testid=state]", "data-state")


def wait_for_state(panel, state, timeout=15000):
    """Wait until the panel shows ``state``; fails with the state it is stuck in."""
    try:
        panel.wait_for_selector(f"[data-testid=state][data-state={state}]", state="attached", timeout=timeout)
    except sync_api().TimeoutError:
        text = panel.inner_text("body")[:500]
        pytest.fail(f"panel never reached {state!r}; it is {panel_state(panel)!r}: {text}", pytrace=False)


def side_by_side(page, left, right, out):
    """Compose two PNG screenshots side by side into ``out`` with the browser itself (no Pillow)."""
    import base64

    sources = [base64.b64encode(Path(p).read_bytes()).decode() for p in (left, right)]
    sizes = page.evaluate(
        """async (sources) => Promise.all(sources.map((s) => new Promise((resolve) => {
            const img = new Image(); img.onload = () => resolve([img.width, img.height]);
            img.src = 'data:image/png;base64,' + s; })))""", sources)
    width, height = sum(w for w, _ in sizes) + 1, max(h for _, h in sizes)
    page.set_viewport_size({"width": width, "height": height})
    page.set_content(
        "<body style='margin:0;display:flex;background:#c8ccd2;gap:1px'>"
        + "".join(f"<img src='data:image/png;base64,{s}'>" for s in sources) + "</body>")
    page.screenshot(path=str(out))
    return out
