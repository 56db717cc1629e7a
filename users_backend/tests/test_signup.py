def test_signup_is_404_when_the_feature_is_off(client):
    response = client.post("/api/users/", json={"username": "new", "password": "pw"})
    assert response.status_code == 404
    assert response.get_json() == {"message": "Sign-up is not enabled"}


def test_signup_creates_a_user_when_the_feature_is_on(app, client, login):
    app.config["FEATURE_SIGNUP"] = True

    response = client.post("/api/users/", data={"username": "new", "password": "pw"})

    assert response.status_code == 201
    assert response.get_json()["username"] == "new"
    assert login("new", "pw").startswith("Bearer ")


def test_signup_refuses_duplicates_and_bad_fields(app, client):
    app.config["FEATURE_SIGNUP"] = True
    client.post("/api/users/", json={"username": "new", "password": "pw"})

    assert client.post("/api/users/", json={"username": "new", "password": "pw"}).status_code == 409
    assert client.post("/api/users/", json={"username": "x" * 51, "password": "pw"}).status_code == 400
    assert client.post("/api/users/", json={"username": "other"}).status_code == 400


def test_signup_flag_comes_from_the_environment(monkeypatch, database_url, rsa_key_pair):
    from users_backend import create_app

    monkeypatch.setenv("FEATURE_SIGNUP", "true")
    app = create_app(
        {"DATABASE_URL": database_url, "JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]}
    )
    assert app.config["FEATURE_SIGNUP"] is True
    app.extensions["database"].dispose()
