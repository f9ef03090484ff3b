"""Where a feed's files live: an SFTP server (paramiko, key auth, the host key pinned) or an HTTPS URL (httpx).

HTTPS reads verify the server's certificate and host name always: against the system's CAs, plus the feed's own
PEM certificate (`https_ca`) when the ERP uses a private CA or a self-signed certificate. No conditional GET: a work
horse is forked per job, so an ETag remembered in one is gone in the next; the file's Last-Modified date tells the
catalog pull whether anything changed since its cursor (an unchanged file yields no product).

`FeedFiles` opens the SFTP session on first use and refuses a server whose host key is not the pinned one before
authenticating (an unknown or changed key could be anyone). Writes are atomic: a temporary name, then
posix-rename over the final name, so the ERP never reads half a file and a rewrite replaces the old one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import socket
import ssl
import stat
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import paramiko

from integrations.feeds.settings import FeedSettings

TIMEOUT = 20.0  # seconds for connecting, the SSH handshake and each SFTP reply


class FeedError(Exception):
    """A feed could not be read or written (server unreachable, file missing, HTTP error); the message says which."""


class HostKeyRefused(FeedError):
    """The SFTP server presented a host key other than the pinned one (or none is pinned): nothing was sent."""


@dataclass
class RemoteFile:
    """A file in a folder of the feed, with when it was last written (UTC)."""

    path: str
    modified: datetime


def fingerprint(key_line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a "type base64" public key line (shown so people can compare keys)."""
    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_private_key(text: str) -> paramiko.PKey:
    """A private key from its OpenSSH/PEM text (ed25519, ECDSA or RSA, unencrypted); FeedError if unreadable."""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text.strip() + "\n"))
        except (paramiko.SSHException, ValueError):
            continue
    raise FeedError("the private key is not an unencrypted ed25519, ECDSA or RSA key in OpenSSH or PEM form")


def _utc(seconds: float | None) -> datetime:
    return datetime.fromtimestamp(seconds or 0, UTC)


