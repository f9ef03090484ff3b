"""The WooCommerce sandbox: stand-in stores speaking REST API wc/v3 with WooCommerce's auth, limits and errors.

`make_app(app_url=...)` is what fakes/serve.py mounts under /woocommerce; tests build a WooSandbox directly.
"""

from fakes.woocommerce.app import WooSandbox
from fakes.woocommerce.state import Store, WPError
from fakes.woocommerce.webhooks import signature


def make_app(app_url: str | None = None) -> WooSandbox:
    """The sandbox for `make run`: webhooks delivered as they queue, http:// wc-auth callbacks allowed (local)."""
    return WooSandbox(auto_deliver=True, allow_http_callbacks=True)


__all__ = ["Store", "WPError", "WooSandbox", "make_app", "signature"]
