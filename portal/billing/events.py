"""Gateway webhooks: verified by the view, recorded once by event id, applied newer-wins with final states sticky.

Stripe and Apruve deliver at least once and in any order, so a duplicate is a no-op (UNIQUE(source, event_id) on
WebhookReceipt) and an older event never undoes a newer status; paid and void are never undone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.billing.service import FINAL_STATUSES, METADATA_KEY
from portal.extensions import db
from portal.models import Invoice, WebhookReceipt, utcnow

STRIPE_STATUS = {
    "invoice.paid": "paid",
    "invoice.payment_succeeded": "paid",
    "invoice.payment_failed": "payment_failed",
    "invoice.voided": "void",
    "invoice.marked_uncollectible": "uncollectible",
    "invoice.sent": "sent",
}
APRUVE_STATUS = {"invoice.closed": "paid", "invoice.cancelled": "void", "payment_term.paid": "paid"}


def _find_invoice(gateway: str, remote: dict) -> Invoice | None:
    ours = (remote.get("metadata") or {}).get(METADATA_KEY)
    if ours and str(ours).isdigit():
        found = db.session.get(Invoice, int(ours))
        if found is not None and found.gateway == gateway:
            return found
    remote_id = remote.get("id")
    if not remote_id:
        return None
    return db.session.execute(
        select(Invoice).where(Invoice.gateway == gateway, Invoice.gateway_invoice_ref == remote_id)
    ).scalar_one_or_none()


def _apply(invoice: Invoice, status: str, happened_at: datetime) -> bool:
    """Set `status` unless the invoice is in a final state or already reflects a newer event."""
    if invoice.status in FINAL_STATUSES:
        return False
    if invoice.status_event_at is not None and happened_at < invoice.status_event_at and status not in FINAL_STATUSES:
        return False  # an older event arriving late
    invoice.status, invoice.status_event_at = status, happened_at
    if status == "paid":
        invoice.paid_at = invoice.paid_at or happened_at
    return True


def _record_once(source: str, event_id: str, topic: str, payload: dict, happened_at: datetime | None) -> bool:
    """Insert the receipt; False when this event id was already recorded (a redelivery)."""
    db.session.add(
        WebhookReceipt(
            source=source, event_id=event_id, topic=topic[:64], payload=payload, triggered_at=happened_at,
            processed_at=utcnow(),  # applied in this same transaction
        )
    )  # fmt: skip
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def handle_stripe_event(event: dict) -> str:
    """Apply one verified Stripe event; returns what happened (duplicate | ignored | applied | unchanged)."""
    happened_at = datetime.fromtimestamp(int(event.get("created") or 0), UTC)
    remote = (event.get("data") or {}).get("object") or {}
    slim = {"type": event.get("type"), "object_id": remote.get("id"), "account": event.get("account")}
    if not _record_once("stripe", str(event["id"]), str(event.get("type")), slim, happened_at):
        return "duplicate"
    if event.get("type") == "checkout.session.completed" and remote.get("mode") == "setup":
        outcome = _card_saved(remote, str(event["id"]))
        _finish()
        return outcome
    status = STRIPE_STATUS.get(event.get("type", ""))
    invoice = _find_invoice("stripe", remote) if status else None
    outcome = "ignored"
    if invoice is not None:
        outcome = "applied" if _apply(invoice, status, happened_at) else "unchanged"
    _finish()
    return outcome


def _card_saved(session: dict, event_id: str) -> str:
    """A retailer saved a card on Stripe's Checkout page: make it the card its invoices charge.

    Checkout in setup mode attaches the card to the customer but does not make it the invoice default.
    A failure here raises, so the receipt is rolled back and Stripe's redelivery tries again.
    """
    from integrations.stripe import gateway_for
    from portal.billing.service import gateway_account
    from portal.models import Partnership

    raw_id = (session.get("metadata") or {}).get("wholesync_partnership_id", "")
    partnership = db.session.get(Partnership, int(raw_id)) if str(raw_id).isdigit() else None
    if partnership is None or partnership.gateway_customer_ref != session.get("customer"):
        return "ignored"
    account = gateway_account(partnership)
    if account is None or not session.get("setup_intent"):
        return "ignored"
    gateway = gateway_for(account)
    intent = gateway.retrieve_setup_intent(session["setup_intent"])
    gateway.set_default_payment_method(partnership.gateway_customer_ref, intent["payment_method"], f"ws-pm-{event_id}")
    return "applied"


def handle_apruve_event(body: dict) -> str:
    """Apply one verified Apruve webhook (invoice closed = paid, cancelled = void)."""
    entity = body.get("entity") or {}
    event_id = str(body.get("id") or f"{body.get('event')}:{entity.get('id')}:{entity.get('status')}")
    happened_at = utcnow()
    if not _record_once("apruve", event_id, str(body.get("event")), {"entity_id": entity.get("id")}, happened_at):
        return "duplicate"
    status = APRUVE_STATUS.get(str(body.get("event")))
    invoice = None
    if status:
        invoice = db.session.execute(
            select(Invoice).where(Invoice.gateway == "apruve", Invoice.gateway_invoice_ref == entity.get("id"))
        ).scalar_one_or_none()
    outcome = "ignored"
    if invoice is not None:
        outcome = "applied" if _apply(invoice, status, happened_at) else "unchanged"
    _finish()
    return outcome


def _finish() -> None:
    db.session.commit()
