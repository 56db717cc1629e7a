import pytest
from sqlalchemy import insert

from thoughts_backend import TAG, create_app
from thoughts_backend.cli import MIGRATIONS
from thoughts_backend.models import Thought, utcnow
from thoughts_common import logconfig, migrations, tokens
from thoughts_common.testing import flask_fixtures
from thoughts_common.testing.flask_fixtures import emptied_app, migrated_databases

# The fixtures both backends share (pytest finds them by these names).
client = flask_fixtures.client
session = flask_fixtures.session
database_url = migrated_databases(MIGRATIONS, "thoughts")


@pytest.fixture
def app(database_url, rsa_key_pair):
    with emptied_app(create_app, {"DATABASE_URL": database_url, "JWT_PUBLIC_KEY": rsa_key_pair[1]}, Thought) as app:
        yield app


@pytest.fixture
def add_thoughts(session):
    """Insert thoughts directly: ``add_thoughts("bruce", "one", "two")``; returns their ids in order."""

    def add(username, *texts):
        rows = [{"username": username, "text": text, "timestamp": utcnow()} for text in texts]
        ids = [session.execute(insert(Thought).returning(Thought.id), row).scalar_one() for row in rows]
        session.commit()
        return ids

    return add


@pytest.fixture(scope="session")
def users_app(rsa_key_pair, tmp_path_factory):
    """The real users backend, in this process, signing with the run's key pair.

    It has the demo users bruce/bruce and stephen/stephen and an admin, root/root-password.
    """
    from users_backend import create_app as create_users_app
    from users_backend import users
    from users_backend.cli import MIGRATIONS as USERS_MIGRATIONS

    url = f"sqlite:///{tmp_path_factory.mktemp('users') / 'users.sqlite3'}"
    migrations.upgrade(USERS_MIGRATIONS, url)
    app = create_users_app({"DATABASE_URL": url, "JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]})
    # Its factory tagged the process's log lines users_backend; the tests read ours.
    logconfig.configure(TAG)
    with app.extensions["database"].sessionmaker() as session:
        users.create_user(session, "bruce", "bruce")
        users.create_user(session, "stephen", "stephen")
        users.create_user(session, "root", "root-password", is_admin=True)
    yield app
    app.extensions["database"].dispose()


@pytest.fixture(scope="session")
def login(users_app):
    """Log in through the users backend's API; returns the Authorization header."""
    client = users_app.test_client()

    def do(username, password):
        response = client.post("/api/login/", data={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": response.get_json()["Authorized"]}

    return do


@pytest.fixture(scope="session")
def bruce(login):
    return login("bruce", "bruce")


@pytest.fixture(scope="session")
def stephen(login):
    return login("stephen", "stephen")


@pytest.fixture(scope="session")
def admin(login):
    return login("root", "root-password")


@pytest.fixture
def sign(rsa_key_pair):
    """Sign arbitrary claims with the run's private key (for tokens the users backend would not issue)."""

    def do(claims, **kwargs):
        return {"Authorization": f"Bearer {tokens.encode(claims, rsa_key_pair[0], **kwargs)}"}

    return do
