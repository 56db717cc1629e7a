"""The thoughts backend's own requests under uWSGI; what every service does under uWSGI is tested in tests/services."""

import concurrent.futures
import time

import pytest
import requests

from thoughts_common import limits
from thoughts_common.testing import oversize, services
from thoughts_common.testing.metrics import scrape


@pytest.fixture(scope="module")
def server(tmp_path_factory, key_files, syslog):
    env = services.environment("thoughts_backend", tmp_path_factory.mktemp("uwsgi"), key_files, syslog.port)
    services.prepare("thoughts_backend", env)
    process = services.start("thoughts_backend", env)
    yield process
    process.stop()


def test_request_metrics_under_uwsgi(server, bruce):
    searches, posts = 40, 10
    before = scrape(server.base)

    def search(i):
        return requests.get(f"{server.base}/api/thoughts/", params={"search": f"final {i}"}, timeout=10).status_code

    def post(i):
        response = requests.post(f"{server.base}/api/me/thoughts/", json={"text": f"t{i}"}, headers=bruce, timeout=10)
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(search, range(searches))) + list(pool.map(post, range(posts)))
    assert statuses == [200] * searches + [201] * posts

    after = scrape(server.base)

    def delta(name, **labels):
        return after.total(name, **labels) - before.total(name, **labels)

    search_labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    assert delta("requests_total", **search_labels) == searches
    assert delta("req_time_count", **search_labels) == searches
    assert delta("req_time_bucket", le="+Inf", **search_labels) == searches
    assert delta("requests_total", endpoint="api_my_thoughts", method="post", code="201") == posts
    assert delta("thoughts_created_total") == posts
    # The exporter's defaults count the same requests.
    assert delta("flask_http_request_duration_seconds_count", url_rule="/api/thoughts/", status="200") == searches
    assert delta("flask_http_request_total", method="GET", status="200") == searches


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
