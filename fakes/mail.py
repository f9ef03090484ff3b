"""`python -m fakes.mail --smtp-port 1025 --port 5002`: a local mail catcher for `make run`.

A real SMTP server (aiosmtpd) keeps every message it is sent in memory — nothing is delivered anywhere — and a
small page lists them (newest first), with `/messages.json` for scripts and tests and a button to clear the list.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import itertools
import json
import threading
from collections import deque
from datetime import UTC, datetime

from aiosmtpd.controller import Controller
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

KEEP = 500  # messages kept; older ones are dropped


class MailStore:
    """The messages received, newest last; an aiosmtpd handler."""

    def __init__(self, keep: int = KEEP):
        self.messages: deque[dict] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler hook name)
        """Keep the message (parsed) and accept it."""
        self.add(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"

    def add(self, sender: str, recipients: list[str], raw: bytes) -> dict:
        """Parse and keep one message; returns what the page shows of it."""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain", "html"))
        entry = {
            "from": str(parsed.get("From", sender)),
            "to": str(parsed.get("To", ", ".join(recipients))),
            "recipients": recipients,
            "subject": str(parsed.get("Subject", "")),
            "date": str(parsed.get("Date", "")),
            "received_at": datetime.now(UTC).isoformat(),
            "text": body.get_content() if body is not None else "",
        }
        with self._lock:
            entry["id"] = next(self._ids)
            self.messages.append(entry)
        return entry

    def list(self) -> list[dict]:
        """Newest first."""
        with self._lock:
            return list(reversed(self.messages))

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mail · Wholesync sandbox</title>
<style>body{{font:15px system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}}
.banner{{background:#fff4d6;border:1px solid #e0c060;padding:.5rem 1rem}}article{{border:1px solid #ccc;margin:1rem 0;
padding:.5rem 1rem}}pre{{white-space:pre-wrap}}</style></head><body>
<p class="banner">Local sandbox: e-mails the product sent while running on this machine. Nothing left it.</p>
<h1>Mail ({count})</h1>
<form method="post" action="clear"><button type="submit">Clear</button></form>
{items}
</body></html>"""


def make_app(store: MailStore):
    """The WSGI app showing `store`'s messages."""

    def app(environ, start_response):
        request = Request(environ)
        path = request.path.rstrip("/") or "/"
        if path == "/messages.json":
            response = Response(json.dumps(store.list()), mimetype="application/json")
        elif path == "/clear" and request.method == "POST":
            store.clear()
            response = Response(status=303, headers={"Location": "./"})
        elif path == "/":
            items = (
                "".join(
                    f"<article><h2>{html.escape(m['subject'])}</h2><p>From {html.escape(m['from'])} to "
                    f"{html.escape(m['to'])} · {html.escape(m['date'])}</p>"
                    f"<pre>{html.escape(m['text'])}</pre></article>"
                    for m in store.list()
                )
                or "<p>No mail yet.</p>"
            )
            response = Response(PAGE.format(count=len(store.messages), items=items), mimetype="text/html")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    return app


def start_smtp(store: MailStore, host: str, port: int) -> Controller:
    """Start the SMTP server for `store` in a background thread."""
    controller = Controller(store, hostname=host, port=port)
    controller.start()
    return controller


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002, help="the page listing what was sent")
    parser.add_argument("--smtp-port", type=int, default=1025)
    args = parser.parse_args(argv)
    store = MailStore()
    controller = start_smtp(store, args.host, args.smtp_port)
    print(f"Mail catcher: SMTP on {args.host}:{args.smtp_port}, page on http://{args.host}:{args.port}/", flush=True)
    try:
        run_simple(args.host, args.port, make_app(store), threaded=True, use_reloader=False)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