class FeedFiles:
    """The files of one feed. Paths are relative to the SFTP login folder, or https:// URLs (read only)."""

    def __init__(
        self,
        settings: FeedSettings,
        private_key: str | None,
        authorization: str | None = None,
        http=None,
        on_call: Callable | None = None,
    ):
        self.settings = settings
        self.private_key = private_key or ""
        self.authorization = authorization or ""  # sent as the Authorization header of HTTPS reads
        self.http = http
        self.on_call = on_call or (lambda *args, **kw: None)
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._own_http: httpx.Client | None = None  # when the feed trusts its own CA (settings.https_ca)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ SFTP session

    def sftp(self) -> paramiko.SFTPClient:
        """The open SFTP session (opened now, host key checked before our key is offered)."""
        with self._lock:
            if self._sftp is None:
                self._sftp = self._open()
            return self._sftp

    def _open(self) -> paramiko.SFTPClient:
        s = self.settings
        if not s.host:
            raise FeedError("no SFTP server is set for this feed (orders and shipments travel over SFTP)")
        pinned = s.host_key.split()[:2]
        if len(pinned) != 2:
            raise HostKeyRefused(f"no host key is pinned for {s.host}:{s.port}; paste the server's public host key")
        try:
            sock = socket.create_connection((s.host, s.port), timeout=TIMEOUT)
        except OSError as exc:
            raise FeedError(f"cannot reach the SFTP server {s.host}:{s.port} ({exc})") from None
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = TIMEOUT
        try:
            transport.start_client(timeout=TIMEOUT)
            presented = transport.get_remote_server_key()
            if presented.get_name() != pinned[0] or presented.get_base64() != pinned[1]:
                shown = fingerprint(f"{presented.get_name()} {presented.get_base64()}")
                raise HostKeyRefused(
                    f"the SFTP server {s.host}:{s.port} presented the host key {presented.get_name()} {shown}, "
                    f"not the pinned {pinned[0]} {fingerprint(' '.join(pinned))}; nothing was sent"
                )
            transport.auth_publickey(s.username, load_private_key(self.private_key))
            client = paramiko.SFTPClient.from_transport(transport)
            client.get_channel().settimeout(TIMEOUT)
        except HostKeyRefused:
            transport.close()
            raise
        except (paramiko.SSHException, OSError, EOFError) as exc:
            transport.close()
            raise FeedError(f"SFTP login to {s.username}@{s.host}:{s.port} failed: {exc}") from None
        self._transport = transport
        weakref.finalize(self, transport.close)  # a flow does not close adapters: the session ends with this object
        self.on_call()
        return client

    def close(self) -> None:
        """Close the SFTP session if one is open."""
        with self._lock:
            if self._transport is not None:
                self._transport.close()
            self._transport = self._sftp = None

    # ------------------------------------------------------------ files

    def read(self, path: str) -> tuple[bytes, datetime]:
        """A file's bytes and when it was last written (HTTPS: Last-Modified, else now)."""
        if path.lower().startswith("https://"):
            return self._get(path)
        sftp = self.sftp()
        self.on_call()
        try:
            with sftp.open(path, "rb") as handle:
                modified = _utc(handle.stat().st_mtime)
                handle.prefetch()
                return handle.read(), modified
        except FileNotFoundError:
            raise FeedError(f"{path} is not on the SFTP server") from None
        except OSError as exc:
            raise FeedError(f"cannot read {path} over SFTP ({exc})") from None

    def _https(self):
        """The HTTP client for this feed's URLs: the process's, or one that also trusts the feed's own CA."""
        if not self.settings.https_ca.strip():
            return self.http
        with self._lock:
            if self._own_http is None:
                context = ssl.create_default_context()  # the system's CAs, host names checked
                try:
                    context.load_verify_locations(cadata=self.settings.https_ca.strip() + "\n")
                except (ssl.SSLError, ValueError) as exc:
                    raise FeedError(f"the feed's HTTPS certificate is not a PEM certificate ({exc})") from None
                timeout = getattr(self.http, "timeout", None) or httpx.Timeout(60.0, connect=10.0)
                self._own_http = httpx.Client(verify=context, timeout=timeout, follow_redirects=True)
                weakref.finalize(self, self._own_http.close)
            return self._own_http

    def _get(self, url: str) -> tuple[bytes, datetime]:
        http = self._https()
        if http is None:
            raise FeedError("no HTTP client for HTTPS feeds")
        headers = {"Authorization": self.authorization} if self.authorization else {}
        self.on_call()
        try:
            response = http.get(url, headers=headers)
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower():
                raise FeedError(
                    f"{url}: the server's TLS certificate is not trusted ({exc}); if the ERP uses its own CA or a "
                    "self-signed certificate, paste it as the feed's HTTPS certificate"
                ) from None
            raise FeedError(f"cannot fetch {url} (ConnectError: {exc})") from None
        except Exception as exc:  # httpx transport errors: timeouts, refused connections, TLS failures
            raise FeedError(f"cannot fetch {url} ({type(exc).__name__}: {exc})") from None
        if response.status_code != 200:
            reason = response.reason_phrase or ""
            raise FeedError(f"{url} answered HTTP {response.status_code} {reason}".rstrip())
        stamp = response.headers.get("last-modified")
        try:
            modified = parsedate_to_datetime(stamp).astimezone(UTC) if stamp else datetime.now(UTC)
        except (TypeError, ValueError):
            modified = datetime.now(UTC)
        return response.content, modified

    def exists(self, path: str) -> bool:
        """Whether a regular file is at `path` on the SFTP server."""
        sftp = self.sftp()
        self.on_call()
        try:
            return stat.S_ISREG(sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False

    def listdir(self, folder: str) -> list[RemoteFile]:
        """The .csv files in a folder, oldest first ([] when the folder does not exist)."""
        sftp = self.sftp()
        self.on_call()
        try:
            entries = sftp.listdir_attr(folder)
        except FileNotFoundError:
            return []
        files = [
            RemoteFile(posixpath.join(folder, e.filename), _utc(e.st_mtime))
            for e in entries
            if stat.S_ISREG(e.st_mode or 0) and e.filename.lower().endswith(".csv") and not e.filename.startswith(".")
        ]
        return sorted(files, key=lambda f: (f.modified, f.path))

    def makedirs(self, folder: str) -> None:
        """Create `folder` and its parents where missing."""
        sftp = self.sftp()
        path = ""
        for part in [p for p in folder.split("/") if p]:
            path = posixpath.join(path, part) if path else (part if not folder.startswith("/") else "/" + part)
            try:
                sftp.stat(path)
            except FileNotFoundError:
                self.on_call()
                sftp.mkdir(path)

    def write_atomic(self, path: str, data: bytes) -> None:
        """Write `data` to `path` under a temporary name, then posix-rename it over `path` (replacing any file)."""
        sftp = self.sftp()
        folder, name = posixpath.split(path)
        if folder:
            self.makedirs(folder)
        temporary = posixpath.join(folder, f".{name}.partial")
        self.on_call()
        with sftp.open(temporary, "wb") as handle:
            handle.write(data)
        self.on_call()
        sftp.posix_rename(temporary, path)

    def move(self, path: str, folder: str) -> str:
        """Move a file into `folder` (same name, replacing one there); returns its new path."""
        sftp = self.sftp()
        self.makedirs(folder)
        target = posixpath.join(folder, posixpath.basename(path))
        self.on_call()
        sftp.posix_rename(path, target)
        return target
