"""The retailer is told of a declined card payment by e-mail (a real SMTP server in-process): its users get one
message per declined attempt, with the amount, the wholesaler and when the next attempt is; replays send nothing; a
message that could not go out (mail server down) is sent by the next daily run."""

from portal.extensions import db
from portal.models import Invoice
from portal.services import billing as service
from portal.services.accounts import create_user
from tests.alerts.conftest import inbox  # noqa: F401 - pytest finds fixtures by name
from tests.billing.helpers import days_ago
from tests.billing.test_credits_dunning import _age_last_decline, _declining_pair
from tests.support.factories import PASSWORD


def _retailer_users(rt) -> list[str]:
    emails = ["buyer@retailer.example", "owner@retailer.example"]
    for address in emails:
        create_user(address, PASSWORD, organization=rt)
    db.session.commit()
    return emails


def test_each_declined_attempt_is_mailed_once_to_the_retailers_users(app, fake_stripe, inbox):  # noqa: F811
    _, ws, rt, p = _declining_pair(fake_stripe)
    emails = _retailer_users(rt)
    invoice = service.bill(p, days_ago(3))
    assert invoice.status == "payment_failed"
    assert len(inbox.messages) == 1
    (message,) = inbox.messages
    assert all(address in message["To"] for address in emails)
    assert ws.name in message["Subject"] and "declined" in message["Subject"].lower()
    body = message.get_content()
    assert "20.00" in body and "We will try again on" in body and "save a new card" in body
    service.bill(p, days_ago(3))  # not due yet: no charge, no second e-mail
    assert len(inbox.messages) == 1
    _age_last_decline(invoice, 1)
    second = service.bill(p, days_ago(3))
    assert second.steps["payment_attempts"] == 2 and len(inbox.messages) == 2
    service.bill(p, days_ago(3))
    assert len(inbox.messages) == 2


def test_a_decline_mail_that_could_not_go_out_is_sent_by_the_next_run(app, fake_stripe, inbox):  # noqa: F811
    _, _, rt, p = _declining_pair(fake_stripe)
    _retailer_users(rt)
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = "1"  # nothing listens there: the send fails
    invoice = service.bill(p, days_ago(3))
    assert invoice.status == "payment_failed" and "decline_mail_error" in invoice.steps and not inbox.messages
    app.config["MAIL_PORT"] = port
    service.bill(p, days_ago(3))
    assert len(inbox.messages) == 1
    assert db.session.get(Invoice, invoice.id).steps["decline_mailed"] == 1
