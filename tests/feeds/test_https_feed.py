"""Catalog and stock files at HTTPS addresses, served by a real local HTTPS server (Python's http.server behind TLS
with a certificate made for the test): the feed trusts the server's self-signed certificate through its own
`https_ca` setting — verification is never turned off — and the files reach a WooCommerce retailer. An untrusted
certificate, a certificate for another host name and a missing file (404) fail the run with a message that says so."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from jobs.runtime import run_now
from portal.extensions import db
from portal.models import ActivityLog
from tests.feeds.conftest import CATALOG
from tests.support import factories
from tests.woocommerce.conftest import woo, woo_connection, woo_shop  # noqa: F401 - the WooCommerce sandbox fixture

RT = "corner-store"


def self_signed(folder, host_ip: str = "127.0.0.1") -> tuple[str, str, str]:
    """A self-signed certificate for `host_ip` (its only name): (cert file, key file, cert PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ERP feed test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host_ip))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (folder / "cert.pem").write_text(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(folder / "cert.pem"), str(folder / "key.pem"), pem


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test output stays readable
        pass


@pytest.fixture
def https_files(tmp_path):
    """A folder served over HTTPS on 127.0.0.1 (a free port): (folder, base URL, the server's certificate PEM)."""
    served = tmp_path / "www"
    served.mkdir()
    cert_file, key_file, pem = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(served)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield served, f"https://127.0.0.1:{server.server_port}", pem
    server.shutdown()
    server.server_close()


def _world(woo, base: str, **settings):  # noqa: F811
    user = factories.wholesaler(name="Acme Wholesale")
    values = {"catalog_path": f"{base}/catalog.csv", **settings}
    sor = factories.connection(
        user.organization, "system_of_record", values["catalog_path"], platform="csv", access_token="", settings=values
    )
    retailer = factories.retailer()
    site, key = woo_shop(woo, RT)
    woo_connection(retailer, "store", site, key)
    factories.partnership(user.organization, retailer)
    return sor


def _failed_message(job: str) -> str:
    [result] = run_now(job)
    assert result["status"] == "failed", result
    return result["message"] or ""


def test_catalog_and_stock_at_https_addresses_reach_the_retailer_trusting_the_feeds_own_certificate(
    app,
    woo,  # noqa: F811
    https_files,
):
    served, base, pem = https_files
    (served / "catalog.csv").write_text(CATALOG)
    (served / "stock.csv").write_text("sku,quantity\nTOTE-1,20\nSHIRT-S,5\nSHIRT-M,7\n")
    _world(woo, base, stock_path=f"{base}/stock.csv", https_ca=pem)
    for job in ("products.pull", "products.push"):
        [result] = run_now(job)
        assert result["status"] == "done" and not result["failed"], result
    shop = woo.store(RT)
    assert {s: shop.by_sku(s)["stock_quantity"] for s in ("TOTE-1", "SHIRT-S", "SHIRT-M")} == {
        "TOTE-1": 20,
        "SHIRT-S": 5,
        "SHIRT-M": 7,
    }

    # the catalog file is unchanged (same Last-Modified): a second pull takes nothing from it
    logged = db.session.query(ActivityLog).count()
    [again] = run_now("products.pull")
    assert (again["status"], again["created"], again["updated"]) == ("done", 0, 0)
    assert db.session.query(ActivityLog).count() == logged

    (served / "stock.csv").write_text("sku,quantity\nTOTE-1,20\nSHIRT-S,1\nSHIRT-M,7\n")
    for job in ("inventory.pull", "inventory.push"):
        [result] = run_now(job)
        assert result["status"] == "done" and not result["failed"], result
    assert shop.by_sku("SHIRT-S")["stock_quantity"] == 1
    assert shop.by_sku("SHIRT-M")["stock_quantity"] == 7


def test_an_untrusted_certificate_fails_the_run_and_says_how_to_trust_it(app, woo, https_files):  # noqa: F811
    served, base, _pem = https_files
    (served / "catalog.csv").write_text(CATALOG)
    _world(woo, base)  # no https_ca: only the system's CAs, which never signed this certificate
    message = _failed_message("products.pull")
    assert "TLS certificate is not trusted" in message and "CERTIFICATE_VERIFY_FAILED" in message
    assert db.session.execute(select(ActivityLog)).first() is None


def test_a_trusted_certificate_for_another_host_name_is_still_refused(app, woo, https_files, tmp_path):  # noqa: F811
    served, base, pem = https_files
    (served / "catalog.csv").write_text(CATALOG)
    _world(woo, base.replace("127.0.0.1", "localhost"), https_ca=pem)  # the certificate names 127.0.0.1 only
    assert "not trusted" in _failed_message("products.pull")


def test_a_missing_file_fails_the_run_with_its_address_and_status(app, woo, https_files):  # noqa: F811
    _served, base, pem = https_files
    _world(woo, base, https_ca=pem)
    assert f"{base}/catalog.csv answered HTTP 404 File not found" in _failed_message("products.pull")
