import time

import pytest

from thoughts_common.testing.network import TcpProxy


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_swagger_ui_and_spec(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "swagger-ui" in page.get_data(as_text=True)
    spec = client.get("/swagger.json").get_json()
    assert spec["info"]["title"] == "Thoughts users backend"
    assert {"/api/login/", "/api/users/", "/admin/users/"} <= set(spec["paths"])
    # Swagger UI's assets are served by the app, not by a CDN.
    assert "cdn" not in page.get_data(as_text=True).lower()


@pytest.fixture
def postgres_behind_proxy(postgres_server):
    """A migrated PostgreSQL database reached through a proxy the test can cut."""
    from sqlalchemy.engine import make_url

    from thoughts_common import migrations
    from users_backend.cli import MIGRATIONS

    url = make_url(postgres_server.create_database("users_ready"))
    migrations.upgrade(MIGRATIONS, url.render_as_string(hide_password=False))
    proxy = TcpProxy(url.host, url.port)
    yield proxy.proxied_url(url), proxy
    proxy.close()


def test_readyz_follows_the_database_without_a_restart(postgres_behind_proxy, rsa_key_pair):
    from users_backend import create_app

    url, proxy = postgres_behind_proxy
    app = create_app({"DATABASE_URL": url, "JWT_PRIVATE_KEY": rsa_key_pair[0], "JWT_PUBLIC_KEY": rsa_key_pair[1]})
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 200

        proxy.cut()
        started = time.monotonic()
        down = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert down.status_code == 503
        assert down.get_json()["message"].startswith("database unreachable")
        assert elapsed < 3.0
        assert client.get("/healthz").status_code == 200

        proxy.restore()
        assert client.get("/readyz").status_code == 200
    finally:
        app.extensions["database"].dispose()
