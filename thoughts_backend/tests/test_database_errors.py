"""Which database errors answer 503 + Retry-After with one WARNING line, and which stay 500 with a traceback."""

import logging
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from thoughts_backend import create_app
from thoughts_backend.cli import MIGRATIONS
from thoughts_common import migrations
from thoughts_common.testing.network import TcpProxy, free_port


def make_app(url, public_key):
    app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": public_key})

    @app.get("/plain-database-route")  # a route outside flask-restx
    def plain():
        app.extensions["database"].session().execute(text("SELECT count(*) FROM thoughts"))
        return {"ok": True}

    return app


def unavailable_warnings(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "Database unavailable" in r.getMessage()]


def tracebacks(caplog):
    return [r for r in caplog.records if r.exc_info]


@pytest.fixture
def migrated_postgres(postgres_server):
    url = postgres_server.create_database("thoughts_errors")
    migrations.upgrade(MIGRATIONS, url)
    return url


@pytest.mark.parametrize("path", ["/api/thoughts/", "/plain-database-route"])
def test_a_refused_database_answers_503_with_retry_after_and_one_warning(path, rsa_key_pair, caplog):
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing", rsa_key_pair[1])
    client = app.test_client()
    caplog.set_level(logging.INFO)

    response = client.get(path)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"message": "The database is unavailable; retry later"}
    assert len(unavailable_warnings(caplog)) == 1
    assert tracebacks(caplog) == []
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.1


def test_a_bug_in_sql_stays_500_with_its_traceback(postgres_server, rsa_key_pair, caplog):
    unmigrated = postgres_server.create_database("thoughts_unmigrated")  # no table: ProgrammingError
    client = make_app(unmigrated, rsa_key_pair[1]).test_client()
    caplog.set_level(logging.INFO)

    for path in ("/api/thoughts/", "/plain-database-route"):
        caplog.clear()
        response = client.get(path)
        assert response.status_code == 500
        assert "Retry-After" not in response.headers
        assert unavailable_warnings(caplog) == []
        assert len(tracebacks(caplog)) == 1


def test_a_lock_held_too_long_answers_503_after_the_lock_timeout(migrated_postgres, rsa_key_pair, monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_LOCK_TIMEOUT_SECONDS", "0.5")
    client = make_app(migrated_postgres, rsa_key_pair[1]).test_client()
    caplog.set_level(logging.INFO)
    direct = make_url(migrated_postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(direct) as holder:
        holder.execute("LOCK TABLE thoughts IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.get("/api/thoughts/")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert 0.4 < elapsed < 2
    assert "LockNotAvailable" in unavailable_warnings(caplog)[0].getMessage()


def test_a_slow_statement_answers_503_after_the_statement_timeout(migrated_postgres, rsa_key_pair, monkeypatch):
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "1")
    app = make_app(migrated_postgres, rsa_key_pair[1])

    @app.get("/slow")
    def slow():
        app.extensions["database"].session().execute(text("SELECT pg_sleep(5)"))
        return {}

    started = time.monotonic()
    response = app.test_client().get("/slow")
    assert response.status_code == 503
    assert 0.9 < time.monotonic() - started < 2


def test_a_stalled_database_answers_503_after_the_answer_timeout_and_recovers(
    migrated_postgres, rsa_key_pair, monkeypatch, caplog
):
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "1")  # answer timeout: 2 s
    target = make_url(migrated_postgres)
    proxy = TcpProxy(target.host, target.port)
    try:
        url = proxy.proxied_url(migrated_postgres)
        client = make_app(url, rsa_key_pair[1]).test_client()
        caplog.set_level(logging.INFO)
        assert client.get("/api/thoughts/").status_code == 200

        proxy.stall()
        started = time.monotonic()
        response = client.get("/api/thoughts/")
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert 1.9 < elapsed < 3
        [warning] = unavailable_warnings(caplog)
        assert "ConnectionTimeout: no answer from the database within 2 s" in warning.getMessage()
        assert tracebacks(caplog) == []

        proxy.restore()
        assert client.get("/api/thoughts/").status_code == 200
    finally:
        proxy.close()
