"""A wholesaler's ERP as a system of record through files: catalog and stock read from CSV files, orders written
as CSV files to an outbox folder, shipments read from an inbox folder and moved to a processed folder.

Variants are known by SKU (their remote id), products by the product_id column (the SKU when it is blank). An order
is one file named after our marker, so a retry rewrites the same file and `find_order` finds it by name in the
outbox or, once the ERP took it, in its processed folder. A bad row is reported with its file and line through
`on_rejected` while the good rows go through.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from integrations.base import (
    WHOLE_STOCK,
    ChangeRefused,
    CreatedOrder,
    OrderDraft,
    RemoteLocation,
    RemoteProduct,
    RemoteVariant,
    Shipment,
    StockLevel,
    single_location,
)
from integrations.feeds.csvfile import FeedFileRefused, Rows, read_rows, write_rows
from integrations.feeds.settings import CATALOG_FIELDS, ORDER_FIELDS, SHIPMENT_FIELDS, STOCK_FIELDS, FeedSettings
from integrations.feeds.transport import FeedError, FeedFiles

STATUSES = {"active": "active", "draft": "draft", "archived": "archived", "": "active"}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
LOCATION_PREFIX = "location:"  # a warehouse named in the stock file; never WHOLE_STOCK, whatever its name
MAX_LOCATION_NAME = 200
MAX_LOCATIONS = 100  # distinct warehouses one stock file may name (a column of anything else would make thousands)


class RowRefused(ValueError):
    """One row's cells cannot be read into our fields; the message names the cell."""


def _money(value: str, column: str) -> Decimal:
    try:
        amount = Decimal(value.replace(",", "")) if value else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise RowRefused(f"{column} {value!r} is not an amount")
    return amount.quantize(Decimal("0.01"))


def _whole(value: str, column: str) -> int:
    try:
        number = Decimal(value) if value else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise RowRefused(f"{column} {value!r} is not a whole number")
    return int(number)


