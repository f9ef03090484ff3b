"""Bad input is refused clearly: request bodies over their limit get 413 before being buffered, control characters
and NUL get 400 (form, query string) or a refused CSV line, CSV files are read with their own line numbers, and a
tracking link is shown in the retailer's app only for http(s) addresses."""

from __future__ import annotations

import io
import types
from datetime import UTC, datetime

import psutil
from flask import render_template
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, run_wsgi_app

from portal import create_app
from portal.extensions import db
from portal.models import Organization, Partnership, PriceListItem
from portal.services.partners_csv import import_partners
from portal.services.price_list_csv import import_items
from portal.services.text import MAX_LISTED_ERRORS, web_url
from tests.conftest import _config, csrf_token
from tests.support import factories

MB = 1024 * 1024


class Endless(io.RawIOBase):
    """A request body produced on the fly (never held in memory), counting how much the app read of it."""

    def __init__(self, size: int):
        self.left, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left, 64 * 1024)
        buffer[:n] = b"x" * n
        self.left -= n
        self.read_bytes += n
        return n


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _post_streamed(app, path: str, body: Endless, length: int | None) -> int:
    """POST `body` straight through the WSGI app (as a server would hand it over) and return the status code."""
    environ = EnvironBuilder(path=path, method="POST", content_type="application/json",
                             headers={"X-Shopify-Topic": "orders/create"}).get_environ()  # fmt: skip
    environ["wsgi.input"] = body
    if length is None:  # chunked: no length, the server says the stream ends by itself
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(length)
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0])


def test_an_unsigned_200_mb_webhook_with_its_length_declared_is_refused_413_without_reading_it(app):
    body = Endless(200 * MB)
    before = _rss()
    assert _post_streamed(app, "/webhooks/shopify", body, 200 * MB) == 413
    assert body.read_bytes == 0
    assert _rss() - before < 50 * MB


def test_an_unsigned_200_mb_chunked_webhook_is_refused_413_after_at_most_the_limit_is_read(app):
    body = Endless(200 * MB)
    before = _rss()
    assert _post_streamed(app, "/webhooks/shopify", body, None) == 413
    assert body.read_bytes <= app.config["WEBHOOK_MAX_BYTES"] + 128 * 1024
    assert _rss() - before < 50 * MB


