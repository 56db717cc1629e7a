"""The real server: uWSGI with 2 workers, as `make run` and the images start it."""

import concurrent.futures
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from thoughts_common.testing import oversize
from thoughts_common.testing.memory import tree_pss_kib
from thoughts_common.testing.network import SyslogReceiver, free_port
from thoughts_common.testing.processes import ServerProcess, assert_stops_gracefully, start_uwsgi

SERVICE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def cli(*args, env):
    return subprocess.run([BIN / "users-backend", *args], env=env, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def syslog():
    receiver = SyslogReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, key_files, syslog):
    import os

    folder = tmp_path_factory.mktemp("uwsgi")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'users.sqlite3'}",
        "JWT_PRIVATE_KEY_FILE": str(key_files[0]),
        "JWT_PUBLIC_KEY_FILE": str(key_files[1]),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "SYSLOG_HOST": "127.0.0.1",
        "SYSLOG_PORT": str(syslog.port),
        # These tests count many wrong logins from one address; test_login_throttle tests the throttle.
        "LOGIN_THROTTLE_USERNAME_FAILURES": "1000",
        "LOGIN_THROTTLE_ADDRESS_FAILURES": "1000",
    }
    cli("migrate", env=env)
    cli("seed-demo", env=env)
    return env


@pytest.fixture(scope="module")
def server(server_env):
    process = start_uwsgi(SERVICE_DIR / "uwsgi.ini", server_env)
    yield process
    process.stop()


def sample(metrics_text, name):
    """The value of one unlabelled or fully labelled sample, e.g. 'logins_total{result="success"}'."""
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


def login_count(metrics_text):
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("flask_http_request_duration_seconds_count{") and 'url_rule="/api/login/"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_every_request_across_both_workers(server, server_env):
    n = 40
    with requests.Session() as session:
        before_text = session.get(f"{server.base}/metrics").text
    before = login_count(before_text)

    def attempt(i):
        password = "bruce" if i % 2 else "wrong"
        return requests.post(f"{server.base}/api/login/", data={"username": "bruce", "password": password}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(attempt, range(n)))

    assert sorted(set(statuses)) == [200, 401]
    text = requests.get(f"{server.base}/metrics").text
    assert login_count(text) - before == n
    for result in ("success", "failure"):
        name = f'logins_total{{result="{result}"}}'
        already = sample(before_text, name) if name in before_text else 0
        assert sample(text, name) - already == n / 2
    assert re.search(r'flask_http_request_duration_seconds_count\{[^}]*status="401"[^}]*url_rule="/api/login/"', text)
    # Both worker processes recorded samples: the numbers above are their sum.
    writers = {p.name.rsplit("_", 1)[1] for p in Path(server_env["PROMETHEUS_MULTIPROC_DIR"]).glob("histogram_*.db")}
    assert len(writers) >= 2


def test_saturation_gauges_describe_the_worker_pool(server):
    text = requests.get(f"{server.base}/metrics").text
    assert sample(text, "uwsgi_workers") == 2
    assert 0 <= sample(text, "uwsgi_workers_busy") <= 1
    assert sample(text, "uwsgi_memory_rss_bytes") > 10_000_000


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


def test_logs_reach_syslog_with_both_tags(server, syslog):
    requests.get(f"{server.base}/healthz", headers={"X-Request-ID": "uwsgi-tags"})
    app_line = syslog.wait_for("users_backend: ", "[uwsgi-tags]", "RESPONSE STATUS 200")
    assert app_line
    uwsgi_lines = [m for m in syslog.snapshot() if "users_backend_uwsgi:" in m]
    assert any("spawned uWSGI worker" in m for m in uwsgi_lines)


def test_a_second_start_cleans_old_metric_samples(server_env, tmp_path):
    """Samples of an earlier run must not be added to a new run's numbers."""
    env = {**server_env, "HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")}
    base = f"http://{env['HTTP_BIND']}"
    for _ in range(2):
        process = ServerProcess(
            [str(BIN / "uwsgi"), "--ini", str(SERVICE_DIR / "uwsgi.ini")], env=env, health_url=f"{base}/healthz"
        )
        process.wait_healthy()
        requests.post(f"{base}/api/login/", data={"username": "bruce", "password": "bruce"})
        count = login_count(requests.get(f"{base}/metrics").text)
        process.stop()
        assert count == 1


def test_sigterm_stops_gracefully(server_env, tmp_path):
    # Without a syslog host uWSGI prints its own lines, which this test reads.
    env = {
        **{k: v for k, v in server_env.items() if k != "SYSLOG_HOST"},
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
    }
    process = start_uwsgi(SERVICE_DIR / "uwsgi.ini", env)

    assert_stops_gracefully(process)


def test_cli_creates_users_that_can_log_in(server, server_env):
    env = {**server_env, "NEW_USER_PASSWORD": "s3cret"}
    assert "created admin user boss" in cli("create-user", "boss", "--admin", env=env).stdout
    duplicate = subprocess.run([BIN / "users-backend", "create-user", "boss"], env=env, capture_output=True, text=True)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    response = requests.post(f"{server.base}/api/login/", json={"username": "boss", "password": "s3cret"})
    assert response.status_code == 200


def test_seed_demo_is_idempotent(server_env):
    assert cli("seed-demo", env=server_env).stdout == ""


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


def test_no_start_with_a_private_key_file_that_holds_no_private_key(server_env, key_files, tmp_path):
    env = {
        **server_env,
        "JWT_PRIVATE_KEY_FILE": str(key_files[1]),  # the public key
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
    }
    env.pop("SYSLOG_HOST")

    command = [str(BIN / "uwsgi"), "--ini", str(SERVICE_DIR / "uwsgi.ini")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert f"JWT_PRIVATE_KEY_FILE={key_files[1]} is not a PEM RSA private key" in result.stdout + result.stderr
