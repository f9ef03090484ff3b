"""Gateway webhooks: verified, bound to the wholesaler's own account, re-read from the gateway, applied newer-wins.

A signed event only says "look at this object": it must come from the gateway account the invoice's wholesaler
configured, name the very object we created there, and the object is then fetched back with that wholesaler's
credentials; the fetched state is applied, never the payload (another tenant's correctly signed event whose
metadata names our invoice changes nothing). Gateways deliver at least once and in any order, so a duplicate is a
no-op (UNIQUE(source, event_id) on WebhookReceipt), an older event never undoes a newer status, and paid and void
are never undone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.payment_registry import payment_gateway
from integrations.payments import INVOICE_STATUS, PAYMENT_METHOD_SAVED, GatewayEvent
from portal.extensions import db
from portal.models import GatewayAccount, Invoice, Partnership, WebhookReceipt, utcnow
from portal.services.billing.collect import gateway_for, gateway_settings
from portal.services.billing.ledger import FINAL_STATUSES, gateway_account
from portal.services.text import whole_number

log = logging.getLogger(__name__)

# Statuses a gateway object cannot express (Stripe keeps a sent or failed invoice "open"): taken from the event
# only while the fetched object is still open.
OPEN_STATES = ("open", "sent", "payment_failed")


class EventDeferred(RuntimeError):
    """The gateway could not be asked about the event's object now: nothing was recorded, answer so it redelivers."""


