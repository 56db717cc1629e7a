"""thoughts_common.health on a service of ``create_flask_app``: /healthz for the process, /readyz for its database.

The database goes through a TcpProxy to the real PostgreSQL: refused, stalled and back.
"""

import time

import pytest

from thoughts_common import health


def test_both_answer_while_the_database_does(make_app, database_url):
    client = make_app(database_url).test_client()
    alive, ready = client.get("/healthz"), client.get("/readyz")
    assert (alive.status_code, alive.json) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json) == (200, {"status": "ready"})


@pytest.fixture
def proxied(make_app, proxied_postgres):
    """(test client, proxy): a service whose PostgreSQL is reached through a TcpProxy."""
    url, proxy = proxied_postgres
    return make_app(url).test_client(), proxy


def test_readyz_follows_a_refused_database_without_a_restart(proxied, caplog):
    client, proxy = proxied
    assert client.get("/readyz").status_code == 200

    proxy.cut()
    answer = client.get("/readyz")
    assert (answer.status_code, answer.json) == (503, {"message": "database unreachable: OperationalError"})
    assert "Not ready: database unreachable (OperationalError)" in caplog.text
    assert client.get("/healthz").status_code == 200  # the process itself is fine: no restart wanted

    proxy.restore()
    assert client.get("/readyz").status_code == 200


def test_a_stalled_database_is_not_ready_within_the_bound_and_probes_share_the_check(proxied):
    client, proxy = proxied
    assert client.get("/readyz").status_code == 200
    proxy.stall()
    try:
        started = time.monotonic()
        first = client.get("/readyz")
        took = time.monotonic() - started
        started = time.monotonic()
        second = client.get("/readyz")  # the first check still hangs: it is overdue already
        again = time.monotonic() - started
    finally:
        proxy.restore()
    message = {"message": f"database unreachable: no answer within {health.READY_TIMEOUT_SECONDS:g} s"}
    assert (first.status_code, first.json) == (503, message)
    assert (second.status_code, second.json) == (503, message)
    assert health.READY_TIMEOUT_SECONDS <= took < health.READY_TIMEOUT_SECONDS + 1
    assert again < 0.5
