"""The retail price of one SKU under one price list, computed in ONE function that explains itself step by step.

Order of the steps: wholesale base -> list markup or per-SKU markup -> date-bounded exception -> FX -> rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from portal.models import PriceList, utcnow

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


@dataclass
class PriceQuote:
    """A computed retail price and the plain-language steps that produced it."""

    sku: str
    price: Decimal
    currency: str
    steps: list[tuple[str, Decimal]] = field(default_factory=list)

    def explain(self) -> str:
        """The steps as lines a wholesaler can read ("Base wholesale price: 10.00", ...)."""
        return "\n".join(f"{label}: {value}" for label, value in self.steps)


def round_to_ending(price: Decimal, ending: Decimal) -> Decimal:
    """Raise `price` to the nearest value that ends in `ending` (0.99 -> x.99; 9.99 -> x9.99; 0.00 -> whole)."""
    ending = ending.quantize(CENT)
    # The block the ending repeats in: 1 for endings below one unit, 10 for 0.00-9.99, 100 for 10.00-99.99, ...
    whole_digits = len(str(int(ending))) if ending >= 1 else 0
    block = Decimal(10) ** whole_digits
    base = (price / block).to_integral_value(rounding=ROUND_CEILING) * block - block + ending
    if base < price:
        base += block
    return base.quantize(CENT)


def compute_retail_price(
    price_list: PriceList | None, sku: str, wholesale_price: Decimal, at: datetime | None = None
) -> PriceQuote:
    """The retail price of `sku` under `price_list` at time `at` (now by default), with every step recorded.

    Per-SKU markups replace the list markup; an exception active at `at` (starts_at <= at < ends_at) applies to
    the marked-up price, in the wholesale currency, and stops applying by itself when it ends.
    """
    at = at or utcnow()
    price = Decimal(wholesale_price)
    quote = PriceQuote(sku=sku, price=price, currency=price_list.currency if price_list else "USD")
    quote.steps.append(("Base wholesale price", price.quantize(CENT)))
    if price_list is None:
        quote.steps.append(("No price list: retail price is the wholesale price", price.quantize(CENT)))
        quote.price = price.quantize(CENT)
        return quote
    item = next((i for i in price_list.items if i.sku == sku), None)
    if item is not None and item.markup_kind == "fixed":
        price = price + item.markup_value
        quote.steps.append((f"Per-SKU markup +{item.markup_value.quantize(CENT)}", price.quantize(CENT)))
    elif item is not None:
        price = price * (1 + item.markup_value / HUNDRED)
        quote.steps.append((f"Per-SKU markup {item.markup_value.normalize():f}%", price.quantize(CENT)))
    elif price_list.markup_percent:
        price = price * (1 + price_list.markup_percent / HUNDRED)
        quote.steps.append((f"List markup {price_list.markup_percent.normalize():f}%", price.quantize(CENT)))
    exception = _active_exception(price_list, sku, at)
    if exception is not None and exception.kind == "fixed_price":
        price = Decimal(exception.value)
        quote.steps.append((f"Exception '{exception.name}' fixed price until {exception.ends_at:%Y-%m-%d}", price))
    elif exception is not None:
        price = price * (1 - exception.value / HUNDRED)
        label = f"Exception '{exception.name}' {exception.value.normalize():f}% off until {exception.ends_at:%Y-%m-%d}"
        quote.steps.append((label, price.quantize(CENT)))
    if price_list.fx_rate and price_list.fx_rate != 1:
        price = price * price_list.fx_rate
        quote.steps.append((f"Converted to {price_list.currency} at {price_list.fx_rate.normalize():f}", price))
    if price_list.rounding_ending is not None:
        price = round_to_ending(price, price_list.rounding_ending)
        quote.steps.append((f"Rounded up to end in {price_list.rounding_ending.quantize(CENT)}", price))
    else:
        price = price.quantize(CENT, rounding=ROUND_HALF_UP)
        quote.steps.append(("Rounded to the cent", price))
    quote.price = price.quantize(CENT)
    return quote


def _active_exception(price_list: PriceList, sku: str, at: datetime):
    """The exception for `sku` in force at `at`; the latest-starting one wins when several overlap."""
    active = [e for e in price_list.exceptions if e.sku == sku and e.starts_at <= at < e.ends_at]
    return max(active, key=lambda e: (e.starts_at, e.id or 0)) if active else None
