"""Stock latency from a feed file: a new stock file written at the feed's HTTPS address (a real local HTTPS server with
a certificate made for the run, trusted through the feed's `https_ca` setting), timed until the retailer's WooCommerce
level matches.

What starts the read: a file feed sends no events, so its stock is read by `inventory.pull` — by the scheduler's
hourly tick (the documented schedule), or at once by Run now / `flask sync run inventory.pull`. There is no faster
polling setting: a new file waits for the next tick (up to an hour) before the read starts. The number measured here
is therefore the pipeline from the read's start — the run requested as the tick requests it, taken by one of two RQ
worker processes, the file fetched and parsed, the stock pushed by the batch endpoints — until the retailer's level
matches; add the polling wait (at most the 3,600 s interval, 1,800 s on average) for the file-to-shelf time.

Numbers: `feed_stock_latency_p95_s` and `feed_stock` (samples, size, machine load). Run with
`python -m benchmarks bench_feed_stock`; BENCH_FEED_SKUS (default 500) and BENCH_FEED_SAMPLES (default 15).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import ssl
import statistics
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks.bench_woo_catalog import RT, connect_pair, make_app, new_sandbox, serve_sandbox, stop_redis
from benchmarks.bench_woo_stock import start_workers, stop_workers
from benchmarks.common import p95, wait_for


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _https_folder(tmp: Path):
    """A folder served over HTTPS on 127.0.0.1 with a fresh self-signed certificate: (folder, base URL, PEM, server)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench feed")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (tmp / "cert.pem").write_text(pem)
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    folder = tmp / "www"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp / "cert.pem"), str(tmp / "key.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return folder, f"https://127.0.0.1:{server.server_port}", pem, server


def _write_atomic(path: Path, text: str) -> None:
    """As an ERP publishes a file: written beside it, then renamed over it (no half-read file)."""
    partial_path = path.with_name(f".{path.name}.partial")
    partial_path.write_text(text)
    partial_path.replace(path)


def _scenario(skus: int, count: int) -> dict:
    from jobs.runtime import request_run, run_now
    from portal.extensions import db
    from portal.redis_conn import get_redis

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    app = make_app(tmp)
    sandbox = new_sandbox()
    _counted, woo_server, _base = serve_sandbox(sandbox)
    folder, base, pem, feed_server = _https_folder(tmp)
    levels = {f"F{n:05}": 10 for n in range(skus)}
    catalog = "product_id,title,sku,price,quantity\n" + "".join(
        f"{sku},Feed item {sku},{sku},12.00,10\n" for sku in levels
    )
    (folder / "catalog.csv").write_text(catalog)
    _write_atomic(folder / "stock.csv", "sku,quantity\n" + "".join(f"{s},{q}\n" for s, q in levels.items()))
    workers, samples = [], []
    try:
        with app.app_context():
            db.create_all()
            get_redis().flushdb()
            settings = {"catalog_path": f"{base}/catalog.csv", "stock_path": f"{base}/stock.csv", "https_ca": pem}
            sor, _store, _partnership = connect_pair(sandbox, "csv", settings["catalog_path"], settings)
            for job in ("products.pull", "products.push"):
                [result] = run_now(job)
                assert result["status"] == "done", result
            workers = start_workers(app)
            shop = sandbox.store(RT)
            chosen = list(levels)[:: max(1, skus // (count + 1))][: count + 1]
            for n, sku in enumerate(chosen):  # the first one warms the workers up: not a sample
                wanted = 500 + n
                levels[sku] = wanted
                started = time.monotonic()
                _write_atomic(folder / "stock.csv", "sku,quantity\n" + "".join(f"{s},{q}\n" for s, q in levels.items()))
                request_run("inventory.pull", f"connection:{sor.id}", trigger="schedule")
                item = shop.by_sku(sku)
                if not wait_for(lambda i=item, w=wanted: i.get("stock_quantity") == w):
                    raise TimeoutError(f"the stock of {sku} never reached the retailer")
                if n:
                    samples.append(time.monotonic() - started)
                time.sleep(0.3)
    finally:
        stop_workers(workers)
        feed_server.shutdown()
        feed_server.server_close()
        woo_server.shutdown()
        stop_redis(tmp)
    return {
        "feed_stock_latency_p95_s": p95(samples),
        "feed_stock": {"skus": skus, "source": "HTTPS (stock.csv replaced by rename)",
                       "trigger": "inventory.pull requested as the hourly tick does; polling wait not included",
                       "samples_s": [round(s, 3) for s in samples], "median_s": round(statistics.median(samples), 3),
                       "load_before": load_before, "load_after": os.getloadavg()},
    }  # fmt: skip


def main() -> dict:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out = _scenario(int(os.environ.get("BENCH_FEED_SKUS", 500)), int(os.environ.get("BENCH_FEED_SAMPLES", 15)))
    print(out)
    return out
