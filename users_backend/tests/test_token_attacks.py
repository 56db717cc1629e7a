"""Every forged or broken token is refused with 401 by a protected endpoint."""

import base64
import datetime as dt
import hashlib
import hmac
import json

import jwt
import pytest

from thoughts_common import tokens

BODY = {"username": "ann", "password": "p"}


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**extra):
    now = dt.datetime.now(dt.UTC)
    return {"username": "admin", "role": "admin", "iat": now, "exp": now + dt.timedelta(minutes=5), **extra}


def admin_payload():
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {"username": "admin", "role": "admin", "iat": now, "exp": now + 300}


def forged(kind, private_key, public_key):
    if kind == "malformed":
        return "not-a-jwt"
    if kind == "garbage-segments":
        return "abc.def.ghi"
    if kind == "expired":
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        return tokens.encode(
            {"username": "admin", "role": "admin"}, private_key, lifetime=dt.timedelta(minutes=1), now=past
        )
    if kind == "alg-none":
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(admin_payload())}."
    if kind == "hs256-with-public-key":
        # The classic key-confusion attack: HMAC keyed with the public key.
        header = b64({"alg": "HS256", "typ": "JWT"})
        payload = b64(admin_payload())
        signature = hmac.new(public_key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    if kind == "hs256-with-secret":
        return jwt.encode(claims(), "an attacker-chosen HMAC secret, 32+ bytes", algorithm="HS256")
    if kind == "wrong-key":
        other_private, _ = tokens.new_key_pair()
        return tokens.encode({"username": "admin", "role": "admin"}, other_private)
    if kind == "no-exp":
        return jwt.encode(
            {"username": "admin", "role": "admin", "iat": claims()["iat"]}, private_key, algorithm="RS256"
        )
    if kind == "no-iss":
        return jwt.encode(admin_payload(), private_key, algorithm="RS256")
    if kind == "other-iss":
        return jwt.encode({**admin_payload(), "iss": "someone-else"}, private_key, algorithm="RS256")
    if kind == "lifetime-over-cap":
        # Our key and issuer, but valid for 25 hours: more than any token we issue may live.
        payload = {**admin_payload(), "iss": tokens.DEFAULT_ISSUER}
        return jwt.encode({**payload, "exp": payload["iat"] + 25 * 3600}, private_key, algorithm="RS256")
    if kind == "tampered":
        token = tokens.encode({"username": "bruce"}, private_key)
        header, payload, signature = token.split(".")
        now = int(dt.datetime.now(dt.UTC).timestamp())
        return f"{header}.{b64({'username': 'bruce', 'role': 'admin', 'iat': now, 'exp': now + 300})}.{signature}"
    raise AssertionError(kind)


KINDS = [
    "malformed",
    "garbage-segments",
    "expired",
    "alg-none",
    "hs256-with-public-key",
    "hs256-with-secret",
    "wrong-key",
    "no-exp",
    "no-iss",
    "other-iss",
    "lifetime-over-cap",
    "tampered",
]


@pytest.mark.parametrize("kind", KINDS)
def test_forged_token_is_401(client, rsa_key_pair, kind):
    token = forged(kind, *rsa_key_pair)
    response = client.post("/admin/users/", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json() == {"message": "Invalid or expired token"}


@pytest.mark.parametrize("kind", KINDS)
def test_decode_rejects(rsa_key_pair, kind):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(forged(kind, *rsa_key_pair), rsa_key_pair[1])


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer    ", "token"])
def test_other_authorization_schemes_are_401(client, header):
    response = client.post("/admin/users/", json=BODY, headers={"Authorization": header})
    assert response.status_code == 401


def test_a_token_of_our_issuer_under_the_cap_is_accepted(client, rsa_key_pair):
    payload = {**admin_payload(), "iss": tokens.DEFAULT_ISSUER}
    token = jwt.encode({**payload, "exp": payload["iat"] + 24 * 3600}, rsa_key_pair[0], algorithm="RS256")
    response = client.post("/admin/users/", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_valid_admin_token_from_our_key_is_accepted(client, sign):
    token = sign({"username": "admin", "role": "admin"})
    response = client.post("/admin/users/", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
