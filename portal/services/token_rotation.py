"""Re-encrypt stored platform secrets under the newest key (MultiFernet.rotate), never over a newer value.

Run by `flask tokens rotate` after a new key is put first in TOKEN_ENCRYPTION_KEYS.
"""

from __future__ import annotations

from sqlalchemy import text

from portal.crypto import rotate_token
from portal.extensions import db

# Every EncryptedText column: after a rotation none of them may still need an old key.
ENCRYPTED_COLUMNS = (
    ("connection", ("access_token", "refresh_token", "api_key", "webhook_secret")),
    ("gateway_account", ("secret",)),
)
ATTEMPTS = 5


def rotate_all() -> int:
    """Rotate every encrypted column in place, on the raw ciphertext; returns how many values were re-encrypted.

    Each value is written by a compare-and-set (`UPDATE ... WHERE column = <the ciphertext we read>`), committed
    at once: a token refresh that stores a new pair between our read and our write makes the compare fail, and the
    new value is read and rotated again instead of being overwritten by the old one.
    """
    count = 0
    for table, columns in ENCRYPTED_COLUMNS:
        for column in columns:
            ids = db.session.execute(text(f"SELECT id FROM {table} WHERE {column} IS NOT NULL")).scalars().all()
            db.session.commit()
            for row_id in ids:
                count += _rotate_one(table, column, row_id)
    return count


def _read(table: str, column: str, row_id: int) -> str | None:
    return db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}).scalar()


def _rotate_one(table: str, column: str, row_id: int) -> int:
    """Re-encrypt one value by compare-and-set, re-reading after a lost compare; 1 when a value was written."""
    for _attempt in range(ATTEMPTS):
        ciphertext = _read(table, column, row_id)
        if ciphertext is None:
            db.session.commit()
            return 0
        done = db.session.execute(
            text(f"UPDATE {table} SET {column} = :new WHERE id = :id AND {column} = :old"),
            {"new": rotate_token(ciphertext), "id": row_id, "old": ciphertext},
        )
        db.session.commit()
        if done.rowcount == 1:
            return 1
    raise RuntimeError(f"{table}.{column} of row {row_id} kept changing during the rotation; run it again")
