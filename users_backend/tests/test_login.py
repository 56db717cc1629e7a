import pytest

from thoughts_common import tokens
from users_backend import create_app


@pytest.fixture
def bruce(make_user):
    return make_user("bruce", "bruce")


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_login_returns_a_bearer_token(client, bruce, rsa_key_pair, as_json):
    credentials = {"username": "bruce", "password": "bruce"}
    kwargs = {"json": credentials} if as_json else {"data": credentials}

    response = client.post("/api/login/", **kwargs)

    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["Authorized"]
    scheme, token = body["Authorized"].split(" ")
    assert scheme == "Bearer"
    claims = tokens.decode(token, rsa_key_pair[1])
    assert claims["username"] == "bruce"
    assert claims["exp"] - claims["iat"] == 120 * 60
    assert claims["iss"] == "thoughts-users-backend"
    assert "role" not in claims


@pytest.mark.parametrize("minutes", ["1441", "100000"])
def test_a_lifetime_over_24_hours_stops_the_start(monkeypatch, database_url, rsa_key_pair, minutes):
    monkeypatch.setenv("JWT_LIFETIME_MINUTES", minutes)
    with pytest.raises(ValueError, match=f"JWT_LIFETIME_MINUTES='{minutes}': .* less than or equal to 1440"):
        create_app(
            {"DATABASE_URL": database_url, "JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]}
        )


def test_the_keys_are_parsed_once_when_the_app_is_created(app):
    from cryptography.hazmat.primitives.asymmetric import rsa

    # Objects, not PEM text: PyJWT would parse (and check) the text again for every token.
    assert isinstance(app.config["JWT_PRIVATE_KEY"], rsa.RSAPrivateKey)
    assert isinstance(app.config["JWT_PUBLIC_KEY"], rsa.RSAPublicKey)


@pytest.mark.parametrize("setting", ["JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY"])
def test_a_key_that_does_not_parse_stops_the_start(database_url, rsa_key_pair, setting):
    keys = {"JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]}
    # Each PEM in the other's place: well-formed, but not the kind of key the setting holds.
    swapped = {**keys, setting: keys["JWT_PUBLIC_KEY" if setting == "JWT_PRIVATE_KEY" else "JWT_PRIVATE_KEY"]}
    with pytest.raises(tokens.KeyNotConfigured, match=f"^{setting} is not a PEM RSA"):
        create_app({"DATABASE_URL": database_url, **swapped})


def test_the_issuer_setting_is_signed_and_expected(monkeypatch, database_url, rsa_key_pair, make_user, sign):
    monkeypatch.setenv("JWT_ISSUER", "staging-users")
    keys = {"JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]}
    app = create_app({"DATABASE_URL": database_url, **keys})
    monkeypatch.delenv("JWT_ISSUER")  # the app keeps what it read at its start
    staging = app.test_client()
    make_user("bruce", "bruce")

    token = staging.post("/api/login/", json={"username": "bruce", "password": "bruce"}).get_json()["Authorized"]
    assert tokens.decode(token.split(" ")[1], rsa_key_pair[1], issuer="staging-users")["iss"] == "staging-users"
    default_token = sign({"username": "root", "role": "admin"}, issuer="thoughts-users-backend")
    response = staging.post(
        "/admin/users/", json={"username": "ann", "password": "p"}, headers={"Authorization": f"Bearer {default_token}"}
    )
    assert response.status_code == 401
    app.extensions["database"].dispose()


def test_admin_token_carries_the_role(client, make_user, rsa_key_pair, login):
    make_user("root", "secret-root", admin=True)
    token = login("root", "secret-root").split(" ")[1]
    assert tokens.decode(token, rsa_key_pair[1])["role"] == "admin"


@pytest.mark.parametrize(
    "credentials",
    [{"username": "bruce", "password": "wrong"}, {"username": "nobody", "password": "bruce"}],
    ids=["wrong-password", "unknown-user"],
)
def test_wrong_credentials_are_one_and_the_same_401(client, bruce, credentials):
    response = client.post("/api/login/", data=credentials)
    assert response.status_code == 401
    assert response.get_json() == {"message": "Wrong username or password"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"password": "bruce"}, "username is required"),
        ({"username": "bruce"}, "password is required"),
        ({"username": "", "password": "bruce"}, "username is required"),
        ({"username": "bruce", "password": ""}, "password is required"),
        ({"username": "bruce", "password": 12}, "password must be a string"),
    ],
)
def test_missing_or_empty_field_is_400(client, bruce, body, message):
    response = client.post("/api/login/", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{not json", "Malformed JSON body"), ('["bruce", "bruce"]', "The JSON body must be an object")],
)
def test_malformed_json_is_400(client, raw, message):
    response = client.post("/api/login/", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"message": message}


def test_login_only_accepts_post(client):
    response = client.get("/api/login/")
    assert response.status_code == 405
    assert "message" in response.get_json()


@pytest.mark.parametrize("typed", ["Bruce", "BRUCE", "\uff42\uff52\uff55\uff43\uff45"])
def test_login_matches_the_normalised_username_and_the_token_carries_the_stored_one(client, bruce, rsa_key_pair, typed):
    response = client.post("/api/login/", json={"username": typed, "password": "bruce"})
    assert response.status_code == 200
    token = response.get_json()["Authorized"].split(" ")[1]
    assert tokens.decode(token, rsa_key_pair[1])["username"] == "bruce"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "username=a%00b&password=bruce", "content_type": "application/x-www-form-urlencoded"}, "username"),
        ({"data": "username=bruce&password=a%00b", "content_type": "application/x-www-form-urlencoded"}, "password"),
        ({"json": {"username": "a\ud800b", "password": "bruce"}}, "username"),
        ({"json": {"username": "bruce", "password": "a\ud800b"}}, "password"),
    ],
    ids=["form-nul-username", "form-nul-password", "json-surrogate-username", "json-surrogate-password"],
)
def test_unstorable_text_is_400_not_500(client, bruce, kwargs, message):
    response = client.post("/api/login/", **kwargs)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(message + " ")
