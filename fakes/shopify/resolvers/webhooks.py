"""Resolvers for `webhookSubscriptionCreate`, `webhookSubscriptionDelete` and `webhookSubscriptions`."""

from __future__ import annotations

from fakes.shopify import nodes
from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.registry import registry
from fakes.shopify.state import WebhookSubscription, gid, next_id, parse_gid


@registry.mutation("webhookSubscriptionCreate")
def webhook_subscription_create(ctx: Context, topic, webhookSubscription):  # noqa: N803 - schema argument names
    shop = ctx.shop
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address can't be blank"}],
        }
    if any(s.topic == topic and s.uri == uri for s in shop.webhooks.values()):
        return {
            "webhookSubscription": None,
            "userErrors": [
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address for this topic has already been taken",
                }
            ],
        }
    sub = WebhookSubscription(
        id=next_id(),
        topic=topic,
        uri=uri,
        format=webhookSubscription.get("format") or "JSON",
        include_fields=list(webhookSubscription.get("includeFields") or []),
        filter=webhookSubscription.get("filter"),
    )
    shop.webhooks[sub.id] = sub
    return {"webhookSubscription": nodes.webhook_subscription(ctx, sub), "userErrors": []}


@registry.mutation("webhookSubscriptionDelete")
def webhook_subscription_delete(ctx: Context, id):
    sub = ctx.shop.webhooks.pop(parse_gid(id, "WebhookSubscription") or 0, None)
    if sub is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": gid("WebhookSubscription", sub.id), "userErrors": []}


@registry.query("webhookSubscriptions")
def webhook_subscriptions(ctx: Context, **args):
    subs = [
        s
        for s in sorted(ctx.shop.webhooks.values(), key=lambda s: s.id)
        if (not args.get("topics") or s.topic in args["topics"]) and (not args.get("uri") or s.uri == args["uri"])
    ]
    return connection(ctx, subs, lambda s: nodes.webhook_subscription(ctx, s), **conn_args(args))


@registry.node("WebhookSubscription")
def _subscription_node(ctx: Context, number: int):
    sub = ctx.shop.webhooks.get(number)
    return nodes.webhook_subscription(ctx, sub) if sub else None
