"""Every page a signed-in wholesaler can reach, and every form on those pages, answers odd input with a page or a
clear refusal, never a server error: odd query values on every GET route, odd values in every field of every POST
form found on the pages (as a visitor typing into them would send)."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import csrf_token

# What people and scripts type: a superscript digit, a number beyond any integer column, a negative, a float
# overflow, not-a-number, a NUL byte, markup, blank, and a long non-ASCII text.
ODD = ["²", "9" * 40, "-1", "1e309", "NaN", "x\x00y", "<script>alert(1)</script>", "", "\u210c" * 300]
QUERY = {
    name: "²"
    for name in ("page", "q", "status", "run", "job", "action", "record_type", "stuck", "day", "shop", "code", "sku")
} | {"day": "9999-99-99", "run": "9" * 40}
# Routes a browser session does not reach this way: signed endpoints of the platforms, the sandbox, the app's
# embedded pages (session tokens) and the log-out button (it would end the session the walk needs).
OUTSIDE = ("/static", "/webhooks", "/shopify", "/fulfillment-service", "/_sandbox", "/woocommerce/callback", "/logout")


class _Forms(HTMLParser):
    """The POST forms of a page: action and their fields with the values the page put in them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "files": [], "typed": []}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form["files"].append(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                self._form["fields"][a["name"]] = a.get("value", "")
                if a["name"] != "csrf_token":
                    self._form["typed"].append(a["name"])
        elif tag == "textarea":
            self._form["fields"][a["name"]] = ""
            self._form["typed"].append(a["name"])
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and self._select not in self._form["fields"]:
            self._form["fields"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _ids(world) -> dict[str, int]:
    return {
        "order_id": world.orders[0].id,
        "partnership_id": world.partnership.id,
        "connection_id": world.sor.id,
        "product_id": world.products[0].id,
        "organization_id": world.org.id,
    }


def _get_pages(app, world) -> list[str]:
    ids = _ids(world)
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(OUTSIDE):
            continue
        values = {name: ids.get(name, 1) for name in rule.arguments}
        try:
            pages.append(rule.build(values, append_unknown=False)[1])
        except Exception:  # a converter this walk cannot fill (e.g. a code string): not a page of this world
            continue
    return sorted(set(pages))


def test_every_page_answers_odd_query_values_without_a_server_error(app, client, signed_in):
    pages = _get_pages(app, signed_in)
    assert len(pages) > 20  # the walk reaches the dashboard's pages, not a handful
    broken = []
    for path in pages:
        answer = client.get(f"{path}?{urlencode(QUERY)}")
        if answer.status_code >= 500:
            broken.append((path, answer.status_code))
    assert broken == []


def _post_every_form(client, pages: list[str], odd: str) -> tuple[set, list]:
    """Fill every text field of every POST form on `pages` with `odd` and send it; the forms posted and the answers
    that were server errors (or raised out of the app)."""
    broken, posted = [], set()
    for path in pages:
        page = client.get(path)
        if page.status_code != 200 or "html" not in (page.content_type or ""):
            continue
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        for form in parser.forms:
            action = urlsplit(form["action"]).path or path
            if action.startswith(OUTSIDE) or (action, tuple(form["typed"])) in posted:
                continue
            posted.add((action, tuple(form["typed"])))
            data = dict(form["fields"]) | {name: odd for name in form["typed"]}
            data["csrf_token"] = csrf_token(client.get(path).get_data(as_text=True))
            for name in form["files"]:
                data[name] = (io.BytesIO(odd.encode("utf-8", "surrogatepass") + b"\xff,\n"), "odd.csv")
            try:
                status = client.post(action, data=data, content_type="multipart/form-data").status_code
            except Exception as exc:  # raised out of the app: a server error for a real visitor
                status = repr(exc)[:80]
            if not isinstance(status, int) or status >= 500:
                broken.append((action, sorted(form["typed"]), status))
    return posted, broken


@pytest.mark.parametrize("odd", ODD, ids=lambda v: repr(v)[:12])
def test_every_form_answers_odd_values_in_every_field_without_a_server_error(app, client, signed_in, odd):
    posted, broken = _post_every_form(client, _get_pages(app, signed_in), odd)
    assert len(posted) > 10  # the walk found the dashboard's forms
    assert broken == []


@pytest.mark.parametrize("odd", ODD, ids=lambda v: repr(v)[:12])
def test_the_public_forms_answer_odd_values_without_a_server_error(app, client, world, odd):
    code = world.partnership.invite_code
    pages = ["/login", "/signup", f"/retailers/signup?code={code}", f"/join/{code}"]
    posted, broken = _post_every_form(client, pages, odd)
    assert len(posted) >= 3  # log in, sign up, the retailer's sign-up
    assert broken == []
