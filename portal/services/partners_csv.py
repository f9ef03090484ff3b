"""Partner CSV upload: one invitation per good line, a plain error for each bad line; bad lines stop nothing.

Columns (header row required): email, price_list (a price list name, optional), force_overwrite (yes/no, optional).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.extensions import db
from portal.models import Partnership, PriceList
from portal.services import partnerships
from portal.services.text import CsvRefused, RowErrors, read_csv

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


COLUMNS = ("email", "price_list", "force_overwrite")


@dataclass
class ImportResult:
    """How many lines were imported, the refused lines (capped, with their numbers), or why the file was refused."""

    imported: int = 0
    refused: RowErrors = field(default_factory=RowErrors)
    file_error: str | None = None

    @property
    def errors(self) -> list[tuple[int, str]]:
        """The listed refused lines as (line number, reason); at most text.MAX_LISTED_ERRORS."""
        return self.refused.listed

    def summary(self) -> str:
        """One sentence for the page: what was imported and refused, or why nothing could be read."""
        if self.file_error:
            return f"Nothing imported: {self.file_error}."
        more = f" (the first {len(self.errors)} are listed)" if self.refused.unlisted else ""
        return f"Imported {self.imported} partner(s); {self.refused.count} line(s) refused{more}."


def import_partners(wholesaler_id: int, data: bytes) -> ImportResult:
    """Invite every retailer listed; each line is checked and committed on its own, so bad lines stop nothing."""
    result = ImportResult()
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
                result.imported += 1
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
