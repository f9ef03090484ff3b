"""Gateway webhooks: verified by the gateway, recorded once by event id, applied newer-wins with final states sticky.

Gateways deliver at least once and in any order, so a duplicate is a no-op (UNIQUE(source, event_id) on
WebhookReceipt) and an older event never undoes a newer status; paid and void are never undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.payment_registry import payment_gateway
from integrations.payments import INVOICE_STATUS, PAYMENT_METHOD_SAVED, GatewayEvent
from portal.extensions import db
from portal.models import Invoice, Partnership, WebhookReceipt, utcnow
from portal.services.billing.collect import gateway_for, gateway_settings
from portal.services.billing.ledger import FINAL_STATUSES, gateway_account


def parse_webhook(gateway_name: str, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
    """Verify and read a webhook for the gateway registered as `gateway_name` (its secret from the config).

    Raises integrations.payments.WebhookRejected when it is forged, stale, unsigned or not an event.
    """
    return payment_gateway(gateway_name, gateway_settings(gateway_name)).parse_webhook(payload, headers)


def _find_invoice(event: GatewayEvent) -> Invoice | None:
    ours = event.invoice_reference
    if ours and ours.isdigit():
        found = db.session.get(Invoice, int(ours))
        if found is not None and found.gateway == event.gateway:
            return found
    if not event.object_id:
        return None
    return db.session.execute(
        select(Invoice).where(Invoice.gateway == event.gateway, Invoice.gateway_invoice_ref == event.object_id)
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


def _record_once(event: GatewayEvent, happened_at: datetime) -> bool:
    """Insert the receipt; False when this event id was already recorded (a redelivery)."""
    slim = {"type": event.topic, "object_id": event.object_id, "account": event.account}
    db.session.add(
        WebhookReceipt(
            source=event.gateway, event_id=event.event_id, topic=event.topic[:64], payload=slim,
            triggered_at=happened_at, processed_at=utcnow(),  # applied in this same transaction
        )
    )  # fmt: skip
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def handle_event(event: GatewayEvent) -> str:
    """Apply one verified gateway event; returns what happened (duplicate | ignored | applied | unchanged)."""
    happened_at = event.happened_at or utcnow()
    if not _record_once(event, happened_at):
        return "duplicate"
    outcome = "ignored"
    if event.kind == PAYMENT_METHOD_SAVED:
        outcome = _payment_method_saved(event)
    elif event.kind == INVOICE_STATUS and event.status:
        invoice = _find_invoice(event)
        if invoice is not None:
            outcome = "applied" if _apply(invoice, event.status, happened_at) else "unchanged"
    db.session.commit()
    return outcome


def _payment_method_saved(event: GatewayEvent) -> str:
    """A retailer saved a payment method on the gateway's hosted page: make it the one its invoices charge.

    A failure here raises, so the receipt is rolled back and the gateway's redelivery tries again.
    """
    raw_id = event.partnership_reference or ""
    partnership = db.session.get(Partnership, int(raw_id)) if raw_id.isdigit() else None
    if partnership is None or partnership.gateway_customer_ref != event.customer_ref:
        return "ignored"
    account = gateway_account(partnership)
    if account is None or not event.setup_ref:
        return "ignored"
    gateway_for(account).save_payment_method(
        partnership.gateway_customer_ref, event.setup_ref, f"ws-pm-{event.event_id}"
    )
    return "applied"
