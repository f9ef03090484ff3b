"""Collection: drive a claimed invoice through its payment gateway, recording each step as soon as it succeeds.

The gateway is chosen by name from the payments registry and spoken to only through the PaymentGateway seam;
idempotency keys derive from our rows, and after 23 h a retry looks objects up instead of trusting a key.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from integrations.payment_registry import payment_gateway
from integrations.payments import (
    CustomerRequest,
    GatewaySettings,
    InvoiceDraft,
    LineDraft,
    PaymentDeclined,
    PaymentGateway,
)
from portal.extensions import db
from portal.models import ActivityLog, GatewayAccount, Invoice, Organization, Partnership, User, utcnow
from portal.services import mail
from portal.services.billing.ledger import (
    DONE_STATUSES,
    FINAL_STATUSES,
    BillingNotReady,
    claim,
    gateway_account,
    next_payment_retry,
    payment_attempts,
    retry_due,
)

# Stripe keeps idempotency keys at least 24 h; past this age a retry looks the object up instead of trusting the key.
KEY_TRUST_WINDOW = timedelta(hours=23)


def gateway_settings(name: str, account: GatewayAccount | None = None) -> GatewaySettings:
    """The settings for gateway `name` from the app config (`<NAME>_API_BASE`, …) and the wholesaler's account."""
    config, prefix = current_app.config, name.upper()
    return GatewaySettings(
        api_key=(account.secret or "") if account else "",
        account_ref=(account.account_ref or "") if account else "",
        base_url=config.get(f"{prefix}_API_BASE") or None,
        timeout=float(config.get(f"{prefix}_TIMEOUT_SECONDS", 30)),
        max_network_retries=int(config.get(f"{prefix}_MAX_NETWORK_RETRIES", 0)),
        webhook_secret=config.get(f"{prefix}_WEBHOOK_SECRET") or "",
    )


def gateway_for(account: GatewayAccount) -> PaymentGateway:
    """The PaymentGateway for a wholesaler's connected account."""
    return payment_gateway(account.gateway, gateway_settings(account.gateway, account))


def after_gateway_call(step: str) -> None:
    """Called right after a gateway answered and before we record it (the kill-test seam; a no-op here)."""


def _record(invoice: Invoice, step: str, value) -> None:
    invoice.steps = {**(invoice.steps or {}), step: value}  # a new dict, so the JSON column is seen as changed
    db.session.commit()


def _trust_keys(invoice: Invoice) -> bool:
    return utcnow() - invoice.created_at < KEY_TRUST_WINDOW


def _set_status(invoice: Invoice, status: str) -> None:
    db.session.refresh(invoice)
    if invoice.status not in FINAL_STATUSES:  # a webhook may already have said paid/void
        invoice.status = status
    invoice.last_error = None
    db.session.commit()


def ensure_customer(partnership: Partnership, gateway: PaymentGateway) -> str | None:
    """The retailer's customer id on the wholesaler's gateway account, created once (key per partnership)."""
    if partnership.gateway_customer_ref:
        return partnership.gateway_customer_ref
    retailer = db.session.get(Organization, partnership.retailer_id)
    name = retailer.name if retailer else f"Retailer {partnership.retailer_id}"
    customer = gateway.create_customer(CustomerRequest(str(partnership.id), name), f"ws-cus-{partnership.id}")
    if customer is None:
        return None  # the gateway links customers itself (Apruve's corporate accounts)
    after_gateway_call("customer")
    partnership.gateway_customer_ref = customer
    db.session.commit()
    return customer


def card_setup_url(partnership: Partnership, success_url: str, cancel_url: str, key: str) -> str | None:
    """The gateway-hosted page where the retailer saves a card; None when the wholesaler has no account yet."""
    account = gateway_account(partnership)
    if account is None:
        return None
    gateway = gateway_for(account)
    customer = ensure_customer(partnership, gateway)
    return gateway.card_setup_url(customer, str(partnership.id), success_url, cancel_url, key)


def _draft(invoice: Invoice, partnership: Partnership, customer: str | None) -> InvoiceDraft:
    return InvoiceDraft(
        reference=str(invoice.id),
        partnership_reference=str(partnership.id),
        customer_ref=customer,
        billing_date=invoice.billing_date,
        currency=invoice.currency,
        terms=partnership.billing_terms,
        net_days=partnership.net_days,
        description=f"Wholesale orders shipped through {invoice.billing_date.isoformat()}",
        lines=tuple(LineDraft(str(x.id), x.description, x.quantity, x.amount) for x in invoice.lines),
    )


def collect(invoice: Invoice) -> Invoice:
    """Drive a claimed invoice through its gateway, resuming after the last recorded step; a declined card is
    charged again only when the dunning schedule (or a newly saved card) says so."""
    if invoice.status in DONE_STATUSES and not retry_due(invoice):
        if invoice.status == "payment_failed":  # an e-mail about the decline that could not go out before
            tell_retailer_of_decline(invoice, db.session.get(Partnership, invoice.partnership_id))
        return invoice
    partnership = db.session.get(Partnership, invoice.partnership_id)
    account = gateway_account(partnership)
    if account is None:
        raise BillingNotReady(f"no {partnership.billing_gateway} account connected for this wholesaler")
    try:
        _collect(invoice, partnership, payment_gateway(invoice.gateway, gateway_settings(invoice.gateway, account)))
    except Exception as exc:
        db.session.rollback()
        invoice.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    return invoice


