"""Shopify event subscriptions of a wholesaler's store: stock and catalog topics created per shop with
`webhookSubscriptionCreate` (never in the app's TOML, which would subscribe every retailer's store too).
"""

from __future__ import annotations

# Topic enum -> fields the payload keeps. `updated_at` is always included: Shopify debounces identical payloads of a
# narrowed subscription, and a stock level can return to the same figure (0 -> 10 -> 0).
SOR_TOPICS: dict[str, list[str]] = {
    "INVENTORY_LEVELS_UPDATE": ["inventory_item_id", "location_id", "available", "updated_at"],
    "PRODUCTS_CREATE": [],
    "PRODUCTS_UPDATE": [],
    "PRODUCTS_DELETE": [],
}

SUBSCRIPTIONS_QUERY = """
query SyncSubscriptions($topics: [WebhookSubscriptionTopic!], $after: String) {
  webhookSubscriptions(first: 50, after: $after, topics: $topics) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri includeFields }
  }
}
"""

SUBSCRIPTION_CREATE = """
mutation SyncSubscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""


class EventSubscriptions:
    """The wholesaler side: make sure the store tells us about stock and product changes."""

    def ensure_subscriptions(self, uri: str, name_prefix: str = "wholesync") -> list[str]:
        """Create whichever stock and catalog subscriptions to `uri` are missing; returns the topics created.

        Safe to repeat (an existing subscription is left alone). Shopify deletes an API-created subscription after
        repeated failed deliveries and an uninstall removes all of them, so this also repairs."""
        present = {
            node["topic"]
            for node in self.pages(SUBSCRIPTIONS_QUERY, {"topics": list(SOR_TOPICS)}, "webhookSubscriptions")
            if node.get("uri") == uri
        }
        created = []
        for topic, fields in SOR_TOPICS.items():
            if topic in present:
                continue
            sub = {"uri": uri, "format": "JSON", "name": f"{name_prefix}-{topic.lower().replace('_', '-')}"[:50]}
            if fields:
                sub["includeFields"] = fields
            self.mutate(SUBSCRIPTION_CREATE, {"topic": topic, "sub": sub}, "webhookSubscriptionCreate")
            created.append(topic)
        return created
