"""Billing: the ledger (what is billed, the day's claim), collection through a payment gateway, and webhook events.

`dates` (billing days and cut-offs), `ledger` (claims and invoice rows), `collect` (gateway steps through
integrations.payments) and `events` (neutral gateway events applied newer-wins); the common names are here
(`collect` stays the module's name here: call `collect.collect(invoice)`).
"""

from integrations.payments import WebhookRejected
from portal.services.billing.collect import (
    KEY_TRUST_WINDOW,
    bill,
    card_setup_url,
    ensure_customer,
    gateway_for,
    gateway_settings,
)
from portal.services.billing.dates import cutoff_for, due_billing_date, first_billable_date
from portal.services.billing.events import handle_event, parse_webhook
from portal.services.billing.ledger import (
    CATCHUP_DAYS,
    DONE_STATUSES,
    FINAL_STATUSES,
    BillingNotReady,
    DraftLine,
    LineClaimConflict,
    claim,
    compute_lines,
    dates_to_bill,
    existing_invoice,
    gateway_account,
    preview,
)

__all__ = [
    "CATCHUP_DAYS",
    "DONE_STATUSES",
    "FINAL_STATUSES",
    "KEY_TRUST_WINDOW",
    "BillingNotReady",
    "DraftLine",
    "LineClaimConflict",
    "WebhookRejected",
    "bill",
    "card_setup_url",
    "claim",
    "compute_lines",
    "cutoff_for",
    "dates_to_bill",
    "due_billing_date",
    "ensure_customer",
    "existing_invoice",
    "first_billable_date",
    "gateway_account",
    "gateway_for",
    "gateway_settings",
    "handle_event",
    "parse_webhook",
    "preview",
]
