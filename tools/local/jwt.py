"""HS256 JSON Web Tokens: mint dev tokens and verify bearer tokens as the local JWT authorizer.

Only what the local gateway needs (RFC 7519 with HMAC-SHA256); no third-party library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


class InvalidToken(Exception):
    """The token is missing, malformed, wrongly signed or expired. The message says which."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidToken("token is not base64url") from exc


def encode(claims: dict[str, Any], secret: str) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def decode(token: str, secret: str, now: float | None = None, leeway: int = 0) -> dict[str, Any]:
    """The verified claims, or InvalidToken. Checks alg, signature, exp and nbf."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("token is not a JWT (expected three dot-separated parts)")
    header_b64, claims_b64, signature_b64 = parts
    try:
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(claims_b64))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("token header or claims are not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidToken("token algorithm must be HS256")
    if not isinstance(claims, dict):
        raise InvalidToken("token claims are not an object")
    expected = hmac.new(
        secret.encode(), f"{header_b64}.{claims_b64}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, _b64url_decode(signature_b64)):
        raise InvalidToken("token signature is invalid")
    now = time.time() if now is None else now
    for name, check in (("exp", lambda v: now > v + leeway), ("nbf", lambda v: now + leeway < v)):
        if name in claims:
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidToken(f"token {name} is not a number")
            if check(value):
                raise InvalidToken("token has expired" if name == "exp" else "token not yet valid")
    return claims


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization header must be 'Bearer <token>'")
    return token.strip()


def stringify_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer passes them: every value a string."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        out[key] = _claim_text(value)
    return out


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        # API Gateway renders array claims as "[a b c]".
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def dev_token(secret: str, tenant_id: str, role: str, sub: str, *, issuer: str | None = None,
              audience: list[str] | None = None, ttl_seconds: int = 365 * 24 * 3600) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "tenant_id": tenant_id, "role": role, "iat": now,
                              "exp": now + ttl_seconds}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience[0] if len(audience) == 1 else audience
    return encode(claims, secret)
