"""What the three services do alike, each under its own uwsgi.ini (thoughts_common.testing.services).

Health and readiness, the API documents, uWSGI (two workers, metrics summed
over them, a clean restart, SIGTERM) and request ids (accepted, created,
echoed, on every log line). What a single service does is tested in its package.
"""

import concurrent.futures
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests

from thoughts_common.health import READY_TIMEOUT_SECONDS
from thoughts_common.testing import database_faults, services
from thoughts_common.testing.metrics import scrape
from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.processes import assert_stops_gracefully

# A request each service counts in its metrics: its path, and samples that each count it once.
FLASK_SWAGGER = {"url_rule": "/swagger.json", "status": "200"}
COUNTED = {
    backend: (
        "/swagger.json",
        [
            ("flask_http_request_duration_seconds_count", FLASK_SWAGGER),
            ("flask_http_request_duration_seconds_bucket", {**FLASK_SWAGGER, "le": "+Inf"}),
        ],
    )
    for backend in services.BACKENDS
} | {
    "frontend": (
        "/login/",
        [
            (
                "django_http_responses_total_by_status_view_method_total",
                {"view": "login", "status": "200", "method": "GET"},
            ),
            (
                "django_http_requests_latency_seconds_by_view_method_bucket",
                {"view": "login", "method": "GET", "le": "+Inf"},
            ),
        ],
    )
}

# The backends' OpenAPI documents: title, paths, parameters of some operations.
API_DOCS = {
    "users_backend": (
        "Thoughts users backend",
        {
            "/api/login/",
            "/api/users/",
            "/admin/users/",
            "/admin/login-throttle/users/{username}",
            "/admin/login-throttle/addresses/{address}",
        },
        {},
    ),
    "thoughts_backend": (
        "Thoughts backend",
        {"/api/me/thoughts/", "/api/thoughts/", "/api/thoughts/{thought_id}/", "/admin/thoughts/{thought_id}/"},
        {("/api/thoughts/", "get"): {"search", "limit", "after"}},
    ),
}

# The key file each service reads at start (and the key it must hold).
KEY_FILE = {
    "users_backend": ("JWT_PRIVATE_KEY_FILE", "private"),
    "thoughts_backend": ("JWT_PUBLIC_KEY_FILE", "public"),
    "frontend": ("JWT_PUBLIC_KEY_FILE", "public"),
}


THREADS = 8  # per uWSGI worker (common/uwsgi/base.ini)


def is_uuid4(value):
    try:
        return uuid.UUID(value).version == 4
    except ValueError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory, key_files, syslog):
    """The three services under uWSGI, the frontend using both backends: {name: server}."""
    started = {}
    try:
        for name in services.BACKENDS:
            env = services.environment(name, tmp_path_factory.mktemp(name), key_files, syslog.port)
            services.prepare(name, env)
            started[name] = services.start(name, env)
        bases = (started["users_backend"].base, started["thoughts_backend"].base)
        env = services.environment("frontend", tmp_path_factory.mktemp("frontend"), key_files, syslog.port, bases)
        started["frontend"] = services.start("frontend", env)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=services.SERVICES)
def service(request, stack):
    return stack[request.param]


@pytest.fixture(params=services.BACKENDS)
def backend(request, stack):
    return stack[request.param]


def restarted_env(server, tmp_path, **changes):
    """``server``'s environment on a new port and metrics folder, with ``changes`` (None removes a variable)."""
    env = {**server.env, "HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")}
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


# Health, readiness and the API documents


