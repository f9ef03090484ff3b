"""The OpenSSH test server works with paramiko the way production will use it.

Key authentication, host-key pinning (a wrong key is refused), and upload-as-temp-then-rename being atomic.
"""

from __future__ import annotations

import io
import subprocess

import paramiko
import pytest


def _client(server, known_hosts_line: str | None = None) -> paramiko.SSHClient:
    """An SSHClient that trusts only the given known_hosts line (the server's own by default)."""
    client = paramiko.SSHClient()
    host_keys = client.get_host_keys()
    line = known_hosts_line or server.known_hosts_line
    entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
    for name in entry.hostnames:
        host_keys.add(name, entry.key.get_name(), entry.key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return client


def _connect(server, client: paramiko.SSHClient, key_path=None) -> paramiko.SSHClient:
    client.connect(
        server.host,
        port=server.port,
        username=server.username,
        key_filename=str(key_path or server.client_key_path),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    return client


def test_authorized_key_logs_in_and_lists_the_data_folder(sftp_server):
    (sftp_server.data / "inventory_20261129T1000Z.csv").write_text("sku,quantity\nA-1,5\n")
    client = _connect(sftp_server, _client(sftp_server))
    try:
        sftp = client.open_sftp()
        assert sftp.normalize(".") == str(sftp_server.data)  # sessions start in the data folder
        assert sftp.listdir(".") == ["inventory_20261129T1000Z.csv"]
        with sftp.open("inventory_20261129T1000Z.csv") as handle:
            assert handle.read().decode() == "sku,quantity\nA-1,5\n"
    finally:
        client.close()


def test_unauthorized_key_is_refused(sftp_server, tmp_path):
    key_path = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_path)], check=True)
    with pytest.raises(paramiko.AuthenticationException):
        _connect(sftp_server, _client(sftp_server), key_path=key_path)


def test_pinned_host_key_that_does_not_match_is_refused(sftp_server, tmp_path):
    other = tmp_path / "other_host"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    other_public = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    wrong_pin = f"[{sftp_server.host}]:{sftp_server.port} {other_public}"
    with pytest.raises(paramiko.BadHostKeyException):
        _connect(sftp_server, _client(sftp_server, wrong_pin))


def test_unknown_host_is_refused_by_reject_policy(sftp_server):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        _connect(sftp_server, client)


def test_known_hosts_file_pins_the_server(sftp_server):
    client = paramiko.SSHClient()
    client.load_host_keys(str(sftp_server.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    _connect(sftp_server, client).close()


def test_upload_to_temp_name_then_rename_publishes_the_whole_file_at_once(sftp_server):
    body = b"po_number,sku,quantity\n" + b"".join(b"PO-1,SKU-%d,1\n" % i for i in range(20000))
    client = _connect(sftp_server, _client(sftp_server))
    try:
        sftp = client.open_sftp()
        sftp.mkdir("in")
        seen_while_uploading: list[list[str]] = []

        def progress(sent, total):
            # A reader polling the folder mid-upload sees only the temp name, never a partial final file.
            seen_while_uploading.append(sorted(p.name for p in (sftp_server.data / "in").iterdir()))

        sftp.putfo(io.BytesIO(body), "in/orders_PO-1.csv.tmp", callback=progress, confirm=True)
        assert seen_while_uploading and all(names == ["orders_PO-1.csv.tmp"] for names in seen_while_uploading)
        sftp.rename("in/orders_PO-1.csv.tmp", "in/orders_PO-1.csv")
        assert sorted(p.name for p in (sftp_server.data / "in").iterdir()) == ["orders_PO-1.csv"]
        assert (sftp_server.data / "in" / "orders_PO-1.csv").read_bytes() == body
    finally:
        client.close()


def test_plain_rename_over_an_existing_file_fails_but_posix_rename_replaces_it(sftp_server):
    (sftp_server.data / "stock.csv").write_text("old\n")
    client = _connect(sftp_server, _client(sftp_server))
    try:
        sftp = client.open_sftp()
        with sftp.open("stock.csv.tmp", "w") as handle:
            handle.write("new\n")
        with pytest.raises(OSError):
            sftp.rename("stock.csv.tmp", "stock.csv")  # SFTPv3 rename refuses to overwrite
        assert (sftp_server.data / "stock.csv").read_text() == "old\n"
        sftp.posix_rename("stock.csv.tmp", "stock.csv")  # posix-rename@openssh.com replaces atomically
        assert (sftp_server.data / "stock.csv").read_text() == "new\n"
        assert not (sftp_server.data / "stock.csv.tmp").exists()
    finally:
        client.close()
