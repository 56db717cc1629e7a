"""The real server: uWSGI with 2 workers, as `make run` and the images start it."""

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from thoughts_common import limits
from thoughts_common.testing import oversize
from thoughts_common.testing.network import SyslogReceiver, free_port
from thoughts_common.testing.processes import assert_stops_gracefully, start_uwsgi

SERVICE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
UWSGI = [str(BIN / "uwsgi"), "--ini", str(SERVICE_DIR / "uwsgi.ini")]


def cli(*args, env):
    return subprocess.run([BIN / "thoughts-backend", *args], env=env, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def syslog():
    receiver = SyslogReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, key_files, syslog):
    folder = tmp_path_factory.mktemp("uwsgi")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'thoughts.sqlite3'}",
        "JWT_PUBLIC_KEY_FILE": str(key_files[1]),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "SYSLOG_HOST": "127.0.0.1",
        "SYSLOG_PORT": str(syslog.port),
    }
    env.pop("JWT_PUBLIC_KEY", None)
    cli("migrate", env=env)
    cli("seed-demo", env=env)
    return env


@pytest.fixture(scope="module")
def server(server_env):
    process = start_uwsgi(SERVICE_DIR / "uwsgi.ini", server_env)
    yield process
    process.stop()


def samples(base):
    text = requests.get(f"{base}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(snapshot, name, **labels):
    """The sum of ``name`` over the samples that carry ``labels``."""
    return sum(v for (n, items), v in snapshot.items() if n == name and dict(items).items() >= labels.items())


def test_metrics_count_every_request_across_both_workers(server, server_env, bruce):
    searches, posts = 40, 10
    before = samples(server.base)

    def search(i):
        return requests.get(f"{server.base}/api/thoughts/", params={"search": f"final {i}"}, timeout=10).status_code

    def post(i):
        response = requests.post(f"{server.base}/api/me/thoughts/", json={"text": f"t{i}"}, headers=bruce, timeout=10)
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(search, range(searches))) + list(pool.map(post, range(posts)))
    assert statuses == [200] * searches + [201] * posts

    after = samples(server.base)

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    search_labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    assert delta("requests_total", **search_labels) == searches
    assert delta("req_time_count", **search_labels) == searches
    assert delta("req_time_bucket", le="+Inf", **search_labels) == searches
    assert delta("requests_total", endpoint="api_my_thoughts", method="post", code="201") == posts
    assert delta("thoughts_created_total") == posts
    # The exporter's defaults count the same requests.
    assert delta("flask_http_request_duration_seconds_count", url_rule="/api/thoughts/", status="200") == searches
    assert delta("flask_http_request_total", method="GET", status="200") == searches
    # Both worker processes recorded samples: the numbers above are their sum.
    folder = Path(server_env["PROMETHEUS_MULTIPROC_DIR"])
    writers = {p.name.rsplit("_", 1)[1] for p in folder.glob("histogram_*.db")}
    assert len(writers) >= 2


def test_post_then_find_it_under_uwsgi(server, bruce):
    posted = requests.post(f"{server.base}/api/me/thoughts/", data={"text": "Wombats under uWSGI"}, headers=bruce)
    assert posted.status_code == 201
    mine = requests.get(f"{server.base}/api/me/thoughts/", headers=bruce).json()
    assert posted.json() in mine
    found = requests.get(f"{server.base}/api/thoughts/", params={"search": "WOMBATS"}).json()
    assert found == [posted.json()]


def test_paging_links_work_over_http(server):
    url, seen = f"{server.base}/api/thoughts/?limit=2", []
    while url:
        response = requests.get(url, timeout=5)
        seen += [t["id"] for t in response.json()]
        url = response.links.get("next", {}).get("url")
        url = requests.compat.urljoin(response.url, url) if url else None
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 5


def test_logs_reach_syslog_with_both_tags(server, syslog):
    requests.get(f"{server.base}/api/thoughts/", params={"search": "gamma"}, headers={"X-Request-ID": "uwsgi-tags"})
    assert syslog.wait_for("thoughts_backend: ", "[uwsgi-tags]", "Searching with params %gamma%")
    uwsgi_lines = [m for m in syslog.snapshot() if "thoughts_backend_uwsgi:" in m]
    assert any("spawned uWSGI worker" in m for m in uwsgi_lines)


def test_sigterm_stops_gracefully(server_env, tmp_path):
    # Without a syslog host uWSGI prints its own lines, which this test reads.
    env = {
        **{k: v for k, v in server_env.items() if k != "SYSLOG_HOST"},
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
    }
    process = start_uwsgi(SERVICE_DIR / "uwsgi.ini", env)

    assert_stops_gracefully(process)


OVERSIZE = oversize.cases("/api/thoughts/")


@pytest.mark.parametrize("case", list(OVERSIZE))
def test_oversized_requests_are_refused_with_a_message(server, case):
    raw, refusal = OVERSIZE[case]
    started = time.monotonic()
    answer = oversize.send(server.base, raw)
    assert (answer.status, answer.json()) == (refusal.status, {"message": refusal.message})
    assert answer.headers["content-type"] == "application/json"
    assert time.monotonic() - started < 2  # no parsing of megabytes first
    # The next request is served as usual.
    assert requests.get(f"{server.base}/api/thoughts/", params={"search": "zz"}, timeout=5).json() == []


def test_parameters_under_the_limits_arrive_whole(server, bruce):
    pad = "z" * (limits.MAX_URI_BYTES - 100)
    response = requests.get(f"{server.base}/api/me/thoughts/?limit=1&pad={pad}", headers=bruce, timeout=5)
    assert response.status_code == 200 and len(response.json()) == 1
    search = requests.get(f"{server.base}/api/thoughts/", params={"search": pad[:-20]}, timeout=5)
    assert search.status_code == 200 and search.json() == []


def test_refusals_are_logged_with_their_request_id(server, syslog):
    raw, _ = OVERSIZE["query of 20 000 characters"]
    raw = raw.replace(b"Host: localhost\r\n", b"Host: localhost\r\nX-Request-ID: too-long-uri\r\n")
    assert oversize.send(server.base, raw).headers["x-request-id"] == "too-long-uri"
    [line] = syslog.wait_for("[too-long-uri]", "REFUSED 414 GET /api/thoughts/")
    assert "WARNING" in line
