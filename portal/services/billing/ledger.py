"""The billing ledger: what is billed, the day's claim (Invoice + claimed order lines) and which days are owed.

Exactly-once comes from three things: UNIQUE(partnership, billing_date) on Invoice (the claim), order lines claimed by
guarded UPDATEs in the same transaction, and gateway calls made only after that commit with keys derived from our rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

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
from portal.services.billing.dates import cutoff_for, first_billable_date

CATCHUP_DAYS = 7
FINAL_STATUSES = ("paid", "void", "uncollectible")
DONE_STATUSES = (*FINAL_STATUSES, "sent", "payment_failed")
CENT = Decimal("0.01")
ZERO = Decimal("0")
# Lines that lower an invoice: credits for order lines, and credit brought forward from an earlier invoice.
CREDIT_KINDS = ("credit", "brought_forward")
# Ledger lines about the partnership's credit balance, not about an order line.
BALANCE_KINDS = ("brought_forward", "carried_forward")
# Days after a declined card payment when the daily job tries again (after the 1st, 2nd and 3rd decline).
DUNNING_DAYS = (1, 3, 7)


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
        sign = -1 if self.kind in CREDIT_KINDS else 1
        return (sign * self.quantity * self.unit_price).quantize(CENT)


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
    _net_billed > OrderLine.quantity - OrderLine.cancelled_quantity - OrderLine.returned_quantity,
)


def billable_units(partnership: Partnership, line: OrderLine) -> int:
    """Units of a line the retailer pays for in the end: not cancelled (by either side), and, when the
    partnership's policy credits returns, not returned."""
    returned = line.returned_quantity if partnership.returns_credit else 0
    return max(line.quantity - line.cancelled_quantity - returned, 0)


def compute_lines(partnership: Partnership, cutoff: datetime) -> list[DraftLine]:
    """Everything that would go on an invoice closed at `cutoff`, read-only (also the preview).

    Charges: units shipped by the cut-off, not cancelled, not yet billed, at the line's wholesale price.
    Credits: units billed before and cancelled, rejected or returned (when the policy credits returns) since; each
    unit once, as credited_quantity records. Shipping: once per order, if the terms say so.
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
        allowed = billable_units(partnership, line)
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
    """The wholesaler's connected account on the partnership's gateway, or None."""
    if not partnership.billing_gateway:
        return None
    return db.session.execute(
        select(GatewayAccount).where(
            GatewayAccount.organization_id == partnership.wholesaler_id,
            GatewayAccount.gateway == partnership.billing_gateway,
        )
    ).scalar_one_or_none()


def existing_invoice(partnership_id: int, billing_date: date) -> Invoice | None:
    """The partnership's Invoice for `billing_date`, if that day was already claimed."""
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
        drafts, carried = _settle_credit(partnership, drafts)
        for draft in drafts:
            _claim_line(invoice, draft)
        invoice.subtotal = sum((d.amount for d in drafts if d.kind == "charge"), ZERO)
        invoice.shipping = sum((d.amount for d in drafts if d.kind == "shipping"), ZERO)
        invoice.credits = -sum((d.amount for d in drafts if d.kind in CREDIT_KINDS), ZERO) - carried
        invoice.total = invoice.subtotal + invoice.shipping - invoice.credits
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker claimed this day first: its row is the one
        return existing_invoice(partnership.id, billing_date)
    except LineClaimConflict:
        db.session.rollback()
        raise
    return invoice


