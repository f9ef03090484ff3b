"""Browser fixtures: the app as a real HTTP server in a thread, the Shopify sandbox, and headless Debian Chromium.

Tests here are marked `browser`; they skip only when Chromium is missing AND REQUIRE_BROWSER is unset.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.sandbox import sandbox  # noqa: F401 - the shared Shopify sandbox fixture

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install -y chromium)")
    found = shutil.which("chromium")
    if found:
        return found
    pytest.skip("Chromium is not installed (apt-get install -y chromium); set REQUIRE_BROWSER=1 to make this fail")


@pytest.fixture
def live_server(app):
    """The app served over HTTP on 127.0.0.1 by werkzeug in a thread; cookies work without TLS here."""
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page():
    """A fresh page in headless Chromium."""
    from playwright.sync_api import sync_playwright

    executable = _chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
