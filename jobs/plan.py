"""The sync plan: every job, its leg, its documented interval, what it does, and whether a person may start it.

This table is the single source of the schedule (ARCHITECTURE §5). The scheduler reconciles it into
rq-scheduler; the Settings -> Sync page and `flask sync plan` read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

HOUR = 3600


@dataclass(frozen=True)
class JobSpec:
    """One job of the plan.

    scope: what one run works on — "sor" (a wholesaler's system-of-record connection), "store" (a retailer's
    store connection) or "partnership". toggle: the partnership sync toggle that must be on for the job to touch it.
    tick_seconds: how often the scheduler fires the dispatcher (defaults to the interval).
    dispatch: how a tick picks what to enqueue — "module:function" called with the tick's slot (None = now) and
    returning (target key, job id parts) pairs, each enqueued once under `<name>-<target>-<parts>`; None means
    one run per target in scope per time slot.
    """

    name: str
    leg: str
    interval_seconds: int
    description: str
    manual: bool
    scope: str
    flow: str
    toggle: str | None = None
    queue: str = "sync"
    tick_seconds: int | None = None
    manual_refusal: str | None = None
    dispatch: str | None = None

    @property
    def tick(self) -> int:
        return self.tick_seconds or self.interval_seconds

    def public(self) -> dict:
        """The fields `flask sync plan --json` and the API show."""
        data = asdict(self)
        return {k: data[k] for k in ("name", "leg", "interval_seconds", "description", "manual")}


BILLING_REFUSAL = (
    "Billing runs once a day by itself and can never be started by hand, so that no retailer is charged twice."
)

SYNC_PLAN: tuple[JobSpec, ...] = (
    JobSpec(
        "orders.pull", "retailer store -> hub", HOUR,
        "Fetch new and changed orders from retailers' stores and keep the lines for your products.",
        True, "store", "jobs.flows.orders:pull", toggle="sync_orders_from_retailer", queue="orders",
    ),
    JobSpec(
        "orders.push", "hub -> wholesaler system of record", HOUR,
        "Create the orders received from retailers in the wholesaler's system of record for fulfilment.",
        True, "sor", "jobs.flows.orders:push", toggle="sync_orders_to_wholesaler", queue="orders",
    ),
    JobSpec(
        "order_changes.push", "hub -> wholesaler system of record", HOUR,
        "Cancel in the wholesaler's system of record the orders retailers cancelled, or say why it is too late.",
        True, "sor", "jobs.flows.order_changes:push", toggle="sync_orders_to_wholesaler", queue="orders",
    ),
    JobSpec(
        "order_updates.pull", "wholesaler system of record -> hub", HOUR,
        "Fetch shipments and tracking numbers from the wholesaler's system of record for orders we sent.",
        True, "sor", "jobs.flows.order_updates:pull", toggle="sync_order_updates_from_wholesaler", queue="orders",
    ),
    JobSpec(
        "order_updates.push", "hub -> retailer store", HOUR,
        "Send shipments with carrier and tracking to the retailers' stores, so they can tell their customers.",
        True, "partnership", "jobs.flows.order_updates:push", toggle="sync_order_updates_to_retailer", queue="orders",
    ),
    JobSpec(
        "products.pull", "wholesaler system of record -> hub", 8 * HOUR,
        "Read the wholesaler's full catalog (titles, descriptions, prices, SKUs, images, stock) into Wholesync.",
        True, "sor", "jobs.flows.products:pull", toggle="sync_products_from_wholesaler",
    ),
    JobSpec(
        "products.push", "hub -> retailer stores", 8 * HOUR,
        "Send the catalog to the retailers' stores at their price-list prices; new products arrive unpublished.",
        True, "partnership", "jobs.flows.products:push", toggle="sync_products_to_retailer",
    ),
    JobSpec(
        "inventory.pull", "wholesaler system of record -> hub", HOUR,
        "Read stock levels only (not the whole catalog) from the wholesaler's system of record.",
        True, "sor", "jobs.flows.inventory:pull", toggle="sync_inventory_from_wholesaler",
    ),
    JobSpec(
        "inventory.push", "hub -> retailer stores", HOUR,
        "Send changed stock levels to the retailers' stores, less orders still on their way to the wholesaler.",
        True, "partnership", "jobs.flows.inventory:push", toggle="sync_inventory_to_retailer",
    ),
    JobSpec(
        "billing.run", "hub -> payment gateway", 24 * HOUR,
        "Invoice each retailer, or charge its card, for what shipped and is not yet billed, once a day.",
        False, "partnership", "jobs.flows.billing:run", queue="billing", tick_seconds=HOUR,
        manual_refusal=BILLING_REFUSAL, dispatch="jobs.flows.billing:due_days",
    ),
    JobSpec(
        "alerts.scan", "hub -> people (e-mail)", 15 * 60,
        "Find failed jobs, failing records, late orders, lost access and failed payments, and e-mail who asked.",
        True, "partnership", "jobs.flows.alerts:scan", dispatch="jobs.flows.alerts:wholesaler_targets",
    ),
)  # fmt: skip

PLAN_BY_NAME = {spec.name: spec for spec in SYNC_PLAN}
# Listened to in this order of priority: webhook receipts (and the stock and catalog event pushes they start), then
# orders (a retailer's customer is waiting), then the whole-catalog passes, then billing. A worker finishes the job
# it holds before looking again, so the Procfile's `urgent` process listens only to the first two: an order or a
# stock event never waits behind a catalog pass (ARCHITECTURE §5).
QUEUES = ("webhooks", "orders", "sync", "billing")
URGENT_QUEUES = ("webhooks", "orders")


class UnknownJob(LookupError):
    """A job name that is not in the sync plan."""


class ManualRunRefused(PermissionError):
    """A job that may not be started by hand (billing)."""


def get_job(name: str) -> JobSpec:
    """The plan entry called `name`, or UnknownJob naming the jobs that exist."""
    try:
        return PLAN_BY_NAME[name]
    except KeyError:
        raise UnknownJob(f"unknown job {name!r}; the jobs are: {', '.join(PLAN_BY_NAME)}") from None


def get_manual_job(name: str) -> JobSpec:
    """The plan entry called `name` if a person may run it now; ManualRunRefused for billing."""
    spec = get_job(name)
    if not spec.manual:
        raise ManualRunRefused(spec.manual_refusal or f"{name} cannot be run by hand")
    return spec
