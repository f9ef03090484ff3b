"""Shopify's OAuth surface: authorization-code grant, token exchange, refresh, and session tokens (HS256 JWTs).

Shapes follow shopify.dev ("Exchange a session token for an access token", "Refresh an expiring offline token"):
token exchange with `expiring=1` answers `access_token, expires_in, refresh_token, refresh_token_expires_in, scope`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
import warnings
from dataclasses import dataclass

import jwt

# The development client secret is shorter than PyJWT's recommended 32 bytes; real Shopify secrets are not.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


@dataclass
class Token:
    shop: str
    scopes: str
    expires_at: float | None = None  # None: a non-expiring offline token

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


@dataclass
class Grant:
    shop: str
    scopes: str
    expires_at: float


def query_hmac(params: dict[str, str], secret: str) -> str:
    """Shopify's query-string HMAC: drop `hmac`, sort `k=v`, join with `&`, hex HMAC-SHA256 with the secret."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def webhook_hmac(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def host_param(shop: str) -> str:
    """The `host` parameter Shopify adds for embedded apps: base64 of `admin.shopify.com/store/<name>`."""
    raw = f"admin.shopify.com/store/{shop.split('.')[0]}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def session_token(
    shop: str, client_id: str, client_secret: str, *, user_id: int = 1, exp_in: int = 60, issued_at: float | None = None
) -> str:
    """An App Bridge session token exactly as Shopify signs it (HS256 with the app's client secret)."""
    iat = int(issued_at if issued_at is not None else time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": client_id,
        "sub": str(user_id),
        "exp": iat + exp_in,
        "nbf": iat,
        "iat": iat,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(16),
        "sig": secrets.token_hex(32),
    }
    return jwt.encode(claims, client_secret, algorithm="HS256")


def verify_session_token(token: str, client_id: str, client_secret: str) -> dict:
    """Decode and check a session token (signature, exp, nbf with 10 s leeway, aud, iss/dest same shop)."""
    claims = jwt.decode(
        token,
        client_secret,
        algorithms=["HS256"],
        audience=client_id,
        leeway=10,
        options={"require": ["exp", "nbf", "iss", "dest", "aud", "sub"]},
    )
    if claims["iss"].removesuffix("/admin") != claims["dest"]:
        raise jwt.InvalidTokenError("iss and dest name different shops")
    return claims


def new_access_token() -> str:
    return "shpat_" + secrets.token_hex(16)


def new_refresh_token() -> str:
    return "shprt_" + secrets.token_hex(16)


def new_code() -> str:
    return secrets.token_hex(16)
