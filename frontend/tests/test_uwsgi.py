"""The real server: the frontend under uWSGI with 2 workers, as `make run` starts it."""

import concurrent.futures
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from frontend_testing import BIN, FRONTEND_DIR, start_frontend

from thoughts_common.testing.network import free_port
from thoughts_common.testing.processes import assert_stops_gracefully

HEALTHZ_SERIES = re.compile(
    r'^django_http_responses_total_by_status_view_method_total\{method="GET",status="200",view="healthz"\} (\S+)$',
    re.M,
)


def healthz_count(text):
    match = HEALTHZ_SERIES.search(text)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_every_request_across_both_workers(frontend_server, frontend_env):
    base, n = frontend_server.base, 40
    before = healthz_count(requests.get(f"{base}/metrics").text)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{base}/healthz").status_code, range(n)))

    assert statuses == [200] * n
    text = requests.get(f"{base}/metrics").text
    assert healthz_count(text) - before == n
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text
    assert re.search(r"^uwsgi_workers 2\.0$", text, re.M)
    # Both workers wrote samples: the numbers above are their sum.
    folder = Path(frontend_env["PROMETHEUS_MULTIPROC_DIR"])
    writers = {p.stem.rsplit("_", 1)[1] for p in folder.glob("counter_*.db")} - {str(frontend_server.process.pid)}
    assert len(writers) >= 2


def test_a_second_start_cleans_old_metric_samples(frontend_env, tmp_path):
    """Samples of an earlier run must not be added to a new run's numbers."""
    env = {**frontend_env, "HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")}
    series = re.compile(r'^django_http_responses_total_by_status_view_method_total\{[^}]*view="login"\} (\S+)$', re.M)
    for _ in range(2):
        process = start_frontend(env)
        try:
            requests.get(f"{process.base}/login/")
            text = requests.get(f"{process.base}/metrics").text
        finally:
            process.stop()
        assert [float(v) for v in series.findall(text)] == [1.0]


def test_sigterm_stops_gracefully(frontend_env, tmp_path):
    env = {
        **{k: v for k, v in frontend_env.items() if k != "SYSLOG_HOST"},
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
    }
    process = start_frontend(env)

    assert_stops_gracefully(process)


@pytest.mark.parametrize("key", ["missing", "not a public key"])
def test_no_start_without_the_public_key(frontend_env, key_files, tmp_path, key):
    env = {k: v for k, v in frontend_env.items() if k not in ("JWT_PUBLIC_KEY_FILE", "SYSLOG_HOST")}
    env.update(HTTP_BIND=f"127.0.0.1:{free_port()}", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m"))
    if key == "not a public key":
        env["JWT_PUBLIC_KEY_FILE"] = str(key_files[0])

    result = subprocess.run(
        [str(BIN / "uwsgi"), "--ini", str(FRONTEND_DIR / "uwsgi.ini")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    expected = "JWT_PUBLIC_KEY"
    if key == "not a public key":
        expected = f"JWT_PUBLIC_KEY_FILE={key_files[0]} is not a PEM RSA public key"
    assert expected in result.stdout + result.stderr


def test_production_pages_show_no_debug_information(frontend_server):
    response = requests.get(f"{frontend_server.base}/nowhere")
    assert response.status_code == 404
    assert "There is no page here." in response.text
    assert "URLconf" not in response.text


def test_static_files_under_uwsgi(frontend_server):
    response = requests.get(f"{frontend_server.base}/static/bootstrap/bootstrap.min.css")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert "Bootstrap" in response.text[:200]
    assert requests.get(f"{frontend_server.base}/static/bootstrap/LICENSE").status_code == 200


def test_unknown_hosts_are_refused_with_a_warning(frontend_server, syslog):
    rid = f"bad-host-{uuid.uuid4().hex[:8]}"
    response = requests.get(f"{frontend_server.base}/healthz", headers={"Host": "evil.example", "X-Request-ID": rid})
    assert response.status_code == 400
    syslog.wait_for(f"[{rid}]", "RESPONSE STATUS 400")
    lines = syslog.containing(f"[{rid}]")
    assert any(f"WARNING [{rid}] " in line and "Invalid HTTP_HOST header" in line for line in lines)
    assert not any(" ERROR " in line for line in lines)  # the client's fault, not ours


@pytest.mark.parametrize("path", ["/thoughts/", "/"])
def test_pages_need_a_login_under_uwsgi(frontend_server, path):
    response = requests.get(f"{frontend_server.base}{path}", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/?next=")
