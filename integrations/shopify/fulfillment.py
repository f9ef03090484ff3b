"""Shopify fulfillment: the per-partnership fulfillment service in a retailer's store, accepting its fulfillment
requests, reading shipments from a wholesaler's store and creating them (with tracking) in the retailer's store.

Lines of products linked by SKU are not routed to our fulfillment service: they sit in fulfillment orders at the
retailer's own (merchant-managed) locations, and their shipments are created there with the same tracking.
"""

from __future__ import annotations

from integrations.base import NothingToFulfil, Shipment
from integrations.timeutil import parse_iso

SERVICE_CREATE = """
mutation SyncServiceCreate($name: String!, $callbackUrl: URL!) {
  fulfillmentServiceCreate(name: $name, callbackUrl: $callbackUrl, trackingSupport: true, inventoryManagement: true) {
    fulfillmentService { id serviceName location { id } }
    userErrors { field message }
  }
}
"""

SERVICES_QUERY = """
query SyncServices {
  locations(first: 250, includeLegacy: true) { nodes { id fulfillmentService { id serviceName } } }
}
"""

ORDER_FULFILLMENT_ORDERS = """
query SyncFulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 5) {
      nodes {
        id status requestStatus assignedLocation { location { id fulfillmentService { id } } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

ACCEPT = """
mutation SyncAccept($id: ID!, $message: String) {
  fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
"""

ORDER_SHIPMENTS = """
query SyncShipments($id: ID!) {
  order(id: $id) {
    fulfillments(first: 50) {
      id createdAt
      trackingInfo(first: 10) { company number url }
      fulfillmentLineItems(first: 250) { nodes { quantity lineItem { id } } }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation SyncFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}
"""

REJECT = """
mutation SyncReject($id: ID!, $reason: FulfillmentOrderRejectionReason, $message: String,
                    $lineItems: [IncomingRequestLineItemInput!]) {
  fulfillmentOrderRejectFulfillmentRequest(id: $id, reason: $reason, message: $message, lineItems: $lineItems) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
"""

CLOSE = """
mutation SyncClose($id: ID!, $message: String) {
  fulfillmentOrderClose(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
"""

CANCELLATION_REQUESTS = """
query SyncCancellationRequests($after: String, $locations: [ID!]) {
  assignedFulfillmentOrders(first: 50, after: $after, assignmentStatus: CANCELLATION_REQUESTED,
                            locationIds: $locations) {
    pageInfo { hasNextPage endCursor }
    nodes { id orderId }
  }
}
"""

ACCEPT_CANCELLATION = """
mutation SyncAcceptCancellation($id: ID!, $message: String) {
  fulfillmentOrderAcceptCancellationRequest(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
"""

REJECT_CANCELLATION = """
mutation SyncRejectCancellation($id: ID!, $message: String) {
  fulfillmentOrderRejectCancellationRequest(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
"""

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")
REJECTION_REASONS = {"inventory": "INVENTORY_OUT_OF_STOCK"}


def _shipments(gql, order_id: str) -> list[Shipment]:
    order = gql(ORDER_SHIPMENTS, {"id": order_id})["order"]
    if order is None:
        return []
    result = []
    for node in order["fulfillments"]:
        tracking = node.get("trackingInfo") or []
        result.append(
            Shipment(
                remote_id=node["id"],
                created_at=parse_iso(node.get("createdAt")),
                lines=[(li["lineItem"]["id"], li["quantity"]) for li in node["fulfillmentLineItems"]["nodes"]],
                carrier=next((t["company"] for t in tracking if t.get("company")), None),
                tracking_numbers=[t["number"] for t in tracking if t.get("number")],
                tracking_urls=[t["url"] for t in tracking if t.get("url")],
            )
        )
    return result


class ShipmentSource:
    """The wholesaler side: the shipments of an order we created in its store."""

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        return _shipments(self.gql, remote_order_id)


class ShipmentTarget:
    """The retailer side: our fulfillment service, its requests, and the shipments we report."""

    def prepare(self, partnership_key: str, name: str, callback_url: str) -> dict:
        """Our fulfillment service called `name` and its location, created once: the placement of our goods."""
        for location in self.gql(SERVICES_QUERY)["locations"]["nodes"]:
            service = location.get("fulfillmentService")
            if service and service["serviceName"] == name:  # created by an attempt that died before recording it
                return {"fulfillment_service_id": service["id"], "location_id": location["id"]}
        created = self.mutate(SERVICE_CREATE, {"name": name, "callbackUrl": callback_url}, "fulfillmentServiceCreate")
        service = created["fulfillmentService"]
        return {"fulfillment_service_id": service["id"], "location_id": service["location"]["id"]}

    def _all_fulfillment_orders(self, order_id: str) -> list[dict]:
        order = self.gql(ORDER_FULFILLMENT_ORDERS, {"id": order_id})["order"]
        return order["fulfillmentOrders"]["nodes"] if order else []

    def _fulfillment_orders(self, order_id: str, location_id: str) -> list[dict]:
        nodes = self._all_fulfillment_orders(order_id)
        return [n for n in nodes if _location(n).get("id") == location_id]

    def _shippable_fulfillment_orders(self, order_id: str, placement: dict | None) -> list[dict]:
        """Our service's fulfillment orders first, then those at the retailer's own locations (SKU-linked lines);
        never another service's (another app or partnership fulfils those)."""
        ours = (placement or {}).get("location_id")
        nodes = self._all_fulfillment_orders(order_id)
        at_ours = [n for n in nodes if ours and _location(n).get("id") == ours]
        merchant = [n for n in nodes if not _location(n).get("fulfillmentService")]
        return at_ours + merchant

    def accept_fulfillment_requests(self, remote_order_id: str, placement: dict | None) -> int:
        """Accept the submitted fulfillment requests of this order at our location; returns how many (none
        without a placement: SKU-linked lines are fulfilled by the merchant's own locations, no request to accept)."""
        if not placement:
            return 0
        accepted = 0
        for fo in self._fulfillment_orders(remote_order_id, placement["location_id"]):
            if fo["requestStatus"] == "SUBMITTED":
                self.mutate(
                    ACCEPT,
                    {"id": fo["id"], "message": "In the wholesaler's system"},
                    "fulfillmentOrderAcceptFulfillmentRequest",
                )
                accepted += 1
        return accepted

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        return _shipments(self.gql, remote_order_id)

    def create_shipment(self, remote_order_id: str, placement: dict | None, shipment: Shipment) -> str:
        """fulfillmentCreate for these (retailer line id, quantity) pairs on our fulfillment orders or, for lines
        linked by SKU, on those at the retailer's own locations. Shopify takes one location per fulfillment, so
        lines split across locations become one fulfillment each (same tracking); the first one's id is returned."""
        wanted = dict(shipment.lines)
        by_location: dict[str, list[dict]] = {}
        shippable = self._shippable_fulfillment_orders(remote_order_id, placement)
        for fo in shippable:
            if fo["status"] not in OPEN_STATUSES:
                continue
            items = []
            for item in fo["lineItems"]["nodes"]:
                line_id = item["lineItem"]["id"]
                take = min(wanted.get(line_id, 0), item["remainingQuantity"])
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    wanted[line_id] -= take
            if items:
                group = {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items}
                by_location.setdefault(_location(fo).get("id") or "", []).append(group)
        if not by_location:
            left = sum(item["remainingQuantity"] for fo in shippable for item in fo["lineItems"]["nodes"]
                       if wanted.get(item["lineItem"]["id"], 0) > 0)  # fmt: skip
            if not left:  # not on hold or waiting: the order no longer holds these units
                raise NothingToFulfil("the retailer's order no longer holds these units (edited or cancelled)")
            raise RuntimeError("no open fulfillment order of this order has these lines left to fulfil")
        tracking = {"company": shipment.carrier, "numbers": shipment.tracking_numbers, "urls": shipment.tracking_urls}
        created = []
        for groups in by_location.values():
            fulfillment = {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": True, "trackingInfo": tracking}
            payload = self.mutate(FULFILLMENT_CREATE, {"fulfillment": fulfillment}, "fulfillmentCreate")
            created.append(payload["fulfillment"]["id"])
        return created[0]

    def reject_lines(self, remote_order_id: str, placement: dict | None, lines: list[tuple[str, int]], reason: str,
                     message: str) -> bool:  # fmt: skip
        """Shopify lets a fulfillment service refuse work two ways. A request not yet accepted (SUBMITTED) is
        rejected with the reason when it holds nothing but the refused units (lineItems name the lines); one that
        holds more is accepted instead, so the rest can ship. An accepted request is closed (`fulfillmentOrderClose`:
        INCOMPLETE, back to the merchant) once all that remains on it is refused units, i.e. after the rest shipped;
        until then this answers False. Lines linked by SKU sit at the merchant's own locations: nothing to refuse
        there (the merchant sees the reason in the app). True once no request of ours still holds refused units."""
        if not placement:
            return True
        refused = dict(lines)
        done = True
        for fo in self._fulfillment_orders(remote_order_id, placement["location_id"]):
            items = fo["lineItems"]["nodes"]
            held = [i for i in items if i["remainingQuantity"] > 0 and refused.get(i["lineItem"]["id"], 0) > 0]
            if not held or fo["status"] not in OPEN_STATUSES:
                continue
            only_refused = all(i["remainingQuantity"] <= refused.get(i["lineItem"]["id"], 0)
                               for i in items if i["remainingQuantity"] > 0)  # fmt: skip
            if fo["requestStatus"] == "SUBMITTED" and only_refused:
                variables = {
                    "id": fo["id"], "reason": REJECTION_REASONS.get(reason, "OTHER"), "message": message[:255],
                    "lineItems": [{"fulfillmentOrderLineItemId": i["id"], "message": message[:255]} for i in held],
                }  # fmt: skip
                self.mutate(REJECT, variables, "fulfillmentOrderRejectFulfillmentRequest")
                continue
            if fo["requestStatus"] == "SUBMITTED":  # the rest ships: take the request
                self.mutate(ACCEPT, {"id": fo["id"], "message": "In the wholesaler's system"},
                            "fulfillmentOrderAcceptFulfillmentRequest")  # fmt: skip
            elif fo["requestStatus"] == "ACCEPTED" and fo["status"] == "IN_PROGRESS" and only_refused:
                self.mutate(CLOSE, {"id": fo["id"], "message": message[:255]}, "fulfillmentOrderClose")
                continue
            done = False  # the rest of this request ships first; it is closed after
        return done

    def cancellation_requests(self, placement: dict | None) -> list[str]:
        """The store's orders with a cancellation request waiting for our answer (requests we had accepted)."""
        if not placement:
            return []
        nodes = self.pages(CANCELLATION_REQUESTS, {"locations": [placement["location_id"]]},
                           "assignedFulfillmentOrders")  # fmt: skip
        return sorted({node["orderId"] for node in nodes})

    def answer_cancellation(self, remote_order_id: str, placement: dict | None, accept: bool, message: str) -> int:
        """Accept (the wholesaler's order was cancelled) or reject with the reason (it shipped) each cancellation
        request of this order at our location; returns how many were answered (0 the second time)."""
        if not placement:
            return 0
        document, root = (ACCEPT_CANCELLATION, "fulfillmentOrderAcceptCancellationRequest") if accept else (
            REJECT_CANCELLATION, "fulfillmentOrderRejectCancellationRequest")  # fmt: skip
        answered = 0
        for fo in self._fulfillment_orders(remote_order_id, placement["location_id"]):
            if fo["requestStatus"] == "CANCELLATION_REQUESTED":
                self.mutate(document, {"id": fo["id"], "message": message[:255]}, root)
                answered += 1
        return answered


def _location(fulfillment_order: dict) -> dict:
    return (fulfillment_order.get("assignedLocation") or {}).get("location") or {}
