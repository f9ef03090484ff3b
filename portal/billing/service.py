"""What is billed and how: the ledger claim, then the gateway steps, each recorded as it succeeds.

Exactly-once comes from three things: UNIQUE(partnership, billing_date) on Invoice (the claim), order lines claimed by
guarded UPDATEs in the same transaction, and gateway calls made only after that commit with keys derived from our rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import stripe
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    Fulfillment,
    GatewayAccount,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Organization,
    Partnership,
    utcnow,
)

log = logging.getLogger(__name__)

METADATA_KEY = "wholesync_invoice_id"
# Stripe keeps idempotency keys at least 24 h; past this age a retry looks the object up instead of trusting the key.
KEY_TRUST_WINDOW = timedelta(hours=23)
CATCHUP_DAYS = 7
FINAL_STATUSES = ("paid", "void", "uncollectible")
DONE_STATUSES = (*FINAL_STATUSES, "sent", "payment_failed")
CENT = Decimal("0.01")


class BillingNotReady(RuntimeError):
    """The partnership cannot be billed yet (no gateway account, no customer); nothing was claimed."""


class LineClaimConflict(RuntimeError):
    """An order line changed under us while claiming; the transaction is rolled back and the job retried."""


@dataclass
class DraftLine:
    """One line of what would be billed: a charge, a credit or shipping, not yet in the ledger."""

    kind: str
    order_line_id: int | None
    order_id: int
    description: str
    quantity: int
    unit_price: Decimal
    billed_before: int = 0
    credited_before: int = 0

    @property
    def amount(self) -> Decimal:
        sign = -1 if self.kind == "credit" else 1
        return (sign * self.quantity * self.unit_price).quantize(CENT)


# --- time: the wholesaler's billing time in its own timezone ---------------------------------------------------
def cutoff_for(org: Organization, billing_date: date) -> datetime:
    """The UTC instant at which `billing_date` closes: the wholesaler's billing time in its timezone."""
    local = datetime.combine(billing_date, org.billing_time, tzinfo=ZoneInfo(org.timezone or "UTC"))
    return local.astimezone(UTC)


def due_billing_date(org: Organization, now: datetime) -> date:
    """The latest billing date whose cut-off has passed at `now`."""
    local = now.astimezone(ZoneInfo(org.timezone or "UTC"))
    return local.date() if local.time() >= org.billing_time else local.date() - timedelta(days=1)


def first_billable_date(partnership: Partnership, org: Organization) -> date | None:
    """The first billing date the partnership can have: the day it was accepted, in the wholesaler's timezone."""
    start = partnership.accepted_at or partnership.created_at
    return start.astimezone(ZoneInfo(org.timezone or "UTC")).date() if start else None


# --- what is billed ----------------------------------------------------------------------------------------------
def _shipped_by(order: Order, line: OrderLine, fulfillments: list[Fulfillment], cutoff: datetime) -> int:
    """Units of `line` shipped at or before `cutoff` (fulfillments when they name lines, else the order's stamp)."""
    per_line = [f for f in fulfillments if any(entry.get("order_line_id") for entry in f.lines or [])]
    if per_line:
        shipped = sum(
            int(entry.get("quantity", 0))
            for f in per_line
            if f.shipped_at <= cutoff
            for entry in f.lines
            if entry.get("order_line_id") == line.id
        )
        return min(shipped, line.fulfilled_quantity)
    if order.shipped_at is not None and order.shipped_at <= cutoff:
        return line.fulfilled_quantity
    return 0


_net_billed = OrderLine.billed_quantity - OrderLine.credited_quantity
# Only lines with something to charge or credit: fully billed history is never re-read.
_has_work = or_(
    OrderLine.fulfilled_quantity > _net_billed,
    _net_billed > OrderLine.quantity - OrderLine.cancelled_quantity,
)


