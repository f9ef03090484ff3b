"""The request parameters the pinned Stripe API version defines, read from the pinned SDK's own parameter types.

Each endpoint the fake serves maps to the SDK's `*Params` TypedDict (generated from Stripe's OpenAPI description of
the version the SDK pins); a parameter those types do not define, at any depth, is refused as Stripe refuses it.
"""

from __future__ import annotations

import re
import sys

import stripe.params as sdk
import stripe.params.checkout as sdk_checkout
from stripe._request_options import RequestOptions

# Client-side options the SDK's params types inherit; they travel as headers, never as form parameters.
_OPTIONS = frozenset(RequestOptions.__annotations__)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# (method, path regex) -> the SDK type describing that endpoint's parameters.
ENDPOINT_PARAMS = (
    ("POST", r"/v1/customers", sdk.CustomerCreateParams),
    ("GET", r"/v1/customers/[^/]+", sdk.CustomerRetrieveParams),
    ("POST", r"/v1/customers/[^/]+", sdk.CustomerUpdateParams),
    ("POST", r"/v1/invoiceitems", sdk.InvoiceItemCreateParams),
    ("GET", r"/v1/invoiceitems", sdk.InvoiceItemListParams),
    ("POST", r"/v1/invoices", sdk.InvoiceCreateParams),
    ("GET", r"/v1/invoices", sdk.InvoiceListParams),
    ("GET", r"/v1/invoices/[^/]+", sdk.InvoiceRetrieveParams),
    ("POST", r"/v1/invoices/[^/]+/finalize", sdk.InvoiceFinalizeInvoiceParams),
    ("POST", r"/v1/invoices/[^/]+/pay", sdk.InvoicePayParams),
    ("POST", r"/v1/invoices/[^/]+/send", sdk.InvoiceSendInvoiceParams),
    ("POST", r"/v1/invoices/[^/]+/void", sdk.InvoiceVoidInvoiceParams),
    ("POST", r"/v1/payment_methods", sdk.PaymentMethodCreateParams),
    ("POST", r"/v1/payment_methods/[^/]+/attach", sdk.PaymentMethodAttachParams),
    ("GET", r"/v1/payment_methods", sdk.PaymentMethodListParams),
    ("POST", r"/v1/checkout/sessions", sdk_checkout.SessionCreateParams),
    ("GET", r"/v1/checkout/sessions/[^/]+", sdk_checkout.SessionRetrieveParams),
    ("GET", r"/v1/setup_intents/[^/]+", sdk.SetupIntentRetrieveParams),
)


class ParamError(Exception):
    """A parameter the version does not define (`parameter_unknown`) or a required one left out."""

    def __init__(self, code: str, param: str, message: str):
        super().__init__(message)
        self.code, self.param, self.message = code, param, message


def params_type(method: str, path: str):
    """The SDK type for an endpoint, or None for a path the fake does not serve."""
    for verb, pattern, kind in ENDPOINT_PARAMS:
        if verb == method and re.fullmatch(pattern, path):
            return kind
    return None


def check(kind, params: dict) -> None:
    """Raise ParamError for the first parameter in `params` (nested dicts as the form encoding decodes them) that
    `kind` does not define, or the first required one missing."""
    _check(kind, params, "", top=True)


def _check(kind, params: dict, prefix: str, top: bool = False) -> None:
    fields = {k: v for k, v in kind.__annotations__.items() if not (top and k in _OPTIONS)}
    required = set(getattr(kind, "__required_keys__", ())) - (_OPTIONS if top else set())
    for name, value in params.items():
        where = f"{prefix}[{name}]" if prefix else name
        if name not in fields:
            raise ParamError("parameter_unknown", where, f"Received unknown parameter: {where}")
        nested = _nested_types(kind, fields[name])
        if not nested or not isinstance(value, dict):
            continue  # a scalar, a free-form map (metadata) or "" to unset: nothing defined below it
        # A list of objects arrives form-encoded as `name[0][key]`, decoded to {"0": {...}}.
        if value and all(k.isdigit() for k in value):
            entries = [(f"{where}[{k}]", v) for k, v in value.items()]
        else:
            entries = [(where, value)]
        for inner, item in entries:
            if isinstance(item, dict):
                _check_any(nested, item, inner)
    for name in sorted(required - set(params)):
        where = f"{prefix}[{name}]" if prefix else name
        raise ParamError("parameter_missing", where, f"Missing required param: {where}.")


def _check_any(kinds: list, value: dict, where: str) -> None:
    """`value` must fit one of the TypedDicts a union allows; the first one's complaint is reported otherwise."""
    first: ParamError | None = None
    for kind in kinds:
        try:
            _check(kind, value, where)
            return
        except ParamError as err:
            first = first or err
    raise first  # type: ignore[misc]


def _nested_types(owner, annotation) -> list:
    """The TypedDicts an annotation names (forward references included), looked up in the owner's module."""
    module = sys.modules[owner.__module__]
    found = []
    for name in _NAME.findall(repr(annotation)):
        candidate = getattr(module, name, None)
        if isinstance(candidate, type) and hasattr(candidate, "__required_keys__") and candidate not in found:
            found.append(candidate)
    return found
