"""Tracking read from a WooCommerce order's notes, for a wholesaler's shop without the Shipment Tracking extension.

Formats recognised (HTML tags are dropped first, case does not matter):
- Advanced Shipment Tracking (zorem): "Order was shipped with <carrier> and tracking number is: <number>"
- ShipStation for WooCommerce: "<items> shipped via <carrier> on <date> with tracking number <number>."
  (also the WCFM marketplace's variant ending "... by <shop>.")
- A merchant's or another plugin's note: "Tracking number: <number>", "Tracking #<number>", "Tracking no. <number>",
  "Tracking: <number>", "Tracking code/ID: <number>"; the carrier from "Carrier: <name>", "Shipped via <name>" or
  "Shipped with <name>"; the tracking URL is the first http(s) address in the note (a link's href included).
A tracking number is 6 to 40 letters, digits or dashes holding at least one digit. Several notes give several numbers
(first seen first, each once); the carrier is the first one named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TAG = re.compile(r"<[^>]+>")
_NUMBER = r"(?P<number>[A-Z0-9][A-Z0-9-]{4,38}[A-Z0-9])"
_PATTERNS = (
    # Advanced Shipment Tracking
    re.compile(r"shipped with (?P<carrier>.+?) and tracking number is:?\s*" + _NUMBER, re.I),
    # ShipStation (and WCFM's copy of its note)
    re.compile(r"shipped via (?P<carrier>.+?) on .+? with tracking number\s*" + _NUMBER, re.I),
    # a merchant's own words
    re.compile(r"tracking\s*(?:number|no\.?|#|code|id)?\s*(?:is)?\s*[:#]?\s*" + _NUMBER, re.I),
)
_CARRIER = re.compile(r"(?:carrier|shipped (?:via|with)|shipping provider)\s*:?\s*(?P<carrier>[A-Za-z][\w .&-]{1,40}?)"
                      r"(?=[.,;\n]| and | on | with | tracking|$)", re.I)  # fmt: skip
_URL = re.compile(r"https?://[^\s\"'<>]+")


@dataclass
class NoteTracking:
    """What the notes of one order say about its shipment."""

    carrier: str | None = None
    numbers: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def parse_note(text: str) -> NoteTracking:
    """The tracking one note carries (no number: an empty NoteTracking)."""
    urls = [u.rstrip(".,;)") for u in _URL.findall(text or "")][:1]  # a link's href counts
    text = _TAG.sub(" ", text or "").strip()
    found = NoteTracking()
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match is None or not any(c.isdigit() for c in match.group("number")):
            continue
        found.numbers.append(match.group("number"))
        carrier = match.groupdict().get("carrier")
        if carrier is None:
            named = _CARRIER.search(text)
            carrier = named.group("carrier") if named else None
        found.carrier = carrier.strip() if carrier else None
        found.urls = urls
        break
    return found


def tracking_from_notes(notes: list[dict]) -> NoteTracking:
    """The tracking in an order's notes (as GET /orders/<id>/notes answers them, in the order they were written)."""
    out = NoteTracking()
    for note in sorted(notes, key=lambda n: n.get("id") or 0):
        found = parse_note(note.get("note") or "")
        for number in found.numbers:
            if number not in out.numbers:
                out.numbers.append(number)
                out.urls += [u for u in found.urls if u not in out.urls]
        out.carrier = out.carrier or found.carrier
    return out
