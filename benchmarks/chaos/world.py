"""The soak's trading world, set up from the outside as merchants would: the wholesaler signs in, connects its store
(authorization-code grant: an expiring token) and its Stripe account; retailers open the app (token exchange) and
accept invitations; billing is switched on with the CLI and each retailer saves a card on Stripe's hosted page.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from benchmarks.chaos.faults import reopen_app
from benchmarks.chaos.processes import ROOT, Cluster

DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo-wholesaler"  # portal/demo.py's login
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A signed-in dashboard session (cookies, CSRF tokens read from each form page)."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.http = httpx.Client(base_url=cluster.web_url, timeout=30.0)

    def csrf(self, path: str) -> str:
        page = self.http.get(path)
        page.raise_for_status()
        found = CSRF.search(page.text)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}")
        return found.group(1)

    def login(self, email: str, password: str) -> None:
        token = self.csrf("/login")
        resp = self.http.post("/login", data={"csrf_token": token, "email": email, "password": password})
        if resp.status_code != 302:
            raise RuntimeError(f"sign-in as {email} failed: HTTP {resp.status_code}")

    def connect_store(self, shop: str) -> None:
        """ "Connect your Shopify store": our grant redirect, the store's (auto-approved) grant screen, the callback."""
        start = self.http.get("/shopify/auth", params={"shop": shop})
        if start.status_code != 302:
            raise RuntimeError(f"/shopify/auth answered {start.status_code}")
        grant = urlsplit(start.headers["location"])  # https://{shop}/admin/oauth/authorize?...: the sandbox serves it
        screen = httpx.get(f"{self.cluster.sandbox_url}{grant.path}?{grant.query}", headers={"Host": shop}, timeout=30)
        if screen.status_code != 302:
            raise RuntimeError(f"the grant screen answered {screen.status_code}: {screen.text[:200]}")
        back = urlsplit(screen.headers["location"])
        done = self.http.get(f"{back.path}?{back.query}")
        if done.status_code != 302:
            raise RuntimeError(f"the OAuth callback answered {done.status_code}: {done.text[:300]}")

    def connect_stripe(self, secret: str) -> None:
        token = self.csrf("/billing/gateway")
        resp = self.http.post(
            "/billing/gateway", data={"csrf_token": token, "gateway": "stripe", "account_ref": "", "secret": secret}
        )
        if resp.status_code != 302:
            raise RuntimeError(f"saving the Stripe account answered {resp.status_code}")


def cli(cluster: Cluster, *args: str, attempts: int = 5) -> str:
    """Run `flask ARGS` as an operator would, again after a failure (SQLite refuses writers while the workers
    write: "database is locked"); returns its last output line."""
    for attempt in range(attempts):
        done = cluster.flask(*args, check=False)
        if done.returncode == 0:
            return done.stdout.strip().splitlines()[-1]
        time.sleep(1 + attempt)
    raise RuntimeError(f"flask {' '.join(args)} failed: {done.stderr.strip()[-500:]}")


def cli_json(cluster: Cluster, *args: str) -> dict:
    return json.loads(cli(cluster, *args))


def operator(cluster: Cluster, *commands: list[str]) -> list[str]:
    """Run `flask` commands as an operator would, in one process (benchmarks/chaos/operator.py); their last output
    lines. A command starting with "?" may fail."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.chaos.operator"], input=json.dumps(commands),
                          env=cluster.env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-1500:])
    return json.loads(done.stdout)


def open_store(cluster: Cluster, shop: str) -> None:
    """A new retailer's store exists and its merchant opens the app (install by token exchange)."""
    httpx.post(f"{cluster.sandbox_url}/_sandbox/shops", json={"shop": shop}, timeout=10).raise_for_status()
    status = reopen_app(cluster, shop)
    if status != 200:
        raise RuntimeError(f"opening the app in {shop} answered {status}")


def add_retailers(cluster: Cluster, reader, shops: list[str], wholesaler_id: int, price_list_id: int) -> None:
    """New retailers: their stores open the app at once, then each accepts an invitation from the wholesaler."""
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda shop: open_store(cluster, shop), shops))
    invite = ["partners", "invite", str(wholesaler_id), "--price-list", str(price_list_id)]
    codes = [json.loads(line)["invite_code"] for line in operator(cluster, *[invite for _ in shops])]
    accepts = []
    for shop, code in zip(shops, codes, strict=True):
        retailer = reader.sql("SELECT organization_id FROM connection WHERE address = :a AND role = 'store'", a=shop)
        accepts.append(["partners", "accept", "--", code, str(retailer[0][0])])
    operator(cluster, *accepts)


def save_card(cluster: Cluster, link: str) -> None:
    """The retailer follows the card link to Stripe's hosted page and saves a card (Stripe tells us by webhook)."""
    page = urlsplit(link)
    url = f"{cluster.sandbox_url}{page.path}"
    httpx.get(url, timeout=60).raise_for_status()
    saved = httpx.post(url, data={"number": "4242424242424242"}, timeout=60)
    if saved.status_code != 303:
        raise RuntimeError(f"Stripe's hosted page answered {saved.status_code}")
