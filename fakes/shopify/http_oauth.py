"""The OAuth endpoints: `POST /admin/oauth/access_token` (authorization code, token exchange, refresh with
rotating single-use refresh tokens) and `GET /admin/oauth/authorize` (an auto-approved grant screen).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import jwt
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify import oauth
from fakes.shopify.http_common import form_data, host_shop, json_response


def access_token(sandbox, request: Request) -> Response:
    """Exchange a code, a session token or a refresh token for an access token, as the grant type says."""
    domain = host_shop(request)
    form = form_data(request)
    config = sandbox.config
    if form.get("client_id") != config.client_id or form.get("client_secret") != config.client_secret:
        return json_response({"error": "invalid_client", "error_description": "Client credentials are invalid"}, 401)
    grant_type = form.get("grant_type")
    if grant_type == oauth.TOKEN_EXCHANGE:
        return _token_exchange(sandbox, domain, form)
    if grant_type == "refresh_token":
        return _refresh(sandbox, domain, form)
    if grant_type in (None, "", "authorization_code"):
        grant = sandbox.codes.pop(form.get("code", ""), None)
        if grant is None or grant.shop != domain or grant.expires_at < time.time():
            return json_response(
                {
                    "error": "invalid_request",
                    "error_description": "The authorization code was not found or was already used",
                },
                400,
            )
        shop = sandbox.add_shop(domain)
        shop.installed = True
        token = sandbox.issue_token(domain, scopes=grant.scopes)
        return json_response({"access_token": token, "scope": grant.scopes})
    return json_response({"error": "unsupported_grant_type"}, 400)


def _expiring_pair(sandbox, domain: str, scopes: str) -> dict:
    token = sandbox.issue_token(domain, expires_in=oauth.ACCESS_TOKEN_LIFETIME, scopes=scopes)
    refresh = oauth.new_refresh_token()
    sandbox.refresh_tokens[refresh] = oauth.Grant(domain, scopes, time.time() + oauth.REFRESH_TOKEN_LIFETIME)
    return {
        "access_token": token,
        "expires_in": oauth.ACCESS_TOKEN_LIFETIME,
        "refresh_token": refresh,
        "refresh_token_expires_in": oauth.REFRESH_TOKEN_LIFETIME,
        "scope": scopes,
    }


def _token_exchange(sandbox, domain: str, form: dict) -> Response:
    if form.get("subject_token_type") != oauth.ID_TOKEN_TYPE:
        return json_response({"error": "invalid_request", "error_description": "Unsupported subject_token_type"}, 400)
    try:
        claims = oauth.verify_session_token(
            form.get("subject_token", ""), sandbox.config.client_id, sandbox.config.client_secret
        )
    except jwt.PyJWTError as exc:
        return json_response({"error": "invalid_subject_token", "error_description": str(exc)}, 400)
    if claims["dest"] != f"https://{domain}":
        return json_response({"error": "invalid_subject_token", "error_description": "Token is for another shop"}, 400)
    shop = sandbox.add_shop(domain)
    shop.installed = True
    requested = form.get("requested_token_type", oauth.OFFLINE_TOKEN_TYPE)
    if requested == oauth.ONLINE_TOKEN_TYPE:
        token = sandbox.issue_token(domain, expires_in=86400)
        return json_response(
            {
                "access_token": token,
                "scope": shop.scopes,
                "expires_in": 86400,
                "associated_user_scope": shop.scopes,
                "associated_user": {
                    "id": int(claims["sub"]),
                    "first_name": "Sandbox",
                    "last_name": "User",
                    "email": f"user{claims['sub']}@{domain}",
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                    "email_verified": True,
                },
            }
        )
    if form.get("expiring") in ("1", "true", "True"):
        return json_response(_expiring_pair(sandbox, domain, shop.scopes))
    return json_response({"access_token": sandbox.issue_token(domain), "scope": shop.scopes})


def _refresh(sandbox, domain: str, form: dict) -> Response:
    grant = sandbox.refresh_tokens.pop(form.get("refresh_token", ""), None)  # single use: rotated on every refresh
    if grant is None or grant.shop != domain or grant.expires_at < time.time():
        return json_response(
            {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired"}, 400
        )
    return json_response(_expiring_pair(sandbox, domain, grant.scopes))


def authorize(sandbox, request: Request) -> Response:
    """The grant screen, auto-approved: redirect to redirect_uri with a code and Shopify's query HMAC."""
    domain = host_shop(request)
    args = request.args
    if args.get("client_id") != sandbox.config.client_id or not args.get("redirect_uri"):
        return Response("Oauth error invalid_request: The redirect_uri and client_id are required", 400)
    shop = sandbox.add_shop(domain)
    scopes = args.get("scope") or shop.scopes
    code = oauth.new_code()
    sandbox.codes[code] = oauth.Grant(domain, scopes, time.time() + 600)
    params = {"code": code, "host": oauth.host_param(domain), "shop": domain, "timestamp": str(int(time.time()))}
    if args.get("state") is not None:
        params["state"] = args["state"]
    params["hmac"] = oauth.query_hmac(params, sandbox.config.client_secret)
    sep = "&" if "?" in args["redirect_uri"] else "?"
    return Response("", 302, headers={"Location": args["redirect_uri"] + sep + urlencode(params)})


RULES = [
    Rule("/admin/oauth/access_token", endpoint=access_token, methods=["POST"]),
    Rule("/admin/oauth/authorize", endpoint=authorize, methods=["GET"]),
]