def _settle_credit(partnership: Partnership, drafts: list[DraftLine]) -> tuple[list[DraftLine], Decimal]:
    """Apply credit up to what the invoice charges, never below zero (Apruve refuses a negative invoice): the
    partnership's balance brought forward first, then this invoice's credits; what is left is carried forward.

    Returns the lines (with a "brought forward" and a "carried forward" line when they apply) and the amount
    carried forward; the balance moves in this transaction, guarded on the value read (a concurrent claim of the
    same balance makes it match no row and the claim is retried)."""
    brought = (partnership.credit_balance or ZERO).quantize(CENT)
    lines = list(drafts)
    if brought > 0:
        lines.append(DraftLine("brought_forward", None, 0, "Credit brought forward from earlier invoices", 1, brought))
    charged = sum((d.amount for d in lines if d.amount > 0), ZERO)
    credited = -sum((d.amount for d in lines if d.kind in CREDIT_KINDS), ZERO)
    carried = max(credited - charged, ZERO)
    if carried > 0:
        lines.append(DraftLine("carried_forward", None, 0, "Credit carried forward to the next invoice", 1, carried))
    result = db.session.execute(
        update(Partnership)
        .where(Partnership.id == partnership.id, Partnership.credit_balance == partnership.credit_balance)
        .values(credit_balance=carried)
    )
    if result.rowcount != 1:
        raise LineClaimConflict(f"the credit balance of partnership {partnership.id} changed while billing")
    return lines, carried


def _claim_line(invoice: Invoice, draft: DraftLine) -> None:
    invoice.lines.append(
        InvoiceLine(
            order_line_id=draft.order_line_id, kind=draft.kind, description=draft.description[:500],
            quantity=draft.quantity, unit_price=draft.unit_price, amount=draft.amount,
        )
    )  # fmt: skip
    if draft.kind in BALANCE_KINDS:
        return  # the partnership's balance was moved by _settle_credit
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


# --- dunning: a declined card is tried again -------------------------------------------------------------------
def payment_attempts(invoice: Invoice) -> int:
    """How many times the card was charged for this invoice and declined."""
    return int((invoice.steps or {}).get("payment_attempts", 0))


def next_payment_retry(invoice: Invoice) -> datetime | None:
    """When the daily job charges a declined invoice again: on the dunning schedule after the last decline, or at
    once after the retailer saved a new card; None when it is not declined or the schedule is used up."""
    steps = invoice.steps or {}
    if invoice.status != "payment_failed" or not steps.get("payment_failed_at"):
        return None
    failed_at = datetime.fromisoformat(steps["payment_failed_at"])
    if steps.get("card_updated_at") and datetime.fromisoformat(steps["card_updated_at"]) > failed_at:
        return datetime.fromisoformat(steps["card_updated_at"])
    attempts = payment_attempts(invoice)
    if attempts == 0 or attempts > len(DUNNING_DAYS):
        return None
    return failed_at + timedelta(days=DUNNING_DAYS[attempts - 1])


def retry_due(invoice: Invoice, now: datetime | None = None) -> bool:
    """Whether a declined invoice is to be charged again now."""
    at = next_payment_retry(invoice)
    return at is not None and (now or utcnow()) >= at


def card_updated(partnership: Partnership) -> int:
    """The retailer saved a new card: its declined invoices are charged again by the next daily run."""
    declined = db.session.execute(
        select(Invoice).where(Invoice.partnership_id == partnership.id, Invoice.status == "payment_failed")
    ).scalars()
    count = 0
    for invoice in declined:
        invoice.steps = {**(invoice.steps or {}), "card_updated_at": utcnow().isoformat()}
        count += 1
    db.session.commit()
    return count


# --- which days are owed ---------------------------------------------------------------------------------------
def is_statement_day(partnership: Partnership, day: date) -> bool:
    """Whether `day` closes an invoice: every day for daily invoices; for a monthly statement only the month's last
    day (its cut-off takes in everything shipped and unbilled that month). Payment is still collected daily."""
    return partnership.invoice_period != "monthly" or (day + timedelta(days=1)).day == 1


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
    days = {day for day in days if is_statement_day(partnership, day)}
    declined = db.session.execute(
        select(Invoice).where(Invoice.partnership_id == partnership.id, Invoice.status == "payment_failed")
    ).scalars()
    retries = {invoice.billing_date for invoice in declined if retry_due(invoice)}
    return sorted(days | set(unfinished) | retries)
