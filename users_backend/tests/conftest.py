import pytest
from sqlalchemy import delete

from thoughts_common import migrations, tokens
from users_backend import create_app, users
from users_backend.cli import MIGRATIONS
from users_backend.models import LoginFailures, User


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated database per engine: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'users.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("users_test")
    migrations.upgrade(MIGRATIONS, url)
    return url


@pytest.fixture
def app(database_url, rsa_key_pair):
    private, public = rsa_key_pair
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "JWT_PRIVATE_KEY": private,
            "JWT_PUBLIC_KEY": public,
            "FEATURE_SIGNUP": False,
        }
    )
    database = app.extensions["database"]
    with database.sessionmaker() as session:
        session.execute(delete(User))
        session.execute(delete(LoginFailures))
        session.commit()
    yield app
    database.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    with app.extensions["database"].sessionmaker() as session:
        yield session


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
