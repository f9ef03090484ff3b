"""The local mail catcher of `make run`: what the product sends over SMTP is listed on its page, escaped."""

from __future__ import annotations

import json

from werkzeug.test import Client

from fakes.mail import MailStore, make_app, start_smtp
from portal.services import mail
from tests.alerts.conftest import _free_port


def test_a_message_sent_over_smtp_is_listed_on_the_catchers_page_and_can_be_cleared(app):
    store = MailStore()
    controller = start_smtp(store, "127.0.0.1", _free_port())
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(controller.port))
        mail.send(["owner@example.com"], "Order <#1001> is late", "It was received 3 hours ago.")
    finally:
        controller.stop()
    page = Client(make_app(store))
    listed = json.loads(page.get("/messages.json").get_data(as_text=True))
    assert [(m["to"], m["subject"]) for m in listed] == [("owner@example.com", "Order <#1001> is late")]
    assert "It was received 3 hours ago." in listed[0]["text"]
    html = page.get("/").get_data(as_text=True)
    assert "Order &lt;#1001&gt; is late" in html and "<#1001>" not in html
    assert page.post("/clear").status_code == 303
    assert json.loads(page.get("/messages.json").get_data(as_text=True)) == []


def test_sending_without_a_mail_server_says_so(app):
    app.config["MAIL_SERVER"] = ""
    try:
        mail.send(["owner@example.com"], "x", "y")
    except mail.MailNotConfigured:
        return
    raise AssertionError("sent without a server")
