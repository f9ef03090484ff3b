"""The platform registry: each platform package registers how to build its SystemOfRecord and RetailerStore.

Adding a platform is a package under integrations/ whose `register(registry)` is named in PLATFORM_PACKAGES. The
factories get the connection and an `AdapterContext` (token source, Redis, settings, HTTP client, sleep) built by
the caller, so nothing here reaches for the application.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from integrations.base import OnCall, RetailerStore, SystemOfRecord

# Each package exposes `register(registry)`; they are imported on the first lookup, in this order.
PLATFORM_PACKAGES = ("integrations.shopify", "integrations.woocommerce", "integrations.feeds")


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter needs from the application, passed in rather than imported."""

    token: Callable[[], str]  # a valid access token now (refreshed first when it is about to lapse)
    redis: object  # the shared Redis (per-shop cost buckets, cost cache)
    settings: Mapping  # the app's configuration (API version, endpoints, timeouts)
    http: object  # the process's HTTP client for this platform, with its timeouts and transport
    on_call: OnCall | None = None  # counts every platform call and every wait for budget
    sleep: Callable[[float], None] = field(default=time.sleep)
    # Reports a record the platform's data could not be read into, as (where, why): a feed file's bad row as
    # ("catalog.csv line 7", "price 'abc' is not an amount"). The run counts it failed and goes on.
    on_rejected: Callable[[str, str], None] | None = None


SystemOfRecordFactory = Callable[[object, AdapterContext], SystemOfRecord]
RetailerStoreFactory = Callable[[object, AdapterContext], RetailerStore]
HttpClientFactory = Callable[[Mapping], object]  # the app config -> the process's HTTP client for the platform


class UnknownPlatform(LookupError):
    """No integration is registered for this platform (or not for the role asked)."""


@dataclass(frozen=True)
class Platform:
    """One platform's adapters; a platform may serve only one side (None for the other)."""

    name: str
    system_of_record: SystemOfRecordFactory | None = None
    retailer_store: RetailerStoreFactory | None = None
    http_client: HttpClientFactory | None = None  # None: the application's default (Shopify's) client
    token_source: bool = True  # False: the adapter reads its credentials from the connection (no token to renew)


class Registry:
    """Platforms by name, loaded from their packages on first use."""

    def __init__(self, packages: tuple[str, ...] = PLATFORM_PACKAGES):
        self.packages = packages
        self._platforms: dict[str, Platform] = {}
        self._loaded = False

    def register(
        self,
        name: str,
        *,
        system_of_record: SystemOfRecordFactory | None = None,
        retailer_store: RetailerStoreFactory | None = None,
        http_client: HttpClientFactory | None = None,
        token_source: bool = True,
    ) -> Platform:
        """Record a platform's factories; registering a name twice is a mistake, not an override."""
        if name in self._platforms:
            raise ValueError(f"platform {name!r} is already registered")
        platform = Platform(name, system_of_record, retailer_store, http_client, token_source)
        self._platforms[name] = platform
        return platform

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for package in self.packages:
            importlib.import_module(package).register(self)

    def names(self) -> list[str]:
        """Every registered platform name."""
        self._load()
        return sorted(self._platforms)

    def platform(self, name: str) -> Platform:
        """The platform registered under `name`; UnknownPlatform otherwise."""
        self._load()
        try:
            return self._platforms[name]
        except KeyError:
            known = ", ".join(sorted(self._platforms)) or "none"
            raise UnknownPlatform(f"no integration for platform {name!r} (registered: {known})") from None

    def system_of_record(self, name: str) -> SystemOfRecordFactory:
        """The factory of a platform's SystemOfRecord."""
        factory = self.platform(name).system_of_record
        if factory is None:
            raise UnknownPlatform(f"platform {name!r} cannot be a system of record")
        return factory

    def retailer_store(self, name: str) -> RetailerStoreFactory:
        """The factory of a platform's RetailerStore."""
        factory = self.platform(name).retailer_store
        if factory is None:
            raise UnknownPlatform(f"platform {name!r} cannot be a retailer store")
        return factory


registry = Registry()
