"""The sandbox admin's app page: frames the embedded app at its App URL with a session token it mints (as Shopify's
admin does), and serves a stand-in for App Bridge's script whose `shopify.idToken()` asks this page for a new one.

The app then runs the real token exchange against the sandbox's OAuth endpoint when it has no usable token.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify.admin.views import ROOT, _page, _same_origin, _shop

APP_HANDLE = "wholesync"

# App Bridge's part that the app uses: `shopify.idToken()`. The real script asks the admin (its parent frame) over
# postMessage; so does this one, and the sandbox admin page answers with a token minted by the sandbox.
APP_BRIDGE_STAND_IN = """(function () {
  var admin = new URL(document.currentScript.src).origin, pending = {}, seq = 0;
  window.addEventListener("message", function (e) {
    if (e.origin !== admin || !e.data || e.data.type !== "sandbox:id-token") { return; }
    var done = pending[e.data.id]; delete pending[e.data.id];
    if (done) { e.data.token ? done[0](e.data.token) : done[1](new Error("no session token")); }
  });
  window.shopify = { idToken: function () {
    return new Promise(function (resolve, reject) {
      var id = ++seq; pending[id] = [resolve, reject];
      window.parent.postMessage({ type: "sandbox:id-token-request", id: id }, admin);
      setTimeout(function () { if (pending[id]) { delete pending[id]; reject(new Error("timeout")); } }, 5000);
    });
  } };
})();
"""


def app_page(sandbox, request: Request, shop: str) -> Response:
    """The app inside the sandbox admin: an iframe on the App URL with `shop`, `host`, `embedded` and `id_token`."""
    state = _shop(sandbox, shop)
    host = base64.urlsafe_b64encode(f"{request.host}{ROOT}/{shop}".encode()).decode().rstrip("=")
    query = {"shop": shop, "host": host, "embedded": "1", "id_token": sandbox.session_token(shop)}
    tab = request.args.get("tab")
    if tab:
        query["tab"] = tab
    app_url = sandbox.config.app_url.rstrip("/")
    return _page("app.html", shop=state, src=f"{app_url}/shopify?{urlencode(query)}", app_origin=app_url)


def session_token(sandbox, request: Request, shop: str) -> Response:
    """A fresh session token for the framed app (the admin page's answer to App Bridge's idToken())."""
    _shop(sandbox, shop)
    if not _same_origin(request):
        return Response("Cross-site request refused.", status=403)
    return Response(sandbox.session_token(shop), content_type="text/plain")


def app_bridge(sandbox, request: Request) -> Response:
    """The App Bridge stand-in script (SHOPIFY_APP_BRIDGE_URL points the app at it under `make run`)."""
    return Response(APP_BRIDGE_STAND_IN, content_type="application/javascript")


RULES = [
    Rule(f"{ROOT}/<shop>/apps/{APP_HANDLE}", endpoint=app_page, methods=["GET"]),
    Rule(f"{ROOT}/<shop>/apps/{APP_HANDLE}/session_token", endpoint=session_token, methods=["POST"]),
    Rule("/_sandbox/app-bridge.js", endpoint=app_bridge, methods=["GET"]),
]
