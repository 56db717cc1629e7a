"""The users backend's own requests under uWSGI; what every service does under uWSGI is tested in tests/services."""

import concurrent.futures
import json

import pytest
import requests

from thoughts_common.testing import oversize, services
from thoughts_common.testing.memory import tree_pss_kib
from thoughts_common.testing.metrics import scrape


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, key_files, syslog):
    env = services.environment(
        "users_backend",
        tmp_path_factory.mktemp("uwsgi"),
        key_files,
        syslog.port,
        # These tests count many wrong logins from one address; test_login_throttle tests the throttle.
        LOGIN_THROTTLE_USERNAME_FAILURES="1000",
        LOGIN_THROTTLE_ADDRESS_FAILURES="1000",
    )
    services.prepare("users_backend", env)
    return env


@pytest.fixture(scope="module")
def server(server_env):
    process = services.start("users_backend", server_env)
    yield process
    process.stop()


def test_login_metrics_under_uwsgi(server):
    n = 40
    before = scrape(server.base)

    def attempt(i):
        password = "bruce" if i % 2 else "wrong"
        return requests.post(f"{server.base}/api/login/", data={"username": "bruce", "password": password}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(attempt, range(n)))

    assert sorted(set(statuses)) == [200, 401]
    after = scrape(server.base)

    def delta(name, **labels):
        return after.total(name, **labels) - before.total(name, **labels)

    assert delta("flask_http_request_duration_seconds_count", url_rule="/api/login/") == n
    assert delta("flask_http_request_duration_seconds_count", url_rule="/api/login/", status="401") == n / 2
    assert delta("logins_total", result="success") == n / 2
    assert delta("logins_total", result="failure") == n / 2


def test_login_under_uwsgi(server):
    response = requests.post(f"{server.base}/api/login/", data={"username": "bruce", "password": "bruce"})
    assert response.status_code == 200
    assert response.json()["Authorized"].startswith("Bearer ")


def test_concurrent_logins_leave_no_hash_memory_behind(server):
    """Each verify needs 19 MiB; 16 threads keeping theirs would be ~300 MiB (passwords.py)."""
    before, _ = tree_pss_kib(server.process.pid)

    def log_in(_):
        return requests.post(
            f"{server.base}/api/login/", data={"username": "bruce", "password": "bruce"}, timeout=30
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert set(pool.map(log_in, range(96))) == {200}
    after, processes = tree_pss_kib(server.process.pid)
    assert processes == 3
    # Without the mmap threshold this grew by 150-300 MiB; a few MiB of caches and pools may stay.
    assert after - before < 40 * 1024, f"PSS grew from {before} to {after} KiB"


def test_cli_creates_users_that_can_log_in(server, server_env):
    env = {**server_env, "NEW_USER_PASSWORD": "s3cret"}
    assert "created admin user boss" in services.cli("users_backend", "create-user", "boss", "--admin", env=env).stdout
    duplicate = services.cli("users_backend", "create-user", "boss", env=env, check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    response = requests.post(f"{server.base}/api/login/", json={"username": "boss", "password": "s3cret"})
    assert response.status_code == 200


def test_seed_demo_is_idempotent(server_env):
    assert services.cli("users_backend", "seed-demo", env=server_env).stdout == ""


OVERSIZE = oversize.cases("/api/login/")


@pytest.mark.parametrize("case", list(OVERSIZE))
def test_oversized_requests_are_refused_with_a_message(server, case):
    raw, refusal = OVERSIZE[case]
    answer = oversize.send(server.base, raw)
    assert (answer.status, answer.json()) == (refusal.status, {"message": refusal.message})
    # The next request is served as usual.
    test_login_under_uwsgi(server)


def test_a_chunked_body_under_the_limit_is_read(server):
    body = json.dumps({"username": "bruce", "password": "bruce"}).encode()
    # A generator body makes requests send it chunked, without Content-Length.
    response = requests.post(
        f"{server.base}/api/login/", data=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["Authorized"].startswith("Bearer ")
