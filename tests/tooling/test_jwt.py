"""The local JWT authorizer: HS256 tokens, verified like API Gateway's authorizer would."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tools.local import tokens

SECRET = "oms-local-dev-secret"


def test_a_good_token_round_trips_its_claims():
    token = tokens.encode({"sub": "u1", "tenant_id": "t1", "role": "sales",
                        "exp": int(time.time()) + 60}, SECRET)
    claims = tokens.decode(token, SECRET)
    assert (claims["sub"], claims["tenant_id"], claims["role"]) == ("u1", "t1", "sales")


def test_a_token_signed_with_another_secret_is_rejected():
    token = tokens.encode({"sub": "u1"}, "someone-else")
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.decode(token, SECRET)


def test_tampered_claims_are_rejected():
    header, _claims, signature = tokens.encode({"sub": "u1", "role": "sales"}, SECRET).split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"sub": "u1", "role": "admin"}).encode())
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.decode(f"{header}.{forged.rstrip(b'=').decode()}.{signature}", SECRET)


def test_an_expired_token_is_rejected():
    token = tokens.encode({"sub": "u1", "exp": 1_000}, SECRET)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.decode(token, SECRET, now=1_001)
    assert tokens.decode(token, SECRET, now=999)["sub"] == "u1"


def test_a_token_without_exp_is_accepted():
    assert tokens.decode(tokens.encode({"sub": "u1"}, SECRET), SECRET) == {"sub": "u1"}


def test_alg_none_and_garbage_are_rejected():
    unsigned = ".".join([
        base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(json.dumps({"sub": "u1"}).encode()).rstrip(b"=").decode(),
        "",
    ])
    with pytest.raises(tokens.InvalidToken, match="HS256"):
        tokens.decode(unsigned, SECRET)
    for garbage in ("abc.def.ghi", "not-a-jwt", "a.b"):
        with pytest.raises(tokens.InvalidToken):
            tokens.decode(garbage, SECRET)


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
def test_a_missing_or_non_bearer_authorization_header_is_rejected(header):
    with pytest.raises(tokens.InvalidToken):
        tokens.bearer_token(header)


def test_bearer_scheme_is_case_insensitive():
    assert tokens.bearer_token("bearer abc.def.ghi") == "abc.def.ghi"


def test_claims_are_stringified_like_api_gateway_does():
    claims = tokens.stringify_claims({"sub": "u1", "exp": 1700000000, "admin": True,
                                   "aud": ["oms", "x"], "ratio": 0.5, "obj": {"a": 1}})
    assert claims == {"sub": "u1", "exp": "1700000000", "admin": "true", "aud": "[oms x]",
                      "ratio": "0.5", "obj": '{"a":1}'}


def test_dev_tokens_carry_tenant_role_issuer_and_a_long_expiry():
    token = tokens.dev_token(SECRET, "demo", "sales", "dev-sales",
                          issuer="https://auth.example.com/", audience=["oms"])
    claims = tokens.decode(token, SECRET)
    assert (claims["tenant_id"], claims["role"], claims["sub"]) == ("demo", "sales", "dev-sales")
    assert (claims["iss"], claims["aud"]) == ("https://auth.example.com/", "oms")
    assert claims["exp"] - time.time() > 300 * 24 * 3600
