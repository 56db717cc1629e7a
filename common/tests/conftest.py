"""A tiny service built by the library's own factory (``service.create_flask_app``), on a real database."""

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from thoughts_common import service
from thoughts_common.testing.network import TcpProxy


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """A SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_server").create_database("common_test")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tiny.sqlite3'}"


@pytest.fixture
def proxied_postgres(postgres_server):
    """(database URL, proxy): a fresh PostgreSQL database reached through a TcpProxy (refuse, stall, restore)."""
    url = postgres_server.create_database("common_proxied")
    target = make_url(url)
    proxy = TcpProxy(target.host, target.port)
    yield proxy.proxied_url(url), proxy
    proxy.close()


@pytest.fixture
def make_app(rsa_key_pair):
    """``make(database_url)``: a Flask app of ``create_flask_app`` with a ``/count`` route reading the database;
    disposed of at the end."""
    made = []

    def make(database_url):
        app = service.create_flask_app(__name__, "tiny", database_url, {"JWT_PUBLIC_KEY": rsa_key_pair[1]})

        @app.get("/count")
        def count():
            [value] = app.extensions["database"].session().execute(text("SELECT 1 + 1")).one()
            return {"count": value}

        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["database"].dispose()


@pytest.fixture
def api_client(make_app, sqlite_url):
    """``make(namespace, path, database_url=SQLite)``: a test client of a service with ``namespace`` at ``path``
    in its flask-restx Api (``service.create_api``)."""

    def make(namespace, path, database_url=None):
        app = make_app(database_url or sqlite_url)
        service.create_api(app, "Tiny", "A tiny service", {namespace: path})
        return app.test_client()

    return make