def compute_lines(partnership: Partnership, cutoff: datetime) -> list[DraftLine]:
    """Everything that would go on an invoice closed at `cutoff`, read-only (also the preview).

    Charges: units shipped by the cut-off, not cancelled, not yet billed, at the line's wholesale price.
    Credits: units billed before and cancelled or refunded since. Shipping: once per order, if the terms say so.
    """
    rows = db.session.execute(
        select(OrderLine, Order)
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.partnership_id == partnership.id, _has_work)
        .order_by(Order.id, OrderLine.id)
    ).all()
    fulfillments: dict[int, list[Fulfillment]] = {}
    order_ids = {order.id for _, order in rows}
    if order_ids:
        for f in db.session.execute(select(Fulfillment).where(Fulfillment.order_id.in_(order_ids))).scalars():
            fulfillments.setdefault(f.order_id, []).append(f)
    drafts: list[DraftLine] = []
    charged_orders: dict[int, Order] = {}
    for line, order in rows:
        allowed = max(line.quantity - line.cancelled_quantity, 0)
        net_billed = line.billed_quantity - line.credited_quantity
        shipped = min(_shipped_by(order, line, fulfillments.get(order.id, []), cutoff), allowed)
        label = f"{order.retailer_order_name or order.remote_order_id} · {line.sku} {line.title}".strip()
        common = dict(
            order_line_id=line.id, order_id=order.id, unit_price=line.wholesale_price,
            billed_before=line.billed_quantity, credited_before=line.credited_quantity,
        )  # fmt: skip
        if shipped > net_billed:
            drafts.append(DraftLine("charge", description=label, quantity=shipped - net_billed, **common))
            charged_orders[order.id] = order
        elif net_billed > allowed:
            drafts.append(DraftLine("credit", description=f"Credit: {label}", quantity=net_billed - allowed, **common))
    if partnership.bill_shipping:
        for order in charged_orders.values():
            if order.billed_at is None and order.shipping_amount and order.shipping_amount > 0:
                name = order.retailer_order_name or order.remote_order_id
                drafts.append(DraftLine("shipping", None, order.id, f"Shipping {name}", 1, order.shipping_amount))
    return drafts


def preview(partnership: Partnership, now: datetime | None = None) -> list[DraftLine]:
    """Tomorrow's invoice if the day ended now: what is shipped and unbilled at this instant. No side effects."""
    drafts = compute_lines(partnership, now or utcnow())
    return drafts if any(d.kind == "charge" for d in drafts) else []


# --- the claim -----------------------------------------------------------------------------------------------------
def gateway_account(partnership: Partnership) -> GatewayAccount | None:
    if not partnership.billing_gateway:
        return None
    return db.session.execute(
        select(GatewayAccount).where(
            GatewayAccount.organization_id == partnership.wholesaler_id,
            GatewayAccount.gateway == partnership.billing_gateway,
        )
    ).scalar_one_or_none()


def existing_invoice(partnership_id: int, billing_date: date) -> Invoice | None:
    return db.session.execute(
        select(Invoice).where(Invoice.partnership_id == partnership_id, Invoice.billing_date == billing_date)
    ).scalar_one_or_none()


def claim(partnership: Partnership, billing_date: date) -> Invoice | None:
    """Create the day's Invoice and claim its lines in one transaction; None when nothing shipped.

    If the day already has an Invoice (an earlier attempt, a concurrent worker) that row is returned untouched.
    """
    found = existing_invoice(partnership.id, billing_date)
    if found is not None:
        return found
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    drafts = compute_lines(partnership, cutoff_for(wholesaler, billing_date))
    if not any(d.kind == "charge" for d in drafts):
        return None  # nothing shipped: no invoice; pending credits wait for the next invoice with charges
    invoice = Invoice(
        partnership_id=partnership.id, wholesaler_id=partnership.wholesaler_id, retailer_id=partnership.retailer_id,
        billing_date=billing_date, status="claimed", gateway=partnership.billing_gateway,
        currency=wholesaler.currency or "USD", steps={},
    )  # fmt: skip
    db.session.add(invoice)
    try:
        db.session.flush()
        for draft in drafts:
            _claim_line(invoice, draft)
        invoice.subtotal = sum((d.amount for d in drafts if d.kind == "charge"), Decimal("0"))
        invoice.shipping = sum((d.amount for d in drafts if d.kind == "shipping"), Decimal("0"))
        invoice.credits = -sum((d.amount for d in drafts if d.kind == "credit"), Decimal("0"))
        invoice.total = invoice.subtotal + invoice.shipping - invoice.credits
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker claimed this day first: its row is the one
        return existing_invoice(partnership.id, billing_date)
    except LineClaimConflict:
        db.session.rollback()
        raise
    return invoice


def _claim_line(invoice: Invoice, draft: DraftLine) -> None:
    invoice.lines.append(
        InvoiceLine(
            order_line_id=draft.order_line_id, kind=draft.kind, description=draft.description[:500],
            quantity=draft.quantity, unit_price=draft.unit_price, amount=draft.amount,
        )
    )  # fmt: skip
    if draft.kind == "shipping":
        result = db.session.execute(
            update(Order).where(Order.id == draft.order_id, Order.billed_at.is_(None)).values(billed_at=utcnow())
        )
    else:
        column = OrderLine.billed_quantity if draft.kind == "charge" else OrderLine.credited_quantity
        # Guarded on the values we read: a concurrent claim of the same units makes this match no row.
        result = db.session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == draft.order_line_id,
                OrderLine.billed_quantity == draft.billed_before,
                OrderLine.credited_quantity == draft.credited_before,
            )
            .values({column: column + draft.quantity})
        )
    if result.rowcount != 1:
        raise LineClaimConflict(f"order line {draft.order_line_id} changed while billing; retrying")


