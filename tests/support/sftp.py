"""The `sftp_server` pytest fixture: a real OpenSSH `sshd` (Debian's openssh-server) serving SFTP from a temp folder.

It listens on 127.0.0.1 at a free high port with a fresh ed25519 host key and one authorized client key, and serves
`internal-sftp` rooted at a `data/` folder; it is stopped when the test ends. Import it from a conftest with
`from tests.support.sftp import sftp_server  # noqa: F401`.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"

CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {root}/host_ed25519
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {user}
UsePAM no
# Keys live in the world-writable temp folder, which StrictModes would refuse.
StrictModes no
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d {root}/data
LogLevel VERBOSE
"""


@dataclass
class SFTPServer:
    """A running sshd: where it listens, who may log in, and the files that pin and authorize keys."""

    host: str
    port: int
    username: str
    root: Path  # the temp folder holding config, keys and logs
    data: Path  # the folder SFTP sessions start in (what the partner sees)
    client_key_path: Path  # private ed25519 key that is authorized
    host_public_key: str  # "ssh-ed25519 AAAA..." of the server
    known_hosts_path: Path  # a known_hosts file pinning host_public_key for [host]:port

    @property
    def known_hosts_line(self) -> str:
        """The known_hosts entry for this server (non-22 ports are written `[host]:port`)."""
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    def log(self) -> str:
        """sshd's log so far (useful in assertion messages)."""
        path = self.root / "sshd.log"
        return path.read_text() if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def _wait_listening(port: int, proc: subprocess.Popen, root: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (root / "sshd.log").read_text() if (root / "sshd.log").exists() else ""
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(64).startswith(b"SSH-2.0-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on {port} within {timeout}s")


def start_sftp_server(root: Path) -> tuple[SFTPServer, subprocess.Popen]:
    """Write keys and config under `root` and start sshd in the foreground; returns the server and its process."""
    if not os.path.exists(SSHD):
        pytest.skip("OpenSSH server not installed (apt-get install openssh-server)")
    root = root.resolve()
    (root / "data").mkdir(parents=True)
    host_public = _keygen(root / "host_ed25519")
    client_public = _keygen(root / "client_ed25519")
    (root / "authorized_keys").write_text(client_public + "\n")
    if os.geteuid() == 0:
        # As root sshd insists on its privilege separation directory; as another user it runs unprivileged.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    user = getpass.getuser()
    for _attempt in range(3):  # another process may grab the port between probing and binding
        port = _free_port()
        (root / "sshd_config").write_text(CONFIG.format(port=port, root=root, user=user))
        proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(root / "sshd_config"), "-E", str(root / "sshd.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_listening(port, proc, root)
            break
        except RuntimeError:
            _stop(proc)
            if "Address already in use" not in (root / "sshd.log").read_text():
                raise
    else:
        raise RuntimeError("sshd could not bind a free port")
    known_hosts = root / "known_hosts"
    server = SFTPServer(
        host="127.0.0.1",
        port=port,
        username=user,
        root=root,
        data=root / "data",
        client_key_path=root / "client_ed25519",
        host_public_key=" ".join(host_public.split()[:2]),  # without the comment
        known_hosts_path=known_hosts,
    )
    known_hosts.write_text(server.known_hosts_line + "\n")
    return server, proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def sftp_server(tmp_path):
    """A real OpenSSH SFTP server for one test; see SFTPServer for what tests get."""
    server, proc = start_sftp_server(tmp_path / "sshd")
    try:
        yield server
    finally:
        _stop(proc)
