"""A wholesaler's file feed: saving its connection settings (secrets encrypted) and previewing the catalog as mapped.

The SFTP private key is the connection's access token and an HTTPS Authorization value its api_key (both
EncryptedText); everything else lives in Connection.settings. A secret left blank on the form keeps the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from integrations.feeds import PLATFORM, FeedError, FeedFiles, FeedSettings
from integrations.feeds.adapters import catalog_row_problem
from integrations.feeds.csvfile import FeedFileRefused, read_rows
from integrations.feeds.settings import CATALOG_FIELDS
from integrations.feeds.transport import load_private_key
from portal.extensions import db
from portal.models import Connection, Organization
from portal.services.platforms import http_client

PREVIEW_ROWS = 5


class FeedSettingsRefused(ValueError):
    """The settings cannot be saved; the message says which field and why."""


@dataclass
class Preview:
    """The first rows of the catalog file as our fields, the lines refused among them, or why it could not be read."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None


def feed_connection(org: Organization) -> Connection | None:
    """The organization's file-feed system of record, if it has one."""
    return db.session.execute(
        select(Connection).where(Connection.organization_id == org.id, Connection.platform == PLATFORM)
    ).scalar_one_or_none()


def current_settings(org: Organization) -> FeedSettings:
    """The saved settings (defaults for a wholesaler that has none yet)."""
    conn = feed_connection(org)
    return FeedSettings.from_mapping(conn.settings if conn else None)


def save(org: Organization, values: dict, private_key: str = "", authorization: str = "") -> Connection:
    """Store the feed settings on the wholesaler's system-of-record connection (created on first save).

    `values` are FeedSettings fields; `private_key` / `authorization` blank keep what is stored. Raises
    FeedSettingsRefused when the wholesaler already has a system of record on another platform, the host key or
    private key cannot be read, or neither an SFTP server nor an HTTPS catalog URL is given."""
    if org.kind != "wholesaler":
        raise FeedSettingsRefused("Only a wholesaler's system of record can be a file feed.")
    settings = FeedSettings.from_mapping(values)
    conn = feed_connection(org)
    other = db.session.execute(
        select(Connection).where(Connection.organization_id == org.id, Connection.role == "system_of_record",
                                 Connection.platform != PLATFORM)
    ).scalar_one_or_none()  # fmt: skip
    if other is not None:
        raise FeedSettingsRefused(f"This account's system of record is already its {other.platform} store.")
    https_catalog = settings.catalog_path.lower().startswith("https://")
    if not settings.host and not https_catalog:
        raise FeedSettingsRefused("Give an SFTP server, or an https:// address for the catalog file.")
    if settings.catalog_path.lower().startswith("http://") or settings.stock_path.lower().startswith("http://"):
        raise FeedSettingsRefused("Files over the web are read over https:// only.")
    if settings.host:
        parts = settings.host_key.split()
        if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
            raise FeedSettingsRefused("Paste the server's public host key, e.g. “ssh-ed25519 AAAA…” (ssh-keyscan).")
        if not settings.username:
            raise FeedSettingsRefused("Give the SFTP user name.")
        if not private_key and not (conn and conn.access_token):
            raise FeedSettingsRefused("Paste the private key the SFTP server authorizes for that user.")
        if private_key:
            try:
                load_private_key(private_key)
            except FeedError as exc:
                raise FeedSettingsRefused(f"The private key cannot be used: {exc}.") from None
    stored = {key: getattr(settings, key) for key in FeedSettings.__dataclass_fields__}
    stored["host_key"] = " ".join(settings.host_key.split()[:2])
    if conn is None:
        conn = Connection(organization_id=org.id, platform=PLATFORM, role="system_of_record")
        db.session.add(conn)
    conn.address = (
        f"sftp://{settings.username}@{settings.host}:{settings.port}" if settings.host else settings.catalog_path
    )
    conn.settings = stored
    if private_key:
        conn.access_token = private_key.strip() + "\n"
    if authorization:
        conn.api_key = authorization.strip()
    conn.status, conn.uninstalled_at = "active", None
    db.session.commit()
    return conn


def preview(conn: Connection, rows: int = PREVIEW_ROWS) -> Preview:
    """The catalog file's first `rows` rows as the mapping reads them (reads the file now; refusals are shown)."""
    settings = FeedSettings.from_mapping(conn.settings)
    files = FeedFiles(settings, conn.access_token, conn.api_key, http=http_client(current_app, PLATFORM))
    try:
        data, _modified = files.read(settings.catalog_path)
        columns = {name: settings.column(name) for name in CATALOG_FIELDS}
        parsed = read_rows(data, settings.catalog_path.rsplit("/", 1)[-1], columns, ("sku", "price"))
    except (FeedError, FeedFileRefused) as exc:
        return Preview(error=str(exc))
    finally:
        files.close()
    for line, row in list(parsed.rows[: rows * 2]):
        problem = catalog_row_problem(settings, row)
        if problem:
            parsed.rows.remove((line, row))
            parsed.refuse(line, problem, row)
    first = sorted([*((line, row) for line, row in parsed.rows), *((line, None) for line, _r, _x in parsed.refused)],
                   key=lambda item: item[0])[:rows]  # fmt: skip
    shown = {line for line, _row in first}
    used = [name for name in CATALOG_FIELDS if any(row and row.get(name) for _line, row in first)]
    return Preview(
        columns=used,
        rows=[(line, row) for line, row in first if row is not None],
        refused=[(line, reason) for line, reason, _row in parsed.refused if line in shown],
    )