def parse_webhook(gateway_name: str, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
    """Verify and read a webhook for the gateway registered as `gateway_name` (its secret from the config).

    Raises integrations.payments.WebhookRejected when it is forged, stale, unsigned or not an event.
    """
    return payment_gateway(gateway_name, gateway_settings(gateway_name)).parse_webhook(payload, headers)


def _find_invoice(event: GatewayEvent) -> Invoice | None:
    """Our invoice the event is about: by the gateway's object id, else by the reference in its metadata."""
    if event.object_id:
        found = db.session.execute(
            select(Invoice).where(Invoice.gateway == event.gateway, Invoice.gateway_invoice_ref == event.object_id)
        ).scalar_one_or_none()
        if found is not None:
            return found
    ours = event.invoice_reference
    if (invoice_id := whole_number(ours)) is not None:
        found = db.session.get(Invoice, invoice_id)
        if found is not None and found.gateway == event.gateway:
            return found  # still has to pass the object-id and account checks in _bound_gateway
    return None


def merge_status(
    current: str, current_at: datetime | None, new: str, new_at: datetime
) -> tuple[str, datetime | None] | None:
    """The (status, as-of) after learning `new` as of `new_at`, or None when it changes nothing.

    Final statuses are never left; a non-final status older than what we have is ignored; a final status is taken
    whatever its time (a late "paid" is still paid). Applying one invoice's events in any order ends in the same
    state as applying them in time order (tests/properties).
    """
    if current in FINAL_STATUSES:
        return None
    if current_at is not None and new_at < current_at and new not in FINAL_STATUSES:
        return None  # an older event arriving late
    if new == current and current_at is not None and new_at <= current_at:
        return None
    return new, new_at if current_at is None or new_at > current_at else current_at


def _apply(invoice: Invoice, status: str, happened_at: datetime) -> bool:
    """Set `status` unless the invoice is in a final state or already reflects a newer event."""
    merged = merge_status(invoice.status, invoice.status_event_at, status, happened_at)
    if merged is None:
        return False
    invoice.status, invoice.status_event_at = merged
    if invoice.status == "paid":
        invoice.paid_at = invoice.paid_at or happened_at
    return True


def confirmed_status(claimed: str, fetched: str) -> str | None:
    """The status to apply when an event claims `claimed` and the gateway's object now says `fetched`.

    A final state read from the gateway is the truth whatever the event said; a final state only claimed by the
    payload is not applied; a non-final claim (sent, payment failed) is taken while the object is still open.
    """
    if fetched in FINAL_STATUSES:
        return fetched
    if claimed in FINAL_STATUSES or fetched not in OPEN_STATES:
        return None
    return claimed


def _bound_gateway(invoice: Invoice, event: GatewayEvent):
    """The invoice's wholesaler's gateway when the event is from that account and about our object, else None."""
    partnership = db.session.get(Partnership, invoice.partnership_id)
    if partnership is None or not invoice.gateway_invoice_ref or event.object_id != invoice.gateway_invoice_ref:
        return None
    account = db.session.execute(
        select(GatewayAccount).where(
            GatewayAccount.organization_id == partnership.wholesaler_id, GatewayAccount.gateway == invoice.gateway
        )
    ).scalar_one_or_none()
    if account is None:
        return None
    gateway = gateway_for(account)
    return gateway if gateway.owns_event(event) else None


def _invoice_status(event: GatewayEvent, happened_at: datetime) -> tuple[str, str | None]:
    """Check the event against the wholesaler's account, re-read the invoice there, apply what the gateway says."""
    invoice = _find_invoice(event)
    if invoice is None:
        return "ignored", "no invoice of ours"
    gateway = _bound_gateway(invoice, event)
    if gateway is None:
        log.warning("gateway event %s (%s) is not from invoice %s's account: ignored", event.event_id,
                    event.account, invoice.id)  # fmt: skip
        return "ignored", "not from the wholesaler's gateway account or not about our object"
    try:
        remote = gateway.fetch_invoice(invoice.gateway_invoice_ref)
    except Exception as exc:  # any failure to ask: record nothing, the gateway redelivers
        raise EventDeferred(f"could not fetch {invoice.gateway_invoice_ref}: {exc}") from exc
    status = confirmed_status(event.status, remote.status)
    if status is None:
        return "unchanged", f"the gateway says {remote.status}"
    return ("applied" if _apply(invoice, status, happened_at) else "unchanged"), None


def _record_once(event: GatewayEvent, happened_at: datetime) -> WebhookReceipt | None:
    """Insert the receipt; None when this event id was already recorded (a redelivery)."""
    slim = {"type": event.topic, "object_id": event.object_id, "account": event.account}
    receipt = WebhookReceipt(
            source=event.gateway, event_id=event.event_id, topic=event.topic[:64], payload=slim,
            triggered_at=happened_at, processed_at=utcnow(),  # applied in this same transaction
    )  # fmt: skip
    db.session.add(receipt)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return receipt


def handle_event(event: GatewayEvent) -> str:
    """Apply one verified gateway event; returns what happened (duplicate | ignored | applied | unchanged).

    Raises EventDeferred (nothing recorded) when the gateway could not be asked about the event's object.
    """
    happened_at = event.happened_at or utcnow()
    receipt = _record_once(event, happened_at)
    if receipt is None:
        return "duplicate"
    outcome, reason = "ignored", None
    try:
        if event.kind == PAYMENT_METHOD_SAVED:
            outcome = _payment_method_saved(event)
        elif event.kind == INVOICE_STATUS and event.status:
            outcome, reason = _invoice_status(event, happened_at)
    except Exception:
        db.session.rollback()  # the receipt goes too, so a redelivery is processed instead of called a duplicate
        raise
    receipt.result = {"outcome": outcome, **({"reason": reason} if reason else {})}
    db.session.commit()
    return outcome


def _payment_method_saved(event: GatewayEvent) -> str:
    """A retailer saved a payment method on the gateway's hosted page: make it the one its invoices charge.

    The event must come from the wholesaler's own account; a failure here raises, so the receipt is rolled back
    and the gateway's redelivery tries again.
    """
    raw_id = event.partnership_reference or ""
    partnership_id = whole_number(raw_id)
    partnership = db.session.get(Partnership, partnership_id) if partnership_id is not None else None
    if partnership is None or partnership.gateway_customer_ref != event.customer_ref:
        return "ignored"
    account = gateway_account(partnership)
    if account is None or not event.setup_ref or account.gateway != event.gateway:
        return "ignored"
    gateway = gateway_for(account)
    if not gateway.owns_event(event):
        return "ignored"  # another account's session naming our partnership
    # The setup intent is read back with the wholesaler's credentials inside save_payment_method.
    gateway.save_payment_method(partnership.gateway_customer_ref, event.setup_ref, f"ws-pm-{event.event_id}")
    return "applied"
