"""Re-encrypt stored platform secrets under the newest key (MultiFernet.rotate).

Run by `flask tokens rotate` after a new key is put first in TOKEN_ENCRYPTION_KEYS.
"""

from __future__ import annotations

from sqlalchemy import text

from portal.crypto import rotate_token
from portal.extensions import db

ENCRYPTED_COLUMNS = (("connection", ("access_token", "refresh_token")), ("gateway_account", ("secret",)))


def rotate_all() -> int:
    """Rotate every encrypted column in place, on the raw ciphertext; returns how many values changed."""
    count = 0
    for table, columns in ENCRYPTED_COLUMNS:
        for column in columns:
            rows = db.session.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
            for row_id, ciphertext in rows:
                db.session.execute(
                    text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                    {"value": rotate_token(ciphertext), "id": row_id},
                )
                count += 1
    db.session.commit()
    return count
