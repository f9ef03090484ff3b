"""Fixtures for the newcomer's journeys: the Shopify sandbox and the browser fixtures (live server, Chromium)."""

from tests.browser.conftest import live_server, page  # noqa: F401
from tests.support.sandbox import sandbox  # noqa: F401
