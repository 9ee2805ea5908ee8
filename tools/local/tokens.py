"""HS256 JSON Web Tokens: mint dev tokens and verify bearer tokens as the local JWT authorizer.

PyJWT encodes, signs and verifies (signature, `alg`, `exp`, `nbf`); this module adds what the local
gateway needs around it: one exception with a readable reason, the `Authorization: Bearer` header,
claims rendered the way API Gateway hands them to a function, and the stack's dev tokens. Like the
deployed authorizer's local stand-in it does not check `iss` or `aud` (the gateway has one secret).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt as pyjwt

_ALGORITHM = "HS256"
# API Gateway's JWT authorizer checks signature and time; audience and issuer stay unchecked
# locally, and iat/sub/jti are not something it rejects tokens for.
_OPTIONS = {"verify_aud": False, "verify_iss": False, "verify_iat": False, "verify_sub": False,
            "verify_jti": False}


class InvalidToken(Exception):
    """The token is missing, malformed, wrongly signed or expired. The message says which."""


@contextmanager
def _quiet() -> Iterator[None]:
    # The local stack signs with a short, well-known dev secret on purpose (the deployed API
    # verifies the identity provider's tokens, never this secret): PyJWT's warning is noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pyjwt.InsecureKeyLengthWarning)
        yield


def encode(claims: dict[str, Any], secret: str) -> str:
    with _quiet():
        return pyjwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode(token: str, secret: str, now: float | None = None, leeway: int = 0) -> dict[str, Any]:
    """The verified claims, or InvalidToken. Checks alg, signature, exp and nbf; `now` replaces
    the wall clock for exp and nbf."""
    options = dict(_OPTIONS)
    if now is not None:
        options.update(verify_exp=False, verify_nbf=False)
    try:
        with _quiet():
            claims = pyjwt.decode(token, secret, algorithms=[_ALGORITHM], options=options,
                                  leeway=leeway)
    except pyjwt.InvalidAlgorithmError as exc:
        raise InvalidToken(f"token algorithm must be {_ALGORITHM}") from exc
    except pyjwt.InvalidSignatureError as exc:
        raise InvalidToken("token signature is invalid") from exc
    except pyjwt.ExpiredSignatureError as exc:
        raise InvalidToken("token has expired") from exc
    except pyjwt.ImmatureSignatureError as exc:
        raise InvalidToken("token not yet valid") from exc
    except pyjwt.InvalidTokenError as exc:
        raise InvalidToken(f"token is not a valid JWT: {exc}") from exc
    if now is not None:
        # PyJWT reads the wall clock itself; a caller's own clock is applied here the same way.
        if _number(claims, "exp") is not None and now > _number(claims, "exp") + leeway:
            raise InvalidToken("token has expired")
        if _number(claims, "nbf") is not None and now + leeway < _number(claims, "nbf"):
            raise InvalidToken("token not yet valid")
    return claims


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidToken(f"token {name} is not a number")
    return float(value)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization header must be 'Bearer <token>'")
    return token.strip()


def stringify_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer passes them: every value a string."""
    return {key: _claim_text(value) for key, value in claims.items()}


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