def _moment(value: str, column: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowRefused(f"{column} {value!r} is not an ISO 8601 date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def catalog_row_problem(settings: FeedSettings, row: dict) -> str | None:
    """Why a catalog row (our fields -> cells) would be refused, or None: what the settings preview shows."""
    reader = FeedSystemOfRecord(settings, files=None)
    try:
        reader._product(row.get("product_id") or row.get("sku", ""), row, datetime.now(UTC))
        reader._variant(row, {})
    except RowRefused as exc:
        return str(exc)
    return None


class FeedSystemOfRecord:
    """The SystemOfRecord of a wholesaler whose ERP trades in files. One instance reads each file once."""

    def __init__(self, settings: FeedSettings, files: FeedFiles, on_rejected: Callable[[str, str], None] | None = None):
        self.settings = settings
        self.files = files
        self.on_rejected = on_rejected or (lambda record, reason: None)
        self._catalog: tuple[list[RemoteProduct], set[str], datetime] | None = None
        self._stock: dict[str, dict[str, int]] | None = None
        self._stock_locations: dict[str, str] = {}  # remote id -> name, in the stock file's order
        self._shipments: dict[str, list[Shipment]] | None = None
        self._unreadable: str | None = None  # a catalog line not even split into cells: deletions are not judged

    def _columns(self, fields: tuple[str, ...]) -> dict[str, str]:
        return {name: self.settings.column(name) for name in fields}

    def _report(self, rows: Rows) -> None:
        for line, reason, _row in rows.refused:
            self.on_rejected(f"{rows.name} line {line}", reason)

    # ------------------------------------------------------------ catalog

    def _read_catalog(self) -> tuple[list[RemoteProduct], set[str], datetime]:
        if self._catalog is not None:
            return self._catalog
        path = self.settings.catalog_path
        data, modified = self.files.read(path)
        rows = read_rows(data, posixpath.basename(path) or path, self._columns(CATALOG_FIELDS), ("sku", "price"))
        products: dict[str, RemoteProduct] = {}
        seen: dict[str, int] = {}
        # A refused row still names its product: it must not read as deleted from the catalog.
        present = {(r.get("product_id") or r.get("sku")) for _line, _why, r in rows.refused if r}
        unknown = [line for line, _why, r in rows.refused if not r or not (r.get("product_id") or r.get("sku"))]
        stock = self._stock_totals() if self.settings.stock_path else {}
        for line, row in rows.rows:
            try:
                if row["sku"] in seen:
                    raise RowRefused(f"SKU {row['sku']} is already on line {seen[row['sku']]}")
                variant = self._variant(row, stock)
                key = row.get("product_id") or row["sku"]
                product = products.get(key)
                if product is None:
                    product = products[key] = self._product(key, row, modified)
                product.variants.append(variant)
            except RowRefused as exc:
                rows.refuse(line, str(exc), row)
                present.add(row.get("product_id") or row["sku"])
                continue
            seen[row["sku"]] = line
        for product in products.values():
            self._options(product)
        self._report(rows)
        if unknown:
            self._unreadable = f"{rows.name} line {unknown[0]} could not be read"
        self._catalog = (list(products.values()), {k for k in present if k} | set(products), modified)
        return self._catalog

    def _product(self, key: str, row: dict, modified: datetime) -> RemoteProduct:
        status = STATUSES.get(row.get("status", "").lower())
        if status is None:
            raise RowRefused(f"{self.settings.column('status')} {row['status']!r} is not active, draft or archived")
        return RemoteProduct(
            remote_id=key,
            title=row.get("title") or row["sku"],
            updated_at=modified,
            description_html=row.get("description", ""),
            vendor=row.get("vendor", ""),
            product_type=row.get("product_type", ""),
            tags=[t.strip() for t in row.get("tags", "").split(",") if t.strip()],
            image_urls=[u.strip() for u in row.get("image_url", "").split("|") if u.strip()],
            # Collection titles may hold commas: "|" between them, as between image URLs.
            collections=list(dict.fromkeys(c.strip() for c in row.get("collections", "").split("|") if c.strip())),
            status=status,
        )

    def _variant(self, row: dict, stock: dict[str, int]) -> RemoteVariant:
        col = self.settings.column
        retail = row.get("retail_price")
        weight = row.get("weight_grams")
        quantity = row.get("quantity")
        values = [
            {"name": row.get(f"option{i}_name", ""), "value": row.get(f"option{i}_value", "")}
            for i in (1, 2, 3)
            if row.get(f"option{i}_name") and row.get(f"option{i}_value")
        ]
        return RemoteVariant(
            remote_id=row["sku"],
            sku=row["sku"],
            price=_money(row["price"], col("price")),
            title=" / ".join(v["value"] for v in values),
            option_values=values,
            barcode=row.get("barcode") or None,
            weight_grams=_whole(weight, col("weight_grams")) if weight else None,
            retail_price=_money(retail, col("retail_price")) if retail else None,
            quantity=stock.get(row["sku"], _whole(quantity, col("quantity")) if quantity else 0),
        )

    @staticmethod
    def _options(product: RemoteProduct) -> None:
        names: list[str] = []
        for variant in product.variants:
            for value in variant.option_values:
                if value["name"] not in names:
                    names.append(value["name"])
        if not names and len(product.variants) > 1:
            # Several variants and no option columns: the SKU tells them apart for the retailers' stores.
            names = ["SKU"]
            for variant in product.variants:
                variant.option_values, variant.title = [{"name": "SKU", "value": variant.sku}], variant.sku
        product.options = [
            {"name": name, "values": list(dict.fromkeys(
                v["value"] for var in product.variants for v in var.option_values if v["name"] == name))}
            for name in names
        ]  # fmt: skip

    def products(self, updated_since: datetime | None, bulk: bool = True) -> Iterator[RemoteProduct]:
        """Every product of the catalog file when it was written after `updated_since` (or always when None)."""
        products, _ids, modified = self._read_catalog()
        since = _utc(updated_since)
        if since is not None and modified <= since:
            return iter(())
        return iter(products)

    def product_ids(self) -> set[str]:
        """Every product the catalog file names (refused rows included: a bad row is not a deleted product)."""
        _products, ids, _modified = self._read_catalog()
        if self._unreadable:
            raise FeedError(f"{self._unreadable}; deleted products are not judged from this file")
        return ids

    # ------------------------------------------------------------ stock

    def _read_stock(self) -> dict[str, dict[str, int]]:
        """SKU -> {location remote id: quantity}: WHOLE_STOCK for a file without a location column."""
        if self._stock is not None:
            return self._stock
        path = self.settings.stock_path
        data, _modified = self.files.read(path)
        rows = read_rows(data, posixpath.basename(path) or path, self._columns(STOCK_FIELDS), ("sku", "quantity"))
        levels: dict[str, dict[str, int]] = {}
        lines: dict[tuple[str, str], int] = {}
        names: dict[str, str] = {}
        for line, row in rows.rows:
            try:
                location = self._stock_location(row, names)
                where = f" at {names[location]}" if location in names else ""
                if (row["sku"], location) in lines:
                    raise RowRefused(f"SKU {row['sku']}{where} is already on line {lines[row['sku'], location]}")
                quantity = _whole(row["quantity"], self.settings.column("quantity"))
                levels.setdefault(row["sku"], {})[location] = quantity
                lines[row["sku"], location] = line
            except RowRefused as exc:
                rows.refuse(line, str(exc), row)
        self._report(rows)
        self._stock, self._stock_locations = levels, names
        return levels

    def _stock_location(self, row: dict, names: dict[str, str]) -> str:
        """The location remote id of a stock row (its warehouse's name, prefixed), noting new names in `names`."""
        if "location" not in row:
            return WHOLE_STOCK
        name, column = row["location"], self.settings.column("location")
        if not name:
            raise RowRefused(f"no {column}")
        if len(name) > MAX_LOCATION_NAME:
            raise RowRefused(f"{column} is longer than {MAX_LOCATION_NAME} characters")
        remote_id = LOCATION_PREFIX + name
        if remote_id not in names and len(names) >= MAX_LOCATIONS:
            raise RowRefused(f"{column} {name!r} would be location {MAX_LOCATIONS + 1}; at most {MAX_LOCATIONS}")
        names.setdefault(remote_id, name)
        return remote_id

    def _stock_totals(self) -> dict[str, int]:
        """SKU -> quantity summed over the stock file's locations (the catalog's figure)."""
        return {sku: sum(at.values()) for sku, at in self._read_stock().items()}

    def locations(self) -> list[RemoteLocation]:
        """The warehouses the stock file's location column names (each fulfils orders), or one pseudo-location when
        the quantities are one per SKU (no stock file, or no location column)."""
        if self.settings.stock_path:
            self._read_stock()
            if self._stock_locations:
                return [RemoteLocation(remote_id, name) for remote_id, name in self._stock_locations.items()]
        return single_location("Feed stock")

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]:
        """Quantities from the stock file (per location when it has a location column; one SKU's levels together),
        or from the catalog file's quantity column when there is none."""
        if self.settings.stock_path:
            levels = self._read_stock()
        else:
            products, _ids, _modified = self._read_catalog()
            levels = {v.sku: {WHOLE_STOCK: v.quantity} for p in products for v in p.variants}
        return iter([StockLevel(sku, sku, qty, location) for sku, at in levels.items() for location, qty in at.items()])

    # ------------------------------------------------------------ orders

    def _order_name(self, marker: str) -> str:
        return SAFE_NAME.sub("_", marker) + ".csv"

    def find_order(self, marker: str, created_since: datetime | None = None) -> CreatedOrder | None:
        """The order file named after `marker` in the outbox or the ERP's processed folder, or None (files are named
        by marker: `created_since` is not needed)."""
        name = self._order_name(marker)
        for folder in (self.settings.outbox, self.settings.orders_processed):
            path = posixpath.join(folder, name)
            if self.files.exists(path):
                data, _modified = self.files.read(path)
                rows = read_rows(data, name, self._columns(("sku",)), ("sku",))
                return CreatedOrder(marker, {row["sku"]: row["sku"] for _line, row in rows.rows})
        return None

    def create_order(self, draft: OrderDraft) -> CreatedOrder:
        """Write the order file (one row per line) under a temporary name and rename it into the outbox."""
        address = draft.shipping_address or {}
        name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p) or address.get("name")
        head = {
            "order": draft.marker, "order_name": draft.name, "currency": draft.currency, "email": draft.email or "",
            "ship_name": name or "", "ship_company": address.get("company") or "",
            "ship_address1": address.get("address1") or "", "ship_address2": address.get("address2") or "",
            "ship_city": address.get("city") or "", "ship_province": address.get("province_code")
            or address.get("province") or "", "ship_zip": address.get("zip") or "",
            "ship_country": address.get("country_code") or address.get("country") or "",
            "ship_phone": address.get("phone") or "", "note": draft.note,
        }  # fmt: skip
        rows = []
        for line in draft.lines:
            cells = {**head, "sku": line["sku"], "title": line.get("title") or "", "quantity": line["quantity"],
                     "price": f"{Decimal(line['price']):.2f}"}  # fmt: skip
            rows.append([cells[f] for f in ORDER_FIELDS])
        data = write_rows([self.settings.column(f) for f in ORDER_FIELDS], rows)
        self.files.write_atomic(posixpath.join(self.settings.outbox, self._order_name(draft.marker)), data)
        return CreatedOrder(draft.marker, {line["sku"]: line["sku"] for line in draft.lines})

    def cancel_order(self, remote_order_id: str, reason: str, note: str) -> bool:
        """A file feed takes no cancellations: refused, saying so, so both sides are told to act by hand."""
        raise ChangeRefused(
            f"the wholesaler's system takes orders as files and has no cancellation file; cancel {remote_order_id} "
            "in that system by hand"
        )

    # ------------------------------------------------------------ shipments

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        """Shipments of an order from the shipment files: new inbox files are read (then moved to the processed
        folder), and processed files of the last `processed_days` days are read again so none is lost."""
        if self._shipments is None:
            self._shipments = self._read_shipments()
        return list(self._shipments.get(remote_order_id, []))

    def _read_shipments(self) -> dict[str, list[Shipment]]:
        s = self.settings
        found: dict[str, dict[str, Shipment]] = {}
        cutoff = datetime.now(UTC) - timedelta(days=s.processed_days)
        for remote in self.files.listdir(s.processed):
            if remote.modified >= cutoff:
                self._take_file(remote.path, remote.modified, found, report=False)
        for remote in self.files.listdir(s.inbox):
            try:
                self._take_file(remote.path, remote.modified, found, report=True)
            except FeedFileRefused as exc:
                self.on_rejected(posixpath.basename(remote.path), str(exc))  # left in the inbox to be fixed
                continue
            self.files.move(remote.path, s.processed)
        return {order: list(by_id.values()) for order, by_id in found.items()}

    def _take_file(self, path: str, modified: datetime, found: dict, report: bool) -> None:
        name = posixpath.basename(path)
        data, _modified = self.files.read(path)
        try:
            rows = read_rows(data, name, self._columns(SHIPMENT_FIELDS), ("order", "sku", "quantity"))
        except FeedFileRefused:
            if report:
                raise
            return
        col = self.settings.column
        for line, row in rows.rows:
            try:
                quantity = _whole(row["quantity"], col("quantity"))
                if quantity <= 0:
                    raise RowRefused(f"{col('quantity')} {row['quantity']!r} is not a positive number")
                shipped_at = _moment(row["shipped_at"], col("shipped_at")) if row.get("shipped_at") else modified
            except RowRefused as exc:
                rows.refuse(line, str(exc), row)
                continue
            key = row.get("shipment_id") or f"{name}:{row.get('tracking_number') or line}"
            shipment = found.setdefault(row["order"], {}).get(key)
            if shipment is None:
                shipment = found[row["order"]][key] = Shipment(
                    remote_id=key, lines=[], carrier=row.get("carrier") or None, created_at=shipped_at
                )
            shipment.lines.append((row["sku"], quantity))
            for value, into in ((row.get("tracking_number"), shipment.tracking_numbers),
                                (row.get("tracking_url"), shipment.tracking_urls)):  # fmt: skip
                if value and value not in into:
                    into.append(value)
        if report:
            self._report(rows)
