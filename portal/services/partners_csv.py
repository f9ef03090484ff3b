"""Partner CSV upload: one invitation per good line, a plain error for each bad line; bad lines stop nothing.

Columns (header row required): email, price_list (a price list name, optional), force_overwrite (yes/no, optional).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.extensions import db
from portal.models import Partnership, PriceList
from portal.services import partnerships

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


@dataclass
class ImportResult:
    """How many lines were imported, and each refused line with its number and reason."""

    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_rows(data: bytes) -> list[dict]:
    """The CSV's rows as dicts with lower-case keys; UnicodeDecodeError / csv.Error propagate."""
    text = data.decode("utf-8-sig")
    return [
        {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text))
    ]


def import_partners(wholesaler_id: int, data: bytes) -> ImportResult:
    """Invite every retailer listed; each line is checked and committed on its own."""
    result = ImportResult()
    try:
        rows = read_rows(data)
    except (UnicodeDecodeError, csv.Error) as err:
        result.errors.append((1, f"not a readable UTF-8 CSV file: {err}"))
        return result
    lists = {
        name.lower(): pid
        for pid, name in db.session.execute(
            select(PriceList.id, PriceList.name).where(PriceList.wholesaler_id == wholesaler_id)
        )
    }
    invited = set(
        db.session.execute(select(Partnership.invite_email).where(Partnership.wholesaler_id == wholesaler_id)).scalars()
    )
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        error = _import_row(wholesaler_id, row, lists, invited)
        if error:
            result.errors.append((line, error))
        else:
            result.imported += 1
    return result


def _import_row(wholesaler_id: int, row: dict, lists: dict, invited: set) -> str | None:
    try:
        email = validate_email(row.get("email", ""), check_deliverability=False).normalized
    except EmailNotValidError as err:
        return f"email {row.get('email', '')!r}: {err}"
    if email in invited:
        return f"{email} is already invited"
    price_list = row.get("price_list", "")
    if price_list and price_list.lower() not in lists:
        return f"no price list called {price_list!r}"
    force = row.get("force_overwrite", "").lower()
    if force not in YES | NO:
        return f"force_overwrite must be yes or no, not {force!r}"
    partnership = partnerships.invite(wholesaler_id, email, lists.get(price_list.lower()) if price_list else None)
    if force in YES:
        partnerships.set_force_overwrite(partnership.id, True)
    invited.add(email)
    return None
