import pytest

from thoughts_common import tokens
from thoughts_common.testing import flask_fixtures
from thoughts_common.testing.flask_fixtures import emptied_app, migrated_databases
from users_backend import create_app, users
from users_backend.cli import MIGRATIONS
from users_backend.models import LoginFailures, User

# The fixtures both backends share (pytest finds them by these names).
client = flask_fixtures.client
session = flask_fixtures.session
database_url = migrated_databases(MIGRATIONS, "users")


@pytest.fixture
def app(database_url, rsa_key_pair):
    private, public = rsa_key_pair
    config = {
        "DATABASE_URL": database_url,
        "JWT_PRIVATE_KEY": private,
        "JWT_PUBLIC_KEY": public,
        "FEATURE_SIGNUP": False,
    }
    with emptied_app(create_app, config, User, LoginFailures) as app:
        yield app


@pytest.fixture
def make_user(session):
    def make(username, password, admin=False):
        return users.create_user(session, username, password, is_admin=admin)

    return make


@pytest.fixture
def login(client):
    """Log in through the API and return the bearer header value."""

    def do(username, password):
        response = client.post("/api/login/", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["Authorized"]

    return do


@pytest.fixture
def admin_auth(make_user, login):
    make_user("admin", "admin-password", admin=True)
    return {"Authorization": login("admin", "admin-password")}


@pytest.fixture
def sign(rsa_key_pair):
    """Sign arbitrary claims with the run's private key (for the token attack tests)."""

    def do(claims, **kwargs):
        return tokens.encode(claims, rsa_key_pair[0], **kwargs)

    return do