# --- the gateway steps -----------------------------------------------------------------------------------------
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


def collect(invoice: Invoice) -> Invoice:
    """Drive a claimed invoice through its gateway, resuming after the last recorded step."""
    if invoice.status in DONE_STATUSES:
        return invoice
    partnership = db.session.get(Partnership, invoice.partnership_id)
    account = gateway_account(partnership)
    if account is None:
        raise BillingNotReady(f"no {partnership.billing_gateway} account connected for this wholesaler")
    try:
        if invoice.gateway == "apruve":
            _collect_apruve(invoice, partnership, account)
        else:
            _collect_stripe(invoice, partnership, account)
    except Exception as exc:
        db.session.rollback()
        invoice.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    return invoice


def ensure_stripe_customer(partnership: Partnership, gateway) -> str:
    """The retailer's customer id on the wholesaler's Stripe account, created once (key per partnership)."""
    if partnership.gateway_customer_ref:
        return partnership.gateway_customer_ref
    retailer = db.session.get(Organization, partnership.retailer_id)
    customer = gateway.create_customer(
        retailer.name if retailer else f"Retailer {partnership.retailer_id}",
        None,
        {"wholesync_partnership_id": str(partnership.id)},
        f"ws-cus-{partnership.id}",
    )
    after_gateway_call("customer")
    partnership.gateway_customer_ref = customer["id"]
    db.session.commit()
    return customer["id"]


def _collect_stripe(invoice: Invoice, partnership: Partnership, account: GatewayAccount) -> None:
    from integrations.stripe import gateway_for, to_minor_units

    gateway = gateway_for(account)
    customer = ensure_stripe_customer(partnership, gateway)
    trusted = _trust_keys(invoice)
    currency = invoice.currency.lower()
    net = partnership.billing_terms == "net"

    remote_id = (invoice.steps or {}).get("invoice")
    if remote_id is None:
        found = None if trusted else gateway.find_invoice(customer, METADATA_KEY, str(invoice.id))
        if found is None:
            params = {
                "customer": customer,
                "collection_method": "send_invoice" if net else "charge_automatically",
                "auto_advance": False,
                "currency": currency,
                "pending_invoice_items_behavior": "exclude",
                "description": f"Wholesale orders shipped through {invoice.billing_date.isoformat()}",
                "metadata": {
                    METADATA_KEY: str(invoice.id),
                    "partnership_id": str(partnership.id),
                    "billing_date": invoice.billing_date.isoformat(),
                },
            }
            if net:
                params["days_until_due"] = partnership.net_days
            found = gateway.create_invoice(params, f"ws-inv-{invoice.id}")
            after_gateway_call("invoice")
        remote_id = found["id"]
        invoice.gateway_invoice_ref = remote_id
        _record(invoice, "invoice", remote_id)

    for line in invoice.lines:
        step = f"item:{line.id}"
        if step in (invoice.steps or {}):
            continue
        found = None if trusted else gateway.find_item(remote_id, "wholesync_invoice_line_id", str(line.id))
        if found is None:
            params = {
                "customer": customer,
                "invoice": remote_id,
                "amount": to_minor_units(line.amount, currency),
                "currency": currency,
                "description": line.description,
                "metadata": {"wholesync_invoice_line_id": str(line.id), METADATA_KEY: str(invoice.id)},
            }
            found = gateway.add_item(params, f"ws-ii-{line.id}")
            after_gateway_call(step)
        _record(invoice, step, found["id"])

    if "finalized" not in invoice.steps:
        remote = _stripe_step(gateway, remote_id, lambda: gateway.finalize(remote_id, f"ws-fin-{invoice.id}"))
        if remote["status"] == "draft":
            raise RuntimeError(f"Stripe invoice {remote_id} is still a draft after finalizing")
        after_gateway_call("finalized")
        _record(invoice, "finalized", remote["status"])

    if net:
        if "sent" not in invoice.steps:
            _stripe_step(gateway, remote_id, lambda: gateway.send(remote_id, f"ws-send-{invoice.id}"))
            after_gateway_call("sent")
            _record(invoice, "sent", True)
        _set_status(invoice, "sent")
        return

    if "paid" not in invoice.steps:
        try:
            remote = _stripe_step(gateway, remote_id, lambda: gateway.pay(remote_id, f"ws-pay-{invoice.id}"))
        except stripe.CardError as exc:
            _record(invoice, "paid", False)
            invoice.status, invoice.last_error = "payment_failed", f"Card declined: {exc.user_message or exc}"
            db.session.commit()
            return
        after_gateway_call("paid")
        _record(invoice, "paid", remote["status"] == "paid")
    if invoice.steps.get("paid"):
        if invoice.paid_at is None:
            invoice.paid_at = utcnow()
        _set_status(invoice, "paid")


