"""The feed settings page: a wholesaler saves its SFTP server, pinned host key, private key (stored encrypted),
folders and column mapping, and sees the first catalog rows as mapped; a wrong host key shows why nothing was read."""

from __future__ import annotations

from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Connection
from tests.support import factories

THEIR_CATALOG = """\
Artikel,Bezeichnung,EK,Bestand
TOTE-1,Canvas Tote,10.00,20
CAP-1,Wool Cap,zwölf,3
MUG-1,Mug,4.50,8
"""


def _post(auth, data: dict, path: str = "/feeds/"):
    token = auth.token("/feeds/")
    return auth.client.post(path, data={"csrf_token": token, **data})


def _form(server, **overrides) -> dict:
    return {
        "host": server.host, "port": str(server.port), "username": server.username,
        "host_key": server.host_public_key + " root@build", "private_key": server.client_key_path.read_text(),
        "catalog_path": "erp/artikel.csv", "map_sku": "Artikel", "map_title": "Bezeichnung", "map_price": "EK",
        "map_quantity": "Bestand", **overrides,
    }  # fmt: skip


def test_saved_settings_keep_the_key_encrypted_and_the_preview_shows_the_first_rows_as_mapped(app, auth, sftp_server):
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    (sftp_server.data / "erp").mkdir()
    (sftp_server.data / "erp" / "artikel.csv").write_text(THEIR_CATALOG)
    answer = _post(auth, _form(sftp_server))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    conn = db.session.execute(select(Connection)).scalar_one()
    assert (conn.platform, conn.role, conn.organization_id) == ("csv", "system_of_record", user.organization_id)
    assert conn.settings["host_key"] == sftp_server.host_public_key  # the comment is dropped
    assert conn.settings["mapping"]["sku"] == "Artikel" and conn.settings["mapping"]["barcode"] == "barcode"
    assert conn.access_token.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    raw = db.session.execute(text("SELECT access_token FROM connection")).scalar_one()
    assert "PRIVATE KEY" not in raw
    assert "<td>Canvas Tote</td>" in page and "<td>4.50</td>" in page
    assert "Line 3:" in page and "zwölf" in page  # the bad row is shown with its line, the good ones around it

    # saving again with the key left blank keeps the stored key
    again = _post(auth, _form(sftp_server, private_key="", catalog_path="erp/artikel.csv"))
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.execute(select(Connection)).scalar_one().access_token == conn.access_token


def test_a_wrong_host_key_is_refused_and_the_preview_says_so(app, auth, sftp_server):
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    page = _post(auth, _form(sftp_server, host_key=other)).get_data(as_text=True)
    assert "could not be read" in page and "not the pinned" in page
    assert "Accepted publickey" not in sftp_server.log()


def test_an_unreadable_private_key_is_refused_and_nothing_is_saved(app, auth, sftp_server):
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    answer = _post(auth, _form(sftp_server, private_key="not a key"))
    assert answer.status_code == 400 and "private key cannot be used" in answer.get_data(as_text=True)
    assert db.session.execute(select(Connection)).first() is None


def test_a_retailer_cannot_open_the_feed_page(app, auth):
    user = factories.wholesaler(name="Corner Store")
    user.organization.kind = "retailer"
    db.session.commit()
    auth.login(user.email)
    assert auth.client.get("/feeds/").status_code == 403