def test_healthz(service):
    response = requests.get(f"{service.base}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_the_database_answers(backend):
    response = requests.get(f"{backend.base}/readyz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize("name", services.BACKENDS)
def test_readyz_follows_the_database_without_a_restart(name, postgres_server, key_files, tmp_path):
    server, proxy, _ = database_faults.start_on_postgres(name, postgres_server, key_files, tmp_path, None)
    try:
        assert requests.get(f"{server.base}/readyz", timeout=5).status_code == 200

        proxy.cut()
        started = time.monotonic()
        down = requests.get(f"{server.base}/readyz", timeout=10)
        elapsed = time.monotonic() - started
        assert down.status_code == 503
        assert down.json()["message"].startswith("database unreachable")
        assert elapsed < READY_TIMEOUT_SECONDS + 1
        assert requests.get(f"{server.base}/healthz", timeout=5).status_code == 200

        proxy.restore()
        assert requests.get(f"{server.base}/readyz", timeout=10).status_code == 200
    finally:
        proxy.close()
        server.stop()


def test_api_docs_are_served_with_their_assets(backend):
    title, paths, parameters = API_DOCS[backend.name]
    page = requests.get(f"{backend.base}/", timeout=5)
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    # Swagger UI's assets are served by the app, not by a CDN.
    assert "cdn" not in page.text.lower()
    spec = requests.get(f"{backend.base}/swagger.json", timeout=5).json()
    assert spec["info"]["title"] == title
    assert set(spec["paths"]) == paths
    for (path, method), names in parameters.items():
        assert names <= {p["name"] for p in spec["paths"][path][method]["parameters"]}


# uWSGI


def test_two_workers_and_their_memory(service):
    samples = scrape(service.base)
    assert samples.value("uwsgi_workers") == 2
    assert samples.value("uwsgi_memory_rss_bytes") > 10_000_000
    assert samples.value("uwsgi_workers_busy") == 0  # nothing else is running


def test_a_busy_worker_is_counted(service):
    """uwsgi_workers_busy counts the workers busy besides the one answering /metrics."""
    # A chunked body that never ends keeps a thread reading it (thoughts_common.limits) for
    # uWSGI's socket timeout. One more such request than a worker has threads (common/uwsgi/base.ini)
    # keeps both workers busy, and whichever answers /metrics must count the other one.
    host, port = service.env["HTTP_BIND"].split(":")
    held = []
    try:
        for _ in range(THREADS + 1):
            connection = socket.create_connection((host, int(port)), timeout=5)
            held.append(connection)
            connection.sendall(
                b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n"
            )
        time.sleep(0.5)
        assert scrape(service.base).value("uwsgi_workers_busy") == 1
    finally:
        for connection in held:
            connection.close()
    wait_until(lambda: scrape(service.base).value("uwsgi_workers_busy") == 0, message="both workers idle again")


def test_metrics_count_every_request_across_both_workers(service):
    path, counted = COUNTED[service.name]
    n = 40
    before = scrape(service.base)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{service.base}{path}", timeout=10).status_code, range(n)))
    assert statuses == [200] * n
    after = scrape(service.base)
    for name, labels in counted:
        assert after.total(name, **labels) - before.total(name, **labels) == n, name
    # Both workers wrote samples: the numbers above are their sum.
    folder = Path(service.env["PROMETHEUS_MULTIPROC_DIR"])
    writers = {p.stem.rsplit("_", 1)[1] for p in folder.glob("*.db")} - {str(service.process.pid)}
    assert len(writers) >= 2, writers


def test_a_second_start_cleans_old_metric_samples(service, tmp_path):
    """Samples of an earlier run must not be added to a new run's numbers."""
    path, [(name, labels), *_] = COUNTED[service.name]
    env = restarted_env(service, tmp_path)
    for _ in range(2):
        server = services.start(service.name, env)
        try:
            assert requests.get(f"{server.base}{path}", timeout=10).status_code == 200
            counted = scrape(server.base).total(name, **labels)
        finally:
            server.stop()
        assert counted == 1


def test_sigterm_stops_gracefully(service, tmp_path):
    # Without a syslog host uWSGI prints its own lines, which this test reads.
    server = services.start(service.name, restarted_env(service, tmp_path, SYSLOG_HOST=None))
    assert_stops_gracefully(server)


@pytest.mark.parametrize("key", ["missing", "the other key"])
def test_no_start_without_its_key(service, key_files, tmp_path, key):
    variable, kind = KEY_FILE[service.name]
    other = str(key_files[1] if kind == "private" else key_files[0])
    value = None if key == "missing" else other
    env = restarted_env(service, tmp_path, SYSLOG_HOST=None, **{variable: value})
    server = services.uwsgi(services.ini(service.name), env)
    code = server.process.wait(60)
    output = server.read_output()
    assert code != 0
    if key == "missing":
        assert variable.removesuffix("_FILE") in output
    else:
        assert f"{variable}={other} is not a PEM RSA {kind} key" in output


def test_logs_reach_syslog_with_both_tags(service, syslog):
    name = service.name
    rid = f"tags-{uuid.uuid4().hex[:8]}"
    requests.get(f"{service.base}/healthz", headers={"X-Request-ID": rid}, timeout=5)
    assert syslog.wait_for(f"{name}: ", f"[{rid}]", "RESPONSE STATUS 200")
    assert any("spawned uWSGI worker" in line for line in syslog.containing(f"{name}_uwsgi: "))


# Request ids


@pytest.mark.parametrize("path", ["/healthz", "/nowhere"])
def test_a_request_id_is_created_when_absent_or_empty(service, path):
    ids = [
        requests.get(f"{service.base}{path}", headers=headers, timeout=5).headers["X-Request-ID"]
        for headers in ({}, {}, {"X-Request-ID": ""})
    ]
    assert all(is_uuid4(value) for value in ids), ids
    assert len(set(ids)) == 3


@pytest.mark.parametrize("value", ["abc", "a" * 64, "Req-1.2_3", "0"], ids=["short", "64", "punctuation", "digit"])
def test_a_valid_request_id_is_kept(service, value):
    response = requests.get(f"{service.base}/healthz", headers={"X-Request-ID": value}, timeout=5)
    assert response.headers["X-Request-ID"] == value


@pytest.mark.parametrize(
    "value",
    ["a" * 65, "has space", "semi;colon", "tab\there", "uni\u00e9", "a,b", "x" * 10000, "<script>"],
    ids=["too-long", "space", "semicolon", "control", "non-ascii", "comma", "huge", "html"],
)
def test_a_hostile_request_id_is_replaced(service, value):
    returned = requests.get(f"{service.base}/healthz", headers={"X-Request-ID": value}, timeout=5).headers
    assert returned["X-Request-ID"] != value
    assert is_uuid4(returned["X-Request-ID"])


def test_every_log_line_of_a_request_carries_its_id(service, syslog):
    name = service.name
    rid = f"every-line-{uuid.uuid4().hex[:8]}"
    already = len(syslog.snapshot())
    response = requests.get(f"{service.base}/healthz", headers={"X-Request-ID": rid}, timeout=5)
    assert response.headers["X-Request-ID"] == rid
    syslog.wait_for(f"{name}: ", f"[{rid}]", "RESPONSE TIME")
    lines = [line for line in syslog.snapshot()[already:] if line.startswith(f"{name}: ")]
    assert len(lines) >= 3, lines
    for line in lines:
        # The book's format: "<tag>: [time] LEVEL [request_id] module: message".
        assert line.startswith(f"{name}: [")
        assert f"] INFO [{rid}] " in line, line
    assert any("REQUEST GET /healthz" in line for line in lines)
    assert any("RESPONSE STATUS 200" in line for line in lines)
    assert any("RESPONSE TIME" in line and line.rstrip().endswith("ms") for line in lines)


def test_a_hostile_id_never_reaches_the_logs(service, syslog):
    name = service.name
    response = requests.get(f"{service.base}/nowhere", headers={"X-Request-ID": "evil] INFO [forged"}, timeout=5)
    assert response.status_code == 404
    new_id = response.headers["X-Request-ID"]
    assert is_uuid4(new_id)
    lines = syslog.wait_for(f"{name}: ", f"[{new_id}]", "RESPONSE STATUS 404")
    lines = syslog.containing(f"{name}: ", f"[{new_id}]")
    assert not syslog.containing("forged")
    # A 4xx is the client's fault: a WARNING, not an ERROR.
    assert any("WARNING" in line and "RESPONSE STATUS 404" in line for line in lines)
    assert not any(" ERROR " in line for line in lines)