def _stripe_step(gateway, remote_id: str, call) -> dict:
    """Run a state transition; if Stripe says it already happened (invoice not editable / already paid), re-read."""
    try:
        return call()
    except stripe.InvalidRequestError as exc:
        remote = gateway.retrieve_invoice(remote_id)
        if remote["status"] in ("open", "paid", "void", "uncollectible"):
            log.info("Stripe step on %s already done (%s); continuing", remote_id, exc)
            return remote
        raise


def _collect_apruve(invoice: Invoice, partnership: Partnership, account: GatewayAccount) -> None:
    from integrations.apruve import gateway_for

    gateway = gateway_for(account)
    ours = f"wholesync-{invoice.id}"
    cents = [(line, int((line.amount * 100).quantize(Decimal(1)))) for line in invoice.lines]
    order_id = (invoice.steps or {}).get("order")
    if order_id is None:
        found = gateway.find_order(ours)  # Apruve has no idempotency keys: look up before every create
        if found is None:
            found = gateway.create_order(
                {
                    "merchant_order_id": ours,
                    "amount_cents": sum(c for _, c in cents),
                    "currency": invoice.currency,
                    "corporate_account_id": partnership.gateway_customer_ref,
                    "payment_term": {"type": "net", "days": partnership.net_days},
                    "order_items": [
                        {"title": line.description, "price_total_cents": c, "quantity": line.quantity}
                        for line, c in cents
                    ],
                }
            )
            after_gateway_call("order")
        _record(invoice, "order", found["id"])
        order_id = found["id"]
    if "invoice" not in invoice.steps:
        found = gateway.find_invoice(order_id, ours)
        if found is None:
            found = gateway.create_invoice(
                {
                    "order_id": order_id,
                    "merchant_invoice_id": ours,
                    "amount_cents": sum(c for _, c in cents),
                    "currency": invoice.currency,
                    "issue_on_create": True,
                    "invoice_items": [
                        {"title": line.description, "price_total_cents": c, "quantity": line.quantity}
                        for line, c in cents
                    ],
                }
            )
            after_gateway_call("invoice")
        invoice.gateway_invoice_ref = found["id"]
        _record(invoice, "invoice", found["id"])
    _set_status(invoice, "sent")


# --- one partnership, one day ----------------------------------------------------------------------------------
def bill(partnership: Partnership, billing_date: date) -> Invoice | None:
    """Bill one partnership for one day: claim (or find) the day's Invoice, then collect it. Idempotent."""
    if gateway_account(partnership) is None:
        raise BillingNotReady(f"no {partnership.billing_gateway or 'payment'} gateway connected; nothing was billed")
    invoice = claim(partnership, billing_date)
    if invoice is None:
        return None
    return collect(invoice)


def dates_to_bill(partnership: Partnership, through: date) -> list[date]:
    """Billing dates up to `through` that may still need work: unfinished invoices, then days after the last one."""
    wholesaler = db.session.get(Organization, partnership.wholesaler_id)
    unfinished = db.session.execute(
        select(Invoice.billing_date).where(
            Invoice.partnership_id == partnership.id,
            Invoice.billing_date <= through,
            Invoice.status.not_in(DONE_STATUSES),
        )
    ).scalars()
    last = db.session.execute(
        select(Invoice.billing_date)
        .where(Invoice.partnership_id == partnership.id, Invoice.billing_date <= through)
        .order_by(Invoice.billing_date.desc())
        .limit(1)
    ).scalar_one_or_none()
    start = through - timedelta(days=CATCHUP_DAYS - 1)
    if last is not None:
        start = max(start, last + timedelta(days=1))
    first = first_billable_date(partnership, wholesaler)
    if first is not None:
        start = max(start, first)
    days = {start + timedelta(days=i) for i in range((through - start).days + 1)} if start <= through else set()
    return sorted(days | set(unfinished))
