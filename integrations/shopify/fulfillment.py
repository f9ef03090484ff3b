"""Shopify fulfillment: the per-partnership fulfillment service in a retailer's store, accepting its fulfillment
requests, reading shipments from a wholesaler's store and creating them (with tracking) in the retailer's store.
"""

from __future__ import annotations

from integrations.base import Shipment
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
        id status requestStatus assignedLocation { location { id } }
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

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")


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

    def _fulfillment_orders(self, order_id: str, location_id: str) -> list[dict]:
        order = self.gql(ORDER_FULFILLMENT_ORDERS, {"id": order_id})["order"]
        nodes = order["fulfillmentOrders"]["nodes"] if order else []
        return [n for n in nodes if ((n["assignedLocation"] or {}).get("location") or {}).get("id") == location_id]

    def accept_fulfillment_requests(self, remote_order_id: str, placement: dict) -> int:
        """Accept the submitted fulfillment requests of this order at our location; returns how many."""
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

    def create_shipment(self, remote_order_id: str, placement: dict, shipment: Shipment) -> str:
        """fulfillmentCreate on our fulfillment orders for these (retailer line id, quantity) pairs."""
        wanted = dict(shipment.lines)
        groups = []
        for fo in self._fulfillment_orders(remote_order_id, placement["location_id"]):
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
                groups.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
        if not groups:
            raise RuntimeError("no open fulfillment order at our location has these lines left to fulfil")
        tracking = {"company": shipment.carrier, "numbers": shipment.tracking_numbers, "urls": shipment.tracking_urls}
        fulfillment = {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": True, "trackingInfo": tracking}
        return self.mutate(FULFILLMENT_CREATE, {"fulfillment": fulfillment}, "fulfillmentCreate")["fulfillment"]["id"]
