"""`python -m fakes.serve --port 5001 --app-url http://localhost:5000`: the local fakes as one HTTP process.

The Shopify sandbox answers at the root (shops are told apart by the Host header); other fakes mount under a
path prefix in MOUNTS (e.g. "/stripe", "/apruve") so one port serves them all.
"""

from __future__ import annotations

import argparse
import os

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from fakes.shopify import Sandbox, SandboxConfig


def _mounts(args) -> dict:
    """Prefix -> WSGI app for the other fakes. Add new fakes here (they import lazily, so a missing one is skipped)."""
    mounts: dict = {}
    for prefix, module, factory in (
        ("/stripe", "fakes.stripe", "make_app"),
        ("/apruve", "fakes.apruve", "make_app"),
        ("/woocommerce", "fakes.woocommerce", "make_app"),  # stores at /woocommerce/<store> (site URL)
    ):
        try:
            mod = __import__(module, fromlist=[factory])
        except ModuleNotFoundError:
            continue
        mounts[prefix] = getattr(mod, factory)(app_url=args.app_url)
    return mounts


def build(args) -> tuple[Sandbox, object]:
    """The sandbox and the combined WSGI app."""
    sandbox = Sandbox(
        SandboxConfig(
            client_id=os.environ.get("SHOPIFY_API_KEY", "wholesync-dev-client-id"),
            client_secret=os.environ.get("SHOPIFY_API_SECRET", "wholesync-dev-client-secret"),
            app_url=args.app_url,
            restore_rate=args.restore_rate,
            maximum_available=args.maximum_available,
        )
    )
    return sandbox, DispatcherMiddleware(sandbox, _mounts(args))


def seed_demo(sandbox: Sandbox) -> None:
    """The demo shops `make run` seeds in the database (portal/demo.py), with the wholesaler's demo catalog."""
    from portal.demo import RETAILER_SHOPS, WHOLESALER_SHOP, sandbox_token, seed_sandbox_catalog

    for shop in (WHOLESALER_SHOP, *RETAILER_SHOPS):
        sandbox.add_shop(shop, token=sandbox_token(shop))
    seed_sandbox_catalog(sandbox)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--app-url", default="http://localhost:5000", help="where webhooks for app topics go")
    parser.add_argument("--restore-rate", type=float, default=100.0)
    parser.add_argument("--maximum-available", type=float, default=2000.0)
    parser.add_argument("--no-demo", action="store_true", help="do not seed the demo shops of portal/demo.py")
    parser.add_argument("--soak-controls", action="store_true", help="add the soak test's routes (faults.py)")
    args = parser.parse_args(argv)
    sandbox, app = build(args)
    if args.soak_controls:
        from fakes.shopify.faults import install

        install(sandbox)
    if not args.no_demo:
        seed_demo(sandbox)
    print(f"Shopify sandbox on http://{args.host}:{args.port} (webhooks to {args.app_url})", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
