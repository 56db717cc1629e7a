import datetime as dt

import pytest
from sqlalchemy import select

from users_backend.models import User


def test_admin_creates_a_user(client, admin_auth, session):
    response = client.post("/admin/users/", json={"username": "ann", "password": "ann-pass"}, headers=admin_auth)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "username", "creation"}
    assert body["username"] == "ann"
    assert "password" not in response.get_data(as_text=True)
    creation = dt.datetime.fromisoformat(body["creation"])
    assert creation.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - creation) < dt.timedelta(minutes=1)
    assert session.scalars(select(User.username).where(User.id == body["id"])).one() == "ann"


def test_created_user_can_log_in(client, admin_auth, login):
    client.post("/admin/users/", data={"username": "ann", "password": "ann-pass"}, headers=admin_auth)
    assert login("ann", "ann-pass").startswith("Bearer ")


def test_duplicate_username_is_409(client, admin_auth):
    first = client.post("/admin/users/", json={"username": "ann", "password": "a"}, headers=admin_auth)
    second = client.post("/admin/users/", json={"username": "ann", "password": "b"}, headers=admin_auth)
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.get_json() == {"message": "Username ann is already taken"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"password": "p"}, "username is required"),
        ({"username": "ann"}, "password is required"),
        ({"username": " ", "password": "p"}, None),
        ({"username": "ann", "password": ""}, "password is required"),
        ({"username": "a" * 51, "password": "p"}, "username is longer than 50 characters"),
        ({"username": " ann", "password": "p"}, None),
        ({"username": "an\x07n", "password": "p"}, None),
        ({"username": "an\u200bn", "password": "p"}, None),
        ({"username": "a\x00b", "password": "p"}, "username must not contain NUL characters"),
        ({"username": "a\ud800b", "password": "p"}, "username is not valid Unicode"),
        ({"username": "ann", "password": "a\x00b"}, "password must not contain NUL characters"),
        ({"username": "ann", "password": "a\ud800b"}, "password is not valid Unicode"),
    ],
    ids=[
        "no-username",
        "no-password",
        "blank-username",
        "empty-password",
        "too-long",
        "padded",
        "control-char",
        "zero-width-space",
        "nul-username",
        "surrogate-username",
        "nul-password",
        "surrogate-password",
    ],
)
def test_invalid_fields_are_400(client, admin_auth, body, message):
    response = client.post("/admin/users/", json=body, headers=admin_auth)
    assert response.status_code == 400
    if message:
        assert response.get_json() == {"message": message}
    else:
        assert "username must not contain" in response.get_json()["message"]


@pytest.mark.parametrize("look_alike", ["Bruce", "BRUCE", "\uff42\uff52\uff55\uff43\uff45", "\u1d2eruce"])
def test_look_alikes_are_409(client, admin_auth, look_alike):
    first = client.post("/admin/users/", json={"username": "bruce", "password": "a"}, headers=admin_auth)
    assert first.status_code == 201
    response = client.post("/admin/users/", json={"username": look_alike, "password": "b"}, headers=admin_auth)
    assert response.status_code == 409
    assert response.get_json() == {"message": f"Username {look_alike} is already taken"}


def test_fifty_characters_is_allowed(client, admin_auth):
    response = client.post("/admin/users/", json={"username": "a" * 50, "password": "p"}, headers=admin_auth)
    assert response.status_code == 201


def test_without_token_is_401(client):
    response = client.post("/admin/users/", json={"username": "ann", "password": "p"})
    assert response.status_code == 401
    assert response.get_json() == {"message": "Missing bearer token in the Authorization header"}


def test_non_admin_token_is_403(client, make_user, login):
    make_user("bruce", "bruce")
    headers = {"Authorization": login("bruce", "bruce")}
    response = client.post("/admin/users/", json={"username": "ann", "password": "p"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"message": "Admin role required"}
