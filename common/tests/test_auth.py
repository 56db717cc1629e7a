"""thoughts_common.auth: bearer tokens on the resources of a service of ``create_flask_app``/``create_api``."""

import datetime as dt

import pytest
from flask import g
from flask_restx import Namespace, Resource

from thoughts_common import auth, tokens

me = Namespace("me")


@me.route("/")
class Me(Resource):
    @auth.token_required()
    def get(self):
        return {"username": g.claims["username"]}


@me.route("/admin")
class Admin(Resource):
    @auth.token_required(admin=True)
    def get(self):
        return {"admin": g.claims["username"]}


@pytest.fixture
def client(api_client):
    return api_client(me, "/api/me")


@pytest.fixture
def bearer(rsa_key_pair):
    def make(claims, **kwargs):
        return {"Authorization": f"Bearer {tokens.encode(claims, rsa_key_pair[0], **kwargs)}"}

    return make


def test_a_valid_token_lets_the_request_through_with_its_claims(client, bearer):
    answer = client.get("/api/me/", headers=bearer({"username": "bruce"}))
    assert (answer.status_code, answer.json) == (200, {"username": "bruce"})


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic YnJ1Y2U6YnJ1Y2U=", "Token abc"])
def test_no_bearer_token_is_a_401_saying_so(client, header):
    answer = client.get("/api/me/", headers={} if header is None else {"Authorization": header})
    assert (answer.status_code, answer.json["message"]) == (401, "Missing bearer token in the Authorization header")


def test_the_scheme_is_read_without_regard_to_case(client, bearer):
    header = bearer({"username": "bruce"})["Authorization"].replace("Bearer", "bEARER")
    assert client.get("/api/me/", headers={"Authorization": header}).status_code == 200


def test_an_invalid_or_expired_token_is_a_401_and_never_logged(client, bearer, caplog):
    expired = bearer({"username": "bruce"}, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    wrong_key = {"Authorization": f"Bearer {tokens.encode({'username': 'bruce'}, tokens.new_key_pair()[0])}"}
    for headers in (expired, wrong_key, {"Authorization": "Bearer abc.def.ghi"}):
        answer = client.get("/api/me/", headers=headers)
        assert (answer.status_code, answer.json["message"]) == (401, "Invalid or expired token")
        assert headers["Authorization"].split()[1] not in caplog.text
    assert "Rejected token: ExpiredSignatureError" in caplog.text


def test_an_admin_route_is_a_403_for_a_user_and_open_to_an_admin(client, bearer):
    user = client.get("/api/me/admin", headers=bearer({"username": "bruce"}))
    assert (user.status_code, user.json["message"]) == (403, "Admin role required")
    admin = client.get("/api/me/admin", headers=bearer({"username": "root", "role": "admin"}))
    assert (admin.status_code, admin.json) == (200, {"admin": "root"})
    assert client.get("/api/me/admin").status_code == 401
