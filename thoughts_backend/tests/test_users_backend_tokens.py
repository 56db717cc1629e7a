"""Tokens issued by the real users backend, obtained through its API, are what this backend accepts."""

import uuid


def test_a_new_user_logs_in_at_the_users_backend_and_posts_here(client, users_app, admin):
    users_client = users_app.test_client()
    # The users backend lives for the whole run: a new name for each test.
    username = f"ann-{uuid.uuid4().hex[:8]}"
    created = users_client.post("/admin/users/", json={"username": username, "password": "ann-pass"}, headers=admin)
    assert created.status_code == 201
    login = users_client.post("/api/login/", data={"username": username, "password": "ann-pass"})
    assert login.status_code == 200
    headers = {"Authorization": login.get_json()["Authorized"]}

    posted = client.post("/api/me/thoughts/", json={"text": "Platypus spotted at the river"}, headers=headers)

    assert posted.status_code == 201
    assert posted.get_json()["username"] == username
    assert client.get("/api/me/thoughts/", headers=headers).get_json() == [posted.get_json()]
    found = client.get("/api/thoughts/", query_string={"search": "platypus"}).get_json()
    assert found == [posted.get_json()]


def test_admin_token_from_the_users_backend_may_delete(client, admin, bruce):
    thought = client.post("/api/me/thoughts/", json={"text": "to be removed"}, headers=bruce).get_json()
    assert client.delete(f"/admin/thoughts/{thought['id']}/", headers=admin).status_code == 204
    assert client.get(f"/api/thoughts/{thought['id']}/").status_code == 404


def test_a_token_from_a_users_backend_with_another_key_is_refused(client, tmp_path):
    from thoughts_common import migrations, tokens
    from users_backend import create_app as create_users_app
    from users_backend import users
    from users_backend.cli import MIGRATIONS as USERS_MIGRATIONS

    url = f"sqlite:///{tmp_path / 'other-users.sqlite3'}"
    migrations.upgrade(USERS_MIGRATIONS, url)
    private, public = tokens.new_key_pair()
    other = create_users_app({"DATABASE_URL": url, "JWT_PRIVATE_KEY": private, "JWT_PUBLIC_KEY": public})
    try:
        with other.extensions["database"].sessionmaker() as session:
            users.create_user(session, "bruce", "bruce")
        login = other.test_client().post("/api/login/", data={"username": "bruce", "password": "bruce"})
        headers = {"Authorization": login.get_json()["Authorized"]}
    finally:
        other.extensions["database"].dispose()

    response = client.get("/api/me/thoughts/", headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"message": "Invalid or expired token"}
