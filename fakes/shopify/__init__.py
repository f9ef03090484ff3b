"""A local Shopify: the Admin GraphQL API validated against Shopify's own schema, OAuth, webhooks, throttling.

`Sandbox` is the WSGI app; `registry` is where resolver modules register root fields (see README.md).
"""

from fakes.shopify.app import Sandbox, SandboxConfig
from fakes.shopify.registry import registry

__all__ = ["Sandbox", "SandboxConfig", "registry"]
