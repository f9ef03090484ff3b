"""SFTP tests run against a real OpenSSH server started per test.

The fixture lives in tests/support/sftp.py so other test packages can import it the same way.
"""

from tests.support.sftp import sftp_server  # noqa: F401
