"""Platform tokens encrypted at rest with MultiFernet: the first key encrypts, every key decrypts (rotation)."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app
from sqlalchemy import Text, TypeDecorator


def fernet(keys: str | None = None) -> MultiFernet:
    """The MultiFernet built from TOKEN_ENCRYPTION_KEYS (comma-separated, newest first)."""
    raw = keys if keys is not None else current_app.config["TOKEN_ENCRYPTION_KEYS"]
    return MultiFernet([Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()])


class EncryptedText(TypeDecorator):
    """A text column whose value is Fernet-encrypted in the database and plain in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return fernet().encrypt(value.encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return fernet().decrypt(value.encode()).decode()


def rotate_token(ciphertext: str) -> str:
    """Re-encrypt one stored ciphertext under the newest key."""
    return fernet().rotate(ciphertext.encode()).decode()