def _collect(invoice: Invoice, partnership: Partnership, gateway: PaymentGateway) -> None:
    customer = ensure_customer(partnership, gateway)
    draft = _draft(invoice, partnership, customer)
    # A gateway without idempotency keys, or a key that may have been pruned: look up before every create.
    look_first = not (gateway.idempotency_keys and _trust_keys(invoice))

    def progress(step: str, remote_id: str) -> None:
        after_gateway_call(step)
        _record(invoice, step, remote_id)

    remote_id = (invoice.steps or {}).get("invoice")
    if remote_id is None:
        found = gateway.find_invoice(draft) if look_first else None
        if found is None:
            found = gateway.create_invoice(draft, f"ws-inv-{invoice.id}", progress)
            after_gateway_call("invoice")
        remote_id = found.id
        invoice.gateway_invoice_ref = remote_id
        _record(invoice, "invoice", remote_id)

    if gateway.itemized:
        for line in draft.lines:
            step = f"item:{line.reference}"
            if step in (invoice.steps or {}):
                continue
            item = gateway.find_line(remote_id, line) if look_first else None
            if item is None:
                item = gateway.add_line(remote_id, draft, line, f"ws-ii-{line.reference}")
                after_gateway_call(step)
            _record(invoice, step, item)

    if gateway.issues_on_create:
        _set_status(invoice, "sent")
        return

    if "finalized" not in invoice.steps:
        remote = gateway.finalize(remote_id, f"ws-fin-{invoice.id}")
        if remote.status == "draft":
            raise RuntimeError(f"{gateway.name} invoice {remote_id} is still a draft after finalizing")
        after_gateway_call("finalized")
        _record(invoice, "finalized", remote.status)

    if draft.net:
        if "sent" not in invoice.steps:
            gateway.send(remote_id, f"ws-send-{invoice.id}")
            after_gateway_call("sent")
            _record(invoice, "sent", True)
        _set_status(invoice, "sent")
        return

    attempts = payment_attempts(invoice)
    if "paid" not in invoice.steps or (invoice.steps.get("paid") is False and retry_due(invoice)):
        # Each attempt has its own key: the same key would only replay the earlier decline.
        key = f"ws-pay-{invoice.id}" if attempts == 0 else f"ws-pay-{invoice.id}-{attempts + 1}"
        try:
            remote = gateway.charge(remote_id, key)
        except PaymentDeclined as exc:
            _declined(invoice, partnership, attempts + 1, str(exc))
            return
        after_gateway_call("paid")
        _record(invoice, "paid", remote.status == "paid")
    if invoice.steps.get("paid"):
        if invoice.paid_at is None:
            invoice.paid_at = utcnow()
            db.session.commit()  # before _set_status re-reads the row
        _set_status(invoice, "paid")


def _declined(invoice: Invoice, partnership: Partnership, attempts: int, reason: str) -> None:
    """Record a declined charge and tell the retailer (its activity) when the next attempt is."""
    steps = {k: v for k, v in (invoice.steps or {}).items() if k != "card_updated_at"}
    invoice.steps = {**steps, "paid": False, "payment_attempts": attempts, "payment_failed_at": utcnow().isoformat()}
    invoice.status, invoice.last_error = "payment_failed", f"Card declined: {reason}"
    retry = next_payment_retry(invoice)
    when = f"We will try again on {retry:%Y-%m-%d}" if retry else "No further attempts will be made"
    db.session.add(
        ActivityLog(
            organization_id=partnership.retailer_id, partnership_id=partnership.id, action="edit",
            record_type="invoice", record_id=str(invoice.id),
            summary=f"Card payment for the invoice of {invoice.billing_date} was declined ({reason}). {when}; "
            "save a new card under Billing to be charged at the next daily run.",
        )
    )  # fmt: skip
    db.session.commit()
    tell_retailer_of_decline(invoice, partnership)


def tell_retailer_of_decline(invoice: Invoice, partnership: Partnership) -> bool:
    """E-mail the retailer organization's users that the card was declined, once per declined attempt: the attempt
    mailed is recorded on the invoice, so a replay sends nothing and a send that failed (SMTP down) is tried again
    by the next daily run's collect. False when nothing was sent (already told, no mail server or no users)."""
    attempts = payment_attempts(invoice)
    steps = invoice.steps or {}
    if invoice.status != "payment_failed" or attempts == 0 or steps.get("decline_mailed") == attempts:
        return False
    users = db.session.execute(
        select(User.email).where(User.organization_id == partnership.retailer_id).order_by(User.id)
    ).scalars()
    to = [email for email in users if email]
    if not to or not mail.enabled():
        return False
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    retry = next_payment_retry(invoice)
    when = f"We will try again on {retry:%Y-%m-%d}." if retry else "No further attempts will be made."
    text = (
        f"Your card payment of {invoice.total:.2f} {invoice.currency} to {wholesaler.name} for the invoice of "
        f"{invoice.billing_date} was declined ({invoice.last_error or 'declined'}).\n\n{when} If you save a new card "
        "under Billing in Wholesync, it is charged at the next daily run.\n"
    )
    try:
        mail.send(to, f"Payment declined: invoice of {invoice.billing_date} from {wholesaler.name}", text)
    except Exception as exc:  # the decline is recorded; the next collect tries the e-mail again
        invoice.steps = {**steps, "decline_mail_error": f"{type(exc).__name__}: {exc}"[:500]}
        db.session.commit()
        return False
    invoice.steps = {**steps, "decline_mailed": attempts}
    db.session.commit()
    return True


def bill(partnership: Partnership, billing_date: date) -> Invoice | None:
    """Bill one partnership for one day: claim (or find) the day's Invoice, then collect it. Idempotent."""
    if gateway_account(partnership) is None:
        raise BillingNotReady(f"no {partnership.billing_gateway or 'payment'} gateway connected; nothing was billed")
    invoice = claim(partnership, billing_date)
    if invoice is None:
        return None
    return collect(invoice)