def test_a_csv_upload_over_its_limit_and_a_plain_form_over_its_limit_are_refused_413(app, client, auth):
    user = factories.wholesaler()
    auth.login(user.email)
    token = auth.token("/partners/")
    big = io.BytesIO(b"email\n" + b"a@example.com\n" * (app.config["UPLOAD_MAX_BYTES"] // 14 + 10))
    answer = client.post("/partners/upload", data={"csrf_token": token, "file": (big, "big.csv")},
                         content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 413
    form = client.post("/signup", data={"organization": "x" * (app.config["FORM_MAX_BYTES"] + 10)})
    assert form.status_code == 413


def test_nul_in_the_signup_form_is_refused_400_with_a_clear_message_and_creates_nothing(client):
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    form = {
        "organization": "Acme\x00Inc",
        "email": "nul@example.com",
        "password": "long enough pw",
        "csrf_token": token,
    }
    answer = client.post("/signup", data=form)
    assert answer.status_code == 400
    assert "control character (U+0000)" in answer.get_data(as_text=True)
    assert "organization" in answer.get_data(as_text=True)
    assert db.session.execute(select(Organization).where(Organization.name.like("Acme%"))).first() is None


def test_control_characters_in_a_query_string_or_a_logged_in_form_are_refused_400(client, auth):
    user = factories.wholesaler()
    auth.login(user.email)
    assert client.get("/partners/?q=%00").status_code == 400
    token = auth.token("/pricing/")
    answer = client.post("/pricing/", data={"name": "List\x1b[31m", "currency": "USD", "csrf_token": token})
    assert answer.status_code == 400
    assert "U+001B" in answer.get_data(as_text=True)


def test_a_partner_csv_with_a_nul_cell_imports_the_good_rows_and_names_the_bad_line(app):
    ws = factories.wholesaler().organization
    data = b"email,price_list\ngood1@example.com,\nbad\x00@example.com,\ngood2@example.com,\n"
    result = import_partners(ws.id, data)
    assert result.accepted == 2
    assert result.errors == [(3, "contains a control character (U+0000)")]
    invited = set(db.session.execute(select(Partnership.invite_email)).scalars())
    assert invited == {"good1@example.com", "good2@example.com"}


def test_csv_line_numbers_stay_right_after_blank_lines_and_quoted_cells_spanning_lines(app):
    ws = factories.wholesaler().organization
    price_list = factories.price_list(ws)
    data = (
        b"sku,markup_kind,markup_value\n"  # 1
        b"\n"  # 2 blank
        b'"A\nB",fixed,1\n'  # 3-4: a cell spanning two lines (saved)
        b"\n"  # 5 blank
        b"C,wrong,1\n"  # 6: refused
        b'"D\n\nE",percent,x\n'  # 7-9: spans three lines, refused
        b"F,fixed,-1\n"  # 10: refused
    )
    result = import_items(price_list.id, data)
    assert result.accepted == 1
    assert [line for line, _ in result.errors] == [6, 7, 10]


def test_a_partner_csv_with_an_unknown_column_is_refused_naming_it_and_an_empty_csv_says_it_has_no_rows(client, auth):
    user = factories.wholesaler()
    auth.login(user.email)
    token = auth.token("/partners/")

    def upload(data: bytes):
        return client.post("/partners/upload", data={"csrf_token": token, "file": (io.BytesIO(data), "p.csv")},
                           content_type="multipart/form-data")  # fmt: skip

    extra = upload(b"email,price_list,nickname\na@example.com,,bob\n")
    assert extra.status_code == 422
    assert "unknown column &#39;nickname&#39;" in extra.get_data(as_text=True)
    for empty in (b"", b"email,price_list\n", b"\n\n"):
        answer = upload(empty)
        assert answer.status_code == 422
        assert "the file has no rows" in answer.get_data(as_text=True)
        assert "0 partner(s) invited" not in answer.get_data(as_text=True)
    extra_cell = upload(b"email\na@example.com,surprise\nb@example.com\n")
    assert extra_cell.status_code == 422
    assert "Line 2: 2 cells but the header names 1 columns" in extra_cell.get_data(as_text=True)


def test_the_refused_line_list_of_a_large_csv_is_capped_and_the_rest_counted(app):
    ws = factories.wholesaler().organization
    price_list = factories.price_list(ws)
    data = b"sku,markup_kind,markup_value\n" + b"".join(b"S%d,fixed,oops\n" % i for i in range(5000))
    result = import_items(price_list.id, data)
    assert len(result.errors) == MAX_LISTED_ERRORS
    assert result.refused.count == 5000
    assert "5000 line(s) refused (the first 100 are listed)" in result.summary()
    assert db.session.query(PriceListItem).count() == 0


def test_a_tracking_link_is_shown_only_for_http_and_https_addresses(app):
    assert web_url("https://track.example/1") == "https://track.example/1"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example", "http://",
                "https://a.example/\x00", None, ""):  # fmt: skip
        assert web_url(bad) is None
    fulfillment = types.SimpleNamespace(
        carrier="UPS", tracking_numbers=["1Z1", "1Z2", "1Z3"], pushed_at=None,
        tracking_urls=["javascript:alert(document.cookie)", "https://ups.example/1Z2"],
    )  # fmt: skip
    order = types.SimpleNamespace(
        retailer_order_name="#1001", remote_order_id="1", wholesaler_id=1, status="shipped", last_error=None,
        received_at=datetime(2026, 1, 1, tzinfo=UTC), fulfillments=[fulfillment],
    )  # fmt: skip
    with app.test_request_context("/shopify/app"):
        html = render_template("shopify_app/_orders.html", orders=[order], wholesalers={1: "W"},
                               total=1, page=1, per_page=50)  # fmt: skip
    assert "javascript:" not in html
    assert 'href="https://ups.example/1Z2"' in html
    assert "1Z1" in html and "1Z3" in html  # the numbers are still shown, just not linked


def _app_behind(services, tmp_path, proxies: int, **config):
    return create_app(_config(services, tmp_path / f"proxy{proxies}") | {"TRUSTED_PROXIES": proxies} | config)


def test_behind_one_trusted_proxy_the_login_limit_keys_on_the_client_not_the_router(app, services, tmp_path):
    behind = _app_behind(services, tmp_path, 1, LOGIN_LIMIT_PER_IP="3 per minute", WTF_CSRF_ENABLED=False)
    router = {"REMOTE_ADDR": "10.99.0.1"}
    client = behind.test_client()

    def login(ip: str):
        return client.post("/login", data={"email": f"{ip}@example.com", "password": "wrong password"},
                           headers={"X-Forwarded-For": ip}, environ_base=router)  # fmt: skip

    assert [login("203.0.113.7").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert login("198.51.100.9").status_code == 401  # another client through the same router is not locked out


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(app, services, tmp_path):
    laptop = _app_behind(services, tmp_path, 0, LOGIN_LIMIT_PER_IP="2 per minute", WTF_CSRF_ENABLED=False)
    client = laptop.test_client()
    codes = [
        client.post("/login", data={"email": f"f{i}@example.com", "password": "wrong password"},
                    headers={"X-Forwarded-For": f"192.0.2.{i}"}, environ_base={"REMOTE_ADDR": "10.99.0.2"}).status_code
        for i in range(3)
    ]  # fmt: skip
    assert codes == [401, 401, 429]


def test_signup_is_rate_limited_per_client_address(app, services, tmp_path):
    behind = _app_behind(services, tmp_path, 1, SIGNUP_LIMIT_PER_IP="2 per minute", WTF_CSRF_ENABLED=False)
    client = behind.test_client()

    def signup(ip: str, n: int):
        form = {"organization": f"Org {ip} {n}", "email": f"s{n}-{ip}@example.com", "password": "long enough pw"}
        return client.post("/signup", data=form, headers={"X-Forwarded-For": ip},
                           environ_base={"REMOTE_ADDR": "10.99.0.3"})  # fmt: skip

    codes = [signup("203.0.113.50", n).status_code for n in range(3)]
    assert codes[:2] == [302, 302] and codes[2] == 429
    assert signup("203.0.113.51", 9).status_code == 302
