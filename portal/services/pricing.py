"""The retail price of one SKU under one price list, computed in ONE function that explains itself step by step.

Order of the steps: wholesale base -> list markup or per-SKU markup -> date-bounded exception -> FX -> cent -> ending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from portal.models import PriceList, utcnow

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# Rates and markups are stored with eight decimals (the column's scale): more than that would be cut silently.
RATE_PLACES = 8


class PriceRefused(ValueError):
    """A price that must not reach a retailer's store (negative, or under an impossible FX rate), in plain words."""


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


def plain(value: Decimal | None) -> str:
    """A Decimal as a person writes it: no exponent and no trailing zeros (40.0000 -> "40", 1.000049 stays)."""
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    # normalize() keeps the sign of a negative zero; nobody writes "-0".
    return "0" if text == "-0" else text


def parse_rate(raw: str, label: str, *, positive: bool = False, places: int = RATE_PLACES) -> Decimal | str:
    """`raw` as a Decimal, or the reason it is refused: not a number, negative (or zero when `positive`), or with
    more decimals than can be kept exactly (a value is kept as typed or refused, never cut)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return f"{label} must be a number, not {raw.strip()!r}."
    if not value.is_finite():
        return f"{label} must be a number, not {raw.strip()!r}."
    if positive and value <= 0:
        return f"{label} must be more than zero."
    if value < 0:
        return f"{label} must be zero or more."
    if -value.normalize().as_tuple().exponent > places:
        return f"{label} can have at most {places} decimals; {raw.strip()} would not be kept exactly."
    if value >= Decimal(10) ** 9:
        return f"{label} is too large."
    return value


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


def _cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_retail_price(
    price_list: PriceList | None, sku: str, wholesale_price: Decimal, at: datetime | None = None
) -> PriceQuote:
    """The retail price of `sku` under `price_list` at time `at` (now by default), with every step recorded.

    Every step is rounded to the cent and the next step starts from that cent, so each line of the explanation
    follows from the line before it and the last line is the price. The ending (e.g. .99) applies to the price
    already rounded to the cent: 10.00 x 1.8991 = 18.99 stays 18.99. Per-SKU markups replace the list markup; an
    exception active at `at` (starts_at <= at < ends_at) applies to the marked-up price, in the wholesale currency.
    Raises PriceRefused for a negative wholesale price, an FX rate that is not above zero, or a negative result.
    """
    at = at or utcnow()
    if wholesale_price is None or Decimal(wholesale_price) < 0:
        raise PriceRefused(
            f"The wholesale price of {sku} is {wholesale_price}: a negative price is not passed on to retailers."
        )
    price = _cent(Decimal(wholesale_price))
    quote = PriceQuote(sku=sku, price=price, currency=price_list.currency if price_list else "USD")
    quote.steps.append(("Base wholesale price", price))
    if price_list is None:
        quote.steps.append(("No price list: retail price is the wholesale price", price))
        return quote
    if price_list.fx_rate is not None and price_list.fx_rate <= 0:
        raise PriceRefused(
            f"Price list '{price_list.name}' has an FX rate of {plain(price_list.fx_rate)}: set a rate above zero."
        )
    item = next((i for i in price_list.items if i.sku == sku), None)
    if item is not None and item.markup_kind == "fixed":
        price = _cent(price + item.markup_value)
        quote.steps.append((f"Per-SKU markup +{_cent(item.markup_value)}", price))
    elif item is not None:
        price = _cent(price * (1 + item.markup_value / HUNDRED))
        quote.steps.append((f"Per-SKU markup {plain(item.markup_value)}%", price))
    elif price_list.markup_percent:
        price = _cent(price * (1 + price_list.markup_percent / HUNDRED))
        quote.steps.append((f"List markup {plain(price_list.markup_percent)}%", price))
    exception = _active_exception(price_list, sku, at)
    if exception is not None and exception.kind == "fixed_price":
        price = _cent(Decimal(exception.value))
        quote.steps.append((f"Exception '{exception.name}' fixed price until {exception.ends_at:%Y-%m-%d}", price))
    elif exception is not None:
        price = _cent(price * (1 - exception.value / HUNDRED))
        label = f"Exception '{exception.name}' {plain(exception.value)}% off until {exception.ends_at:%Y-%m-%d}"
        quote.steps.append((label, price))
    if price_list.fx_rate and price_list.fx_rate != 1:
        price = _cent(price * price_list.fx_rate)
        quote.steps.append((f"Converted to {price_list.currency} at {plain(price_list.fx_rate)}", price))
    if price_list.rounding_ending is not None:
        ended = round_to_ending(price, price_list.rounding_ending)
        if ended != price:
            quote.steps.append((f"Rounded up to end in {price_list.rounding_ending.quantize(CENT)}", ended))
        else:
            quote.steps.append((f"Already ends in {price_list.rounding_ending.quantize(CENT)}", ended))
        price = ended
    if price < 0:
        raise PriceRefused(f"The retail price of {sku} would be {price}: a negative price is not passed on.")
    quote.price = price
    return quote


def _active_exception(price_list: PriceList, sku: str, at: datetime):
    """The exception for `sku` in force at `at`; the latest-starting one wins when several overlap."""
    active = [e for e in price_list.exceptions if e.sku == sku and e.starts_at <= at < e.ends_at]
    return max(active, key=lambda e: (e.starts_at, e.id or 0)) if active else None
