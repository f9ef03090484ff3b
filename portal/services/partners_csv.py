"""Partner CSV upload: one invitation per good line, a plain error for each bad line; bad lines stop nothing.

Columns (header row required): email, price_list (a price list name, optional), force_overwrite (yes/no, optional).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.extensions import db
from portal.models import Partnership, PriceList
from portal.services import partnerships
from portal.services.text import CsvRefused, ImportResult, read_csv

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


COLUMNS = ("email", "price_list", "force_overwrite")


def import_partners(wholesaler_id: int, data: bytes) -> ImportResult:
    """Invite every retailer listed; each line is checked and committed on its own, so bad lines stop nothing."""
    result = ImportResult("partner(s) invited")
    lists = {
        name.lower(): pid
        for pid, name in db.session.execute(
            select(PriceList.id, PriceList.name).where(PriceList.wholesaler_id == wholesaler_id)
        )
    }
    invited = set(
        db.session.execute(select(Partnership.invite_email).where(Partnership.wholesaler_id == wholesaler_id)).scalars()
    )
    try:
        for line, row in read_csv(data, COLUMNS, required=("email",)):
            error = row if isinstance(row, str) else _import_row(wholesaler_id, row, lists, invited)
            if error:
                result.refused.add(line, error)
            else:
                result.accepted += 1
    except CsvRefused as err:
        result.file_error = str(err)
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
